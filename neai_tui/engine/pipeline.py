"""The component catalogue: a pipeline is one preprocessing + one model.

A pipeline is a plain JSON-able dict, stored with every benchmark result:

    {"pre": {"kind": "fft", "bands": 32, "spacing": "linear", "log": True,
             "window": "hann", "norm": "none"},
     "model": {"kind": "gauss", "reg": 0.01, "calib": 3.0, "warmup": 5}}

Each component has its C side in c_lib/ (neai_dsp.c, neai_models.c). This module
turns a pipeline into the C configuration: the ctypes mirror of the config
structs (used by the host search build) and the constant tables (used by both
the search build and the generated neai_config.h of a library). There is no
Python re-implementation of any component: the search calls the C.
"""
from __future__ import annotations

import ctypes
import math
from dataclasses import dataclass

import numpy as np

PRE_KINDS = {"raw": 1, "fft": 2, "stats": 3}
NORMS = {"none": 0, "zscore": 1, "maxabs": 2, "center": 3, "relative": 4}
MODEL_KINDS = {"gauss": 1, "proto": 2}
STATS_PER_AXIS = 10
STATS_NAMES = ("mean", "std", "min", "max", "rms", "peak-to-peak", "skewness", "kurtosis", "crest", "zero-crossings")


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
        ("twiddle", ctypes.POINTER(ctypes.c_float)),
        ("window", ctypes.POINTER(ctypes.c_float)),
        ("band_edges", ctypes.POINTER(ctypes.c_uint16)),
        ("bitrev", ctypes.POINTER(ctypes.c_uint16)),
    ]


class ModelCfg(ctypes.Structure):
    """Mirror of neai_model_cfg (c_lib/neai_types.h)."""

    _fields_ = [
        ("kind", ctypes.c_uint16),
        ("dim", ctypes.c_uint16),
        ("k", ctypes.c_uint16),
        ("warmup", ctypes.c_uint16),
        ("reg", ctypes.c_float),
        ("calib", ctypes.c_float),
    ]


ABI = ctypes.sizeof(PreCfg) * 1000 + ctypes.sizeof(ModelCfg)


@dataclass
class PreTables:
    """Constant tables of a preprocessing (empty arrays where unused)."""

    twiddle: np.ndarray  # float32, (cos, -sin) pairs
    window: np.ndarray  # float32
    band_edges: np.ndarray  # uint16
    bitrev: np.ndarray  # uint16


def is_power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def fft_band_edges(buffer_size: int, bands: int, spacing: str) -> np.ndarray:
    """Bin edges of `bands` bands over bins 1..buffer_size/2 (DC excluded)."""
    last = buffer_size // 2 + 1  # exclusive
    available = last - 1
    bands = min(bands, available)
    if spacing == "log":
        raw = np.geomspace(1, last, bands + 1)
    else:
        raw = np.linspace(1, last, bands + 1)
    edges = [1]
    for i, value in enumerate(raw[1:], start=1):
        lowest = edges[-1] + 1
        highest = last - (bands - i)  # leave at least one bin per remaining band
        edges.append(int(min(max(round(value), lowest), highest)))
    edges[-1] = last
    return np.asarray(edges, dtype=np.uint16)


def nb_features(pre: dict, axes: int, buffer_size: int) -> int:
    kind = pre["kind"]
    if kind == "raw":
        return axes * math.ceil(buffer_size / pre.get("decim", 1))
    if kind == "fft":
        return axes * (len(fft_band_edges(buffer_size, pre["bands"], pre.get("spacing", "linear"))) - 1)
    if kind == "stats":
        return axes * STATS_PER_AXIS
    raise ValueError(f"unknown preprocessing {kind!r}")


def pre_tables(pre: dict, buffer_size: int) -> PreTables:
    empty_f = np.zeros(0, dtype=np.float32)
    empty_u = np.zeros(0, dtype=np.uint16)
    if pre["kind"] != "fft":
        return PreTables(empty_f, empty_f, empty_u, empty_u)
    n = buffer_size
    k = np.arange(n // 2)
    angle = 2.0 * np.pi * k / n
    twiddle = np.empty(n, dtype=np.float32)
    twiddle[0::2] = np.cos(angle)
    twiddle[1::2] = -np.sin(angle)
    half = n // 2  # the real FFT runs a complex FFT of n/2 points
    bits = half.bit_length() - 1
    bitrev = np.array([int(format(i, f"0{bits}b")[::-1], 2) if bits else 0 for i in range(half)], dtype=np.uint16)
    if pre.get("window", "none") == "hann":
        window = (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)).astype(np.float32)
    else:
        window = empty_f
    edges = fft_band_edges(n, pre["bands"], pre.get("spacing", "linear"))
    return PreTables(twiddle, window, edges, bitrev)


def pre_fields(pre: dict, axes: int, buffer_size: int) -> dict[str, int]:
    """Integer fields of neai_pre_cfg (the pointers are set from the tables)."""
    kind = pre["kind"]
    nf = nb_features(pre, axes, buffer_size)
    norm = pre.get("norm", "none")
    return {
        "kind": PRE_KINDS[kind],
        "nb_axes": axes,
        "buffer_size": buffer_size,
        "nb_features": nf,
        "decim": pre.get("decim", 1) if kind == "raw" else 1,
        "norm": NORMS[norm],
        "bands": nf // axes if kind == "fft" else 0,
        "log_scale": int(bool(pre.get("log", False))) if kind == "fft" else 0,
    }


def model_fields(model: dict, dim: int) -> dict:
    return {
        "kind": MODEL_KINDS[model["kind"]],
        "dim": dim,
        "k": model.get("k", 0) if model["kind"] == "proto" else 0,
        "warmup": model.get("warmup", 2),
        "reg": float(np.float32(model.get("reg", 0.01))),
        "calib": float(np.float32(model.get("calib", 3.0))),
    }


def state_floats(model: dict, dim: int) -> int:
    if model["kind"] == "proto":
        k = model["k"]
        return 2 + 2 * dim + k * (dim + 1) + 3
    return 1 + 2 * dim + 3


def work_floats(pre: dict, buffer_size: int) -> int:
    return buffer_size if pre["kind"] == "fft" else 1


def make_pre_cfg(pre: dict, axes: int, buffer_size: int) -> tuple[PreCfg, PreTables]:
    """The ctypes config; keep the returned tables alive while the config is used."""
    tables = pre_tables(pre, buffer_size)
    cfg = PreCfg(**pre_fields(pre, axes, buffer_size))

    def ptr(array: np.ndarray, ctype):
        return array.ctypes.data_as(ctypes.POINTER(ctype)) if array.size else ctypes.POINTER(ctype)()

    cfg.twiddle = ptr(tables.twiddle, ctypes.c_float)
    cfg.window = ptr(tables.window, ctypes.c_float)
    cfg.band_edges = ptr(tables.band_edges, ctypes.c_uint16)
    cfg.bitrev = ptr(tables.bitrev, ctypes.c_uint16)
    return cfg, tables


def make_model_cfg(model: dict, dim: int) -> ModelCfg:
    return ModelCfg(**model_fields(model, dim))


def describe(pipeline: dict) -> str:
    """One line a user can read, e.g. 'FFT 32 linear bands, Hann, log -> Gaussian (calib 3)'."""
    pre, model = pipeline["pre"], pipeline["model"]
    if pre["kind"] == "fft":
        parts = [f"FFT {pre['bands']} {pre.get('spacing', 'linear')} bands"]
        if pre.get("window", "none") != "none":
            parts.append(pre["window"].capitalize())
        if pre.get("log"):
            parts.append("log")
        if pre.get("norm", "none") != "none":
            parts.append(pre["norm"])
        pre_text = ", ".join(parts)
    elif pre["kind"] == "raw":
        pre_text = f"raw buffer ({pre.get('norm', 'none')}" + (
            f", 1/{pre['decim']})" if pre.get("decim", 1) > 1 else ")"
        )
    else:
        pre_text = "statistics (10 per axis)"
    if pre.get("lookback"):  # Multi-sensor: the samples the library looks back over
        pre_text = f"last {pre['lookback']} samples, {pre_text}"
    if model["kind"] == "gauss" and "calib" in model:
        model_text = f"Gaussian distance (reg {model['reg']:g}, calib {model['calib']:g})"
    elif model["kind"] == "proto" and "calib" in model:
        model_text = f"{model['k']} prototypes (reg {model['reg']:g}, calib {model['calib']:g})"
    else:  # trained models: kind, fitted transform, hyperparameters
        steps = []
        if model.get("scale", "none") != "none":
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
CODE_BYTES = {"api": 700, "raw": 300, "fft": 900, "stats": 700, "gauss": 500, "proto": 1300}
STACK_BYTES = 160


def estimate_memory(pipeline: dict, axes: int, buffer_size: int) -> tuple[int, int]:
    """(RAM bytes excluding the caller's input buffer, flash bytes) of a library."""
    pre, model = pipeline["pre"], pipeline["model"]
    dim = nb_features(pre, axes, buffer_size)
    ram = 4 * (state_floats(model, dim) + work_floats(pre, buffer_size) + dim) + 8 + STACK_BYTES
    tables = pre_tables(pre, buffer_size)
    const = tables.twiddle.nbytes + tables.window.nbytes + tables.band_edges.nbytes + tables.bitrev.nbytes
    flash = CODE_BYTES["api"] + CODE_BYTES[pre["kind"]] + CODE_BYTES[model["kind"]] + const + 64
    return ram, flash
