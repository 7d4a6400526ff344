#!/usr/bin/env python3
"""How optimistic is the benchmark's figure? Nested cross-validation on the
samples and (where ../shared/data exists) the real recordings.

For each project: the benchmark itself (the same evaluation budget as one inner
search) gives its figure, worst split and mean of splits; then
engine.nested_cv re-runs the search inside K outer folds (whole recordings where
the files hold several, else contiguous blocks) and judges each choice on its
held-out fold, beside a plain baseline (IsolationForest / random forest on raw
values) fitted on the same inner lines:

    python bench/nested_cv.py                      # samples + real data, 5 folds
    python bench/nested_cv.py --only fan nclass --folds 3 --anomaly-evals 300
    python bench/nested_cv.py --json

Figures in docs/benchmarks.md come from this script.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from neai_tui.engine.nested_cv import NestedOptions, nested_cv  # noqa: E402
from neai_tui.engine.project import Project, ProjectSettings  # noqa: E402
from neai_tui.engine.search import run_benchmark  # noqa: E402

SAMPLES = REPO / "sample_data"
DEFAULT_DATA = REPO.parent / "shared" / "data"


def sample_projects(root: Path) -> dict:
    def make(name, kind, files):
        project = Project.create(root / name, ProjectSettings(name=name, type=kind, axes=3))
        for path, options in files:
            project.import_signal(path, **options)
        return project

    return {
        "fan": lambda: make("fan", "anomaly", [(SAMPLES / "fan" / "nominal.csv", {"role": "nominal"}),
                                               (SAMPLES / "fan" / "abnormal.csv", {"role": "abnormal"})]),
        "nclass": lambda: make("nclass", "n-class", [(SAMPLES / "nclass" / f"{c}.csv", {"class_name": c}) for c in
                                                     ("normal", "imbalance", "obstruction", "tapping")]),
        "oneclass": lambda: make("oneclass", "one-class", [(SAMPLES / "oneclass" / "normal.csv", {})]),
        "extrapolation": lambda: make("extrapolation", "extrapolation",
                                      [(SAMPLES / "extrapolation" / "speed.csv", {})]),
    }


def real_projects(root: Path, data: Path) -> dict:
    if not data.is_dir():
        return {}
    out = root / "real"
    subprocess.run([sys.executable, str(REPO / "bench" / "prepare_real_data.py"), "--data", str(data), "--out",
                    str(out)], check=True, capture_output=True)

    def itsc_anomaly():
        p = Project.create(root / "itsc-anomaly", ProjectSettings(name="itsc-anomaly", type="anomaly", axes=3))
        p.import_signal(out / "itsc" / "itsc_nominal.csv", role="nominal")
        p.import_signal(out / "itsc" / "itsc_abnormal.csv", role="abnormal")
        return p

    def itsc_nclass():
        p = Project.create(root / "itsc-nclass", ProjectSettings(name="itsc-nclass", type="n-class", axes=3))
        for name in ("SC_HLT", "SC_A1_B0_C0", "SC_A4_B0_C0", "SC_A0_B1_C0", "SC_A0_B4_C0", "SC_A0_B0_C4"):
            p.import_signal(out / "itsc" / f"itsc_class_{name}.csv", class_name=name)
        return p

    def skab():
        p = Project.create(root / "skab", ProjectSettings(name="skab", type="anomaly", axes=1))
        p.import_signal(out / "skab" / "skab_nominal.csv", role="nominal")
        p.import_signal(out / "skab" / "skab_abnormal.csv", role="abnormal")
        return p

    return {"itsc-anomaly": itsc_anomaly, "itsc-nclass": itsc_nclass, "skab": skab}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="+", help="projects to run (fan nclass oneclass extrapolation itsc-anomaly "
                                              "itsc-nclass skab)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--anomaly-evals", type=int, default=600, help="evaluations per search, anomaly detection")
    ap.add_argument("--trained-evals", type=int, default=150, help="evaluations per search, trained types")
    ap.add_argument("--cores", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="neai-nested-bench-") as tmp:
        root = Path(tmp)
        projects = {**sample_projects(root), **real_projects(root, args.data)}
        for name, make in projects.items():
            if args.only and name not in args.only:
                continue
            project = make()
            kind = project.settings.type
            evals = args.anomaly_evals if kind == "anomaly" else args.trained_evals
            started = time.monotonic()
            best = run_benchmark(project, max_evals=evals, cores=args.cores, seed=args.seed).best
            main_metric = {"one-class": "recall", "extrapolation": "r2"}.get(kind, "balanced_accuracy")
            doc = nested_cv(project, NestedOptions(folds=args.folds, evals=evals, cores=args.cores, seed=args.seed),
                            progress=lambda m: print(f"  {name}: {m}", file=sys.stderr, flush=True))
            s = doc["summary"]
            rows.append({"project": name, "type": kind, "metric": main_metric, "evals": evals,
                         "grouping": doc["grouping"], "folds": len([f for f in doc["folds"] if "error" not in f]),
                         "benchmark_worst": best["metrics"].get(main_metric),
                         "benchmark_mean": best["metrics"].get(f"{main_metric}_mean"),
                         **s, "seconds": round(time.monotonic() - started, 1),
                         "pipelines": [f.get("pipeline") for f in doc["folds"]],
                         "per_fold": [{"held_out": f.get("held_out"), "inner_mean": f.get("inner_mean"),
                                       "outer": (f.get("outer") or {}).get(main_metric),
                                       "baseline": (f.get("baseline") or {}).get(main_metric)} for f in doc["folds"]]})
            print(f"{name}: done in {rows[-1]['seconds']} s", file=sys.stderr, flush=True)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0

    def f(v):
        return "–" if v is None else f"{v:.3f}"

    print(f"{'project':<14} {'metric':<10} {'folds':<14} {'bench worst/mean':<17} {'inner worst/mean':<17} "
          f"{'held-out':<14} {'optimism':<9} {'baseline':<8}")
    for r in rows:
        held = f"{f(r['outer'])} ± {f(r['outer_std'])}" if r.get("outer_std") is not None else f(r["outer"])
        print(f"{r['project']:<14} {r['metric']:<10} {str(r['folds']) + ' ' + r['grouping']:<14} "
              f"{f(r['benchmark_worst']) + ' / ' + f(r['benchmark_mean']):<17} "
              f"{f(r['inner_worst']) + ' / ' + f(r['inner_mean']):<17} {held:<14} {f(r['optimism_mean']):<9} "
              f"{f(r['baseline']):<8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
