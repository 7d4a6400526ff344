#!/usr/bin/env python3
"""Trained-library benchmark: n-class, 1-class and extrapolation on the bundled samples.

For each trained type, on its sample project (sample_data/nclass, oneclass,
extrapolation: the fan of the demo, 3 axes x 128 samples at 1 kHz), print side by side

* the library the benchmark finds (`run_benchmark` with --time/--cores/--seed, then
  `deploy` for cortex-m4f: fitted on every line, built, checked ARM == host == model
  under unicorn), with its main metric (worst split, as `neai bench` reports it);
* two plain scikit-learn baselines "exported naively": all their weights, no search,
  built and verified through the very same path (trained.fit -> config/knowledge
  headers -> zig build -> unicorn), so the figures are measured, not estimated:
    - the naive model on the SAME preprocessing as the chosen library (what the
      model choice alone costs), and
    - the naive model on the raw buffer (no feature engineering at all);
  the naive models being RandomForest(100 trees, full depth) for n-class and
  extrapolation and IsolationForest(100 trees, 256 samples: scikit-learn's
  defaults) for 1-class. Their metric comes from the benchmark's own evaluator
  (same seed, same splits, worst split).

Columns: main metric, instructions per inference (the largest over the verification
lines), flash (code + const tables + the knowledge, which is const data in the
user's flash) with the knowledge part apart, RAM (static + peak stack, without the
caller's input buffer).

    NEAI_CACHE_DIR=/tmp/neai-cache python bench/trained_libraries.py --time 30 --cores 2
    python bench/trained_libraries.py --time 10 --types n-class --json

The exit status is 0 whenever the measurement completed. Everything runs in a
temporary folder deleted afterwards (--keep DIR keeps the projects and zips).
Nothing else heavy should run meanwhile: the load average is printed.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

TARGET_CORE = "cortex-m4f"
TYPES = {
    # type: (sample folder, files to import, main metric)
    "n-class": ("nclass", ("normal.csv", "imbalance.csv", "obstruction.csv", "tapping.csv"), "balanced_accuracy"),
    "one-class": ("oneclass", ("normal.csv",), "recall"),
    "extrapolation": ("extrapolation", ("speed.csv",), "r2"),
}
# printed next to the main metric: recall alone cannot tell a 1-class library that
# flags nothing from a good one (see tasks/oneclass.py: synthetic outliers)
SECOND_METRIC = {"n-class": "certainty", "one-class": "outlier_rejection", "extrapolation": "rmse"}
NAIVE_MODELS = {
    "n-class": {"kind": "rf", "n_estimators": 100, "max_depth": None, "scale": "none", "pca": 0},
    "one-class": {"kind": "iforest", "n_estimators": 100, "max_samples": 256, "scale": "none", "pca": 0,
                  "quantile": 0.95},
    "extrapolation": {"kind": "rf", "n_estimators": 100, "max_depth": None, "scale": "none", "pca": 0},
}
NAIVE_TITLES = {"n-class": "RandomForest 100 trees, full depth", "one-class": "IsolationForest 100 trees",
                "extrapolation": "RandomForest 100 trees, full depth"}
RAW = {"kind": "raw", "decim": 1, "norm": "none"}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def measured_figures(check: dict) -> dict:
    keys = ("instructions_per_inference", "cycles_per_inference", "flash_bytes", "code_flash_bytes",
            "knowledge_bytes", "ram_bytes", "static_ram_bytes", "stack_bytes", "identical", "lines_compared")
    return {k: check[k] for k in keys}


def run_type(lib_type: str, work: Path, args) -> dict:
    from neai_tui.engine import trained
    from neai_tui.engine.csearch import features
    from neai_tui.engine.deploy import deploy
    from neai_tui.engine.deploy_trained import build_and_verify
    from neai_tui.engine.pipeline import describe
    from neai_tui.engine.project import Project, ProjectSettings
    from neai_tui.engine.search import Benchmark, run_benchmark
    from neai_tui.engine.tasks import task_for

    folder, files, metric = TYPES[lib_type]
    samples = REPO / "sample_data" / folder
    project = Project.create(work / folder, ProjectSettings(name=f"bench-{folder}", type=lib_type, axes=3,
                                                             target=TARGET_CORE))
    for name in files:
        project.import_signal(samples / name)

    task = task_for(lib_type)
    data = task.load(project)
    screening = len(task.preprocessing_space(data)) * len(task.screening_models(data))
    log(f"[{lib_type}] benchmark: {args.time:g} s on {args.cores} core(s), seed {args.seed}")
    started = time.monotonic()
    result = run_benchmark(project, time_limit=args.time, cores=args.cores, seed=args.seed, new=True)
    extended = False
    if result.best is None:
        # A generation cut short by the time limit is dropped, and the first one screens
        # every preprocessing with each model family's default: finish that one.
        log(f"[{lib_type}] no generation completed in {args.time:g} s: finishing the screening generation "
            f"({screening} candidates)")
        result = run_benchmark(project, max_evals=screening, cores=args.cores)
        extended = True
    bench_s = time.monotonic() - started
    best = result.best
    if best is None:
        raise SystemExit(f"{lib_type}: the benchmark found no library")
    log(f"[{lib_type}] deploying {best['id']} for {TARGET_CORE}")
    deployed = deploy(project, target=TARGET_CORE, out=work / f"{folder}.zip")
    meta = deployed.metadata
    row = {
        "name": f"neai {best['id']}",
        "pipeline": meta["pipeline"],
        "metric": best["metrics"][metric],
        "metrics": best["metrics"],
        **measured_figures(meta["measured"]),
        "evals": result.evals_done,
        "bench_s": round(bench_s, 1),
        "extended_to_first_generation": extended,
        "found_after_s": best.get("found_after_s"),
        "estimated": meta["estimated"],
        "estimate_error_pct": meta["estimate_error_pct"],
    }

    seed = int(Benchmark.load(project, best["benchmark"]).state["seed"])
    evaluator = task.evaluator(data, seed, None, None)
    baselines = []
    for label, pre in (("same preprocessing", best["pipeline"]["pre"]), ("raw buffer", RAW)):
        pipeline = {"pre": pre, "model": NAIVE_MODELS[lib_type]}
        log(f"[{lib_type}] baseline {NAIVE_TITLES[lib_type]} on the {label}: scoring, fitting, building")
        judged = evaluator.evaluate(pipeline)
        feats = features(pre, data.lines, data.axes, data.buffer_size)
        fitted = trained.fit(lib_type, pipeline["model"], feats, data.y, seed)
        with tempfile.TemporaryDirectory(prefix="neai-baseline-", dir=work) as tmp:
            built = build_and_verify(fitted, pre, data, "baseline", None, TARGET_CORE, seed, Path(tmp))
        try:
            pipe_text = describe(pipeline)
        except (KeyError, ValueError):
            pipe_text = json.dumps(pipeline, sort_keys=True)
        baselines.append({
            "name": f"{NAIVE_TITLES[lib_type]} ({label})",
            "pipeline": pipe_text,
            "metric": judged["metrics"][metric] if judged.get("status") == "ok" else None,
            "metrics": judged.get("metrics", {}),
            **measured_figures(built.check),
        })
    return {"type": lib_type, "metric": metric, "library": row, "baselines": baselines}


def print_table(report: dict) -> None:
    print(f"Trained libraries on the bundled samples, {TARGET_CORE}, "
          f"benchmark {report['settings']['time_s']:g} s x {report['settings']['cores']} core(s), "
          f"seed {report['settings']['seed']}  ({report['settings']['date']}, load {report['settings']['load']})")
    header = f"{'':44} {'metric':>8} {'2nd':>8} {'instr/inf':>10} {'flash B':>9} {'(knowl.)':>9} {'RAM B':>7}"
    for item in report["types"]:
        second = SECOND_METRIC[item["type"]]
        print()
        print(f"== {item['type']}  (metric: {item['metric']}, 2nd: {second}; worst split)")
        print(header)
        for row in [item["library"], *item["baselines"]]:
            metric = "-" if row["metric"] is None else f"{row['metric']:.4f}"
            value = row["metrics"].get(second)
            other = "-" if value is None else f"{value:.4f}"
            print(f"{row['name'][:44]:44} {metric:>8} {other:>8} {row['instructions_per_inference']:>10} "
                  f"{row['flash_bytes']:>9} {row['knowledge_bytes']:>9} {row['ram_bytes']:>7}")
        lib = item["library"]
        print(f"   chosen: {lib['pipeline']}")
        note = " (time budget extended: the first generation had not completed)" if lib[
            "extended_to_first_generation"] else ""
        print(f"   {lib['evals']} evaluations in {lib['bench_s']} s{note}, best found after {lib['found_after_s']} s; "
              f"ARM == host == model on {lib['lines_compared']} lines")
        err = lib["estimate_error_pct"]
        print(f"   search estimate: RAM {lib['estimated']['ram_bytes']} B ({err['ram']:+.1f} % of measured), "
              f"flash {lib['estimated']['flash_bytes']} B ({err['flash']:+.1f} %)")
        for b in item["baselines"]:
            if lib["flash_bytes"]:
                print(f"   {b['name']}: {b['flash_bytes'] / lib['flash_bytes']:.1f}x the flash, "
                      f"{b['instructions_per_inference'] / max(1, lib['instructions_per_inference']):.1f}x "
                      f"the instructions")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--time", type=float, default=30.0, help="benchmark seconds per type (default 30)")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--types", nargs="+", choices=list(TYPES), default=list(TYPES))
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="keep the projects and zips in DIR")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="neai-trained-bench-")) if args.keep is None else args.keep
    work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("NEAI_WORKSPACE", str(work / "workspace"))
    load = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    report = {
        "settings": {"time_s": args.time, "cores": args.cores, "seed": args.seed, "core": TARGET_CORE,
                     "date": _dt.date.today().isoformat(), "load": load, "python": platform.python_version()},
        "types": [],
    }
    try:
        for lib_type in args.types:
            report["types"].append(run_type(lib_type, work, args))
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
