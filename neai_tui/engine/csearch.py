"""The host build of the C runtime, as the benchmark uses it.

`c_lib/neai_search.c` includes the same component sources as every deployed
library and adds batch entry points, so the search ranks candidates by the
deployed C's own outputs. Built once per machine with the bundled compiler
(cached), loaded with ctypes.
"""
from __future__ import annotations

import ctypes
import functools
from pathlib import Path

import numpy as np

from .errors import ToolchainError
from .pipeline import (ABI, GuardCfg, ModelCfg, PreCfg, make_model_cfg, make_pre_cfg, model_tables, model_work_floats,
                       nb_features, state_floats)

C_LIB = Path(__file__).resolve().parents[2] / "c_lib"

_F32P = ctypes.POINTER(ctypes.c_float)
_I32P = ctypes.POINTER(ctypes.c_int32)
_U32P = ctypes.POINTER(ctypes.c_uint32)
_U8P = ctypes.POINTER(ctypes.c_uint8)


def c_lib_dir() -> Path:
    if not (C_LIB / "neai_types.h").exists():
        raise ToolchainError(
            f"the C runtime sources are missing ({C_LIB})",
            "Reinstall neai-tui from its repository with `pip install -e .`.",
        )
    return C_LIB


@functools.lru_cache(maxsize=1)
def search_library() -> ctypes.CDLL:
    from .toolchain import cached_build

    so = cached_build("shared", [c_lib_dir() / "neai_search.c"], [c_lib_dir()], {})
    lib = ctypes.CDLL(str(so))
    lib.neai_search_abi.restype = ctypes.c_uint32
    if lib.neai_search_abi() != ABI:
        raise ToolchainError(
            "the C configuration structs and their Python mirrors differ",
            "c_lib/neai_types.h and neai_tui/engine/pipeline.py must be changed together.",
        )
    lib.neai_search_features.argtypes = [ctypes.POINTER(PreCfg), _F32P, ctypes.c_uint32, _F32P, _F32P]
    lib.neai_search_features.restype = ctypes.c_uint32
    from .filtering import FilterCfg

    lib.neai_search_filter.argtypes = [ctypes.POINTER(FilterCfg), _F32P, ctypes.c_uint32, _F32P]
    lib.neai_search_filter.restype = None
    lib.neai_search_state_floats.argtypes = [ctypes.POINTER(ModelCfg)]
    lib.neai_search_state_floats.restype = ctypes.c_uint32
    lib.neai_search_work_floats.argtypes = [ctypes.POINTER(ModelCfg)]
    lib.neai_search_work_floats.restype = ctypes.c_uint32
    lib.neai_search_guard.argtypes = [ctypes.POINTER(GuardCfg), _F32P]
    lib.neai_search_guard.restype = ctypes.c_uint32
    lib.neai_search_learn_one.argtypes = [ctypes.POINTER(ModelCfg), _F32P, _F32P, _F32P]
    lib.neai_search_learn_one.restype = ctypes.c_uint32
    lib.neai_search_ratio_one.argtypes = [ctypes.POINTER(ModelCfg), _F32P, _F32P, _F32P]
    lib.neai_search_ratio_one.restype = ctypes.c_float
    lib.neai_search_run.argtypes = [
        ctypes.POINTER(ModelCfg), _F32P, _F32P, _F32P, _I32P, ctypes.c_uint32, _I32P, ctypes.c_uint32,
        ctypes.c_float, _F32P, _U8P,
    ]
    lib.neai_search_run.restype = None
    lib.neai_search_curve.argtypes = [
        ctypes.POINTER(ModelCfg), _F32P, _F32P, _F32P, _I32P, ctypes.c_uint32, _I32P, ctypes.c_uint32,
        _U32P, ctypes.c_uint32, _U8P,
    ]
    lib.neai_search_curve.restype = None
    return lib


def _f32(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float32)


def features(pre: dict, inputs: np.ndarray, axes: int, buffer_size: int) -> np.ndarray:
    """C features of each input line (float32, lines x features); NaN rows where not finite."""
    lib = search_library()
    cfg, tables = make_pre_cfg(pre, axes, buffer_size)
    x = _f32(inputs)
    n = x.shape[0]
    out = np.empty((n, nb_features(pre, axes, buffer_size)), dtype=np.float32)
    work = np.empty(buffer_size + 1, dtype=np.float32)
    lib.neai_search_features(
        ctypes.byref(cfg), x.ctypes.data_as(_F32P), n, out.ctypes.data_as(_F32P), work.ctypes.data_as(_F32P)
    )
    del tables
    return out


class ModelRun:
    """A model's config, tables, knowledge and scratch for the host build, as the
    batch calls take them. The half-space trees' tests come from `learn_features`."""

    def __init__(self, model: dict, dim: int, learn_features: np.ndarray | None = None, blocks: int = 0):
        self.tables = model_tables(model, learn_features)
        self.cfg = make_model_cfg(model, dim, self.tables, blocks)
        self.state = np.zeros(state_floats(model, dim), dtype=np.float32)
        self.work = np.zeros(max(1, model_work_floats(model, dim)), dtype=np.float32)

    def args(self):
        return ctypes.byref(self.cfg), self.state.ctypes.data_as(_F32P), self.work.ctypes.data_as(_F32P)

    def learn(self, x: np.ndarray) -> int:
        """Learn one feature vector (0 learned, 1 refused)."""
        x = _f32(x)
        return int(search_library().neai_search_learn_one(*self.args()[:2], x.ctypes.data_as(_F32P),
                                                          self.work.ctypes.data_as(_F32P)))

    def ratio(self, x: np.ndarray) -> float:
        x = _f32(x)
        return float(search_library().neai_search_ratio_one(*self.args()[:2], x.ctypes.data_as(_F32P),
                                                            self.work.ctypes.data_as(_F32P)))


def _model_call_args(model: dict, feats: np.ndarray, learn_idx, detect_idx, blocks: int):
    feats = _f32(feats)
    li = np.ascontiguousarray(learn_idx, dtype=np.int32)
    di = np.ascontiguousarray(detect_idx, dtype=np.int32)
    run_ = ModelRun(model, feats.shape[1], feats[li] if model["kind"] == "hst" else None, blocks)
    return run_, feats, li, di


def run(model: dict, feats: np.ndarray, learn_idx, detect_idx, sensitivity: float = 1.0, blocks: int = 0):
    """Learn the rows learn_idx, detect the rows detect_idx: (ratios float32, similarities uint8).
    `blocks`: the axes the features are laid out in (pipeline.model_blocks), for KNN shifts."""
    lib = search_library()
    m, feats, li, di = _model_call_args(model, feats, learn_idx, detect_idx, blocks)
    ratios = np.empty(len(di), dtype=np.float32)
    sims = np.empty(len(di), dtype=np.uint8)
    lib.neai_search_run(
        *m.args(), feats.ctypes.data_as(_F32P),
        li.ctypes.data_as(_I32P), len(li), di.ctypes.data_as(_I32P), len(di), sensitivity,
        ratios.ctypes.data_as(_F32P), sims.ctypes.data_as(_U8P),
    )
    return ratios, sims


def curve(model: dict, feats: np.ndarray, learn_idx, detect_idx, checkpoints, blocks: int = 0) -> np.ndarray:
    """Similarities of detect rows after each checkpoint count of learned rows (checkpoints x detect)."""
    lib = search_library()
    m, feats, li, di = _model_call_args(model, feats, learn_idx, detect_idx, blocks)
    cps = np.ascontiguousarray(checkpoints, dtype=np.uint32)
    out = np.zeros((len(cps), len(di)), dtype=np.uint8)
    lib.neai_search_curve(
        *m.args(), feats.ctypes.data_as(_F32P),
        li.ctypes.data_as(_I32P), len(li), di.ctypes.data_as(_I32P), len(di),
        cps.ctypes.data_as(_U32P), len(cps), out.ctypes.data_as(_U8P),
    )
    return out


def guard_refuses(lo, hi, needs_variance: bool, buffers: np.ndarray, axes: int, buffer_size: int) -> np.ndarray:
    """Per buffer, whether the library's input guard makes learn() refuse it."""
    lib = search_library()
    lo32, hi32 = _f32(lo), _f32(hi)
    g = GuardCfg(axes, buffer_size, int(bool(needs_variance)), 0, lo32.ctypes.data_as(_F32P), hi32.ctypes.data_as(_F32P))
    x = _f32(buffers)
    return np.array([bool(lib.neai_search_guard(ctypes.byref(g), row.ctypes.data_as(_F32P))) for row in x])
