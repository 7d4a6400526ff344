#!/usr/bin/env python3
"""What a library does in the field, next to what the benchmark said and plain baselines.

For every real dataset in ../shared/data (prepared by bench/prepare_real_data.py)
and every sample project, this runs the documented CLI flow as a user would:

    neai new -> import (train files) -> bench --time T -> deploy -> emulate

holding out whole recordings / runs the benchmark never saw. The deployed
library (its host build, through `neai emulate`) then learns the train nominal
lines in the orders a device may see them:

    file       the train file's own order
    reversed   backwards
    regimes    grouped by regime (runs of the file last first when it has several,
               else clusters of lines, tasks/orders.py), the worst of both ways
    shuffled   a seeded shuffle

and detects the held-out lines; each order's balanced accuracy at similarity 90 is
printed beside the benchmark's own estimate (its worst split and order) and
baselines fitted on the same train lines (scikit-learn IsolationForest,
LocalOutlierFactor, and the 1-nearest-neighbour distance on the raw values; each
flags a line whose score is above the 98th percentile of its train lines' scores;
their AUC too, which needs no threshold).

Multi-sensor libraries learn a stream: the orders move whole recordings (train
runs) and regime stretches, each forward in time; held-out runs are detected
sample by sample against their labels.

    python bench/prepare_real_data.py --out /tmp/real
    python bench/field.py --data /tmp/real --time 120 --cores 2
    python bench/field.py --data /tmp/real --time 30 --only itsc,fan --json

If bench/field_trained.py exists and defines run(...), its rows (n-class and
1-class on the same data) are printed after these.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DEFAULT_RAW = next((p for p in (REPO.parent / "shared" / "data", Path("/work/shared/data")) if p.is_dir()),
                   REPO.parent / "shared" / "data")
THRESHOLD = 90
BASELINE_QUANTILE = 98  # baselines flag lines scoring above this percentile of their train lines
ORDERS = ("file", "reversed", "regimes", "shuffled")
DATASETS = ("itsc", "skab-valve", "skab-multisensor", "fan", "multisensor")
TARGETS = {"itsc": 0.98, "skab-valve": 0.90}  # balanced accuracy in every order (issue 13)


def say(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def neai(*args: str, workspace: Path) -> str:
    env = {**os.environ, "NEAI_WORKSPACE": str(workspace)}
    cmd = [sys.executable, "-m", "neai_tui.cli", *map(str, args)]
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO)
    if result.returncode != 0:
        raise SystemExit(f"`neai {' '.join(map(str, args))}` failed ({result.returncode}):\n{result.stderr}")
    return result.stdout


def write_lines(path: Path, values: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="ascii", newline="\n") as fh:
        for row in np.atleast_2d(values):
            fh.write(" ".join(f"{v:.7g}" for v in row.tolist()) + "\n")
    return path


def balanced_accuracy(sim_nominal, sim_abnormal) -> float:
    return 0.5 * (float(np.mean(np.asarray(sim_nominal) >= THRESHOLD))
                  + float(np.mean(np.asarray(sim_abnormal) < THRESHOLD)))


# ------------------------------------------------------------------- datasets
class Dataset:
    """Train files (what the project imports), held-out lines, and how to order learning."""

    name = ""
    multisensor = False

    def __init__(self, axes: int, train_nominal: list[np.ndarray], train_abnormal: list[np.ndarray],
                 test_nominal: np.ndarray, test_abnormal: np.ndarray, description: str):
        self.axes = axes
        self.train_nominal = train_nominal  # one array per file (recording)
        self.train_abnormal = train_abnormal
        self.test_nominal = test_nominal
        self.test_abnormal = test_abnormal
        self.description = description


def buffered(name: str, folder: Path, stem: str, axes: int, description: str) -> Dataset:
    load = lambda p: np.loadtxt(p, ndmin=2)  # noqa: E731
    d = Dataset(axes, [load(folder / "train" / f"{stem}_nominal.csv")], [load(folder / "train" / f"{stem}_abnormal.csv")],
                load(folder / "test" / f"{stem}_nominal.csv"), load(folder / "test" / f"{stem}_abnormal.csv"),
                description)
    d.name = name
    return d


def skab_multisensor(raw: Path) -> Dataset:
    """Valve runs of SKAB, one sample (8 variables) per line: the train runs' leading
    normal stretch (one recording each) and first anomaly stretch; every 4th run held out whole."""
    prepare = _load_module(REPO / "bench" / "prepare_real_data.py", "prepare_real_data")
    runs = prepare.load_skab_runs(raw / "skab")
    nominal, abnormal, test_nominal, test_abnormal = [], [], [], []
    for i, run in enumerate(runs):
        a = run.anomaly.astype(bool)
        if i % 4 == 3:  # held out: the whole run, sample by sample against its labels
            test_nominal.append(run.values[~a])
            test_abnormal.append(run.values[a])
            continue
        first = int(np.argmax(a)) if a.any() else len(a)
        if first >= 64:
            nominal.append(run.values[:first])
        if a.any():
            end = first + int(np.argmax(~a[first:])) if (~a[first:]).any() else len(a)
            abnormal.append(run.values[first:end])
    d = Dataset(8, nominal, abnormal, np.vstack(test_nominal), np.vstack(test_abnormal),
                "SKAB valve runs, 8 sensors at 1 Hz, one sample per call; every 4th run held out")
    d.name, d.multisensor = "skab-multisensor", True
    d.test_runs = [(run.values, run.anomaly.astype(bool)) for i, run in enumerate(runs) if i % 4 == 3]
    return d


def sample_dataset(name: str, axes: int, held_nominal: np.ndarray, held_abnormal: np.ndarray, description: str,
                   multisensor: bool = False) -> Dataset:
    """A bundled sample: train = its shipped files; held out = a fresh recording of
    the same machine from its generator with another seed."""
    folder = REPO / "sample_data" / name
    d = Dataset(axes, [np.loadtxt(folder / "nominal.csv")], [np.loadtxt(folder / "abnormal.csv")],
                held_nominal, held_abnormal, description)
    d.name, d.multisensor = name, multisensor
    if multisensor:
        d.test_runs = [(held_nominal, np.zeros(len(held_nominal), bool)),
                       (held_abnormal, np.ones(len(held_abnormal), bool))]
    return d


def fan_sample() -> Dataset:
    from neai_tui.engine import sample

    held = sample.generate_fan_signals(seed=77, n_nominal=150, n_abnormal=150)
    return sample_dataset("fan", 3, held.nominal, held.abnormal, "bundled fan sample (3 x 256, speed by speed); "
                          "held out: a new recording of the same fan (seed 77)")


def multisensor_sample() -> Dataset:
    from neai_tui.engine import sample_multisensor

    held = sample_multisensor.generate_multisensor_signals(seed=78, n_nominal=1500, n_abnormal=800)
    return sample_dataset("multisensor", 6, held.nominal, held.abnormal, "bundled pumping-station sample "
                          "(6 variables); held out: a new recording (seed 78)", multisensor=True)


def load_dataset(name: str, data: Path, raw: Path) -> Dataset:
    if name == "itsc":
        return buffered(name, data / "itsc", "itsc", 3,
                        "ITSC motor phase currents, 3 x 128, healthy vs 12 short-circuit faults; "
                        "recordings 4-5 of every class held out")
    if name == "skab-valve":
        return buffered(name, data / "skab", "skab", 1,
                        "SKAB pump flow rate, 1 x 64, valve anomalies; every 4th run held out")
    if name == "skab-multisensor":
        return skab_multisensor(raw)
    if name == "fan":
        return fan_sample()
    return multisensor_sample()


# --------------------------------------------------------------------- orders
def learning_orders(d: Dataset, buffer_size: int, seed: int) -> dict[str, list[np.ndarray]]:
    """Per order, the train nominal lines as the device learns them, as a list of
    streams (files) to learn one after the other. Buffered: one list of lines per
    order. Multi-sensor: recordings and regime stretches moved whole."""
    from neai_tui.engine.tasks import orders as order_mod
    from neai_tui.engine.overlap import file_runs
    from neai_tui.engine.tasks.anomaly import line_regimes

    rng = np.random.default_rng(seed)
    if d.multisensor:
        recs = d.train_nominal
        values = np.vstack(recs)
        labels = order_mod.regime_labels(values, seed)
        # stretches of one regime, each forward in time
        cut = np.flatnonzero(np.diff(labels) != 0) + 1
        starts = np.concatenate([[0], cut])
        stretches = np.split(values, cut)
        regime_of = labels[starts]
        up = [stretches[i] for i in np.argsort(regime_of, kind="stable")]
        down = [stretches[i] for i in np.argsort(-regime_of, kind="stable")]
        return {"file": [np.vstack(recs)], "reversed": [np.vstack(recs[::-1])],
                "regimes": [np.vstack(up)], "regimes-back": [np.vstack(down)],
                "shuffled": [np.vstack([recs[i] for i in rng.permutation(len(recs))])]}
    lines = np.vstack(d.train_nominal)
    _, runs = file_runs(d.train_nominal, d.axes, buffer_size)
    regimes = line_regimes(lines, d.axes, buffer_size, seed)
    out = {}
    for name, order in order_mod.learning_orders(np.arange(len(lines)), runs, regimes, rng):
        out[name] = [lines[order]]
    return out


def emulate(zip_path: Path, learn_files: list[Path], detect: Path, workspace: Path) -> list[int]:
    args = ["emulate", zip_path]
    for f in learn_files:
        args += ["--learn", f]
    doc = json.loads(neai(*args, "--detect", detect, "--json", workspace=workspace))
    return [r["similarity"] for r in doc["results"]]


# ------------------------------------------------------------------- baselines
def windows_of(values: np.ndarray, window: int) -> np.ndarray:
    from neai_tui.engine.tasks.multisensor import window_buffers

    starts = np.arange(len(values) - window + 1)
    return window_buffers(values, starts, window).astype(np.float64)


def baselines(train: np.ndarray, nominal: np.ndarray, abnormal: np.ndarray, seed: int) -> dict:
    """IsolationForest, LocalOutlierFactor and 1-NN distance on raw values, fitted on
    the train nominal lines: balanced accuracy at their 98th train percentile, AUC."""
    from sklearn.ensemble import IsolationForest
    from sklearn.metrics import roc_auc_score
    from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(train)
    x, n, a = scaler.transform(train), scaler.transform(nominal), scaler.transform(abnormal)
    out = {}
    iso = IsolationForest(n_estimators=200, random_state=seed).fit(x)
    lof = LocalOutlierFactor(n_neighbors=min(20, len(x) - 1), novelty=True).fit(x)
    nn = NearestNeighbors(n_neighbors=2).fit(x)
    scorers = {
        "IsolationForest": (lambda z: -iso.score_samples(z), -iso.score_samples(x)),
        "LOF": (lambda z: -lof.score_samples(z), -lof.score_samples(x)),
        "1-NN": (lambda z: nn.kneighbors(z, 1)[0][:, 0], nn.kneighbors(x, 2)[0][:, 1]),  # train: leave one out
    }
    for name, (score, train_scores) in scorers.items():
        limit = np.percentile(train_scores, BASELINE_QUANTILE)
        s_n, s_a = score(n), score(a)
        ba = 0.5 * (float(np.mean(s_n <= limit)) + float(np.mean(s_a > limit)))
        auc = float(roc_auc_score(np.r_[np.zeros(len(s_n)), np.ones(len(s_a))], np.r_[s_n, s_a]))
        out[name] = {"balanced_accuracy": round(ba, 4), "auc": round(auc, 4)}
    return out


# ------------------------------------------------------------------------ runs
def run_dataset(d: Dataset, seconds: float, cores: int, seed: int, work: Path, workspace: Path) -> dict:
    project = work / d.name
    files = work / f"{d.name}-files"
    new = ["new", project, "--type", "anomaly", "--name", f"field-{d.name}"]
    new += ["--variables", d.axes] if d.multisensor else ["--axes", d.axes]
    neai(*new, workspace=workspace)
    for role, parts in (("nominal", d.train_nominal), ("abnormal", d.train_abnormal)):
        for i, values in enumerate(parts):
            neai("import", project, write_lines(files / f"train_{role}_{i + 1}.csv", values), "--role", role,
                 workspace=workspace)
    neai("check", project, workspace=workspace)
    started = time.monotonic()
    bench = json.loads(neai("bench", project, "--time", seconds, "--cores", cores, "--seed", seed, "--json",
                            workspace=workspace))
    bench_s = time.monotonic() - started
    best = bench["best"]
    zip_path = work / f"{d.name}.zip"
    meta = json.loads(neai("deploy", project, "--out", zip_path, "--json", workspace=workspace))["metadata"]
    buffer_size = 1 if d.multisensor else d.train_nominal[0].shape[1] // d.axes
    window = int(meta["data"].get("window", 1)) if d.multisensor else 1
    orders = learning_orders(d, buffer_size, seed)
    by_order = {}
    for name, streams in orders.items():
        learn_files = [write_lines(files / f"learn_{name}_{i}.csv", s) for i, s in enumerate(streams)]
        if d.multisensor:
            sims_n, sims_a = [], []
            for r, (values, labels) in enumerate(d.test_runs):
                sims = np.asarray(emulate(zip_path, learn_files, write_lines(files / f"test_run_{r}.csv", values),
                                          workspace))
                sims_n.append(sims[~labels])
                sims_a.append(sims[labels])
            by_order[name] = balanced_accuracy(np.concatenate(sims_n), np.concatenate(sims_a))
        else:
            sims_n = emulate(zip_path, learn_files, write_lines(files / "test_nominal.csv", d.test_nominal), workspace)
            sims_a = emulate(zip_path, learn_files, write_lines(files / "test_abnormal.csv", d.test_abnormal), workspace)
            by_order[name] = balanced_accuracy(sims_n, sims_a)
    regimes = [by_order[k] for k in ("runs", "regimes", "regimes-back") if k in by_order]
    shown = {"file": by_order["file"], "reversed": by_order.get("reversed", by_order["file"]),
             "regimes": min(regimes) if regimes else by_order["file"], "shuffled": by_order["shuffled"]}
    train = np.vstack(d.train_nominal)
    if d.multisensor:
        train_x = np.vstack([windows_of(r, window) for r in d.train_nominal])
        test_n = np.vstack([windows_of(v, window)[~l[window - 1:]] for v, l in d.test_runs if (~l[window - 1:]).any()])
        test_a = np.vstack([windows_of(v, window)[l[window - 1:]] for v, l in d.test_runs if l[window - 1:].any()])
    else:
        train_x, test_n, test_a = train, d.test_nominal, d.test_abnormal
    worst = min(by_order.values())
    return {
        "dataset": d.name,
        "description": d.description,
        "library": best.get("pipeline_text") or json.dumps(best.get("pipeline")),
        "pipeline": best.get("pipeline"),
        "bench_seconds": round(bench_s, 1),
        "benchmark_estimate": best["metrics"]["balanced_accuracy"],
        "benchmark_by_order": best["metrics"].get("balanced_accuracy_by_order"),
        "held_out_by_order": {k: round(v, 4) for k, v in by_order.items()},
        "held_out": {k: round(v, 4) for k, v in shown.items()},
        "worst_order": round(worst, 4),
        "worst_minus_shuffled": round(worst - by_order["shuffled"], 4),
        "baselines": baselines(train_x, test_n, test_a, seed),
        "lines": {"train_nominal": int(len(train)), "test_nominal": int(len(test_n)),
                  "test_abnormal": int(len(test_a))},
        "measured": {k: meta["measured"].get(k) for k in ("flash_bytes", "ram_bytes", "instructions_per_detect")},
        "min_learn": meta.get("min_learning_iterations"),
    }


def targets(row: dict) -> list[str]:
    out = []
    gap = row["worst_minus_shuffled"]
    out.append(f"worst order within 0.02 of shuffled: {'PASS' if gap >= -0.02 else 'FAIL'} ({gap:+.3f})")
    if row["dataset"] in TARGETS:
        need = TARGETS[row["dataset"]]
        ok = row["worst_order"] >= need
        out.append(f"every order >= {need}: {'PASS' if ok else 'FAIL'} (worst {row['worst_order']:.3f})")
    est = row["benchmark_estimate"] - row["worst_order"]
    out.append(f"benchmark estimate - held-out worst order: {est:+.3f}")
    return out


def print_table(rows: list[dict]) -> None:
    head = (f"{'dataset':17s} {'file':>6s} {'revers':>6s} {'regime':>6s} {'shuffl':>6s} {'bench':>6s} "
            f"{'IForest':>7s} {'LOF':>6s} {'1-NN':>6s}")
    print("held-out balanced accuracy at similarity 90 (deployed library, by learning order); "
          "bench = the benchmark's worst split and order; baselines at their 98th train percentile (AUC)")
    print(head)
    for r in rows:
        h, b = r["held_out"], r["baselines"]
        print(f"{r['dataset']:17s} {h['file']:6.3f} {h['reversed']:6.3f} {h['regimes']:6.3f} {h['shuffled']:6.3f} "
              f"{r['benchmark_estimate']:6.3f} {b['IsolationForest']['balanced_accuracy']:7.3f} "
              f"{b['LOF']['balanced_accuracy']:6.3f} {b['1-NN']['balanced_accuracy']:6.3f}")
        print(f"{'':17s} {'':27s} {'AUC':>6s} {b['IsolationForest']['auc']:7.3f} {b['LOF']['auc']:6.3f} "
              f"{b['1-NN']['auc']:6.3f}")
    for r in rows:
        print(f"\n{r['dataset']}: {r['description']}")
        print(f"  library: {r['library']}")
        print(f"  flash {r['measured']['flash_bytes']} B, RAM {r['measured']['ram_bytes']} B, "
              f"{r['measured']['instructions_per_detect']} instructions/detect, min learn {r['min_learn']}; "
              f"lines: {r['lines']}")
        print(f"  every order: {r['held_out_by_order']}")
        for t in targets(r):
            print(f"  {t}")


def _load_module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def trained_rows(args, work: Path):
    """The trained part (n-class, 1-class) from bench/field_trained.py, when it exists."""
    path = REPO / "bench" / "field_trained.py"
    if not path.is_file():
        return None
    module = _load_module(path, "field_trained")
    if not hasattr(module, "run"):
        return None
    return module.run(data=args.data, seconds=args.time, cores=args.cores, seed=args.seed, work=work)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=REPO / "bench" / "real_data",
                        help="output of prepare_real_data.py (e.g. /tmp/real)")
    parser.add_argument("--raw", type=Path, default=DEFAULT_RAW,
                        help="the raw datasets, for the Multi-sensor runs (e.g. /work/shared/data)")
    parser.add_argument("--time", type=float, default=120, help="seconds per benchmark (e.g. 60)")
    parser.add_argument("--cores", type=int, default=2, help="cores per benchmark (e.g. 2)")
    parser.add_argument("--seed", type=int, default=1, help="benchmark and shuffle seed (e.g. 2)")
    parser.add_argument("--only", default="", help=f"comma-separated datasets among {','.join(DATASETS)}")
    parser.add_argument("--no-trained", action="store_true", help="skip bench/field_trained.py even if present")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    wanted = [n.strip() for n in args.only.split(",") if n.strip()] or list(DATASETS)
    unknown = set(wanted) - set(DATASETS)
    if unknown:
        parser.error(f"unknown datasets {sorted(unknown)}; choose among {', '.join(DATASETS)}")
    if {"itsc", "skab-valve"} & set(wanted) and not (args.data / "itsc" / "train").is_dir():
        parser.error(f"{args.data}: run `python bench/prepare_real_data.py --out {args.data}` first")
    load = os.getloadavg()[0]
    say(f"load average at start {load:.2f}" + (" (figures in seconds are inflated)" if load > 2.5 else ""))
    work = Path(tempfile.mkdtemp(prefix="neai-field-"))
    rows = []
    try:
        for name in wanted:
            say(f"== {name}")
            rows.append(run_dataset(load_dataset(name, args.data, args.raw), args.time, args.cores, args.seed,
                                    work, work / "workspace"))
        extra = None if args.no_trained else trained_rows(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps({"load_average": load, "anomaly": rows, "trained": extra}, indent=2))
    else:
        print_table(rows)
        if extra is not None:
            print("\n== trained types (bench/field_trained.py)")
            print(extra if isinstance(extra, str) else json.dumps(extra, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
