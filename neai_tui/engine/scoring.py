"""Scoring pieces shared by every project type."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

RAM_REFERENCE = 8 * 1024  # the resource term's scale when the project sets no limit
FLASH_REFERENCE = 16 * 1024


def resource_term(ram: int, flash: int, max_ram: float | None, max_flash: float | None,
                  instructions: float | None = None, reference_instructions: float | None = None) -> float:
    """1 for a library of no size (and no cost), 0 for one at (or past) the limits.

    With `instructions` (per inference, on the project's core) the term weighs RAM,
    flash and time equally, each against its limit or reference; without, RAM and
    flash only (as before the cost model)."""
    ram_ref = max_ram if max_ram else RAM_REFERENCE
    flash_ref = max_flash if max_flash else FLASH_REFERENCE
    if instructions is None or not reference_instructions:
        return 1.0 - 0.5 * min(1.0, ram / ram_ref) - 0.5 * min(1.0, flash / flash_ref)
    return 1.0 - (min(1.0, ram / ram_ref) + min(1.0, flash / flash_ref)
                  + min(1.0, instructions / reference_instructions)) / 3.0


@dataclass(frozen=True)
class Limits:
    """What every candidate is judged against: the project's RAM, flash and time
    limits (None: none) and the core it runs on (engine/cost.py estimates its
    instructions per inference there). Picklable: sent to the search's workers."""

    max_ram: float | None = None  # bytes
    max_flash: float | None = None  # bytes
    core: str = "cortex-m4f"
    clock_mhz: float = 80.0
    max_time_ms: float | None = None  # per inference, at clock_mhz

    @classmethod
    def of(cls, settings) -> "Limits":
        """The limits of a project's settings (project.ProjectSettings)."""
        from .targets import clock_mhz, resolve_target

        target = resolve_target(settings.target)
        return cls(
            max_ram=settings.max_ram_kb * 1024 if settings.max_ram_kb else None,
            max_flash=settings.max_flash_kb * 1024 if settings.max_flash_kb else None,
            core=target.core,
            clock_mhz=clock_mhz(target),
            max_time_ms=getattr(settings, "max_time_ms", None),
        )

    @property
    def max_instructions(self) -> int | None:
        """The time limit as instructions per inference on the core, or None."""
        from .cost import instructions_in

        return instructions_in(self.max_time_ms, self.core, self.clock_mhz) if self.max_time_ms else None

    @property
    def reference_instructions(self) -> int:
        """What the time term is measured against: the limit, else cost.REFERENCE_TIME_MS."""
        from .cost import REFERENCE_TIME_MS, instructions_in

        return self.max_instructions or instructions_in(REFERENCE_TIME_MS, self.core, self.clock_mhz)

    def instructions(self, terms) -> int:
        """Estimated instructions of cost terms (engine/cost.py) on the core."""
        from .cost import instructions

        return instructions(terms, self.core)

    def over(self, ram: int, flash: int, instructions: int | None = None) -> dict | None:
        """The "too-big" result of a candidate past a limit ("limit": which one), or None."""
        for limit, value, bound in (("ram", ram, self.max_ram), ("flash", flash, self.max_flash),
                                    ("time", instructions, self.max_instructions)):
            if bound and value is not None and value > bound:
                out = {"status": "too-big", "limit": limit, "ram_bytes": ram, "flash_bytes": flash}
                if instructions is not None:
                    out["instructions"] = int(instructions)
                return out
        return None

    def resource(self, ram: int, flash: int, instructions: int | None = None) -> float:
        """The score's resource term (resource_term) of a candidate under these limits."""
        return resource_term(ram, flash, self.max_ram, self.max_flash, instructions,
                             self.reference_instructions if instructions is not None else None)


def ci95(values: np.ndarray) -> list[float]:
    """Normal-approximation 95 % interval of the mean over splits, clipped to 0..1."""
    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        v = float(values[0]) if len(values) else 0.0
        return [round(v, 4), round(v, 4)]
    m = float(values.mean())
    h = 1.96 * float(values.std(ddof=1)) / math.sqrt(len(values))
    return [round(max(0.0, m - h), 4), round(min(1.0, m + h), 4)]
