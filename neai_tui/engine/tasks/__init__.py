"""Project types as benchmark tasks.

The benchmark engine (search.py) is generic: generations, exact pruning,
parallel workers, persistence. A task says, for one project type, what the data
are, which preprocessings and models make the search space, and how a candidate
is judged. A task's `load` result must pickle (it is sent to worker processes).
"""
from __future__ import annotations

import numpy as np


class Task:
    name = ""
    # How the search (strategy.py) spends a generation on this task:
    screen_slice = 64  # screen candidates per generation (small when models take seconds)
    # TPE proposals: tpe_size of them every tpe_every-th search generation. One
    # costs ~12 ms of Optuna (with the asks that land on evaluated pipelines),
    # an anomaly-detection evaluation 1-5 ms: here they are a few per generation.
    tpe_every = 8
    tpe_size = 8

    def load(self, project):  # -> data
        raise NotImplementedError

    def preprocessing_space(self, data) -> list[dict]:
        raise NotImplementedError

    def model_space(self, data) -> list[dict]:
        raise NotImplementedError

    def screening_models(self, data) -> list[dict]:
        """Models paired with every preprocessing in the first generation."""
        raise NotImplementedError

    def probe_models(self, data) -> list[dict]:
        """The screening models every preprocessing is screened with first (the
        others only on the best ones)."""
        return self.screening_models(data)[:1]

    def neighbour(self, model: dict, rng: np.random.Generator) -> dict:
        raise NotImplementedError

    def evaluator(self, data, seed: int, max_ram=None, max_flash=None, *, limits=None):
        """An object with evaluate(pipeline, prune_below) -> dict (status, score, metrics, ram_bytes,
        flash_bytes, instructions). `limits` (scoring.Limits: RAM, flash, time, core) is what
        candidates are judged against; max_ram/max_flash alone mean Limits(max_ram, max_flash)."""
        raise NotImplementedError

    def finalise(self, evaluator, record: dict) -> dict:
        """Extra fields stored with a new best library."""
        return {}

    def summary(self, data) -> dict:
        return {}

    def frequency_filter(self, data) -> dict | None:
        """The frequency filter settings the data went through (None: none): kept
        with every library, which filters its input the same way."""
        design = getattr(data, "filter", None)
        return design.settings if design is not None else None

    def describe(self, pipeline: dict) -> str:
        """One line a user can read (shown in `neai libs` and the TUI)."""
        from ..pipeline import describe

        return describe(pipeline)


def task_for(project_type: str, multisensor: bool = False) -> Task:
    from ..errors import UsageError

    if project_type == "anomaly" and not multisensor:
        from .anomaly import AnomalyTask

        return AnomalyTask()
    if project_type == "anomaly" and multisensor:
        from .multisensor import MultiSensorTask

        return MultiSensorTask()
    if project_type == "n-class":
        from .nclass import NClassTask

        return NClassTask()
    if project_type == "one-class":
        from .oneclass import OneClassTask

        return OneClassTask()
    if project_type == "extrapolation":
        from .extrapolation import ExtrapolationTask

        return ExtrapolationTask()
    raise UsageError(
        f"benchmarks for {'Multi-sensor ' if multisensor else ''}{project_type} projects are not available yet",
        "Every project type with n-axis sensor buffers (--axes N) can be benchmarked today.",
    )
