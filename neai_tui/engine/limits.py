"""RAM and flash limits that speak: what the search space can fit, what a
benchmark excluded, and whether a library fits the project and its target.

- `space_footprint(project)`: before a benchmark, the smallest RAM and flash a
  candidate of the project's search space needs, and how many candidates fit
  the project's limits. For anomaly detection (and Multi-sensor) the figures
  are the benchmark's own estimates, candidate by candidate; for the trained
  types, whose size depends on the fitted model, a floor per preprocessing
  (the preprocessing with the smallest model, no knowledge): a candidate under
  the floor may still turn out too big, one over it never fits.
- `limit_problems(project)`: a blocking finding when no candidate can fit
  (`neai check`, the benchmark's start).
- `over_limits(ram, flash, settings)`: which of the project's and the target's
  limits a library exceeds (deploy refuses it unless forced; changing the
  limits flags the chosen library).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import Problem, UsageError
from .project import PROJECT_FILE, Project, ProjectSettings
from .targets import resolve_target


def kb(value: float | None) -> str:
    """Bytes as KB (the unit of the limits): two decimals below 10 KB, one above."""
    if value is None:
        return "–"
    return f"{value / 1024:.2f} KB" if value < 10 * 1024 else f"{value / 1024:.1f} KB"


def limit_bytes(settings: ProjectSettings) -> tuple[float | None, float | None]:
    """(max RAM, max flash) in bytes, None where the project sets no limit."""
    ram = settings.max_ram_kb * 1024 if settings.max_ram_kb else None
    flash = settings.max_flash_kb * 1024 if settings.max_flash_kb else None
    return ram, flash


@dataclass
class Footprint:
    """The search space against the project's limits."""

    candidates: int  # in the space
    fit: int  # fit both limits (trained types: at most this many)
    too_big_ram: int  # over the RAM limit only
    too_big_flash: int  # over the flash limit only
    too_big_both: int
    min_ram: int  # the smallest RAM of any candidate (bytes)
    min_flash: int
    min_ram_flash: int  # the flash of that smallest-RAM candidate
    min_flash_ram: int  # the RAM of the smallest-flash candidate
    exact: bool  # False: the trained types' floor
    max_ram: float | None = None
    max_flash: float | None = None
    notes: list[str] = field(default_factory=list)

    def blocking(self) -> str | None:
        """Why no candidate can fit, naming the limit(s), or None."""
        if self.fit:
            return None
        parts = []
        if self.max_ram is not None and self.min_ram > self.max_ram:
            parts.append(f"max RAM {kb(self.max_ram)}: the smallest candidate needs {kb(self.min_ram)} RAM")
        if self.max_flash is not None and self.min_flash > self.max_flash:
            parts.append(f"max flash {kb(self.max_flash)}: the smallest candidate needs {kb(self.min_flash)} flash")
        if not parts:  # each limit alone can be met, not both at once
            parts.append(
                f"max RAM {kb(self.max_ram)} and max flash {kb(self.max_flash)} together: the smallest-RAM "
                f"candidate needs {kb(self.min_ram)} RAM and {kb(self.min_ram_flash)} flash, the smallest-flash "
                f"one {kb(self.min_flash_ram)} RAM and {kb(self.min_flash)} flash")
        return "; ".join(parts)

    def advice(self) -> str:
        """What would fit: the limits the smallest candidates need."""
        ram_needed = self.min_ram if self.max_flash is None or self.min_ram_flash <= self.max_flash else None
        out = []
        if self.max_ram is not None and self.min_ram > self.max_ram:
            out.append(f"--max-ram {_kb_up(self.min_ram)}")
        if self.max_flash is not None and self.min_flash > self.max_flash:
            out.append(f"--max-flash {_kb_up(self.min_flash)}")
        if not out and ram_needed is None:
            out.append(f"--max-flash {_kb_up(self.min_ram_flash)}")
        return " ".join(out)


def _kb_up(value: float) -> str:
    """Bytes as a KB limit that holds them (rounded up to 0.01 KB)."""
    hundredths = int(np.ceil(value / 10.24))
    return f"{hundredths / 100:g}"


def _memory_function(project: Project, task, data):
    """(pipeline -> (ram, flash), exact): the benchmark's estimate, or the trained types' floor."""
    kind = project.settings.type
    if kind == "anomaly" and project.settings.multisensor:
        from .tasks.multisensor import estimate_memory

        return (lambda p: estimate_memory(p, data.axes)), True
    if kind == "anomaly":
        from .filtering import memory as filter_memory
        from .pipeline import estimate_memory

        extra_ram, extra_flash = filter_memory(data.filter, data.axes, data.buffer_size)

        def anomaly_memory(p):
            ram, flash = estimate_memory(p, data.axes, data.buffer_size)
            return ram + extra_ram, flash + extra_flash

        return anomaly_memory, True
    return _trained_floor(data), False


def _trained_floor(data):
    """The least RAM and flash any fitted model can add to a preprocessing."""
    import ctypes

    from . import trained
    from .filtering import memory as filter_memory
    from .pipeline import nb_features, pre_code_bytes, pre_const_bytes, work_floats

    extra_ram, extra_flash = filter_memory(data.filter, data.axes, data.buffer_size)
    smallest_algo = min(v for k, v in trained.CODE_BYTES.items() if k not in ("api", "common"))

    def floor(p):
        pre = p["pre"]
        dim = nb_features(pre, data.axes, data.buffer_size)
        ram = 4 * (work_floats(pre, data.buffer_size) + dim + 1 + 1) + 8 + trained.STACK_BYTES
        flash = (trained.CODE_BYTES["api"] + pre_code_bytes(pre) + trained.CODE_BYTES["common"] + smallest_algo
                 + pre_const_bytes(pre, data.buffer_size) + ctypes.sizeof(trained.TModelCfg) + 64)
        return ram + extra_ram, flash + extra_flash

    return floor


def _model_groups(models: list[dict], pres: list[dict], memory, exact: bool) -> list[tuple[dict, int]]:
    """Models that weigh the same, once each with their count. Two models whose
    footprint is equal on three preprocessings of different sizes weigh the same
    on all (the footprint is a sum of per-component terms, linear in the
    feature count); the trained floor does not depend on the model at all."""
    if not exact:
        return [(models[0], len(models))]
    by_size = sorted(pres, key=lambda p: len(str(p)))
    probes = [by_size[0], by_size[len(by_size) // 2], by_size[-1]]
    groups: dict[tuple, list] = {}
    for model in models:
        signature = tuple(memory({"pre": pre, "model": model}) for pre in probes)
        entry = groups.setdefault(signature, [model, 0])
        entry[1] += 1
    return [(model, count) for model, count in groups.values()]


def space_footprint(project: Project, task=None, data=None) -> Footprint:
    """Every candidate of the project's search space against its limits (see the module)."""
    from .tasks import task_for

    task = task or task_for(project.settings.type, project.settings.multisensor)
    data = data if data is not None else task.load(project)
    pres = task.preprocessing_space(data)
    models = task.model_space(data)
    memory, exact = _memory_function(project, task, data)
    max_ram, max_flash = limit_bytes(project.settings)
    groups = _model_groups(models, pres, memory, exact)
    rams, flashes, counts = [], [], []
    for pre in pres:
        for model, count in groups:
            ram, flash = memory({"pre": pre, "model": model})
            rams.append(ram)
            flashes.append(flash)
            counts.append(count)
    ram_a, flash_a, count_a = np.array(rams, float), np.array(flashes, float), np.array(counts)
    over_ram = ram_a > max_ram if max_ram is not None else np.zeros(len(ram_a), bool)
    over_flash = flash_a > max_flash if max_flash is not None else np.zeros(len(ram_a), bool)
    i_ram = int(np.lexsort((flash_a, ram_a))[0])
    i_flash = int(np.lexsort((ram_a, flash_a))[0])
    return Footprint(
        candidates=int(count_a.sum()),
        fit=int(count_a[~over_ram & ~over_flash].sum()),
        too_big_ram=int(count_a[over_ram & ~over_flash].sum()),
        too_big_flash=int(count_a[over_flash & ~over_ram].sum()),
        too_big_both=int(count_a[over_ram & over_flash].sum()),
        min_ram=int(ram_a[i_ram]), min_flash=int(flash_a[i_flash]),
        min_ram_flash=int(flash_a[i_ram]), min_flash_ram=int(ram_a[i_flash]),
        exact=exact, max_ram=max_ram, max_flash=max_flash,
    )


def limit_problems(project: Project, footprint: Footprint | None = None) -> list[Problem]:
    """A blocking finding when no candidate of the space fits the RAM/flash limits
    (nothing when the project sets none)."""
    max_ram, max_flash = limit_bytes(project.settings)
    if max_ram is None and max_flash is None:
        return []
    footprint = footprint or space_footprint(project)
    reason = footprint.blocking()
    if reason is None:
        return []
    name = project.settings.name
    return [Problem(
        "error", "limits-unreachable", str(project.path / PROJECT_FILE), 0, 0,
        f"no candidate of the search space ({footprint.candidates} candidates) fits {reason}",
        f"Raise the limit: `neai set {name} {footprint.advice()}` (or Project settings, step 1)."
        + ("" if footprint.exact else " (The trained types' sizes are floors: the fitted model adds to them.)"),
    )]


def check_limits(project: Project) -> Footprint | None:
    """Before a benchmark: a UsageError naming the limit when no candidate can fit;
    the footprint otherwise (None when the project sets no limit)."""
    max_ram, max_flash = limit_bytes(project.settings)
    if max_ram is None and max_flash is None:
        return None
    footprint = space_footprint(project)
    problems = limit_problems(project, footprint)
    if problems:
        raise LimitError(problems[0].message, problems[0].hint)
    return footprint


class LimitError(UsageError):
    """A RAM/flash limit blocks the work (exit 2), with the figures."""


def over_limits(ram_bytes: float | None, flash_bytes: float | None, settings: ProjectSettings,
                target: str | None = None) -> list[str]:
    """Each limit a library's RAM/flash exceeds, as text with the figures: the
    project's max RAM/flash and the target's (a board's or MCU's) RAM/flash."""
    out = []
    max_ram, max_flash = limit_bytes(settings)
    if ram_bytes is not None and max_ram is not None and ram_bytes > max_ram:
        out.append(f"RAM {kb(ram_bytes)} > the project's max RAM {kb(max_ram)}")
    if flash_bytes is not None and max_flash is not None and flash_bytes > max_flash:
        out.append(f"flash {kb(flash_bytes)} > the project's max flash {kb(max_flash)}")
    try:
        t = resolve_target(target or settings.target)
    except UsageError:
        return out
    if t.kind != "core":
        if ram_bytes is not None and t.ram_kb and ram_bytes > t.ram_kb * 1024:
            out.append(f"RAM {kb(ram_bytes)} > {t.name}'s {t.ram_kb} KB RAM")
        if flash_bytes is not None and t.flash_kb and flash_bytes > t.flash_kb * 1024:
            out.append(f"flash {kb(flash_bytes)} > {t.name}'s {t.flash_kb} KB flash")
    return out


def libraries_over_limits(project: Project, libraries: list[dict] | None = None) -> list[tuple[dict, list[str]]]:
    """The chosen library (or, with none chosen, none) with the limits it now
    exceeds: [(library, reasons)]; empty when it fits."""
    from .search import list_libraries

    libraries = list_libraries(project) if libraries is None else libraries
    out = []
    for lib in libraries:
        if not lib.get("selected"):
            continue
        reasons = over_limits(lib.get("ram_bytes"), lib.get("flash_bytes"), project.settings)
        if reasons:
            out.append((lib, reasons))
    return out
