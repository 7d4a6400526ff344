"""Is the library found in 2 minutes as good as the one found in 10?

On real recordings the project never trained on (made by
bench/prepare_real_data.py), one benchmark per dataset runs for --long seconds
(default 600) on --cores cores. The search is deterministic for a seed (the
same generations are proposed in the same order), so a run stopped at --short
seconds (default 120) is the first part of the long one: its best library is
the best of the long run's history at t <= --short. With --separate, a second,
independent --short run is made instead (twice the machine time, same answer
up to where the time cut falls inside a generation).

Prints, per dataset: evaluations, the worst-split score of the best library at
--short and at --long, the gap in percent, and PASS when the short one is
within 1 % (the issue's target).

    python bench/prepare_real_data.py --out /tmp/real
    python bench/short_vs_long.py --data /tmp/real --short 120 --long 600 --cores 2
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from neai_tui.engine.project import Project, ProjectSettings  # noqa: E402
from neai_tui.engine.search import Benchmark, run_benchmark  # noqa: E402

TOLERANCE = 0.01


def itsc_anomaly(root: Path, data: Path) -> Project:
    p = Project.create(root, ProjectSettings(name="itsc-anomaly", axes=3))
    p.import_signal(data / "itsc" / "train" / "itsc_nominal.csv", role="nominal")
    p.import_signal(data / "itsc" / "train" / "itsc_abnormal.csv", role="abnormal")
    return p


def skab_anomaly(root: Path, data: Path) -> Project:
    p = Project.create(root, ProjectSettings(name="skab-anomaly", axes=1))
    p.import_signal(data / "skab" / "train" / "skab_nominal.csv", role="nominal")
    p.import_signal(data / "skab" / "train" / "skab_abnormal.csv", role="abnormal")
    return p


def itsc_nclass(root: Path, data: Path) -> Project:
    p = Project.create(root, ProjectSettings(name="itsc-nclass", type="n-class", axes=3))
    for f in sorted((data / "itsc" / "train").glob("itsc_class_*.csv")):
        p.import_signal(f, class_name=f.stem.replace("itsc_class_", ""))
    return p


def skab_flow(root: Path, data: Path) -> Project:
    p = Project.create(root, ProjectSettings(name="skab-flow", type="extrapolation", axes=7))
    p.import_signal(data / "skab" / "flow" / "train.csv")
    return p


DATASETS = {"itsc-anomaly": itsc_anomaly, "skab-anomaly": skab_anomaly, "itsc-nclass": itsc_nclass,
            "skab-flow": skab_flow}


def best_until(history: list[dict], t: float) -> float | None:
    scores = [h["score"] for h in history if h["t"] <= t]
    return max(scores) if scores else None


def measure(name: str, project: Project, args) -> dict:
    result = run_benchmark(project, time_limit=args.long, cores=args.cores, seed=args.seed, new=True)
    history = Benchmark.load(project, result.benchmark).history()
    long_score = result.best["score"] if result.best else None
    if args.separate:
        short = run_benchmark(project, time_limit=args.short, cores=args.cores, seed=args.seed, new=True)
        short_score = short.best["score"] if short.best else None
    else:
        short_score = best_until(history, args.short)
    row = {"dataset": name, "evals": result.evals_done, "elapsed_s": round(result.elapsed_s, 1),
           "short_score": short_score, "long_score": long_score,
           "long_best_at_s": history[-1]["t"] if history else None,
           "long_pipeline": result.best.get("pipeline") if result.best else None}
    if short_score is not None and long_score:
        row["gap_pct"] = round(100.0 * (long_score - short_score) / long_score, 3)
        row["pass"] = short_score >= (1.0 - TOLERANCE) * long_score
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=REPO / "bench" / "real_data")
    parser.add_argument("--short", type=float, default=120)
    parser.add_argument("--long", type=float, default=600)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", action="append", choices=sorted(DATASETS), help="repeatable; default: all")
    parser.add_argument("--separate", action="store_true", help="run the short benchmark on its own too")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not (args.data / "itsc" / "train").is_dir():
        raise SystemExit(f"{args.data}: run `python bench/prepare_real_data.py --out {args.data}` first")
    load = os.getloadavg()[0]
    print(f"load average at start: {load:.2f}" + ("  (warning: the machine is busy)" if load > 2.5 else ""), file=sys.stderr)
    work = Path(tempfile.mkdtemp(prefix="neai-short-long-"))
    rows = []
    try:
        for name in args.only or list(DATASETS):
            print(f"{name}: benchmarking for {args.long:.0f} s on {args.cores} core(s) ...", file=sys.stderr)
            rows.append(measure(name, DATASETS[name](work / name, args.data), args))
            if not args.json:
                r = rows[-1]
                print(f"  {r['evals']} evaluations; best at {args.short:.0f} s {r['short_score']}, at {args.long:.0f} s "
                      f"{r['long_score']} (final best found at {r['long_best_at_s']} s)", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'dataset':<14} {'evals':>7} {f'score @{args.short:.0f}s':>12} {f'score @{args.long:.0f}s':>12} "
          f"{'gap':>8} {'final best at':>14}  within 1 %")
    for r in rows:
        gap = f"{r['gap_pct']:.2f} %" if "gap_pct" in r else "-"
        print(f"{r['dataset']:<14} {r['evals']:>7} {r['short_score']!s:>12} {r['long_score']!s:>12} {gap:>8} "
              f"{r['long_best_at_s']!s:>13}s  {'PASS' if r.get('pass') else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
