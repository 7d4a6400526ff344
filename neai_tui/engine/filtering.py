"""The project's frequency filter: designed here, run by the C runtime.

A project's filter settings ({"sampling_rate_hz", "low_hz", "high_hz"}, set in
the Signals step or with `neai filter`) become a 2nd-order Butterworth
high-pass at the low cut-off and/or low-pass at the high cut-off (12 dB per
octave each; both: a band-pass), designed by scipy as biquad sections. The C
runtime (c_lib/neai_dsp.c: neai_filter_apply) runs them on each axis of every
buffer before the preprocessing, starting from the steady state of the buffer's
first sample, in the benchmark (the search build filters every line once) and
in the deployed library (a filtered copy of the caller's buffer: the RAM of one
input buffer more). A sampling rate alone filters nothing: it only labels the
spectrum view in Hz.
"""
from __future__ import annotations

import ctypes
from dataclasses import dataclass

import numpy as np

ORDER = 2
COEFFS_PER_SECTION = 5  # b0 b1 b2 a1 a2
ZI_PER_SECTION = 2


@dataclass(frozen=True)
class FilterDesign:
    settings: dict
    coeffs: np.ndarray  # float32, sections x 5
    zi: np.ndarray  # float32, sections x 2

    @property
    def sections(self) -> int:
        return len(self.coeffs)

    def describe(self) -> str:
        low, high = self.settings.get("low_hz"), self.settings.get("high_hz")
        if low and high:
            return f"band-pass {low:g}-{high:g} Hz"
        return f"high-pass {low:g} Hz" if low else f"low-pass {high:g} Hz"


def active(settings: dict | None) -> dict | None:
    """The settings if they filter something (a cut-off is set), else None."""
    if not settings or (not settings.get("low_hz") and not settings.get("high_hz")):
        return None
    return {k: settings.get(k) for k in ("sampling_rate_hz", "low_hz", "high_hz")}


def design(settings: dict | None) -> FilterDesign | None:
    """The biquad sections of the settings' filter, or None when they filter nothing."""
    settings = active(settings)
    if settings is None:
        return None
    from scipy.signal import butter, sosfilt_zi

    rate = float(settings["sampling_rate_hz"])
    parts = []
    if settings.get("low_hz"):
        parts.append(butter(ORDER, float(settings["low_hz"]), btype="highpass", fs=rate, output="sos"))
    if settings.get("high_hz") and float(settings["high_hz"]) < rate / 2:
        parts.append(butter(ORDER, float(settings["high_hz"]), btype="lowpass", fs=rate, output="sos"))
    if not parts:  # a low-pass at Nyquist passes everything
        return None
    sos = np.vstack(parts)
    coeffs = np.stack([sos[:, 0], sos[:, 1], sos[:, 2], sos[:, 4], sos[:, 5]], axis=1) / sos[:, 3:4]
    zi = sosfilt_zi(sos)
    return FilterDesign(settings, coeffs.astype(np.float32), zi.astype(np.float32))


class FilterCfg(ctypes.Structure):
    """Mirror of neai_filter_cfg (c_lib/neai_types.h)."""

    _fields_ = [
        ("nb_axes", ctypes.c_uint16),
        ("buffer_size", ctypes.c_uint16),
        ("sections", ctypes.c_uint16),
        ("coeffs", ctypes.POINTER(ctypes.c_float)),
        ("zi", ctypes.POINTER(ctypes.c_float)),
    ]


def filter_lines(design_: FilterDesign | None, lines: np.ndarray, axes: int, buffer_size: int) -> np.ndarray:
    """The lines (rows of axes x buffer_size interleaved values) through the
    filter, computed by the C runtime; the lines themselves when there is none."""
    if design_ is None:
        return lines
    from .csearch import search_library

    coeffs = np.ascontiguousarray(design_.coeffs, dtype=np.float32)
    zi = np.ascontiguousarray(design_.zi, dtype=np.float32)
    cfg = FilterCfg(axes, buffer_size, design_.sections,
                    coeffs.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                    zi.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))
    src = np.ascontiguousarray(lines, dtype=np.float32)
    out = np.empty_like(src)
    f32p = ctypes.POINTER(ctypes.c_float)
    search_library().neai_search_filter(ctypes.byref(cfg), src.ctypes.data_as(f32p), len(src),
                                        out.ctypes.data_as(f32p))
    return out


def memory(design_: FilterDesign | None, axes: int, buffer_size: int) -> tuple[int, int]:
    """(RAM, flash) bytes the filter adds to a library: the filtered copy of the
    input buffer; the coefficients, their start states and the code."""
    if design_ is None:
        return 0, 0
    return 4 * axes * buffer_size, FILTER_CODE_BYTES + FILTER_SECTION_BYTES * design_.sections


# Flash of the filter on Cortex-M4F (-Os), fan library (3 x 256, FFT 8 bands,
# 8 prototypes), measured against the same library without it: 1 section +172 B,
# 2 sections +282 B (code, coefficients and start states).
FILTER_CODE_BYTES = 150
FILTER_SECTION_BYTES = 64
