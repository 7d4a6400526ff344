#!/usr/bin/env python3
"""Evaluations per second of the n-class benchmark, old code against new, in one run.

The machine is shared, so absolute figures move with its load: this script runs
the same benchmark (ITSC motor currents, 13 classes, train recordings 1-3, `neai
bench --time T --cores C --seed S`) with the code of a base commit (extracted
with `git archive`, run from this checkout's Python environment) and with the
current checkout, alternating base / new / new / base so that a change of load
hits both alike, and prints evaluations, evaluations/s, the stage reached and
the best library of each run side by side.

    python bench/prepare_real_data.py --out /tmp/real
    python bench/nclass_speed.py --data /tmp/real --time 60 --cores 2 --base 5e62b1a

With --rounds 1 it runs base then new once each.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def extract(commit: str, dest: Path) -> Path:
    """The base commit's neai_tui/ and c_lib/ under dest (importable with PYTHONPATH=dest)."""
    dest.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", commit, "neai_tui", "c_lib"], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def make_project(path: Path, itsc: Path, code: Path | None) -> None:
    classes = sorted(p.stem.replace("itsc_class_", "") for p in (itsc / "train").glob("itsc_class_*.csv"))
    neai(code, "new", path, "--type", "n-class", "--axes", 3)
    for c in classes:
        neai(code, "import", path, itsc / "train" / f"itsc_class_{c}.csv", "--class", c)


def neai(code: Path | None, *args, stderr: list | None = None) -> str:
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = str(code) + os.pathsep + env.get("PYTHONPATH", "")
    result = subprocess.run([sys.executable, "-m", "neai_tui.cli", *map(str, args)], capture_output=True, text=True,
                            env=env, cwd=str(code or REPO))
    if result.returncode != 0:
        raise SystemExit(f"`neai {' '.join(map(str, args))}` failed:\n{result.stderr[-2000:]}")
    if stderr is not None:
        stderr.append(result.stderr)
    return result.stdout


def one_run(label: str, code: Path | None, project: Path, args) -> dict:
    shutil.rmtree(project / "benchmarks", ignore_errors=True)
    (project / "selected.json").unlink(missing_ok=True)
    err: list[str] = []
    started = time.monotonic()
    out = json.loads(neai(code, "bench", project, "--time", args.time, "--cores", args.cores, "--seed", args.seed,
                          "--json", stderr=err))
    wall = time.monotonic() - started
    stages = re.findall(r"\((probe screen|family screen|search)\)", err[0])
    kinds = {}
    for line in (project / "benchmarks" / out["benchmark"] / "results.jsonl").read_text().splitlines():
        kind = json.loads(line)["pipeline"]["model"]["kind"]
        kinds[kind] = kinds.get(kind, 0) + 1
    best = out["best"] or {}
    return {"code": label, "evals": out["evals"], "elapsed_s": out["elapsed_s"],
            "evals_per_s": round(out["evals"] / max(1e-9, out["elapsed_s"]), 1), "wall_s": round(wall, 1),
            "last_stage": stages[-1] if stages else "-", "kept_by_kind": kinds,
            "best_score": best.get("score"), "best": _text(best.get("pipeline")),
            "load_avg_1min": round(os.getloadavg()[0], 2)}


def _text(pipeline) -> str:
    return pipeline if isinstance(pipeline, str) or pipeline is None else json.dumps(pipeline)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="prepare_real_data.py output (e.g. --data /tmp/real)")
    parser.add_argument("--time", type=float, default=60, help="seconds per benchmark (e.g. --time 60)")
    parser.add_argument("--cores", type=int, default=2, help="benchmark workers (e.g. --cores 2)")
    parser.add_argument("--seed", type=int, default=1, help="benchmark seed (e.g. --seed 1)")
    parser.add_argument("--base", default="5e62b1a", help="the old code's commit (e.g. --base 5e62b1a)")
    parser.add_argument("--rounds", type=int, default=2, help="base/new pairs, alternated (e.g. --rounds 1)")
    parser.add_argument("--json", action="store_true", help="print the runs as JSON (e.g. --json)")
    args = parser.parse_args(argv)
    itsc = args.data / "itsc"
    if not (itsc / "train").is_dir():
        raise SystemExit(f"{args.data}: run `python bench/prepare_real_data.py --out {args.data}` first")
    work = Path(tempfile.mkdtemp(prefix="neai-nclass-speed-"))
    runs = []
    try:
        base = extract(args.base, work / "base")
        project = work / "itsc13"
        make_project(project, itsc, None)
        order = [("base " + args.base, base), ("new", None)]
        for r in range(args.rounds):
            for label, code in (order if r % 2 == 0 else order[::-1]):
                runs.append(one_run(label, code, project, args))
                print(f"{label}: {runs[-1]['evals']} evals, {runs[-1]['evals_per_s']}/s", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(runs, indent=2))
        return 0
    print(f"ITSC 13 classes, --time {args.time:g} --cores {args.cores} --seed {args.seed}")
    print("code | evals | evals/s | last stage | best score | best library | families judged in full | load (1 min)")
    for r in runs:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(r["kept_by_kind"].items()))
        print(f"{r['code']} | {r['evals']} | {r['evals_per_s']} | {r['last_stage']} | {r['best_score']} | {r['best']} "
              f"| {kinds} | {r['load_avg_1min']}")
    for label in {r["code"] for r in runs}:
        mine = [r["evals_per_s"] for r in runs if r["code"] == label]
        print(f"{label}: mean {sum(mine) / len(mine):.1f} evals/s over {len(mine)} run(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
