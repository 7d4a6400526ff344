"""Scoring pieces shared by every project type."""
from __future__ import annotations

import math

import numpy as np

RAM_REFERENCE = 8 * 1024  # the resource term's scale when the project sets no limit
FLASH_REFERENCE = 16 * 1024


def resource_term(ram: int, flash: int, max_ram: float | None, max_flash: float | None) -> float:
    """1 for a library of no size, 0 for one at (or past) the limits."""
    ram_ref = max_ram if max_ram else RAM_REFERENCE
    flash_ref = max_flash if max_flash else FLASH_REFERENCE
    return 1.0 - 0.5 * min(1.0, ram / ram_ref) - 0.5 * min(1.0, flash / flash_ref)


def ci95(values: np.ndarray) -> list[float]:
    """Normal-approximation 95 % interval of the mean over splits, clipped to 0..1."""
    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        v = float(values[0]) if len(values) else 0.0
        return [round(v, 4), round(v, 4)]
    m = float(values.mean())
    h = 1.96 * float(values.std(ddof=1)) / math.sqrt(len(values))
    return [round(max(0.0, m - h), 4), round(min(1.0, m + h), 4)]
