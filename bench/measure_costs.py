#!/usr/bin/env python3
"""Calibrate engine/cost.py: instructions per inference measured on real Cortex-M
builds under unicorn, and the per-term coefficients fitted to them.

    python bench/measure_costs.py --ops                 # single float operations per core class
    python bench/measure_costs.py --fit --jobs 2        # measure the calibration set, fit COEFFS
    python bench/measure_costs.py --check               # today's COEFFS against fresh measurements

Every library is generated and compiled as `neai deploy` builds it (-Os, the
bundled zig) for the calibration core of each class (cost.CALIBRATION_CORE:
M4F, M3, M0+), learns some lines, then detect()/inference is counted on a few
lines (the largest count is kept, as deploy reports it). The calibration set is
drawn with a fixed seed from the search spaces: anomaly detection on three
buffer shapes (float and fixed-point spectra, both models), Multi-sensor
windows, and trained models fitted on the bundled samples.

--fit prints the COEFFS and CPI tables to paste into engine/cost.py: the
coefficients of the loop terms by non-negative least squares on the relative
error, the operation terms (OP_TERMS) fixed to the micro-benchmark's figures.
Then it prints the largest relative error per class. Run it when a component's
C changes, or a component is added (give it a place in calibration_set()).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OPS = ("copy", "fadd", "fmul", "fdiv", "sqrt", "log", "exp", "f2i", "i2f", "iop")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------- operations
def measure_ops(core: str, n: int = 256) -> dict[str, float]:
    """Instructions of one operation (its second operand's load included) on `core`."""
    from neai_tui.engine.armrun import ArmMachine, link_image
    from neai_tui.engine.csearch import c_lib_dir
    from neai_tui.engine.toolchain import compile_static_lib

    rng = np.random.default_rng(1)
    a = rng.normal(size=n).astype(np.float32)
    b = rng.normal(size=n).astype(np.float32)
    positive = (np.abs(a) + 0.01).astype(np.float32)
    ints = rng.integers(-1000, 1000, n).astype(np.int32)
    with tempfile.TemporaryDirectory(prefix="neai-ops-") as tmp_name:
        tmp = Path(tmp_name)
        lib = compile_static_lib([ROOT / "bench" / "cost_ops.c"], tmp / "ops.a", core, include_dirs=[c_lib_dir()])
        arm = ArmMachine(link_image(lib, core, [f"op_{o}" for o in OPS], tmp / "ops.elf"), core)
        pa, pb, pp, out = arm.alloc_floats(a), arm.alloc_floats(b), arm.alloc_floats(positive), arm.alloc(4 * n)
        pi = arm.alloc(4 * n)
        arm.write_bytes(pi, ints.tobytes())
        counts = {}
        for op in OPS:
            src = pp if op in ("sqrt", "log") else pi if op == "i2f" else pa
            arm.call(f"op_{op}", src, pb, out, n)
            counts[op] = arm.last_instructions
    # f2i's loop also multiplies (by 1000): its figure is the conversion alone
    per = {op: (counts[op] - counts["copy"]) / n for op in OPS if op != "copy"}
    per["f2i"] -= per["fmul"]
    return {op: round(max(v, 0.0), 1) for op, v in per.items()}


# ---------------------------------------------------------------------- calibration set
def _fan_lines():
    from neai_tui.engine.demo import sample_files
    from neai_tui.engine.signals import read_signals

    files = sample_files()
    nominal = read_signals(files["nominal"], axes=3).values.astype(np.float32)
    abnormal = read_signals(files["abnormal"], axes=3).values.astype(np.float32)
    return nominal, abnormal


def _tone_lines(rng, n_lines: int, axes: int, buffer: int) -> np.ndarray:
    t = np.arange(buffer)
    out = np.empty((n_lines, axes * buffer), dtype=np.float32)
    for i in range(n_lines):
        x = np.empty((buffer, axes))
        for a in range(axes):
            f = rng.uniform(0.02, 0.3)
            x[:, a] = 1.5 * np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) + 0.3 * rng.normal(size=buffer) + a
        out[i] = x.ravel()
    return out


SHAPES = ((3, 256), (1, 128), (2, 64))
MODELS = ({"kind": "gauss", "reg": 0.01, "calib": 3.0, "warmup": 2},
          {"kind": "proto", "k": 2, "reg": 0.01, "calib": 3.0, "warmup": 2},
          {"kind": "proto", "k": 8, "reg": 0.1, "calib": 2.0, "warmup": 2},
          {"kind": "proto", "k": 32, "reg": 0.01, "calib": 2.0, "warmup": 2})


def anomaly_set(per_shape: int, seed: int) -> list[dict]:
    """(shape, pipeline) cases: every statistics, raw and covariance preprocessing of
    the anomaly space, then random float and fixed-point spectra; random models."""
    from neai_tui.engine.tasks.anomaly import preprocessing_space

    rng = np.random.default_rng(seed)
    cases = []
    for axes, buffer in SHAPES:
        space = preprocessing_space(axes, buffer)
        spectra = [p for p in space if p["kind"] in ("fft", "spectral")]
        fixed = [{**p, "fixed": True} for p in spectra]
        chosen = [p for p in space if p["kind"] not in ("fft", "spectral")]
        chosen += [fixed[int(i)] for i in rng.choice(len(fixed), size=min(len(fixed), per_shape // 2), replace=False)]
        chosen += [spectra[int(i)] for i in rng.choice(len(spectra), size=min(len(spectra), per_shape // 2),
                                                       replace=False)]
        for pre in chosen:
            model = MODELS[int(rng.integers(len(MODELS)))]
            cases.append({"family": "anomaly", "axes": axes, "buffer": buffer, "pipeline": {"pre": pre, "model": model}})
    return cases


FILTERS = ({"sampling_rate_hz": 1000.0, "low_hz": 20.0, "high_hz": None},
           {"sampling_rate_hz": 1000.0, "low_hz": 20.0, "high_hz": 300.0})


def filter_set(seed: int) -> list[dict]:
    """Anomaly libraries behind the project's frequency filter (biquad sections)."""
    rng = np.random.default_rng(seed + 3)
    pres = ({"kind": "stats"}, {"kind": "raw", "decim": 4, "norm": "none"},
            {"kind": "fft", "bands": 8, "spacing": "linear", "window": "hann", "log": True, "norm": "none"})
    cases = []
    for i, (axes, buffer) in enumerate(SHAPES):
        for j, pre in enumerate(pres):
            cases.append({"family": "anomaly", "axes": axes, "buffer": buffer, "filter": FILTERS[(i + j) % 2],
                          "pipeline": {"pre": pre, "model": MODELS[int(rng.integers(len(MODELS)))]}})
    return cases


def multisensor_set(seed: int) -> list[dict]:
    from neai_tui.engine.tasks.multisensor import preprocessing_space

    rng = np.random.default_rng(seed + 1)
    space = preprocessing_space((1, 8, 32))
    space += [{**p, "fixed": True} for p in space if p["kind"] in ("fft", "spectral")]
    picks = [space[int(i)] for i in rng.choice(len(space), size=8, replace=False)]
    return [{"family": "multisensor", "axes": 3, "pipeline": {"pre": pre, "model": MODELS[i % len(MODELS)]}}
            for i, pre in enumerate(picks)]


def trained_set(seed: int) -> list[dict]:
    """Every trained family on the bundled samples' features, on statistics and on FFT
    bands, with random grid hyperparameters."""
    from neai_tui.engine import trained

    rng = np.random.default_rng(seed + 2)
    cases = []
    pres = [{"kind": "stats"}, {"kind": "fft", "bands": 8, "spacing": "linear", "window": "hann", "log": True,
                                "norm": "none"}]
    for task in trained.TASK_TYPES:
        for fam in trained.FAMILIES[task].values():
            for pre in pres:
                model = {"kind": fam.kind, **{k: v[int(rng.integers(len(v)))] for k, v in fam.grid.items()}}
                cases.append({"family": "trained", "task": task, "pre": pre, "model": model})
    return cases


def calibration_set(per_shape: int = 24, seed: int = 7) -> list[dict]:
    return anomaly_set(per_shape, seed) + filter_set(seed) + multisensor_set(seed) + trained_set(seed)


# ---------------------------------------------------------------------- measuring one case
def _trained_data(task: str):
    """(lines, labels, axes, buffer) of the bundled sample of a trained type."""
    from neai_tui.engine.signals import read_signals

    sample = ROOT / "sample_data"
    if task == "n-class":
        files = sorted((sample / "nclass").glob("*.csv"))
        parts = [read_signals(f, axes=3).values for f in files]
        y = np.concatenate([np.full(len(p), i) for i, p in enumerate(parts)])
        return np.vstack(parts).astype(np.float32), y, 3, parts[0].shape[1] // 3
    if task == "one-class":
        x = read_signals(sample / "oneclass" / "normal.csv", axes=3).values
        return x.astype(np.float32), None, 3, x.shape[1] // 3
    data = read_signals(sample / "extrapolation" / "speed.csv", axes=3, layout="target-first").values
    return data[:, 1:].astype(np.float32), data[:, 0], 3, (data.shape[1] - 1) // 3


def measure_case(case: dict, core: str) -> dict:
    from neai_tui.engine import cost, cost_measure, csearch, trained
    from neai_tui.engine.filtering import design as filter_design

    t0 = time.monotonic()
    if case["family"] == "anomaly":
        axes, buffer = case["axes"], case["buffer"]
        if (axes, buffer) == (3, 256):
            nominal, abnormal = _fan_lines()
            learn, detect = nominal[:40], np.vstack([nominal[200:202], abnormal[:2]])
        else:
            rng = np.random.default_rng(axes * 1000 + buffer)
            lines = _tone_lines(rng, 44, axes, buffer)
            learn, detect = lines[:40], lines[40:]
        k = case["pipeline"]["model"].get("k", 0)
        learn = learn[: max(8, k + 4)]
        settings = case.get("filter")
        m = cost_measure.measure_anomaly(case["pipeline"], axes, buffer, core, learn, detect, settings)
        design = filter_design(settings)
        terms = cost.anomaly_terms(case["pipeline"], axes, buffer, design.sections if design is not None else 0)
    elif case["family"] == "multisensor":
        from neai_tui.engine.tasks.multisensor import strip_window

        rng = np.random.default_rng(5)
        _, window = strip_window(case["pipeline"])
        k = case["pipeline"]["model"].get("k", 0)
        samples = (np.sin(np.arange(window + k + 40)[:, None] * np.array([0.3, 0.11, 0.05]))
                   + 0.1 * rng.normal(size=(window + k + 40, 3))).astype(np.float32)
        m = cost_measure.measure_multisensor(case["pipeline"], 3, core, samples[: window + k + 36],
                                             samples[window + k + 36:])
        terms = cost.multisensor_terms(case["pipeline"], 3)
    else:
        lines, y, axes, buffer = _trained_data(case["task"])
        feats = csearch.features(case["pre"], lines, axes, buffer)
        fitted = trained.fit(case["task"], trained.complete(case["task"], case["model"]), feats, y, 0)
        m = cost_measure.measure_trained(fitted, case["pre"], axes, buffer, core, lines[:4])
        terms = cost.trained_terms(fitted, case["pre"], axes, buffer)
    return {"core": core, "terms": dict(terms), "instructions": m.instructions, "cycles": m.cycles,
            "seconds": round(time.monotonic() - t0, 2)}


def _job(args):
    case, core = args
    try:
        return {**measure_case(case, core), "case": case}
    except Exception as exc:  # reported, not fatal: one odd case must not stop a long run
        return {"core": core, "case": case, "error": f"{type(exc).__name__}: {exc}"}


def measure_all(cases: list[dict], jobs: int) -> list[dict]:
    from neai_tui.engine import cost

    work = [(case, core) for core in cost.CALIBRATION_CORE.values() for case in cases]
    out = []
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for i, row in enumerate(pool.map(_job, work), 1):
            out.append(row)
            if "error" in row:
                log(f"  [{i}/{len(work)}] {row['core']}: {row['error']}")
            elif i % 10 == 0:
                log(f"  [{i}/{len(work)}] measured")
    return out


# ---------------------------------------------------------------------- fitting
def fit(rows: list[dict], ops: dict[str, dict[str, float]]) -> tuple[dict, dict]:
    """COEFFS and CPI per class from the measured rows (relative least squares)."""
    from scipy.optimize import nnls

    from neai_tui.engine import cost

    coeffs, cpi = {}, {}
    for cls, core in cost.CALIBRATION_CORE.items():
        mine = [r for r in rows if r["core"] == core and "error" not in r]
        names = sorted({t for r in mine for t in r["terms"]} - set(cost.OP_TERMS))
        a = np.array([[r["terms"].get(t, 0) for t in names] for r in mine], dtype=float)
        fixed = np.array([sum(ops[cls][t] * v for t, v in r["terms"].items() if t in cost.OP_TERMS) for r in mine])
        y = np.array([r["instructions"] for r in mine], dtype=float)
        w = 1.0 / y
        sol, _ = nnls(a * w[:, None], (y - fixed) * w)
        coeffs[cls] = {**{t: round(float(v), 2) for t, v in zip(names, sol)}, **ops[cls]}
        cpi[cls] = round(float(sum(r["cycles"] for r in mine) / sum(r["instructions"] for r in mine)), 3)
    return coeffs, cpi


def write_coeffs(coeffs: dict, cpi: dict, note: str) -> None:
    """Replace the COEFFS/CPI block of engine/cost.py (between its BEGIN/END lines)."""
    path = ROOT / "neai_tui" / "engine" / "cost.py"
    text = path.read_text()
    begin = text.index("# BEGIN COEFFS")
    end = text.index("# END COEFFS")
    lines = ["# BEGIN COEFFS (written by bench/measure_costs.py --fit --write)", f"# {note}",
             "COEFFS: dict[str, dict[str, float]] = {"]
    for cls, values in coeffs.items():
        lines.append(f'    "{cls}": {{')
        items = [f'"{k}": {v:g}' for k, v in sorted(values.items())]
        row = "       "
        for item in items:
            if len(row) + len(item) + 2 > 116:
                lines.append(row.rstrip())
                row = "       "
            row += f" {item},"
        lines.append(row.rstrip())
        lines.append("    },")
    lines.append("}")
    lines.append("CPI: dict[str, float] = {" + ", ".join(f'"{k}": {v:g}' for k, v in cpi.items()) + "}")
    path.write_text(text[:begin] + "\n".join(lines) + "\n" + text[end:])


def errors(rows: list[dict], coeffs: dict) -> dict:
    from neai_tui.engine import cost

    out = {}
    for cls, core in cost.CALIBRATION_CORE.items():
        errs = []
        for r in rows:
            if r["core"] != core or "error" in r:
                continue
            est = sum(coeffs[cls].get(t, float("nan")) * v for t, v in r["terms"].items())
            errs.append(((est - r["instructions"]) / r["instructions"], r))
        errs.sort(key=lambda e: -abs(e[0]))
        out[cls] = errs
    return out


def print_errors(errs: dict) -> None:
    from neai_tui.engine.pipeline import describe

    for cls, items in errs.items():
        rel = np.array([abs(e) for e, _ in items])
        print(f"{cls}: {len(items)} libraries, relative error median {np.median(rel):.3f}, "
              f"90th percentile {np.percentile(rel, 90):.3f}, max {rel.max():.3f}")
        for e, r in items[:4]:
            c = r["case"]
            what = describe(c["pipeline"]) if "pipeline" in c else f"{c['task']} {c['model']['kind']}"
            print(f"   {e:+.3f}  measured {r['instructions']:>9}  {c['family']}: {what}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ops", action="store_true", help="measure single float operations per core class")
    parser.add_argument("--fit", action="store_true", help="measure the calibration set and fit COEFFS")
    parser.add_argument("--check", action="store_true", help="today's COEFFS against fresh measurements")
    parser.add_argument("--per-shape", type=int, default=24, help="anomaly pipelines per buffer shape (default 24)")
    parser.add_argument("--seed", type=int, default=7, help="calibration set seed (default 7)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--save", type=Path, help="write the measurements to this JSON file")
    parser.add_argument("--load", type=Path, help="fit from measurements saved earlier with --save")
    parser.add_argument("--write", action="store_true", help="with --fit: write the tables into engine/cost.py")
    args = parser.parse_args()
    from neai_tui.engine import cost

    if not (args.ops or args.fit or args.check):
        parser.error("give --ops, --fit or --check")
    ops = {cls: measure_ops(core) for cls, core in cost.CALIBRATION_CORE.items()}
    if args.ops:
        print("# single operations, instructions each (bench/cost_ops.c)")
        for cls, values in ops.items():
            print(f"{cls:9s} ({cost.CALIBRATION_CORE[cls]}): " + ", ".join(f"{k} {v:g}" for k, v in values.items()))
    if not (args.fit or args.check):
        return 0
    if args.load:
        rows = json.loads(args.load.read_text())
    else:
        cases = calibration_set(args.per_shape, args.seed)
        log(f"measuring {len(cases)} libraries on {len(cost.CALIBRATION_CORE)} cores")
        rows = measure_all(cases, args.jobs)
    if args.save:
        args.save.write_text(json.dumps(rows))
    if args.fit:
        coeffs, cpi = fit(rows, ops)
        print("COEFFS = " + json.dumps(coeffs, indent=4, sort_keys=True))
        print("CPI = " + json.dumps(cpi))
        print_errors(errors(rows, coeffs))
        if args.write:
            n = sum(1 for r in rows if "error" not in r)
            write_coeffs(coeffs, cpi, f"{n} libraries measured under unicorn, {time.strftime('%Y-%m-%d')}")
            log("wrote engine/cost.py's COEFFS and CPI")
    else:
        print_errors(errors(rows, cost.COEFFS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
