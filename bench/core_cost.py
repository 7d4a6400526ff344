#!/usr/bin/env python3
"""The fan library on a Cortex-M4F and on a Cortex-M0+, side by side, in one run.

Issue 13's must-show for the target core's cost: the bundled fan sample (3 axes x
256, the demo's limits: 8 KB RAM, 16 KB flash) benchmarked once for an M4F board
(NUCLEO-L432KC, 80 MHz) and once for an M0+ board (NUCLEO-G071RB, 64 MHz), same
seed, time and cores; each best library deployed for its own target (the zip's
libneai.a, verified against the host build under unicorn). The baseline is what
the M0+ user got before the cost model: the M4F's choice deployed for the M0+.

Printed per column: the pipeline, instructions per detect() measured under
unicorn on the deployed libneai.a (and the cost model's estimate), ms at the
board's clock, flash, RAM, and the benchmark's balanced accuracy (worst split and
mean over the 5 splits, the same splits for both: same seed). Targets: M0+
choice <= 400 000 instructions per detect(), balanced accuracy within 0.01 of the
M4F choice.

    python bench/core_cost.py --time 120 --cores 2
    python bench/core_cost.py --evals 6000 --cores 2   # the same choices whatever the machine's load
    python bench/core_cost.py --time 60 --json

The exit status is 0 whenever the measurement completed, even if a target FAILs.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BOARDS = {"M4F": "NUCLEO-L432KC", "M0+": "NUCLEO-G071RB"}
MAX_RAM_KB, MAX_FLASH_KB = 8, 16  # the demo project's limits (engine/demo.py)
MAX_INSTRUCTIONS = 400_000
MAX_BA_GAP = 0.01


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def make_project(folder: Path, target: str):
    from neai_tui.engine.demo import sample_files
    from neai_tui.engine.project import Project, ProjectSettings

    project = Project.create(folder, ProjectSettings(
        name=f"Fan on {target}", type="anomaly", axes=3, description="bench/core_cost.py: the bundled fan sample",
        max_ram_kb=MAX_RAM_KB, max_flash_kb=MAX_FLASH_KB, target=target))
    files = sample_files()
    for role in ("nominal", "abnormal"):
        project.import_signal(files[role], role=role)
    return project


def bench_and_deploy(project, seconds: float | None, evals: int | None, cores: int, seed: int, out: Path) -> dict:
    from neai_tui.engine.deploy import deploy
    from neai_tui.engine.search import run_benchmark

    t0 = time.monotonic()
    result = run_benchmark(project, time_limit=seconds, max_evals=evals, cores=cores, seed=seed, new=True)
    if result.best is None:
        raise SystemExit(f"{project.settings.name}: the benchmark found no library")
    log(f"  {project.settings.name}: {result.evals_done} evaluations, best {result.best['pipeline_text']}")
    meta = deploy(project, out=out).metadata
    return {"benchmark_s": round(time.monotonic() - t0, 1), "evals": result.evals_done, **summary(meta)}


def summary(meta: dict) -> dict:
    m, timing = meta["measured"], meta["timing"]
    return {
        "library": meta["library_id"], "target": meta["target"], "core": meta["core"],
        "pipeline": meta["pipeline"], "pipeline_config": meta["pipeline_config"],
        "instructions": m["instructions_per_detect"], "estimated_instructions": timing.get("estimated_instructions"),
        "cycles": m["cycles_per_detect"], "clock_mhz": timing["clock_mhz"], "ms": timing["ms_per_inference"],
        "flash_bytes": m["flash_bytes"], "ram_bytes": m["ram_bytes"], "identical": m["identical"],
        "lines_compared": m["lines_compared"],
        "balanced_accuracy": meta["metrics"]["balanced_accuracy"],
        "balanced_accuracy_mean": meta["metrics"]["balanced_accuracy_mean"],
        "score": meta["score"],
    }


def fmt(v) -> str:
    if isinstance(v, bool):
        return "yes" if v else "NO"
    if isinstance(v, int):
        return f"{v:,}".replace(",", " ")
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def print_report(doc: dict) -> None:
    cols = doc["columns"]
    names = list(cols)
    print(f"neai-tui core-cost benchmark, {doc['date']}, {doc['machine']['cpus']} CPUs, load avg at start "
          f"{doc['machine']['loadavg_start']} (end {doc['machine']['loadavg_end']})")
    budget = f"--evals {doc['evals']}" if doc["evals"] else f"--time {doc['time_s']:g}"
    print(f"fan sample (3 x 256, 300 nominal + 150 abnormal lines), limits {MAX_RAM_KB} KB RAM / {MAX_FLASH_KB} KB "
          f"flash; each benchmark {budget} --cores {doc['cores']} --seed {doc['seed']}")
    for name, col in doc["columns"].items():
        if "evals" in col:
            print(f"  {name}: {col['evals']} evaluations in {col['benchmark_s']:.0f} s (benchmark + deploy)")
    print()
    for name in names:
        print(f"  {name}: {cols[name]['pipeline']}")
    print()
    rows = [
        ("target (core, clock MHz)", lambda c: f"{c['target']} ({c['core']}, {c['clock_mhz']:g})"),
        ("instructions / detect() (unicorn)", lambda c: fmt(c["instructions"])),
        ("  cost model's estimate", lambda c: fmt(c["estimated_instructions"])),
        ("ms / detect() at the clock", lambda c: f"{c['ms']:.2f}"),
        ("flash bytes", lambda c: fmt(c["flash_bytes"])),
        ("RAM bytes (static + stack)", lambda c: fmt(c["ram_bytes"])),
        ("balanced accuracy (worst split)", lambda c: f"{c['balanced_accuracy']:.4f}"),
        ("balanced accuracy (mean of 5)", lambda c: f"{c['balanced_accuracy_mean']:.4f}"),
        ("ARM == host (verify lines)", lambda c: f"{fmt(c['identical'])} ({c['lines_compared']})"),
    ]
    table = [("", *names)] + [(label, *(f(cols[n]) for n in names)) for label, f in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for i, row in enumerate(table):
        print("  ".join(cell.ljust(widths[j]) for j, cell in enumerate(row)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))
    print()
    for name, ok in doc["verdicts"].items():
        print(f"{name}: {'PASS' if ok else 'FAIL'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--time", type=float, help="each benchmark's time limit in s (default 120)")
    budget.add_argument("--evals", type=int,
                        help="each benchmark's evaluations instead of a time: the same choices on any machine load")
    parser.add_argument("--cores", type=int, default=2, help="benchmark worker processes (default 2)")
    parser.add_argument("--seed", type=int, default=1, help="benchmark seed (default 1)")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="keep the projects and zips in DIR")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of the table")
    args = parser.parse_args()
    if args.time is None and args.evals is None:
        args.time = 120.0

    from neai_tui.engine.deploy import deploy

    load = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="neai-core-cost-", dir=args.keep))
    try:
        columns, projects = {}, {}
        for name, board in BOARDS.items():
            log(f"benchmark for {board}")
            projects[name] = make_project(work / name.replace("+", "p"), board)
            columns[f"{name} choice on {name}"] = bench_and_deploy(projects[name], args.time, args.evals, args.cores,
                                                                    args.seed, work / f"{name.replace('+', 'p')}.zip")
        log("baseline: the M4F choice deployed for the M0+ board")
        base = deploy(projects["M4F"], target=BOARDS["M0+"], out=work / "m4f_on_m0p.zip", select=False).metadata
        columns = {"M4F choice on M4F": columns["M4F choice on M4F"], "M4F choice on M0+": summary(base),
                   "M0+ choice on M0+": columns["M0+ choice on M0+"]}
        m4, m0 = columns["M4F choice on M4F"], columns["M0+ choice on M0+"]
        doc = {
            "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "loadavg_start": [round(x, 2) for x in load],
                        "loadavg_end": [round(x, 2) for x in os.getloadavg()]},
            "time_s": args.time, "evals": args.evals, "cores": args.cores, "seed": args.seed,
            "columns": columns,
            "verdicts": {
                f"M0+ choice <= {MAX_INSTRUCTIONS:,} instructions per detect()".replace(",", " "):
                    m0["instructions"] <= MAX_INSTRUCTIONS,
                f"M0+ choice's balanced accuracy within {MAX_BA_GAP} of the M4F choice's":
                    m0["balanced_accuracy"] >= m4["balanced_accuracy"] - MAX_BA_GAP,
                "every build identical to its host build": all(c["identical"] for c in columns.values()),
            },
        }
        if args.json:
            print(json.dumps(doc, indent=2))
        else:
            print_report(doc)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
