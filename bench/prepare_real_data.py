#!/usr/bin/env python3
"""Turn the raw public recordings in ../shared/data into Studio-format input files.

The product must also work on data it has never seen. This script reshapes the two
raw datasets described in `<data>/README.md` into the signal-file format of SPEC
section 1 (numbers only, no header, one separator: a single space, `.` decimals,
`%.6g`), so that benchmarks and end-to-end tests can import them as a user would.

    python bench/prepare_real_data.py                       # ../shared/data -> bench/real_data
    python bench/prepare_real_data.py --data ../shared/data --out /tmp/real --json

Output layout (all paths relative to --out)::

    manifest.json                     every file: lines, values per line, axes, buffer, source
    itsc/                             induction-motor phase currents (MIT, see data/itsc/LICENSE)
        itsc_nominal.csv              SC_HLT, all recordings
        itsc_abnormal.csv             every fault class (or --itsc-faults), all recordings
        itsc_class_<CLASS>.csv        one file per class (13), for n-class projects
        train/  test/                 the same files, split BY RECORDING: recordings 1-3
                                      -> train, 4-5 -> test (--itsc-test-recordings)
    skab/                             SKAB water-pump bench (GPL-3.0, see data/skab/LICENSE)
        skab_nominal.csv              1 axis x N windows of --skab-variable, valve1/valve2
                                      runs, windows mostly labelled anomaly=0
        skab_abnormal.csv             same runs, windows mostly labelled anomaly=1
        skab_nominal_free.csv         same windows cut from anomaly-free.csv (a different
                                      operating point, see below)
        train/  test/                 skab_nominal.csv / skab_abnormal.csv split BY RUN:
                                      every 4th run (sorted valve1 then valve2) -> test
        skab_multisensor_nominal.csv  Multi-sensor form: one line = the 8 variables of one
                                      instant, time-ordered, from anomaly-free.csv
        skab_multisensor_abnormal.csv the anomaly=1 rows of one run (--skab-run), in order
        skab_multisensor_run_nominal.csv  the leading anomaly=0 rows of that same run
        skab_multisensor_run.csv      that whole run, in order (no labels) ...
        skab_multisensor_run_labels.csv   ... and its anomaly labels, one 0/1 per line
        flow/                         extrapolation (a "soft sensor"): estimate the pump's
                                      volume flow rate from the 7 other variables
            train.csv                 target (mean flow over the window) then 7 axes x
                                      --flow-buffer samples, interleaved; every run but...
            test.csv  test_targets.csv  ...every 4th run (all folders, sorted), inputs
                                      without the target, and the targets one per line

Choices worth knowing
---------------------
* ITSC: 1000 samples per 1 s recording at 1 kHz, 3 phases. Windows of --itsc-buffer
  samples (default 128 = ~7.7 cycles of 60 Hz) with hop --itsc-hop (default 64, 50 %
  overlap) are cut inside each recording only, never across recordings, and written
  interleaved `ia0 ib0 ic0 ia1 ib1 ic1 ...` (3 * 128 = 384 values per line). Because
  overlapping windows of the same recording are near-duplicates, an honest evaluation
  trains on train/ and tests on test/, which share no recording.
* SKAB: 1 Hz, so "buffers" are slow trends (64 s by default). Window label = majority
  of the per-row `anomaly` labels (windows exactly half-and-half are dropped;
  --skab-pure keeps only windows whose rows all agree). Windows never span two runs.
  The default variable is `Volume Flow RateRMS`: with a 1-axis window it is the only
  SKAB variable that carries the valve faults. A quick check (2-component Gaussian
  mixture on window features, trained on train-run nominal windows, AUC on test runs):
  flow rate ~0.95; Accelerometer1/2RMS, Current, Pressure, Temperature, Thermocouple,
  Voltage all ~0.42-0.57, i.e. undetectable from one variable. Pick another with
  --skab-variable to build a (much) harder problem on purpose.
* SKAB's anomaly-free.csv was recorded at another operating point than the valve runs
  (flow ~125 vs ~32, accelerometer RMS ~0.21 vs ~0.03, temperature ~89 vs ~70 C), so
  anything trained on it flags every valve-run window, faulty or not. That is why the
  buffered nominal file comes from the anomaly=0 parts of the valve runs, and
  anomaly-free windows go to their own file (skab_nominal_free.csv). The Multi-sensor
  nominal file follows the brief (anomaly-free.csv); use skab_multisensor_run_nominal.csv
  for a same-regime nominal reference.
* Nothing here is shipped: the outputs carry the source datasets' licences (ITSC: see
  itsc/LICENSE; SKAB: GPL-3.0), recorded in manifest.json.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"
DEFAULT_OUT = REPO / "bench" / "real_data"

ITSC_HEALTHY = "SC_HLT"
ITSC_RATE_HZ = 1000.0
SKAB_VARIABLES = (
    "Accelerometer1RMS",
    "Accelerometer2RMS",
    "Current",
    "Pressure",
    "Temperature",
    "Thermocouple",
    "Voltage",
    "Volume Flow RateRMS",
)
SKAB_DEFAULT_VARIABLE = "Volume Flow RateRMS"
SKAB_RUN_DIRS = ("valve1", "valve2")
FMT = "{:.6g}"


class DataError(Exception):
    """The raw data is missing or not as documented."""


# ------------------------------------------------------------------------- writing
@dataclass
class Manifest:
    files: list[dict] = field(default_factory=list)

    def add(self, path: Path, out_root: Path, values: np.ndarray, **info) -> None:
        lines, width = (values.shape if values.ndim == 2 else (0, 0))
        self.files.append(
            {
                "path": path.relative_to(out_root).as_posix(),
                "lines": int(lines),
                "values_per_line": int(width),
                "bytes": path.stat().st_size,
                **info,
            }
        )


def write_signal_file(path: Path, values: np.ndarray) -> None:
    """Numbers only, single-space separated, `%.6g`, '\\n' line ends."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = FMT.format
    with open(path, "w", encoding="ascii", newline="\n") as fh:
        for row in np.atleast_2d(values):
            fh.write(" ".join(fmt(v) for v in row.tolist()))
            fh.write("\n")


def windows(signal: np.ndarray, size: int, hop: int) -> np.ndarray:
    """Cut (samples, axes) into (n, size, axes) windows, start every `hop` samples."""
    n = 0 if len(signal) < size else (len(signal) - size) // hop + 1
    if n == 0:
        return np.empty((0, size) + signal.shape[1:])
    idx = np.arange(size)[None, :] + hop * np.arange(n)[:, None]
    return signal[idx]


def interleave(win: np.ndarray) -> np.ndarray:
    """(n, size, axes) -> (n, size * axes) laid out x0 y0 z0 x1 y1 z1 ..."""
    return win.reshape(len(win), -1)


# ----------------------------------------------------------------------------- ITSC
def _recording_number(path: Path) -> int:
    try:
        return int(path.stem.rsplit("_", 1)[1])
    except (IndexError, ValueError) as exc:
        raise DataError(f"{path}: expected a name ending in _<number>.csv") from exc


def load_itsc(root: Path) -> dict[str, dict[int, np.ndarray]]:
    """{class: {recording number: (samples, 3) array}}."""
    if not root.is_dir():
        raise DataError(f"{root}: ITSC folder not found")
    classes: dict[str, dict[int, np.ndarray]] = {}
    for cls_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        recs = {}
        for f in sorted(cls_dir.glob("*.csv")):
            arr = np.loadtxt(f, delimiter=",", ndmin=2)
            if arr.shape[1] != 3 or not np.all(np.isfinite(arr)):
                raise DataError(f"{f}: expected 3 finite values per line, got shape {arr.shape}")
            recs[_recording_number(f)] = arr
        if recs:
            classes[cls_dir.name] = recs
    if ITSC_HEALTHY not in classes:
        raise DataError(f"{root}: no {ITSC_HEALTHY} folder (healthy class)")
    return classes


def prepare_itsc(args, out_root: Path, manifest: Manifest) -> None:
    data = load_itsc(args.data / "itsc")
    faults = sorted(c for c in data if c != ITSC_HEALTHY)
    if args.itsc_faults:
        wanted = [c.strip() for c in args.itsc_faults.split(",") if c.strip()]
        unknown = sorted(set(wanted) - set(faults))
        if unknown:
            raise DataError(f"--itsc-faults: unknown classes {unknown}; known: {faults}")
        faults = wanted
    test_recs = {int(x) for x in args.itsc_test_recordings.split(",") if x.strip()}
    out = out_root / "itsc"
    info = {
        "dataset": "itsc",
        "axes": 3,
        "buffer": args.itsc_buffer,
        "hop": args.itsc_hop,
        "sampling_hz": ITSC_RATE_HZ,
        "layout": "interleaved ia ib ic per sample",
        "licence": "see data/itsc/LICENSE (MIT)",
    }

    def cut(cls: str, split: str) -> np.ndarray:
        rows = []
        for rec, arr in sorted(data[cls].items()):
            if split == "train" and rec in test_recs or split == "test" and rec not in test_recs:
                continue
            rows.append(interleave(windows(arr, args.itsc_buffer, args.itsc_hop)))
        width = 3 * args.itsc_buffer
        return np.concatenate(rows) if rows else np.empty((0, width))

    classes = [ITSC_HEALTHY, *sorted(c for c in data if c != ITSC_HEALTHY)]
    for split, folder in (("all", out), ("train", out / "train"), ("test", out / "test")):
        per_class = {cls: cut(cls, split) for cls in classes}
        files = {
            "itsc_nominal.csv": (per_class[ITSC_HEALTHY], {"role": "nominal", "classes": [ITSC_HEALTHY]}),
            "itsc_abnormal.csv": (
                np.concatenate([per_class[c] for c in faults]),
                {"role": "abnormal", "classes": faults},
            ),
        }
        for cls in classes:
            files[f"itsc_class_{cls}.csv"] = (per_class[cls], {"role": "class", "classes": [cls]})
        for name, (values, extra) in files.items():
            path = folder / name
            write_signal_file(path, values)
            if split != "all":
                extra = {**extra, "test_recordings": sorted(test_recs)}
            manifest.add(path, out_root, values, split=split, **info, **extra)


# ----------------------------------------------------------------------------- SKAB
@dataclass
class SkabRun:
    name: str  # e.g. "valve1/0"
    values: np.ndarray  # (rows, 8) in SKAB_VARIABLES order
    anomaly: np.ndarray | None  # (rows,) 0/1, None for anomaly-free


def load_skab_csv(path: Path, name: str) -> SkabRun:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh, delimiter=";")
        header = next(reader)
        missing = [v for v in SKAB_VARIABLES if v not in header]
        if missing:
            raise DataError(f"{path}: missing columns {missing}")
        cols = [header.index(v) for v in SKAB_VARIABLES]
        a_col = header.index("anomaly") if "anomaly" in header else None
        vals, labels = [], []
        for lineno, row in enumerate(reader, start=2):
            if not row:
                continue
            try:
                vals.append([float(row[c]) for c in cols])
                if a_col is not None:
                    labels.append(float(row[a_col]))
            except (ValueError, IndexError) as exc:
                raise DataError(f"{path}:{lineno}: {exc}") from exc
    values = np.asarray(vals, dtype=float)
    anomaly = np.asarray(labels) if a_col is not None else None
    if anomaly is not None and not np.isin(anomaly, (0.0, 1.0)).all():
        raise DataError(f"{path}: anomaly labels must be 0 or 1")
    return SkabRun(name, values, anomaly)


def load_skab_runs(root: Path) -> list[SkabRun]:
    runs = []
    for d in SKAB_RUN_DIRS:
        files = sorted((root / d).glob("*.csv"), key=lambda p: (len(p.stem), p.stem))
        runs += [load_skab_csv(f, f"{d}/{f.stem}") for f in files]
    if not runs:
        raise DataError(f"{root}: no valve1/valve2 runs found")
    return runs


def skab_windows(run: SkabRun, var: int, size: int, hop: int, pure: bool):
    """(nominal windows, abnormal windows) of one variable of one run."""
    sig = windows(run.values[:, var], size, hop)
    if run.anomaly is None:
        return sig, np.empty((0, size))
    frac = windows(run.anomaly, size, hop).mean(axis=1)
    if pure:
        return sig[frac == 0.0], sig[frac == 1.0]
    return sig[frac < 0.5], sig[frac > 0.5]


def prepare_skab(args, out_root: Path, manifest: Manifest) -> None:
    root = args.data / "skab"
    if args.skab_variable not in SKAB_VARIABLES:
        raise DataError(f"--skab-variable: choose one of {list(SKAB_VARIABLES)}")
    var = SKAB_VARIABLES.index(args.skab_variable)
    free = load_skab_csv(root / "anomaly-free" / "anomaly-free.csv", "anomaly-free")
    runs = load_skab_runs(root)
    by_name = {r.name: r for r in runs}
    if args.skab_run not in by_name:
        raise DataError(f"--skab-run: unknown run {args.skab_run!r}; known: {sorted(by_name)}")
    out = out_root / "skab"
    N, H = args.skab_buffer, args.skab_hop
    base = {
        "dataset": "skab",
        "sampling_hz": 1.0,
        "licence": "GPL-3.0 (SKAB, see data/skab/LICENSE)",
    }
    buffered = {**base, "axes": 1, "buffer": N, "hop": H, "variable": args.skab_variable,
                "window_label": "all rows agree" if args.skab_pure else "majority of rows"}

    parts = {"all": ([], []), "train": ([], []), "test": ([], [])}
    for i, run in enumerate(runs):
        nom, ab = skab_windows(run, var, N, H, args.skab_pure)
        split = "test" if i % 4 == 3 else "train"
        for key in ("all", split):
            parts[key][0].append(nom)
            parts[key][1].append(ab)
    test_runs = [r.name for i, r in enumerate(runs) if i % 4 == 3]
    for split, (noms, abs_) in parts.items():
        folder = out if split == "all" else out / split
        for name, chunks, role in (("skab_nominal.csv", noms, "nominal"), ("skab_abnormal.csv", abs_, "abnormal")):
            values = np.concatenate(chunks) if chunks else np.empty((0, N))
            path = folder / name
            write_signal_file(path, values)
            extra = {"split": split, "role": role, "runs": "valve1+valve2"}
            if split != "all":
                extra["test_runs"] = test_runs
            manifest.add(path, out_root, values, **buffered, **extra)

    free_win = windows(free.values[:, var], N, H)
    path = out / "skab_nominal_free.csv"
    write_signal_file(path, free_win)
    manifest.add(path, out_root, free_win, **buffered, role="nominal", runs="anomaly-free",
                 note="another operating point than the valve runs; do not mix blindly")

    # ---- Multi-sensor form: one instant per line, 8 variables, time order kept
    ms = {**base, "axes": 8, "multisensor": True, "variables": list(SKAB_VARIABLES)}
    run = by_name[args.skab_run]
    first_anomaly = int(np.argmax(run.anomaly > 0)) if run.anomaly.any() else len(run.anomaly)
    outputs = (
        ("skab_multisensor_nominal.csv", free.values, {"role": "nominal", "runs": "anomaly-free"}),
        ("skab_multisensor_abnormal.csv", run.values[run.anomaly == 1],
         {"role": "abnormal", "runs": run.name, "rows": "anomaly == 1, in order"}),
        ("skab_multisensor_run_nominal.csv", run.values[:first_anomaly],
         {"role": "nominal", "runs": run.name, "rows": "leading anomaly == 0 segment"}),
        ("skab_multisensor_run.csv", run.values,
         {"role": "inference", "runs": run.name, "rows": "whole run, labels in skab_multisensor_run_labels.csv"}),
    )
    for name, values, extra in outputs:
        path = out / name
        write_signal_file(path, values)
        manifest.add(path, out_root, values, **ms, **extra)
    labels_path = out / "skab_multisensor_run_labels.csv"
    labels_path.write_text("".join(f"{int(v)}\n" for v in run.anomaly), encoding="ascii")
    manifest.files.append({"path": labels_path.relative_to(out_root).as_posix(),
                           "lines": len(run.anomaly), "values_per_line": 1,
                           "bytes": labels_path.stat().st_size, **base, "role": "labels",
                           "runs": run.name})


def prepare_skab_flow(args, out_root: Path, manifest: Manifest) -> None:
    """Extrapolation lines: mean volume flow rate over a window <- the window of the
    7 other variables, over every run of every folder (three operating points:
    flow ~32, ~76, ~127), split by run (every 4th run -> test)."""
    root = args.data / "skab"
    runs = [load_skab_csv(root / "anomaly-free" / "anomaly-free.csv", "anomaly-free")]
    for d in ("other", *SKAB_RUN_DIRS):
        files = sorted((root / d).glob("*.csv"), key=lambda p: (len(p.stem), p.stem))
        runs += [load_skab_csv(f, f"{d}/{f.stem}") for f in files]
    target = SKAB_VARIABLES.index("Volume Flow RateRMS")
    inputs = [i for i, _ in enumerate(SKAB_VARIABLES) if i != target]
    n = args.flow_buffer
    parts: dict[str, list[np.ndarray]] = {"train": [], "test": []}
    for i, run in enumerate(runs):
        win = windows(run.values, n, n)  # (windows, n, 8), back to back
        if not len(win):
            continue
        lines = np.column_stack([win[:, :, target].mean(axis=1), win[:, :, inputs].reshape(len(win), -1)])
        parts["test" if i % 4 == 3 else "train"].append(lines)
    out = out_root / "skab" / "flow"
    info = {"dataset": "skab", "sampling_hz": 1.0, "licence": "GPL-3.0 (SKAB, see data/skab/LICENSE)",
            "axes": len(inputs), "buffer": n, "variables": [SKAB_VARIABLES[i] for i in inputs],
            "target": "mean Volume Flow RateRMS over the window",
            "test_runs": [r.name for i, r in enumerate(runs) if i % 4 == 3]}
    train, test = np.vstack(parts["train"]), np.vstack(parts["test"])
    for name, values, extra in (("train.csv", train, {"split": "train", "role": "target first"}),
                                ("test.csv", test[:, 1:], {"split": "test", "role": "inference (no target)"}),
                                ("test_targets.csv", test[:, :1], {"split": "test", "role": "targets of test.csv"})):
        path = out / name
        write_signal_file(path, values)
        manifest.add(path, out_root, values, **info, **extra)


# ----------------------------------------------------------------------------- main
def _power_of_two(text: str) -> int:
    n = int(text)
    if n < 2 or n & (n - 1):
        raise argparse.ArgumentTypeError(f"{n} is not a power of two >= 2")
    return n


def _positive(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return n


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Convert the raw ITSC and SKAB recordings into Studio-format signal files.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder holding itsc/ and skab/")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    p.add_argument("--only", choices=("itsc", "skab"), help="prepare one dataset only")
    p.add_argument("--itsc-buffer", type=_power_of_two, default=128, help="samples per axis per line")
    p.add_argument("--itsc-hop", type=_positive, default=64, help="samples between window starts")
    p.add_argument("--itsc-test-recordings", default="4,5", help="recording numbers kept for test/")
    p.add_argument("--itsc-faults", default="", help="comma-separated fault classes for itsc_abnormal.csv (default: all)")
    p.add_argument("--skab-variable", default=SKAB_DEFAULT_VARIABLE, help="variable for the 1-axis buffers")
    p.add_argument("--skab-buffer", type=_power_of_two, default=64, help="samples (seconds) per line")
    p.add_argument("--skab-hop", type=_positive, default=32, help="samples between window starts")
    p.add_argument("--skab-pure", action="store_true", help="keep only windows whose rows share one label")
    p.add_argument("--flow-buffer", type=_power_of_two, default=16, help="samples (seconds) per flow line")
    p.add_argument("--skab-run", default="valve1/1", help="run used for the Multi-sensor abnormal file")
    p.add_argument("--json", action="store_true", help="print the manifest as JSON on stdout")
    return p


def run(argv: list[str] | None = None) -> dict:
    args = build_parser().parse_args(argv)
    args.data = args.data.resolve()
    out_root = args.out.resolve()
    out_root.mkdir(parents=True, exist_ok=True)
    manifest = Manifest()
    if args.only in (None, "itsc"):
        prepare_itsc(args, out_root, manifest)
    if args.only in (None, "skab"):
        prepare_skab(args, out_root, manifest)
        prepare_skab_flow(args, out_root, manifest)
    doc = {"data": str(args.data), "out": str(out_root), "files": manifest.files}
    (out_root / "manifest.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return doc


def main(argv: list[str] | None = None) -> int:
    try:
        doc = run(argv)
    except DataError as exc:
        print(f"prepare_real_data: {exc}", file=sys.stderr)
        return 2
    if "--json" in (argv if argv is not None else sys.argv[1:]):
        print(json.dumps(doc, indent=2))
        return 0
    print(f"wrote {len(doc['files'])} files under {doc['out']}")
    print(f"{'file':52s} {'lines':>7s} {'values/line':>11s} {'bytes':>10s}")
    for f in doc["files"]:
        print(f"{f['path']:52s} {f['lines']:7d} {f['values_per_line']:11d} {f['bytes']:10d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
