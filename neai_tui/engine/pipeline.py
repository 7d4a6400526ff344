"""The component catalogue: a pipeline is one preprocessing + one model.

A pipeline is a plain JSON-able dict, stored with every benchmark result:

    {"pre": {"kind": "fft", "bands": 32, "spacing": "linear", "log": True,
             "window": "hann", "norm": "none", "segments": 1, "low": 0.0, "high": 1.0},
     "model": {"kind": "gauss", "reg": 0.01, "calib": 3.0, "warmup": 5}}

Preprocessings ("kind"): "raw" (decim, norm), "stats", "fft" (bands, spacing,
window, log, norm) and "spectral" (spectral statistics: bands = band-energy
ratios, spacing, window, time_stats). The two spectrum kinds also take:

* "segments" S (default 1): Bartlett's method (Welch's without overlap).
  S = 1 is the FFT of the whole buffer; S = 2 or 4 cuts it into S segments of
  buffer/S samples, removes each one's mean, windows and transforms it, and
  averages their power spectra: less variance, coarser bins, and fewer
  instructions than one FFT of the buffer (S FFTs of n/S points). The C takes
  any hop between segments; 50 % overlap measured 1.4-1.7x the instructions
  (over the Cortex-M4F target of 100 000 per detect() on the 3x256 fan
  sample) for a small gain, so the space does not use it.
* "low", "high" (defaults 0 and 1): the pass band, as fractions of Nyquist:
  only bins floor(low * h) + 1 .. floor(high * h) of the h = seg_len/2 bins
  above DC are used (the defaults: every bin but DC, as before these keys).

A key left out takes its default, and the defaults are the behaviour the key
had before it existed, so a pipeline stored by an older version gives the same
numbers.

Each component has its C side in c_lib/ (neai_dsp.c, neai_models.c). This module
turns a pipeline into the C configuration: the ctypes mirror of the config
structs (used by the host search build) and the constant tables (used by both
the search build and the generated neai_config.h of a library). There is no
Python re-implementation of any component: the search calls the C.
"""
from __future__ import annotations

import ctypes
import functools
import math
from dataclasses import dataclass

import numpy as np

PRE_KINDS = {"raw": 1, "fft": 2, "stats": 3, "spectral": 4, "cov": 5}
SPECTRUM_KINDS = ("fft", "spectral")  # the kinds built on the (segment-averaged) power spectrum
NORMS = {"none": 0, "zscore": 1, "maxabs": 2, "center": 3, "relative": 4}
MODEL_KINDS = {"gauss": 1, "proto": 2, "cov": 3, "hst": 4, "knn": 5}
STATS_PER_AXIS = 10
STATS_NAMES = ("mean", "std", "min", "max", "rms", "peak-to-peak", "skewness", "kurtosis", "crest", "zero-crossings")
SPECTRAL_PER_AXIS = 7  # then one share per band-energy ratio band
SPECTRAL_NAMES = ("log energy", "centroid", "spread", "log flatness", "roll-off", "peak frequency", "entropy")
MIN_SEGMENT = 8  # samples of the shortest FFT segment


class PreCfg(ctypes.Structure):
    """Mirror of neai_pre_cfg (c_lib/neai_types.h); checked by neai_search_abi()."""

    _fields_ = [
        ("kind", ctypes.c_uint16),
        ("nb_axes", ctypes.c_uint16),
        ("buffer_size", ctypes.c_uint16),
        ("nb_features", ctypes.c_uint16),
        ("decim", ctypes.c_uint16),
        ("norm", ctypes.c_uint16),
        ("bands", ctypes.c_uint16),
        ("log_scale", ctypes.c_uint16),
        ("seg_len", ctypes.c_uint16),
        ("seg_hop", ctypes.c_uint16),
        ("nb_segments", ctypes.c_uint16),
        ("time_stats", ctypes.c_uint16),
        ("cross", ctypes.c_uint16),
        ("fixed", ctypes.c_uint16),
        ("twiddle", ctypes.POINTER(ctypes.c_float)),
        ("window", ctypes.POINTER(ctypes.c_float)),
        ("band_edges", ctypes.POINTER(ctypes.c_uint16)),
        ("bitrev", ctypes.POINTER(ctypes.c_uint16)),
        ("itwiddle", ctypes.POINTER(ctypes.c_int16)),
        ("iwindow", ctypes.POINTER(ctypes.c_int16)),
    ]


class ModelCfg(ctypes.Structure):
    """Mirror of neai_model_cfg (c_lib/neai_types.h)."""

    _fields_ = [
        ("kind", ctypes.c_uint16),
        ("dim", ctypes.c_uint16),
        ("k", ctypes.c_uint16),
        ("depth", ctypes.c_uint16),
        ("blocks", ctypes.c_uint16),
        ("pad", ctypes.c_uint16),
        ("reg", ctypes.c_float),
        ("calib", ctypes.c_float),
        ("split_dim", ctypes.POINTER(ctypes.c_uint16)),
        ("split_at", ctypes.POINTER(ctypes.c_float)),
    ]


class GuardCfg(ctypes.Structure):
    """Mirror of neai_guard_cfg (c_lib/neai_types.h)."""

    _fields_ = [
        ("nb_axes", ctypes.c_uint16),
        ("buffer_size", ctypes.c_uint16),
        ("needs_variance", ctypes.c_uint16),
        ("pad", ctypes.c_uint16),
        ("lo", ctypes.POINTER(ctypes.c_float)),
        ("hi", ctypes.POINTER(ctypes.c_float)),
    ]


ABI = ctypes.sizeof(PreCfg) * 1_000_000 + ctypes.sizeof(ModelCfg) * 1000 + ctypes.sizeof(GuardCfg)


@dataclass
class PreTables:
    """Constant tables of a preprocessing (empty arrays where unused)."""

    twiddle: np.ndarray  # float32, (cos, -sin) pairs
    window: np.ndarray  # float32
    band_edges: np.ndarray  # uint16
    bitrev: np.ndarray  # uint16
    itwiddle: np.ndarray  # int16, the twiddles in Q14 (fixed-point spectra)
    iwindow: np.ndarray  # int16, the window in Q15 (fixed-point spectra)


def is_power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


@functools.lru_cache(maxsize=1024)
def fft_band_edges(n: int, bands: int, spacing: str, first: int = 1, end: int | None = None) -> np.ndarray:
    """Bin edges of `bands` bands over the bins first..end-1 of an n-point FFT
    (by default 1..n/2: every bin but DC). Read-only (cached)."""
    last = n // 2 + 1 if end is None else end  # exclusive
    available = last - first
    bands = min(bands, available)
    if spacing == "log":
        raw = np.geomspace(first, last, bands + 1)
    else:
        raw = np.linspace(first, last, bands + 1)
    edges = [first]
    for i, value in enumerate(raw[1:], start=1):
        lowest = edges[-1] + 1
        highest = last - (bands - i)  # leave at least one bin per remaining band
        edges.append(int(min(max(round(value), lowest), highest)))
    edges[-1] = last
    out = np.asarray(edges, dtype=np.uint16)
    out.flags.writeable = False
    return out


def segmentation(pre: dict, buffer_size: int) -> tuple[int, int, int]:
    """(samples per segment, hop, segments) of a spectrum preprocessing."""
    s = int(pre.get("segments", 1))
    if s == 1:
        return buffer_size, buffer_size, 1
    if not is_power_of_two(s) or buffer_size // s < MIN_SEGMENT:
        raise ValueError(f"{s} segments of a {buffer_size}-sample buffer")
    seg = buffer_size // s
    return seg, seg, s


def pass_band(pre: dict, seg_len: int) -> tuple[int, int]:
    """[first, end) bins of the pass band of a spectrum preprocessing."""
    half = seg_len // 2
    low, high = float(pre.get("low", 0.0)), float(pre.get("high", 1.0))
    first, end = math.floor(low * half) + 1, math.floor(high * half) + 1
    if not (0.0 <= low < high <= 1.0) or end <= first:
        raise ValueError(f"pass band {low:g}-{high:g} of Nyquist holds no bin of a {seg_len}-point FFT")
    return first, end


def band_edges(pre: dict, buffer_size: int) -> np.ndarray:
    """The band_edges table: band edges (FFT), or the pass band then the ratio
    bands' edges (SPECTRAL: [first, end] when it has no ratio bands)."""
    seg_len = segmentation(pre, buffer_size)[0]
    first, end = pass_band(pre, seg_len)
    bands = int(pre.get("bands", 0))
    if pre["kind"] == "spectral" and bands == 0:
        return np.asarray([first, end], dtype=np.uint16)
    return fft_band_edges(seg_len, bands, str(pre.get("spacing", "linear")), first, end)


def _bands(pre: dict, buffer_size: int) -> int:
    """Bands the C pools (FFT) or ratios it gives (SPECTRAL)."""
    if pre["kind"] == "spectral" and int(pre.get("bands", 0)) == 0:
        return 0
    return len(band_edges(pre, buffer_size)) - 1


def nb_features(pre: dict, axes: int, buffer_size: int) -> int:
    kind = pre["kind"]
    if kind == "raw":
        return axes * math.ceil(buffer_size / pre.get("decim", 1))
    if kind == "fft":
        return axes * _bands(pre, buffer_size)
    if kind == "stats":
        return axes * STATS_PER_AXIS + (cross_pairs(axes) if pre.get("cross", False) else 0)
    if kind == "cov":
        return axes + cross_pairs(axes)
    if kind == "spectral":
        time_stats = STATS_PER_AXIS if pre.get("time_stats", False) else 0
        return axes * (SPECTRAL_PER_AXIS + _bands(pre, buffer_size) + time_stats)
    raise ValueError(f"unknown preprocessing {kind!r}")


def cross_pairs(axes: int) -> int:
    """Correlations the "cross" option of statistics adds: one per pair of axes."""
    return axes * (axes - 1) // 2


def pre_tables(pre: dict, buffer_size: int) -> PreTables:
    empty_f = np.zeros(0, dtype=np.float32)
    empty_u = np.zeros(0, dtype=np.uint16)
    empty_i = np.zeros(0, dtype=np.int16)
    if pre["kind"] not in SPECTRUM_KINDS:
        return PreTables(empty_f, empty_f, empty_u, empty_u, empty_i, empty_i)
    n = segmentation(pre, buffer_size)[0]
    twiddle, bitrev, hann = _fft_tables(n)
    hann_window = pre.get("window", "none") == "hann"
    if pre.get("fixed"):
        itwiddle, ihann = _fixed_tables(n)
        return PreTables(empty_f, empty_f, band_edges(pre, buffer_size), bitrev, itwiddle,
                         ihann if hann_window else empty_i)
    return PreTables(twiddle, hann if hann_window else empty_f, band_edges(pre, buffer_size), bitrev,
                     empty_i, empty_i)


@functools.lru_cache(maxsize=16)
def _fixed_tables(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(Q14 twiddles, Q15 Hann window) of an n-point fixed-point real FFT, read-only."""
    k = np.arange(n // 2)
    angle = 2.0 * np.pi * k / n
    itwiddle = np.empty(n, dtype=np.int16)
    itwiddle[0::2] = np.round(16384.0 * np.cos(angle))
    itwiddle[1::2] = np.round(-16384.0 * np.sin(angle))
    ihann = np.round(32767.0 * (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n))).astype(np.int16)
    for table in (itwiddle, ihann):
        table.flags.writeable = False
    return itwiddle, ihann


@functools.lru_cache(maxsize=16)
def _fft_tables(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(twiddle, bit reversal, Hann window) of an n-point real FFT, read-only."""
    k = np.arange(n // 2)
    angle = 2.0 * np.pi * k / n
    twiddle = np.empty(n, dtype=np.float32)
    twiddle[0::2] = np.cos(angle)
    twiddle[1::2] = -np.sin(angle)
    half = n // 2  # the real FFT runs a complex FFT of n/2 points
    bits = half.bit_length() - 1
    bitrev = np.array([int(format(i, f"0{bits}b")[::-1], 2) if bits else 0 for i in range(half)], dtype=np.uint16)
    hann = (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)).astype(np.float32)
    for table in (twiddle, bitrev, hann):
        table.flags.writeable = False
    return twiddle, bitrev, hann


# The integer fields of neai_pre_cfg in declaration order (the pointers follow).
PRE_FIELDS = ("kind", "nb_axes", "buffer_size", "nb_features", "decim", "norm", "bands", "log_scale",
              "seg_len", "seg_hop", "nb_segments", "time_stats", "cross", "fixed")
PRE_POINTERS = (("float", "twiddle"), ("float", "window"), ("uint16_t", "band_edges"), ("uint16_t", "bitrev"),
                ("int16_t", "itwiddle"), ("int16_t", "iwindow"))


def pre_fields(pre: dict, axes: int, buffer_size: int) -> dict[str, int]:
    """Integer fields of neai_pre_cfg (the pointers are set from the tables)."""
    kind = pre["kind"]
    nf = nb_features(pre, axes, buffer_size)
    norm = pre.get("norm", "none")
    spectrum = kind in SPECTRUM_KINDS
    seg_len, seg_hop, nb_segments = segmentation(pre, buffer_size) if spectrum else (0, 0, 0)
    return {
        "kind": PRE_KINDS[kind],
        "nb_axes": axes,
        "buffer_size": buffer_size,
        "nb_features": nf,
        "decim": pre.get("decim", 1) if kind == "raw" else 1,
        "norm": NORMS[norm],
        "bands": _bands(pre, buffer_size) if spectrum else 0,
        "log_scale": int(bool(pre.get("log", False))) if kind == "fft" else 0,
        "seg_len": seg_len,
        "seg_hop": seg_hop,
        "nb_segments": nb_segments,
        "time_stats": int(bool(pre.get("time_stats", False))) if kind == "spectral" else 0,
        "cross": (int(bool(pre.get("cross", False)) and axes > 1) if kind == "stats"
                  else int(bool(pre.get("correlation", False))) if kind == "cov" else 0),
        "fixed": int(bool(pre.get("fixed", False))) if spectrum else 0,
    }


def pre_signature(pre: dict, axes: int, buffer_size: int) -> tuple:
    """Everything the C sees of a preprocessing: two with equal signatures give
    the same features, so a search space keeps only one of them."""
    tables = pre_tables(pre, buffer_size)
    return (tuple(pre_fields(pre, axes, buffer_size).values()),
            *(getattr(tables, name).tobytes() for _, name in PRE_POINTERS))


# ---------------------------------------------------------------- models
# Internal clusters of the Gaussian and covariance models (c_lib/neai_types.h):
# the model is fitted to their union, the tiny ones (an absurd buffer) left out.
GAUSS_CLUSTERS = 4
COV_CLUSTERS = 3
COV_MAX_DIM = 64
HST_MAX_DEPTH = 10
SHIFT_KINDS = ("raw", "fft")  # preprocessings whose features a KNN shift may slide (per axis block)


def model_blocks(pre: dict, axes: int) -> int:
    """Blocks (axes) the features of `pre` are made of, for the KNN shift; 0:
    a shift has no meaning for these features."""
    return axes if pre["kind"] in SHIFT_KINDS else 0


def model_fields(model: dict, dim: int, blocks: int = 0) -> dict:
    """Numeric fields of neai_model_cfg. A key a model does not use is 0; keys of
    earlier versions (warmup) are ignored."""
    kind = model["kind"]
    k = {"proto": model.get("k", 8), "knn": model.get("k", 16), "hst": model.get("trees", 8)}.get(kind, 0)
    depth = {"hst": model.get("depth", 6), "knn": model.get("shift", 0) if blocks else 0}.get(kind, 0)
    return {
        "kind": MODEL_KINDS[kind],
        "dim": dim,
        "k": int(k),
        "depth": int(depth),
        "blocks": int(blocks) if kind == "knn" else 0,
        "pad": 0,
        "reg": float(np.float32(model.get("reg", 0.01))),
        "calib": float(np.float32(model.get("calib", 3.0))),
    }


def _slots(model: dict) -> int:
    kind = model["kind"]
    return {"gauss": GAUSS_CLUSTERS, "cov": COV_CLUSTERS}.get(kind) or min(64, int(model.get("k", 8 if kind == "proto" else 16)))


def state_floats(model: dict, dim: int) -> int:
    """Knowledge floats (c_lib/neai_models.c: neai_model_state_floats)."""
    kind = model["kind"]
    if kind == "hst":
        return 1 + int(model.get("trees", 8)) * (1 << min(HST_MAX_DEPTH, int(model.get("depth", 6))))
    slot = {"cov": 1 + dim + dim * (dim + 1) // 2, "knn": 2 + dim}.get(kind, 1 + 2 * dim)
    return 2 + _slots(model) * slot


def model_work_floats(model: dict, dim: int) -> int:
    """Scratch floats of the model, what detect() derives included (neai_model_work_floats)."""
    kind = model["kind"]
    if kind == "hst":
        return 2 * (1 << min(HST_MAX_DEPTH, int(model.get("depth", 6)))) + 1
    if kind == "cov":
        return 2 * dim + dim * (dim + 1) + 1
    return 2 * dim + 1


@dataclass
class ModelTables:
    """Constant tables of a model (half-space trees' tests; empty otherwise)."""

    split_dim: np.ndarray  # uint16
    split_at: np.ndarray  # float32


def model_tables(model: dict, learn_features: np.ndarray | None) -> ModelTables:
    """The model's constant tables for lines like `learn_features` (see hst_tables)."""
    if model["kind"] != "hst":
        return ModelTables(np.zeros(0, dtype=np.uint16), np.zeros(0, dtype=np.float32))
    feats = np.asarray(learn_features, dtype=np.float64)
    finite = np.where(np.isfinite(feats), feats, np.nan)
    with np.errstate(all="ignore"):
        lo = np.nan_to_num(np.nanmin(finite, axis=0)) if len(feats) else np.zeros(feats.shape[1])
        hi = np.nan_to_num(np.nanmax(finite, axis=0)) if len(feats) else np.ones(feats.shape[1])
    return _hst_tables(int(model.get("trees", 8)), min(HST_MAX_DEPTH, int(model.get("depth", 6))),
                       int(model.get("seed", 0)), lo.astype(np.float32).tobytes(), hi.astype(np.float32).tobytes())


@functools.lru_cache(maxsize=256)
def _hst_tables(trees: int, depth: int, seed: int, lo_bytes: bytes, hi_bytes: bytes) -> ModelTables:
    """The half-space trees' tests, drawn (seeded by the model's "seed") from the
    range of `learn_features` (the lines the library is fitted to learn: the
    benchmark's learning lines, or the project's nominal lines for a deployed
    library), as Tan, Ting and Liu draw a tree's work space: per feature a
    point s in [min, max] and the range s -/+ 2 max(s - min, max - s), halved
    at every level along the feature the node splits."""
    lo = np.frombuffer(lo_bytes, dtype=np.float32).astype(np.float64)
    hi = np.frombuffer(hi_bytes, dtype=np.float32).astype(np.float64)
    dim = len(lo)
    rng = np.random.default_rng([seed, dim, trees, depth])
    internal = (1 << depth) - 1
    split_dim = rng.integers(dim, size=trees * internal).astype(np.uint16)
    split_at = np.zeros(trees * internal, dtype=np.float32)
    for t in range(trees):
        s = rng.uniform(lo, hi)
        r = 2.0 * np.maximum(s - lo, hi - s)
        r = np.where(r > 0, r, np.maximum(np.abs(s), 1.0) * 1e-3)
        low, high = np.tile(s - r, (internal, 1)), np.tile(s + r, (internal, 1))  # per node's work space
        for node in range(internal):
            f = int(split_dim[t * internal + node])
            mid = 0.5 * (low[node, f] + high[node, f])
            split_at[t * internal + node] = mid
            for child, side in ((2 * node + 1, 0), (2 * node + 2, 1)):
                if child < internal:
                    low[child], high[child] = low[node], high[node]
                    if side == 0:
                        high[child, f] = mid
                    else:
                        low[child, f] = mid
    for table in (split_dim, split_at):
        table.flags.writeable = False
    return ModelTables(split_dim, split_at)


def make_model_cfg(model: dict, dim: int, tables: ModelTables | None = None, blocks: int = 0) -> ModelCfg:
    """The ctypes config; keep `tables` alive while the config is used."""
    cfg = ModelCfg(**model_fields(model, dim, blocks))
    if tables is not None and tables.split_dim.size:
        cfg.split_dim = tables.split_dim.ctypes.data_as(ctypes.POINTER(ctypes.c_uint16))
        cfg.split_at = tables.split_at.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
    return cfg


# ------------------------------------------------------------- input guard
GUARD_SPANS = 4.0  # learn() takes samples up to 4 times the nominal range beyond it


def guard_bounds(lines: np.ndarray, axes: int) -> tuple[np.ndarray, np.ndarray, bool]:
    """(lo, hi per axis, needs_variance) of the input guard learnt from the
    project's nominal lines (lines x axes*samples, interleaved): each axis's
    range widened by GUARD_SPANS times itself (and at least a tenth of its
    largest magnitude, so a constant axis still takes small changes); and
    whether learn() refuses a buffer with an axis holding one value only
    (when no nominal buffer has such an axis)."""
    x = np.asarray(lines, dtype=np.float64).reshape(len(lines), -1, axes)
    mn, mx = x.min(axis=(0, 1)), x.max(axis=(0, 1))
    span = np.maximum(mx - mn, np.maximum(0.1 * np.maximum(np.abs(mn), np.abs(mx)), 1e-6))
    lo = (mn - GUARD_SPANS * span).astype(np.float32)
    hi = (mx + GUARD_SPANS * span).astype(np.float32)
    constant = (np.ptp(x, axis=1) == 0).any()
    return lo, hi, bool(x.shape[1] > 1 and not constant)


def work_floats(pre: dict, buffer_size: int) -> int:
    """Scratch floats of neai_pre_features: a segment, plus the spectrum
    accumulator when several are averaged."""
    if pre["kind"] not in SPECTRUM_KINDS:
        return 1
    seg_len, _, nb_segments = segmentation(pre, buffer_size)
    return seg_len if nb_segments == 1 else 2 * seg_len


def make_pre_cfg(pre: dict, axes: int, buffer_size: int) -> tuple[PreCfg, PreTables]:
    """The ctypes config; keep the returned tables alive while the config is used."""
    tables = pre_tables(pre, buffer_size)
    cfg = PreCfg(**pre_fields(pre, axes, buffer_size))

    def ptr(array: np.ndarray, ctype):
        return array.ctypes.data_as(ctypes.POINTER(ctype)) if array.size else ctypes.POINTER(ctype)()

    ctypes_of = {"float": ctypes.c_float, "uint16_t": ctypes.c_uint16, "int16_t": ctypes.c_int16}
    for ctype, name in PRE_POINTERS:
        setattr(cfg, name, ptr(getattr(tables, name), ctypes_of[ctype]))
    return cfg, tables


def _spectrum_text(pre: dict) -> list[str]:
    parts = ["fixed-point"] if pre.get("fixed") else []
    if int(pre.get("segments", 1)) > 1:
        parts.append(f"mean of {int(pre['segments'])} segments")
    low, high = float(pre.get("low", 0.0)), float(pre.get("high", 1.0))
    if (low, high) != (0.0, 1.0):
        parts.append(f"{100 * low:g}-{100 * high:g} % of Nyquist")
    return parts


def anomaly_model_text(model: dict) -> str:
    """One line for a model that learns on the device."""
    kind, calib = model["kind"], f"calib {model['calib']:g}"
    if kind == "gauss":
        return f"Gaussian distance (reg {model.get('reg', 0.01):g}, {calib})"
    if kind == "proto":
        return f"{model['k']} prototypes (reg {model.get('reg', 0.01):g}, {calib})"
    if kind == "cov":
        return f"covariance distance, Hotelling T² (shrinkage {model.get('reg', 0.1):g}, {calib})"
    if kind == "hst":
        return f"{model.get('trees', 8)} half-space trees of depth {model.get('depth', 6)} ({calib})"
    shift = f", shift ±{model['shift']}" if model.get("shift") else ""
    return f"nearest of {model.get('k', 16)} memories (reg {model.get('reg', 0.01):g}{shift}, {calib})"


def describe(pipeline: dict) -> str:
    """One line a user can read, e.g. 'FFT 32 linear bands, Hann, log -> Gaussian (calib 3)'."""
    pre, model = pipeline["pre"], pipeline["model"]
    if pre["kind"] == "fft":
        parts = [f"FFT {pre['bands']} {pre.get('spacing', 'linear')} bands"]
        if pre.get("window", "none") != "none":
            parts.append(pre["window"].capitalize())
        parts += _spectrum_text(pre)
        if pre.get("log"):
            parts.append("log")
        if pre.get("norm", "none") != "none":
            parts.append(pre["norm"])
        pre_text = ", ".join(parts)
    elif pre["kind"] == "spectral":
        ratios = int(pre.get("bands", 0))
        parts = [f"spectral statistics ({SPECTRAL_PER_AXIS}"
                 + (f" + {ratios} {pre.get('spacing', 'linear')} band ratios" if ratios else "") + " per axis)"]
        if pre.get("window", "none") != "none":
            parts.append(pre["window"].capitalize())
        parts += _spectrum_text(pre)
        pre_text = ", ".join(parts) + (" + statistics" if pre.get("time_stats") else "")
    elif pre["kind"] == "raw":
        pre_text = f"raw buffer ({pre.get('norm', 'none')}" + (
            f", 1/{pre['decim']})" if pre.get("decim", 1) > 1 else ")"
        )
    elif pre["kind"] == "cov":
        pre_text = ("standard deviations + axis correlations" if pre.get("correlation")
                    else "covariance matrix of the axes")
    else:
        pre_text = "statistics (10 per axis" + (", + axis correlations)" if pre.get("cross") else ")")
    if pre.get("lookback"):  # Multi-sensor: the samples the library looks back over
        pre_text = f"last {pre['lookback']} samples, {pre_text}"
    if "calib" in model and model["kind"] in MODEL_KINDS:  # a model that learns on the device
        model_text = anomaly_model_text(model)
    else:  # trained models: kind, fitted transform, hyperparameters
        steps = []
        # Tree ensembles without PCA are fitted unscaled (trained.effective_model).
        if model.get("scale", "none") != "none" and (model.get("pca") or model["kind"] not in ("rf", "et", "iforest")):
            steps.append(f"{model['scale']} scaling")
        if model.get("pca"):
            steps.append(f"PCA {model['pca']}")
        params = ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}"
                           for k, v in model.items() if k not in ("kind", "scale", "pca"))
        model_text = " -> ".join(steps + [f"{model['kind']}" + (f" ({params})" if params else "")])
    return f"{pre_text} -> {model_text}"


# Cortex-M code and stack sizes per component, measured from built ELFs with
# bench/measure_components.py; the search uses them to rank candidates before
# any library is built, and the error of the estimate is reported (libs --json).
# "welch" is what averaging several segments adds to a spectrum kind,
# "time_stats" what the statistics block adds to spectral statistics (less than
# "stats": they share the mean/std helper and the API's checks).
# "fixed" is what the fixed-point spectrum adds (integer FFT and scaling, measured
# on M4F: its tables are half the float ones, counted apart).
CODE_BYTES = {"api": 900, "raw": 300, "fft": 900, "stats": 700, "spectral": 1300, "welch": 100, "time_stats": 450,
              "cross": 150, "cov": 350, "fixed": 400}
# Models: the slot (cluster) machinery they share, then each one's own code.
MODEL_CODE_BYTES = {"slots": 1100, "gauss": 250, "proto": 480, "knn": 930, "cov": 1400, "hst": 820}
STACK_BYTES = 160


def pre_code_bytes(pre: dict) -> int:
    """Cortex-M code bytes of a preprocessing (its tables excluded)."""
    code = CODE_BYTES[pre["kind"]]
    if pre["kind"] in SPECTRUM_KINDS and int(pre.get("segments", 1)) > 1:
        code += CODE_BYTES["welch"]
    if pre["kind"] in SPECTRUM_KINDS and pre.get("fixed"):
        code += CODE_BYTES["fixed"]
    if pre["kind"] == "spectral" and pre.get("time_stats"):
        code += CODE_BYTES["time_stats"]
    if pre["kind"] == "stats" and pre.get("cross"):
        code += CODE_BYTES["cross"]
    return code


def pre_const_bytes(pre: dict, buffer_size: int) -> int:
    """Bytes of a preprocessing's constant tables."""
    tables = pre_tables(pre, buffer_size)
    return sum(getattr(tables, name).nbytes for _, name in PRE_POINTERS)


def model_code_bytes(model: dict) -> int:
    """Cortex-M code bytes of a model (its tables excluded)."""
    kind = model["kind"]
    return MODEL_CODE_BYTES[kind] + (MODEL_CODE_BYTES["slots"] if kind in ("gauss", "proto", "cov") else 0)


def model_cost(model: dict, dim: int) -> dict[str, int]:
    """Operations of one detect() of a model on `dim` features, counted from
    c_lib/neai_models.c (what it derives from the knowledge at every call
    included): float multiply/add/compare ("flops"), divisions, square roots,
    logarithms (neai_logf, ~30 flops each) and words read from the knowledge
    ("loads"). For a per-core cost model: soft-float cores pay ~20-40x per flop."""
    kind = model["kind"]
    tri = dim * (dim + 1) // 2
    if kind == "gauss":
        k = GAUSS_CLUSTERS
        return {"flops": 5 * k * dim + 6 * dim, "divs": 3 * dim, "sqrts": 1, "logs": 0, "loads": k * (2 * dim + 1)}
    if kind == "proto":
        k = _slots(model)
        return {"flops": 7 * k * dim + 4 * dim, "divs": 2 * dim + k, "sqrts": 2, "logs": 0,
                "loads": 2 * k * (2 * dim + 1)}
    if kind == "cov":
        k = COV_CLUSTERS
        return {"flops": 3 * k * tri + 2 * (dim ** 3) // 6 + 4 * tri + 2 * dim, "divs": tri + 2 * dim,
                "sqrts": dim + 1, "logs": 0, "loads": k * (1 + dim + tri)}
    if kind == "hst":
        trees, leaves = int(model.get("trees", 8)), 1 << min(HST_MAX_DEPTH, int(model.get("depth", 6)))
        depth = min(HST_MAX_DEPTH, int(model.get("depth", 6)))
        return {"flops": trees * (5 * leaves + 2 * depth), "divs": 2, "sqrts": 0, "logs": trees * (2 * leaves + 2),
                "loads": trees * (2 * leaves + depth)}
    k = _slots(model)  # knn
    shifts = 2 * int(model.get("shift", 0)) + 1
    return {"flops": 5 * k * dim + 3 * k * dim * shifts + k * k, "divs": dim + shifts, "sqrts": 1, "logs": 0,
            "loads": 2 * k * (dim + 2) + k * dim * shifts}


def model_const_bytes(model: dict) -> int:
    """Bytes of a model's constant tables (the half-space trees' tests)."""
    if model["kind"] != "hst":
        return 0
    internal = (1 << min(HST_MAX_DEPTH, int(model.get("depth", 6)))) - 1
    return int(model.get("trees", 8)) * internal * 6


def estimate_memory(pipeline: dict, axes: int, buffer_size: int) -> tuple[int, int]:
    """(RAM bytes excluding the caller's input buffer, flash bytes) of a library."""
    pre, model = pipeline["pre"], pipeline["model"]
    dim = nb_features(pre, axes, buffer_size)
    ram = 4 * (state_floats(model, dim) + model_work_floats(model, dim) + work_floats(pre, buffer_size) + dim) \
        + 8 + STACK_BYTES
    const = pre_const_bytes(pre, buffer_size) + model_const_bytes(model) + 8 * axes  # + the guard's range
    flash = CODE_BYTES["api"] + pre_code_bytes(pre) + model_code_bytes(model) + const + 64
    return ram, flash
