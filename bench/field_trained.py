#!/usr/bin/env python3
"""Trained libraries in the field: what the deployed library does on held-out
recordings, next to what its benchmark promised and to plain baselines.

For every case, through the `neai` command as a user would (new -> import ->
bench -> deploy -> emulate on the zip), holding out whole recordings or runs:

* n-class, ITSC motor currents, 13 classes: train = recordings 1-3 of every
  class, test = recordings 4-5 (bench/prepare_real_data.py);
* 1-class, ITSC healthy only: the same split of SC_HLT; outliers = the fault
  windows of recordings 4-5 of every fault class;
* the trained sample projects (sample_data/nclass, oneclass, extrapolation):
  their lines are independent examples, so the last 30 % of every file is held
  out (a contiguous block); 1-class outliers = oneclass/other.csv; extrapolation
  also runs on speed_try.csv, the lines the sample ships for trying;
* extrapolation, SKAB pump flow rate from the 7 other sensors: every 4th run
  held out (bench/prepare_real_data.py).

Each row prints the deployed library's held-out figure, the benchmark's own
estimate (worst split, and the mean over its splits), and baselines fitted on
the same split by scikit-learn on the raw values: random forest (100 trees) and
1-nearest neighbour (n-class and extrapolation), IsolationForest and
LocalOutlierFactor (novelty mode), both at scikit-learn's default thresholds,
for 1-class.

    python bench/prepare_real_data.py --out /tmp/real
    python bench/field_trained.py --data /tmp/real --time 120 --cores 2

`run(data_dir, time_s, cores, ...)` returns the rows (dicts), so bench/field.py
can print them with the anomaly-detection ones; `format_rows(rows)` makes the table.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_data"
HOLD_OUT = 0.3  # sample projects: the last 30 % of every file
CASES = ("itsc-nclass", "itsc-oneclass", "sample-nclass", "sample-oneclass", "sample-extrapolation", "skab-flow")


def neai(*args) -> str:
    env = dict(os.environ)
    result = subprocess.run([sys.executable, "-m", "neai_tui.cli", *map(str, args)], capture_output=True, text=True,
                            env=env)
    if result.returncode != 0:
        raise RuntimeError(f"`neai {' '.join(map(str, args))}` failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return result.stdout


def load(path: Path) -> np.ndarray:
    return np.loadtxt(path, delimiter=None if "," not in path.read_text()[:400] else ",", ndmin=2)


def save(path: Path, values: np.ndarray) -> Path:
    np.savetxt(path, values, fmt="%.6g")
    return path


def split_block(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first 70 %, last 30 %) of a file's lines: a contiguous held-out block."""
    cut = int(round(len(values) * (1.0 - HOLD_OUT)))
    return values[:cut], values[cut:]


# ------------------------------------------------------------------ the CLI flow
def bench_deploy(project: Path, time_s: float, cores: int, seed: int, work: Path) -> tuple[dict, Path]:
    """Benchmark, then deploy the best library; (its record + what was measured, zip path)."""
    out = json.loads(neai("bench", project, "--time", time_s, "--cores", cores, "--seed", seed, "--json"))
    best = out["best"]
    best["evals"] = out.get("evals")
    best["elapsed_s"] = out.get("elapsed_s")
    zip_path = work / f"{project.name}.zip"
    meta = json.loads(neai("deploy", project, "--out", zip_path, "--json"))["metadata"]
    best["measured"] = {k: meta.get("measured", {}).get(k) for k in ("flash_bytes", "ram_bytes",
                                                                      "instructions_per_detect")}
    text = best.get("pipeline")
    best["pipeline_text"] = text if isinstance(text, str) else json.dumps(text)
    return best, zip_path


def emulate(zip_path: Path, flag: str, path: Path) -> list[dict]:
    return json.loads(neai("emulate", zip_path, flag, path, "--json"))["results"]


def _library(best: dict) -> dict:
    m = best.get("measured") or {}
    return {"pipeline": best.get("pipeline_text"), "flash_bytes": m.get("flash_bytes"), "ram_bytes": m.get("ram_bytes"),
            "instructions": m.get("instructions_per_detect"), "evals": best.get("evals"),
            "evals_per_s": round(best["evals"] / best["elapsed_s"], 1) if best.get("evals") and best.get("elapsed_s")
            else None}


# ------------------------------------------------------------------ n-class
def nclass_case(name: str, train: dict[str, np.ndarray], test: dict[str, np.ndarray], axes: int, time_s, cores, seed,
                work: Path, held_out: str) -> list[dict]:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.neighbors import KNeighborsClassifier

    project = work / name
    neai("new", project, "--type", "n-class", "--axes", axes)
    for cls, values in train.items():
        neai("import", project, save(work / f"{name}-{cls}.csv", values), "--class", cls)
    best, zip_path = bench_deploy(project, time_s, cores, seed, work)
    y_true, y_pred = [], []
    for cls, values in test.items():
        results = emulate(zip_path, "--classify", save(work / f"{name}-{cls}-test.csv", values))
        y_true += [cls] * len(results)
        y_pred += [r["class"] for r in results]
    xtr = np.vstack(list(train.values()))
    ytr = np.concatenate([[c] * len(v) for c, v in train.items()])
    xte = np.vstack(list(test.values()))
    yte = np.concatenate([[c] * len(v) for c, v in test.items()])
    baselines = {
        "random forest (raw)": balanced_accuracy_score(yte, RandomForestClassifier(100, random_state=seed, n_jobs=cores)
                                                       .fit(xtr, ytr).predict(xte)),
        "1-NN (raw)": balanced_accuracy_score(yte, KNeighborsClassifier(1).fit(xtr, ytr).predict(xte)),
    }
    metrics = best["metrics"]
    return [_row(name, "n-class", held_out, "balanced accuracy", balanced_accuracy_score(y_true, y_pred),
                 metrics["balanced_accuracy"], metrics.get("balanced_accuracy_mean"), baselines, best)]


# ------------------------------------------------------------------ 1-class
def oneclass_case(name: str, train: np.ndarray, normal_test: np.ndarray, outliers: np.ndarray, axes: int, time_s, cores,
                  seed, work: Path, held_out: str) -> list[dict]:
    from sklearn.ensemble import IsolationForest
    from sklearn.neighbors import LocalOutlierFactor

    project = work / name
    neai("new", project, "--type", "one-class", "--axes", axes)
    neai("import", project, save(work / f"{name}-train.csv", train))
    best, zip_path = bench_deploy(project, time_s, cores, seed, work)
    kept = np.mean([not r["outlier"] for r in emulate(zip_path, "--outlier", save(work / f"{name}-normal.csv",
                                                                                    normal_test))])
    flagged = np.mean([r["outlier"] for r in emulate(zip_path, "--outlier", save(work / f"{name}-outliers.csv",
                                                                                   outliers))])
    forest = IsolationForest(random_state=seed).fit(train)
    lof = LocalOutlierFactor(novelty=True).fit(train)
    base_kept = {"IsolationForest (raw)": np.mean(forest.predict(normal_test) == 1),
                 "LocalOutlierFactor (raw)": np.mean(lof.predict(normal_test) == 1)}
    base_flagged = {"IsolationForest (raw)": np.mean(forest.predict(outliers) == -1),
                    "LocalOutlierFactor (raw)": np.mean(lof.predict(outliers) == -1)}
    m = best["metrics"]
    return [
        _row(name, "1-class", held_out, "normal lines kept", kept, m["recall"], m.get("recall_mean"), base_kept, best),
        _row(name, "1-class", held_out, "outliers flagged", flagged, m.get("subtle_rejection", m["outlier_rejection"]),
             m["outlier_rejection"], base_flagged, best,
             note="estimate: synthetic outliers the benchmark made (subtle families; mean column: all families)"),
    ]


# ------------------------------------------------------------------ extrapolation
def extrapolation_case(name: str, train: np.ndarray, test_x: np.ndarray, test_y: np.ndarray, axes: int, time_s, cores,
                       seed, work: Path, held_out: str, extra_tests=()) -> list[dict]:
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.metrics import r2_score
    from sklearn.neighbors import KNeighborsRegressor

    project = work / name
    neai("new", project, "--type", "extrapolation", "--axes", axes)
    neai("import", project, save(work / f"{name}-train.csv", train))
    best, zip_path = bench_deploy(project, time_s, cores, seed, work)
    rows = []
    for label, x, y in [(held_out, test_x, test_y), *extra_tests]:
        pred = np.array([r["value"] for r in emulate(zip_path, "--extrapolate", save(work / f"{name}-x.csv", x))])
        baselines = {
            "random forest (raw)": r2_score(y, RandomForestRegressor(100, random_state=seed, n_jobs=cores)
                                            .fit(train[:, 1:], train[:, 0]).predict(x)),
            "1-NN (raw)": r2_score(y, KNeighborsRegressor(1).fit(train[:, 1:], train[:, 0]).predict(x)),
        }
        m = best["metrics"]
        rows.append(_row(name, "extrapolation", label, "R²", r2_score(y, pred), m["r2"], m.get("r2_mean"), baselines,
                         best))
    return rows


def _row(dataset, kind, held_out, measure, value, estimate, estimate_mean, baselines, best, note="") -> dict:
    value = float(value)
    return {
        "dataset": dataset, "type": kind, "held_out": held_out, "measure": measure,
        "library": round(value, 4),
        "estimate": None if estimate is None else round(float(estimate), 4),
        "estimate_mean": None if estimate_mean is None else round(float(estimate_mean), 4),
        "gap": None if estimate is None else round(value - float(estimate), 4),
        "baselines": {k: round(float(v), 4) for k, v in baselines.items()},
        "best_baseline": round(float(max(baselines.values())), 4) if baselines else None,
        "note": note,
        **_library(best),
    }


# ------------------------------------------------------------------ cases
def _itsc_classes(itsc: Path) -> list[str]:
    return sorted(p.stem.replace("itsc_class_", "") for p in (itsc / "train").glob("itsc_class_*.csv"))


def prepared(data_dir: Path | None, work: Path) -> Path | None:
    """The prepare_real_data.py output: data_dir itself when it holds one, else made
    from data_dir (or ../shared/data) as raw recordings; None when there is none."""
    if data_dir is not None and (Path(data_dir) / "itsc" / "train").is_dir():
        return Path(data_dir)
    raw = Path(data_dir) if data_dir is not None else REPO.parent / "shared" / "data"
    if not (raw / "itsc").is_dir():
        raw = Path("/work/shared/data")
    if not (raw / "itsc").is_dir():
        return None
    out = work / "real"
    subprocess.run([sys.executable, str(REPO / "bench" / "prepare_real_data.py"), "--data", str(raw), "--out", str(out)],
                   check=True, capture_output=True)
    return out


def run(data_dir=None, time_s: float = 120, cores: int = 2, seed: int = 1, only=None, work: Path | None = None,
        log=print) -> list[dict]:
    """Every case (or those in `only`), one benchmark of `time_s` seconds each; the rows."""
    keep = tempfile.mkdtemp(prefix="neai-field-trained-") if work is None else None
    work = Path(keep or work)
    work.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    wanted = set(only or CASES)
    try:
        real = prepared(data_dir, work) if wanted & {"itsc-nclass", "itsc-oneclass", "skab-flow"} else None
        args = (time_s, cores, seed, work)
        if "itsc-nclass" in wanted and real is not None:
            itsc = real / "itsc"
            classes = _itsc_classes(itsc)
            log(f"itsc-nclass: {len(classes)} classes, benchmark {time_s:g} s")
            rows += nclass_case("itsc-nclass", {c: load(itsc / "train" / f"itsc_class_{c}.csv") for c in classes},
                                {c: load(itsc / "test" / f"itsc_class_{c}.csv") for c in classes}, 3, *args,
                                held_out="recordings 4-5 of every class")
        if "itsc-oneclass" in wanted and real is not None:
            itsc = real / "itsc"
            log(f"itsc-oneclass: healthy only, benchmark {time_s:g} s")
            rows += oneclass_case("itsc-oneclass", load(itsc / "train" / "itsc_class_SC_HLT.csv"),
                                  load(itsc / "test" / "itsc_class_SC_HLT.csv"), load(itsc / "test" / "itsc_abnormal.csv"),
                                  3, *args, held_out="healthy recordings 4-5; faults: recordings 4-5 of 12 classes")
        if "sample-nclass" in wanted:
            log(f"sample-nclass, benchmark {time_s:g} s")
            parts = {p.stem: split_block(load(p)) for p in sorted((SAMPLES / "nclass").glob("*.csv"))}
            rows += nclass_case("sample-nclass", {c: v[0] for c, v in parts.items()},
                                {c: v[1] for c, v in parts.items()}, 3, *args, held_out="last 30 % of every file")
        if "sample-oneclass" in wanted:
            log(f"sample-oneclass, benchmark {time_s:g} s")
            fit, test = split_block(load(SAMPLES / "oneclass" / "normal.csv"))
            rows += oneclass_case("sample-oneclass", fit, test, load(SAMPLES / "oneclass" / "other.csv"), 3, *args,
                                  held_out="last 30 % of normal.csv; outliers: other.csv")
        if "sample-extrapolation" in wanted:
            log(f"sample-extrapolation, benchmark {time_s:g} s")
            fit, test = split_block(load(SAMPLES / "extrapolation" / "speed.csv"))
            tries = (("speed_try.csv", load(SAMPLES / "extrapolation" / "speed_try.csv"),
                      load(SAMPLES / "extrapolation" / "speed_try_rpm.txt").ravel()),)
            rows += extrapolation_case("sample-extrapolation", fit, test[:, 1:], test[:, 0], 3, *args,
                                       held_out="last 30 % of speed.csv", extra_tests=tries)
        flow = real / "skab" / "flow" if real is not None else None
        if "skab-flow" in wanted and flow is not None and (flow / "train.csv").is_file():
            log(f"skab-flow, benchmark {time_s:g} s")
            rows += extrapolation_case("skab-flow", load(flow / "train.csv"), load(flow / "test.csv"),
                                       load(flow / "test_targets.csv").ravel(), 7, *args, held_out="every 4th run")
    finally:
        if keep:
            shutil.rmtree(keep, ignore_errors=True)
    return rows


def format_rows(rows: list[dict]) -> str:
    head = ("dataset", "measure", "library", "estimate", "est. mean", "gap", "best baseline", "library pipeline")
    lines = [" | ".join(head), " | ".join("---" for _ in head)]
    for r in rows:
        base = ", ".join(f"{k} {v:.3f}" for k, v in r["baselines"].items())
        est = "-" if r["estimate"] is None else f"{r['estimate']:.3f}"
        mean = "-" if r["estimate_mean"] is None else f"{r['estimate_mean']:.3f}"
        gap = "-" if r["gap"] is None else f"{r['gap']:+.3f}"
        lines.append(" | ".join([f"{r['dataset']} ({r['held_out']})", r["measure"], f"{r['library']:.3f}", est, mean,
                                 gap, base, f"{r['pipeline']}; {r['flash_bytes']} B flash, {r['evals']} evals"]))
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=None,
                        help="prepare_real_data.py output, or the raw data folder (e.g. --data /tmp/real)")
    parser.add_argument("--time", type=float, default=120, help="seconds per benchmark (e.g. --time 120)")
    parser.add_argument("--cores", type=int, default=2, help="benchmark workers (e.g. --cores 2)")
    parser.add_argument("--seed", type=int, default=1, help="benchmark seed (e.g. --seed 1)")
    parser.add_argument("--only", nargs="+", choices=CASES, help="some cases only (e.g. --only itsc-nclass)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON (e.g. --json)")
    args = parser.parse_args(argv)
    rows = run(args.data, args.time, args.cores, args.seed, args.only, log=lambda m: print(m, file=sys.stderr))
    print(json.dumps(rows, indent=2) if args.json else format_rows(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
