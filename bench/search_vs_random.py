"""How fast the benchmark finds a good library, next to plain random search.

On a project's signals (default: the bundled fan sample, 3 axes x 256), in one run:
1. the real search ("tpe": screening + Optuna TPE + local moves) runs for
   --ref-time seconds (the issue's setting is 600): its final score is the reference;
2. both the real search and plain random search over the same space run for
   --time seconds each, from scratch, with the same seed and cores;
3. for each, the time at which its best score first reached 99 % of the
   reference, and evaluations per second.

    python bench/search_vs_random.py --ref-time 600 --time 120 --cores 2
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from neai_tui.engine.project import Project, ProjectSettings  # noqa: E402
from neai_tui.engine.search import Benchmark, run_benchmark  # noqa: E402


def make_project(root: Path, nominal: Path, abnormal: Path, axes: int) -> Project:
    project = Project.create(root, ProjectSettings(name="search-bench", axes=axes, max_ram_kb=8, max_flash_kb=16))
    project.import_signal(nominal, role="nominal")
    project.import_signal(abnormal, role="abnormal")
    return project


def run(project: Project, seconds: float, cores: int, seed: int, strategy: str) -> dict:
    result = run_benchmark(project, time_limit=seconds, cores=cores, seed=seed, new=True, strategy=strategy)
    bench = Benchmark.load(project, result.benchmark)
    return {
        "strategy": strategy,
        "seconds": seconds,
        "evals": result.evals_done,
        "evals_per_s": round(result.evals_done / max(result.elapsed_s, 1e-9), 1),
        "best_score": result.best["score"] if result.best else None,
        "history": [(h["t"], h["score"]) for h in bench.history()],
    }


def time_to(history: list[tuple[float, float]], target: float) -> float | None:
    return next((t for t, score in history if score >= target), None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nominal", type=Path, default=REPO / "sample_data/fan/nominal.csv")
    parser.add_argument("--abnormal", type=Path, default=REPO / "sample_data/fan/abnormal.csv")
    parser.add_argument("--axes", type=int, default=3)
    parser.add_argument("--ref-time", type=float, default=600)
    parser.add_argument("--time", type=float, default=120)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="neai-search-bench-"))
    try:
        project = make_project(work / "p", args.nominal, args.abnormal, args.axes)
        ref = run(project, args.ref_time, args.cores, args.seed, "tpe")
        target = 0.99 * ref["best_score"]
        runs = [run(project, args.time, args.cores, args.seed, s) for s in ("tpe", "random")]
        for r in runs:
            r["time_to_99pct"] = time_to(r["history"], target)
        doc = {"reference": {k: ref[k] for k in ("seconds", "evals", "evals_per_s", "best_score")},
               "target_score": round(target, 3), "runs": [{k: v for k, v in r.items() if k != "history"} for r in runs]}
        real, rand = runs
        if real["time_to_99pct"] and rand["time_to_99pct"]:
            doc["speedup"] = round(rand["time_to_99pct"] / real["time_to_99pct"], 1)
        if args.json:
            print(json.dumps(doc))
            return 0
        print(f"reference: real search, {args.ref_time:.0f} s on {args.cores} cores -> score {ref['best_score']:.3f} "
              f"({ref['evals']} evals, {ref['evals_per_s']}/s); 99 % = {target:.3f}")
        print(f"{'strategy':<10} {'evals/s':>8} {'best in ' + str(int(args.time)) + ' s':>14} {'time to 99 %':>14}")
        for r in runs:
            t = f"{r['time_to_99pct']:.1f} s" if r["time_to_99pct"] is not None else "not reached"
            print(f"{r['strategy']:<10} {r['evals_per_s']:>8} {r['best_score']:>14.3f} {t:>14}")
        if "speedup" in doc:
            print(f"the real search reaches 99 % {doc['speedup']}x sooner than random search (target: >= 3x, <= 60 s)")
        elif real["time_to_99pct"] is not None:
            print(f"random search did not reach 99 % within {args.time:.0f} s; the real search did in {real['time_to_99pct']:.1f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
