"""Messages that carry the results of background work to the screens.

Workers never touch widgets: they post one of these and the screen that owns the
worker updates itself in its handler, on the UI thread.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textual.message import Message


@dataclass
class BenchmarkProgressed(Message):
    """A progress report from `engine.search.run_benchmark` (a `BenchProgress`)."""

    progress: Any

    def can_replace(self, message: Message) -> bool:
        # Textual asks the queued message whether the next one may supersede it.
        # A fast search may report hundreds of times a second: keep only the latest,
        # except a report of a new best library, which the history plot needs.
        return isinstance(message, BenchmarkProgressed) and not getattr(self.progress, "new_best", False)


@dataclass
class BenchmarkFinished(Message):
    """`run_benchmark` returned (normally, or after a stop request it honoured)."""

    result: Any


@dataclass
class LibrariesLoaded(Message):
    """The candidate libraries of the project's benchmarks (`list_libraries`)."""

    libraries: list[dict] = field(default_factory=list)


@dataclass
class ChecksDone(Message):
    """The findings of `project.check()`."""

    problems: list[Any] = field(default_factory=list)
    optional: bool = False


@dataclass
class SignalImported(Message):
    """`project.import_signal` succeeded."""

    entry: Any


@dataclass
class DeployProgressed(Message):
    """A step of `engine.deploy.deploy` (compiling, verifying, writing)."""

    text: str

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, DeployProgressed)


@dataclass
class LibraryDeployed(Message):
    """`engine.deploy.deploy` wrote a library zip; `metadata` holds its measured figures."""

    path: Path
    metadata: dict = field(default_factory=dict)
