"""Trained project types on real recordings the project never trained on.

From the ITSC motor-current files made by bench/prepare_real_data.py (train =
recordings 1-3, test = recordings 4-5 of every class), through the `neai`
command as a user would (new -> import -> bench -> deploy -> emulate):
- n-class: 13 classes; test balanced accuracy next to a 1-nearest-neighbour
  baseline (scikit-learn, raw buffers) on the same split;
- extrapolation: the short-circuit severity (0..40 % of the turns) from the
  current buffers; test R2 (a hard case: scikit-learn's best models reach
  ~0.88 on this split);
- extrapolation (flow): SKAB's pump volume flow rate estimated from a 16 s
  window of the 7 other sensors (a soft sensor), split by run; test R2 next to
  scikit-learn's extra trees (300 trees, raw windows) on the same split;
- 1-class: healthy only; recall on held-out healthy lines and the share of
  faulty lines flagged as outliers.

    python bench/prepare_real_data.py --out /tmp/real
    python bench/real_data_trained.py --data /tmp/real --time 120
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np


def neai(*args) -> str:
    result = subprocess.run([sys.executable, "-m", "neai_tui.cli", *map(str, args)], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"`neai {' '.join(map(str, args))}` failed ({result.returncode}):\n{result.stderr}")
    return result.stdout


def load(path: Path) -> np.ndarray:
    return np.loadtxt(path, delimiter=None if " " in path.read_text()[:200] else ",", ndmin=2)


def severity(name: str) -> float:
    levels = [int(k) for k in re.findall(r"[ABC](\d)", name)]
    return 10.0 * max(levels) if levels else 0.0


def bench_and_deploy(project: Path, seconds: float, cores: int, work: Path) -> tuple[dict, Path]:
    best = json.loads(neai("bench", project, "--time", seconds, "--cores", cores, "--seed", 1, "--json"))["best"]
    zip_path = work / f"{project.name}.zip"
    meta = json.loads(neai("deploy", project, "--out", zip_path, "--json"))["metadata"]
    best["measured"] = {k: meta["measured"][k] for k in ("flash_bytes", "ram_bytes", "instructions_per_detect", "identical")}
    return best, zip_path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("bench/real_data"))
    parser.add_argument("--time", type=float, default=120)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--only", choices=["n-class", "extrapolation", "flow", "one-class"])
    args = parser.parse_args()
    itsc = args.data / "itsc"
    if not (itsc / "train").is_dir():
        raise SystemExit(f"{args.data}: run `python bench/prepare_real_data.py --out {args.data}` first")
    classes = sorted(p.stem.replace("itsc_class_", "") for p in (itsc / "train").glob("itsc_class_*.csv"))
    work = Path(tempfile.mkdtemp(prefix="neai-real-trained-"))
    report = {}
    try:
        if args.only in (None, "n-class"):
            p = work / "nclass"
            neai("new", p, "--type", "n-class", "--axes", 3)
            for c in classes:
                neai("import", p, itsc / "train" / f"itsc_class_{c}.csv", "--class", c)
            best, zip_path = bench_and_deploy(p, args.time, args.cores, work)
            y_true, y_pred = [], []
            for c in classes:
                out = json.loads(neai("emulate", zip_path, "--classify", itsc / "test" / f"itsc_class_{c}.csv", "--json"))
                y_true += [c] * len(out["results"])
                y_pred += [r["class"] for r in out["results"]]
            from sklearn.metrics import balanced_accuracy_score
            from sklearn.neighbors import KNeighborsClassifier

            xtr = np.vstack([load(itsc / "train" / f"itsc_class_{c}.csv") for c in classes])
            ytr = np.concatenate([[c] * len(load(itsc / "train" / f"itsc_class_{c}.csv")) for c in classes])
            xte = np.vstack([load(itsc / "test" / f"itsc_class_{c}.csv") for c in classes])
            knn = KNeighborsClassifier(1).fit(xtr, ytr).predict(xte)
            report["n-class"] = {
                "classes": len(classes), "best": best,
                "test_balanced_accuracy": round(balanced_accuracy_score(y_true, y_pred), 4),
                "baseline_1nn_raw_test_balanced_accuracy": round(balanced_accuracy_score(y_true, knn), 4),
                "baseline_1nn_flash_bytes": int(xtr.size * 4),
            }
        if args.only in (None, "extrapolation"):
            p = work / "extrapolation"
            neai("new", p, "--type", "extrapolation", "--axes", 3)
            rows = [np.column_stack([np.full(len(x := load(itsc / "train" / f"itsc_class_{c}.csv")), severity(c)), x])
                    for c in classes]
            train_file = work / "severity_train.csv"
            np.savetxt(train_file, np.vstack(rows), fmt="%.6g")
            neai("import", p, train_file)
            best, zip_path = bench_and_deploy(p, args.time, args.cores, work)
            truth, pred = [], []
            for c in classes:
                out = json.loads(neai("emulate", zip_path, "--extrapolate", itsc / "test" / f"itsc_class_{c}.csv", "--json"))
                truth += [severity(c)] * len(out["results"])
                pred += [r["value"] for r in out["results"]]
            truth, pred = np.array(truth), np.array(pred)
            r2 = 1 - np.sum((truth - pred) ** 2) / np.sum((truth - truth.mean()) ** 2)
            report["extrapolation"] = {"target": "short-circuit severity, % of turns", "best": best,
                                       "test_r2": round(float(r2), 4),
                                       "test_rmse": round(float(np.sqrt(np.mean((truth - pred) ** 2))), 3)}
        flow = args.data / "skab" / "flow"
        if args.only in (None, "flow") and (flow / "train.csv").is_file():
            p = work / "flow"
            neai("new", p, "--type", "extrapolation", "--axes", 7)
            neai("import", p, flow / "train.csv")
            best, zip_path = bench_and_deploy(p, args.time, args.cores, work)
            out = json.loads(neai("emulate", zip_path, "--extrapolate", flow / "test.csv", "--json"))
            pred = np.array([r["value"] for r in out["results"]])
            truth = load(flow / "test_targets.csv").ravel()
            from sklearn.ensemble import ExtraTreesRegressor
            from sklearn.metrics import r2_score

            train = load(flow / "train.csv")
            trees = ExtraTreesRegressor(300, random_state=0).fit(train[:, 1:], train[:, 0]).predict(load(flow / "test.csv"))
            report["flow"] = {"target": "SKAB volume flow rate (mean over 16 s) from 7 other sensors", "best": best,
                              "test_r2": round(float(r2_score(truth, pred)), 4),
                              "test_rmse": round(float(np.sqrt(np.mean((truth - pred) ** 2))), 3),
                              "baseline_extra_trees_300_test_r2": round(float(r2_score(truth, trees)), 4)}
        if args.only in (None, "one-class"):
            p = work / "oneclass"
            neai("new", p, "--type", "one-class", "--axes", 3)
            neai("import", p, itsc / "train" / "itsc_class_SC_HLT.csv")
            best, zip_path = bench_and_deploy(p, args.time, args.cores, work)
            healthy = json.loads(neai("emulate", zip_path, "--outlier", itsc / "test" / "itsc_class_SC_HLT.csv", "--json"))
            faults = json.loads(neai("emulate", zip_path, "--outlier", itsc / "test" / "itsc_abnormal.csv", "--json"))
            report["one-class"] = {
                "best": best,
                "test_recall_healthy": round(float(np.mean([not r["outlier"] for r in healthy["results"]])), 4),
                "test_faults_flagged": round(float(np.mean([r["outlier"] for r in faults["results"]])), 4),
            }
        print(json.dumps(report, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
