"""Instructions per inference on the project's core: what the search ranks by.

The same library costs ~30x more instructions on a core without an FPU, where
every float operation is a call into the compiler's soft-float helpers (a
division ~450 instructions on a Cortex-M0+, against one VDIV on a Cortex-M4F).
The benchmark cannot build and emulate every candidate, so it estimates:

    instructions = sum over terms  count(term) x COEFFS[core class][term]

A *term* is one loop of the C (or one call of a helper): its count is how many
times the loop body runs in one inference (e.g. "butterfly": the radix-2
butterflies of every FFT of every axis), and its coefficient the instructions
one pass of that body costs on a core class, measured on real Cortex-M builds
under unicorn (bench/measure_costs.py fits them, by non-negative least squares,
to the measured instructions per detect()/inference of a spread of libraries;
tests/test_cost.py keeps the estimate within ERROR_BOUND of the measurement).

Core classes: "fpu" (hard float: M4F, M7, M33, M55), "soft-v7m" (Thumb-2
without FPU: M3, M4), "soft-v6m" (M0, M0+: no hardware divide either).

How a component declares its cost (see /work/coord notes and docs/architecture.md):

* a preprocessing kind: an entry in PRE_TERMS, kind -> f(pre, axes, buffer) -> terms;
* an anomaly model kind: an entry in MODEL_TERMS, kind -> f(model, dim) -> terms
  (the cost of one detect(): distance and similarity);
* a trained inference algorithm (trained.ALGOS): an entry in TRAINED_TERMS,
  algo -> f(fitted) -> terms, read from the fitted model's sizes.

Terms are plain counts. A component may use its own loop terms (then measure
them: add the component to bench/measure_costs.py and paste the fitted
coefficients into COEFFS) or, until it is measured, the generic operation terms
of OP_TERMS ("fadd", "fmul", "fdiv", "sqrt", "log", "exp", "f2i", "i2f", "iop"),
whose coefficients come from a micro-benchmark of single operations. An unknown
term raises KeyError: a cost is never silently zero.

Everything here is plain arithmetic on the pipeline dict: ~20 µs per candidate.
"""
from __future__ import annotations

import functools
import json
import math
from collections import Counter
from collections.abc import Callable

# ---------------------------------------------------------------------- cores

CORE_CLASS = {
    "cortex-m4f": "fpu", "cortex-m7": "fpu", "cortex-m33": "fpu", "cortex-m55": "fpu",
    "cortex-m3": "soft-v7m", "cortex-m4": "soft-v7m",
    "cortex-m0": "soft-v6m", "cortex-m0plus": "soft-v6m",
}
CLASS_TITLES = {
    "fpu": "hard float (FPU)",
    "soft-v7m": "soft float (Armv7-M, no FPU)",
    "soft-v6m": "soft float (Armv6-M, no FPU, no divide)",
}
SHORT_CLASS_TITLES = {"fpu": "FPU", "soft-v7m": "soft float", "soft-v6m": "soft float"}
# The core each class is measured on (unicorn runs it; bench/measure_costs.py).
CALIBRATION_CORE = {"fpu": "cortex-m4f", "soft-v7m": "cortex-m3", "soft-v6m": "cortex-m0plus"}

# A typical clock when the target is a bare core (boards and MCUs have their own:
# targets.clock_mhz). Used only to turn instructions into milliseconds.
DEFAULT_CLOCK_MHZ = {
    "cortex-m0": 48.0, "cortex-m0plus": 48.0, "cortex-m3": 72.0, "cortex-m4": 80.0, "cortex-m4f": 80.0,
    "cortex-m7": 216.0, "cortex-m33": 160.0, "cortex-m55": 400.0,
}

# Without a maximum inference time, the score's time term is measured against
# this many milliseconds at the core's clock (as RAM and flash are against 8 and
# 16 KB without limits; scoring.resource_term).
REFERENCE_TIME_MS = 10.0

# The estimate stays within this relative error of the instructions measured on
# the built library (tests/test_cost.py, on a spread of pipelines per class).
ERROR_BOUND = 0.10


def core_class(core: str) -> str:
    try:
        return CORE_CLASS[core]
    except KeyError:
        raise ValueError(f"no cost model for core {core!r} (known: {', '.join(CORE_CLASS)})") from None


def soft_float(core: str) -> bool:
    return core_class(core) != "fpu"


# ---------------------------------------------------------------------- coefficients
#
# Instructions per unit of each term, per core class. Fitted by
# bench/measure_costs.py (zig 0.17 -Os builds, unicorn); "cpi" turns
# instructions into cycles (armrun's timing model, no wait states).

# BEGIN COEFFS (written by bench/measure_costs.py --fit --write)
# 182 libraries x 3 cores measured under unicorn (zig 0.17 -Os), 2026-12-05; leave-one-out error max 7.1 %
COEFFS: dict[str, dict[str, float]] = {
    "fpu": {
        "accumulate": 5.74, "band": 25.78, "band_bin": 2.92, "biquad": 16.03, "butterfly": 21.68, "call": 0,
        "cov": 11.59, "dist": 10.41, "dot": 7.44, "exp": 40.1, "f2i": 1, "fadd": 2, "fdiv": 2, "feature": 10.68,
        "floor": 1.89, "fmul": 2, "gauss": 14.24, "gauss_term": 11.72, "history": 8.87, "i2f": 2, "infer": 0,
        "input": 6.92, "iop": 2, "knn_point": 5.48, "leaf": 5.57, "log": 36.1, "mac": 8.92, "maxabs": 14.07,
        "mean": 6.1, "model": 127.76, "node": 8.16, "pair": 3.88, "proto": 15.17, "proto_slot": 12.23,
        "ratio": 32.33, "raw_axis": 0, "raw_out": 9.66, "relu": 19.24, "rolloff_bin": 48.59, "sample": 42.38,
        "scale": 8.86, "segment": 0, "spec_axis": 12.5, "spec_bin": 0, "spectrum_axis": 0, "sqrt": 6,
        "stats": 33.27, "stats_axis": 0, "tree": 52.39, "var": 7.77, "window": 2.75, "xbin": 10.48,
        "xbutterfly": 17.3, "xsample": 90.06, "xsegment": 0,
    },
    "soft-v7m": {
        "accumulate": 30.04, "band": 95.04, "band_bin": 49.17, "biquad": 526.68, "butterfly": 630.83, "call": 0,
        "cov": 264.34, "dist": 192.13, "dot": 77.32, "exp": 1360.9, "f2i": 22, "fadd": 68.2, "fdiv": 64.6,
        "feature": 0, "floor": 75.71, "fmul": 48, "gauss": 394.39, "gauss_term": 223.13, "history": 15.39,
        "i2f": 20, "infer": 0, "input": 5.96, "iop": 2, "knn_point": 0, "leaf": 0, "log": 1143.1, "mac": 119.74,
        "maxabs": 83.99, "mean": 72.47, "model": 1674.52, "node": 27.2, "pair": 89.34, "proto": 397.52,
        "proto_slot": 105.97, "ratio": 153.09, "raw_axis": 0, "raw_out": 18.51, "relu": 0, "rolloff_bin": 749.93,
        "sample": 486.62, "scale": 190.37, "segment": 0, "spec_axis": 399.1, "spec_bin": 0, "spectrum_axis": 0,
        "sqrt": 153, "stats": 705.4, "stats_axis": 0, "tree": 404.87, "var": 194.97, "window": 49.87, "xbin": 88.6,
        "xbutterfly": 16.64, "xsample": 95.01, "xsegment": 0,
    },
    "soft-v6m": {
        "accumulate": 45.38, "band": 354.98, "band_bin": 45.25, "biquad": 933.39, "butterfly": 1071.67, "call": 0,
        "cov": 466.44, "dist": 324.37, "dot": 82.76, "exp": 2247.6, "f2i": 27.6, "fadd": 105.9, "fdiv": 309.1,
        "feature": 0, "floor": 118.56, "fmul": 97.6, "gauss": 1043.4, "gauss_term": 381.17, "history": 23.99,
        "i2f": 45, "infer": 0, "input": 12.66, "iop": 3, "knn_point": 0, "leaf": 0, "log": 2063.2, "mac": 199.03,
        "maxabs": 86.88, "mean": 100.93, "model": 1852.87, "node": 21.75, "pair": 356.44, "proto": 1039.28,
        "proto_slot": 294.55, "ratio": 222.71, "raw_axis": 983.72, "raw_out": 0, "relu": 0, "rolloff_bin": 1148.49,
        "sample": 765.29, "scale": 332.66, "segment": 86.56, "spec_axis": 1979.29, "spec_bin": 0,
        "spectrum_axis": 736.24, "sqrt": 395, "stats": 1094.13, "stats_axis": 0, "tree": 593.33, "var": 314.47,
        "window": 97.24, "xbin": 202.26, "xbutterfly": 58.06, "xsample": 81.24, "xsegment": 213.95,
    },
}
CPI: dict[str, float] = {"fpu": 1.79, "soft-v7m": 1.42, "soft-v6m": 1.413}
# END COEFFS

# Single float operations and their surroundings (a load and a store), from the
# micro-benchmark of bench/measure_costs.py --ops: the terms a new component can
# declare before its own loops are measured.
OP_TERMS = ("fadd", "fmul", "fdiv", "sqrt", "log", "exp", "f2i", "i2f", "iop")


# ---------------------------------------------------------------------- terms
Terms = Counter  # term name -> count per inference


def _spectrum_terms(pre: dict, axes: int, n: int) -> Terms:
    from .pipeline import pass_band, segmentation

    seg, _, segments = segmentation(pre, n)
    first, end = pass_band(pre, seg)
    bins = end - first
    m = seg // 2  # complex FFT points
    per = axes * segments
    t = Terms()
    # Loops whose passes are proportional to the samples (mean, copy/convert, bit
    # reversal, the real FFT's split) are one term per sample: their counts are
    # always in the same ratio, so separate terms could not be told apart.
    if pre.get("fixed"):
        # integer FFT: the axis's range, then per segment conversion, mean, window, FFT, power
        t["xsample"] += axes * n
        t["xbutterfly"] += per * (m // 2) * max(1, int(math.log2(m)))
        t["xsegment"] += per
        t["xbin"] += axes * bins  # only the pass band's bins come back as floats
    else:
        t["sample"] += axes * n
        if pre.get("window", "none") != "none":
            t["window"] += axes * n
        t["butterfly"] += per * (m // 2) * max(1, int(math.log2(m)))
        t["segment"] += per
        if segments > 1:
            t["accumulate"] += per * m
    t["spectrum_axis"] += axes
    return t, bins


def _fft_terms(pre: dict, axes: int, n: int) -> Terms:
    from .pipeline import nb_features

    t, bins = _spectrum_terms(pre, axes, n)
    bands = nb_features(pre, axes, n) // axes
    t["band_bin"] += axes * bins
    t["band"] += axes * bands
    if pre.get("norm", "none") == "relative":
        t["fdiv"] += axes * bands
    if pre.get("log"):
        t["log"] += axes * bands
    return t


def _spectral_terms(pre: dict, axes: int, n: int) -> Terms:
    t, bins = _spectrum_terms(pre, axes, n)
    ratios = int(pre.get("bands", 0))
    t["spec_bin"] += axes * bins
    t["log"] += axes * (bins + 3)
    t["rolloff_bin"] += axes * bins
    t["spec_axis"] += axes
    t["ratio"] += axes * ratios
    if ratios:
        t["fadd"] += axes * bins  # each bin's power added to its band's share
    if pre.get("time_stats"):
        t += _stats_terms({"kind": "stats"}, axes, n)
    return t


def _mean_std(calls: int, n: int, std: bool = True) -> Terms:
    """neai_axis_mean_std `calls` times over n samples: the mean's pass and division,
    then the variance's pass, division and root (which the compiler drops where the
    standard deviation is not used: raw "center")."""
    if not std:
        return Terms({"mean": calls * n, "fdiv": calls})
    return Terms({"mean": calls * n, "var": calls * n, "fdiv": 2 * calls, "sqrt": calls})


def _stats_terms(pre: dict, axes: int, n: int) -> Terms:
    t = _mean_std(axes, n) + Terms({"stats": axes * n, "stats_axis": axes})
    if pre.get("cross") and axes > 1:
        t += _pairs_terms(axes, n, diagonal=False)
    return t


def _pairs_terms(axes: int, n: int, diagonal: bool) -> Terms:
    pairs = axes * (axes - 1) // 2
    # neai_pre_pairs: axis a's mean/std, then for each b > a b's mean/std and the covariance loop
    return _mean_std(axes + pairs, n) + Terms({"cov": pairs * n, "pair": pairs + (axes if diagonal else 0)})


def _cov_terms(pre: dict, axes: int, n: int) -> Terms:
    return _pairs_terms(axes, n, diagonal=True)


def _raw_terms(pre: dict, axes: int, n: int) -> Terms:
    norm = pre.get("norm", "none")
    out = axes * math.ceil(n / int(pre.get("decim", 1)))
    t = Terms({"raw_out": out, "raw_axis": axes})
    # the configuration is a constant: the compiler drops "- 0" and "* 1" where the
    # normalisation has no offset (none, maxabs) or no scale (none, center)
    if norm in ("zscore", "center"):
        t += _mean_std(axes, n, std=norm == "zscore")
        t["fadd"] += out
    if norm == "maxabs":
        t["maxabs"] += axes * n
    if norm in ("zscore", "maxabs"):
        t["fdiv"] += axes
        t["fmul"] += out
    return t


PRE_TERMS: dict[str, Callable[[dict, int, int], Terms]] = {
    "raw": _raw_terms, "stats": _stats_terms, "cov": _cov_terms, "fft": _fft_terms, "spectral": _spectral_terms,
}


# Issue 13's order-robust gauss and proto derive, at every detect(), the union of
# their slots and their scale from the knowledge (c_lib/neai_models.c): their own
# terms, fitted on 36 libraries (statistics, raw buffer, FFT bands x Gaussian and
# 2, 8, 16 prototypes x M4F, M3, M0+, zig 0.17 -Os, unicorn; 2026-12-05; in-sample
# error <= 8.6 %), until bench/measure_costs.py refits everything together.
ISSUE13_COEFFS: dict[str, dict[str, float]] = {
    "fpu": {"gauss13_dim": 131.31, "gauss13_call": 628.45, "proto13_sd": 47.08, "proto13_k": 52.92,
            "proto13_dim": 31.12, "proto13_call": 569.14},
    "soft-v7m": {"gauss13_dim": 2498.95, "gauss13_call": 0.0, "proto13_sd": 700.42, "proto13_k": 221.83,
                 "proto13_dim": 775.78, "proto13_call": 0.0},
    "soft-v6m": {"gauss13_dim": 4837.02, "gauss13_call": 1170.1, "proto13_sd": 1154.96, "proto13_k": 1266.58,
                 "proto13_dim": 1977.07, "proto13_call": 0.0},
}
for _cls, _coeffs in ISSUE13_COEFFS.items():
    COEFFS[_cls].update(_coeffs)


def _gauss_terms_now(model: dict, dim: int) -> Terms:
    return Terms({"gauss13_dim": dim, "gauss13_call": 1})


def _proto_terms_now(model: dict, dim: int) -> Terms:
    k = int(model.get("k", 1))  # a library that learned at least k lines uses all its slots
    return Terms({"proto13_sd": k * dim, "proto13_k": k, "proto13_dim": dim, "proto13_call": 1})


MODEL_TERMS: dict[str, Callable[[dict, int], Terms]] = {"gauss": _gauss_terms_now, "proto": _proto_terms_now}


def pre_terms(pre: dict, axes: int, buffer_size: int) -> Terms:
    """One preprocessing's terms, with the input and feature checks around it."""
    from .pipeline import nb_features

    try:
        terms = PRE_TERMS[pre["kind"]](pre, axes, buffer_size)
    except KeyError:
        raise ValueError(f"no cost entry for preprocessing {pre['kind']!r} (cost.PRE_TERMS)") from None
    terms = Terms(terms)
    terms["input"] += axes * buffer_size
    terms["feature"] += nb_features(pre, axes, buffer_size)
    terms["call"] += 1
    return terms


def filter_terms(sections: int, axes: int, buffer_size: int) -> Terms:
    return Terms({"biquad": sections * axes * buffer_size}) if sections else Terms()


@functools.lru_cache(maxsize=4096)
def _front_end(pre_key: str, axes: int, buffer_size: int, filter_sections: int) -> tuple[Terms, int]:
    """(terms of the filter and preprocessing, features): the same for every model
    a preprocessing is tried with, so computed once (the search asks per candidate)."""
    from .pipeline import nb_features

    pre = json.loads(pre_key)
    terms = pre_terms(pre, axes, buffer_size) + filter_terms(filter_sections, axes, buffer_size)
    return terms, nb_features(pre, axes, buffer_size)


def anomaly_terms(pipeline: dict, axes: int, buffer_size: int, filter_sections: int = 0) -> Terms:
    """Terms of one detect() of an anomaly-detection library."""
    pre, model = pipeline["pre"], pipeline["model"]
    front, dim = _front_end(json.dumps(pre, sort_keys=True), axes, buffer_size, filter_sections)
    terms = Terms(front)
    terms.update(model_terms(model, dim))
    return terms


def model_terms(model: dict, dim: int) -> Terms:
    """One detect()'s terms of an anomaly model: its MODEL_TERMS entry, else, for a
    model kind that declares its operations in pipeline.model_cost (flops, divs,
    sqrts, logs, loads per detect()), those as operation terms."""
    declared = MODEL_TERMS.get(model["kind"])
    if declared is not None:
        return declared(model, dim)
    from . import pipeline

    counted = getattr(pipeline, "model_cost", None)
    if counted is None:
        raise ValueError(f"no cost entry for anomaly model {model['kind']!r} (cost.MODEL_TERMS)")
    ops = counted(model, dim)
    flops = float(ops.get("flops", 0))
    return Terms({"fadd": flops / 2, "fmul": flops / 2, "fdiv": ops.get("divs", 0), "sqrt": ops.get("sqrts", 0),
                  "log": ops.get("logs", 0), "iop": ops.get("loads", 0), "model": 1})


def multisensor_terms(pipeline: dict, variables: int) -> Terms:
    """Terms of one detect() of a Multi-sensor library: the window moves down one
    sample, then the anomaly pipeline runs on the window."""
    from .tasks.multisensor import strip_window

    inner, window = strip_window(pipeline)
    terms = anomaly_terms(inner, variables, window)
    terms["input"] += variables  # the new sample is checked, then the window by the preprocessing
    terms["history"] += window * variables
    return terms


# ---------------------------------------------------------------------- trained models


def _forest_depth(fitted) -> int:
    """Largest number of nodes a sample crosses in one tree, summed over the trees."""
    nodes, roots = fitted.parts.get("nodes"), fitted.parts.get("roots")
    if nodes is None or roots is None:
        return 0
    children = {}
    for i, nd in enumerate(nodes):
        children[i] = (int(nd[2]), int(nd[3]))
    total = 0
    for root in roots:
        depth, frontier = 0, [int(root)]
        while frontier:
            depth += 1
            frontier = [c for h in frontier for c in children.get(h, ()) if c >= 0]
        total += depth
    return total


def _trained_algo_terms(fitted) -> Terms:
    a, b, _ = fitted.sizes
    nz, nraw = fitted.n_z, fitted.n_raw
    algo = fitted.algo
    if algo == "linear":
        return Terms({"mac": nz * nraw, "dot": nraw})
    if algo == "forest":
        return Terms({"node": _forest_depth(fitted), "leaf": a * nraw, "tree": a})
    if algo == "proto":
        return Terms({"dist": a * nz, "dot": a})
    if algo == "mlp":
        return Terms({"mac": nz * a + a * nraw, "dot": a + nraw, "relu": a})
    if algo == "gauss":
        return Terms({"gauss_term": a * nz, "dot": a})
    if algo == "kernel":
        return Terms({"dist": a * nz, "dot": a, "exp": a})
    if algo == "quad":
        return Terms({"mac": a * nz, "dot": a, "fadd": nz})
    if algo == "knn":
        return Terms({"dist": a * nz, "dot": a, "knn_point": a})
    raise ValueError(f"no cost entry for trained algorithm {algo!r} (cost.TRAINED_TERMS)")


def _trained_post_terms(fitted) -> Terms:
    post, nout = fitted.post, fitted.n_out
    if post == "softmax":
        return Terms({"exp": nout, "fdiv": nout, "fadd": 2 * nout})
    if post == "mean":
        return Terms({"fdiv": fitted.n_raw})
    if post == "exp":
        return Terms({"exp": 1})
    if post == "sqrt":
        return Terms({"sqrt": 1})
    if post == "neg_lse":
        return Terms({"exp": fitted.n_raw, "log": 1, "fadd": 2 * fitted.n_raw})
    return Terms()


TRAINED_TERMS: dict[str, Callable] = {}  # algo -> f(fitted) -> Terms, for algorithms added later


def trained_terms(fitted, pre: dict, axes: int, buffer_size: int, filter_sections: int = 0) -> Terms:
    """Terms of one inference of a trained library (features, transform, model, output)."""
    terms = pre_terms(pre, axes, buffer_size) + filter_terms(filter_sections, axes, buffer_size)
    if fitted.mean is not None:
        terms["scale"] += fitted.n_features
    if fitted.proj is not None:
        terms["mac"] += fitted.n_features * fitted.n_z
        terms["dot"] += fitted.n_z
    custom = TRAINED_TERMS.get(fitted.algo)
    terms += custom(fitted) if custom else _trained_algo_terms(fitted)
    terms += _trained_post_terms(fitted)
    terms["infer"] += 1
    return terms


# ---------------------------------------------------------------------- the space


def core_space(pres: list[dict], core: str) -> list[dict]:
    """A task's preprocessing space for `core`: on cores without an FPU every
    spectrum preprocessing comes twice, computed in fixed point first (~6x fewer
    instructions there), then in float ("fixed": False, so the two are one
    setting apart for the search's local moves). Cores with an FPU: unchanged."""
    if not soft_float(core):
        return pres
    out = []
    for pre in pres:
        if pre["kind"] in ("fft", "spectral") and "fixed" not in pre:
            out += [{**pre, "fixed": True}, {**pre, "fixed": False}]
        else:
            out.append(pre)
    return out


# ---------------------------------------------------------------------- estimates


def instructions(terms: Terms, core: str) -> int:
    """Estimated instructions of the terms on `core`."""
    coeffs = COEFFS[core_class(core)]
    total = 0.0
    for name, count in terms.items():
        if count:
            total += coeffs[name] * count
    return int(round(total))


def cycles(n_instructions: float, core: str) -> int:
    return int(round(n_instructions * CPI[core_class(core)]))


def milliseconds(n_instructions: float, core: str, clock_mhz: float) -> float:
    """Time of that many instructions at the clock (armrun's cycles per instruction)."""
    return cycles(n_instructions, core) / (clock_mhz * 1000.0)


def instructions_in(ms: float, core: str, clock_mhz: float) -> int:
    """Instructions that run in `ms` milliseconds at the clock: a time limit as a count."""
    return int(ms * clock_mhz * 1000.0 / CPI[core_class(core)])
