"""Messages that carry the results of background work to the screens.

Workers never touch widgets: they post one of these and the widget that owns the
worker updates itself in its handler, on the UI thread. Progress messages
replace each other in the queue (`can_replace`), so a fast producer cannot flood
the UI.
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
class BenchmarkHistoryLoaded(Message):
    """The stored history and best of the latest benchmark (shown when idle)."""

    benchmark: dict | None
    points: list[tuple[float, float]] = field(default_factory=list)
    best: dict | None = None


@dataclass
class LibraryResultsComputed(Message):
    """`engine.bench_results.library_results` for the results plot (or why not)."""

    results: dict | None
    error: str = ""


@dataclass
class LibrariesLoaded(Message):
    """The candidate libraries of the project's benchmarks (`list_libraries`)."""

    libraries: list[dict] = field(default_factory=list)


@dataclass
class LibraryZipsLoaded(Message):
    """The library zips built for the project (`emulator_session.list_library_zips`)."""

    zips: list[dict] = field(default_factory=list)


@dataclass
class ChecksDone(Message):
    """The findings of `project.check()`."""

    problems: list[Any] = field(default_factory=list)
    optional: bool = False


@dataclass
class SignalImported(Message):
    """`project.import_signal` succeeded (from a file or a serial capture)."""

    entry: Any
    note: str = ""


@dataclass
class ImportNeedsReshape(Message):
    """An import failed on a file the data manipulation tool can turn into signals
    (one sample per line, a header, timestamps): offer the tool with the file."""

    path: str
    error: Any


@dataclass
class SignalRemoved(Message):
    signal_id: str


@dataclass
class PreviewReady(Message):
    """`engine.preview` data of one signal file."""

    signal_id: str
    kind: str  # "preview" or "spectrum"
    data: Any = None
    error: str = ""


@dataclass
class CaptureProgressed(Message):
    """Live line count of a serial capture."""

    progress: Any

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, CaptureProgressed)


@dataclass
class CaptureFinished(Message):
    result: Any
    entry: Any


@dataclass
class SettingsSaved(Message):
    settings: Any


@dataclass
class EmulatorOpened(Message):
    """An `EmulatorSession` is ready on a library zip."""

    session: Any


@dataclass
class EmulatorLearned(Message):
    report: dict


@dataclass
class EmulatorDetected(Message):
    report: Any  # a DetectReport


@dataclass
class ValidationDone(Message):
    reports: list[Any] = field(default_factory=list)


@dataclass
class ValidationProgressed(Message):
    """A step of `engine.validation.validate_project_libraries` (building a candidate, running a zip)."""

    text: str

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ValidationProgressed)


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
    hello_world: str = ""


@dataclass
class WorkspaceChanged(Message):
    """Projects were added, removed or renamed (duplicate, delete, import)."""

    select: Path | None = None
    note: str = ""


@dataclass
class ProjectsListed(Message):
    """`Workspace.list_projects` of the home screen."""

    summaries: list[Any] = field(default_factory=list)
    select: Path | None = None
    error: str = ""


# -- the Tools screen (engine/tools/) -----------------------------------------------------------
@dataclass
class RecordingInspected(Message):
    """`recordings.inspect_recording` of the first input a tool form names (or why not)."""

    tool: str
    info: Any = None
    error: str = ""


@dataclass
class ReshapeDone(Message):
    """`reshape.reshape` wrote a signal file; `first_line` holds its first line's values."""

    result: Any
    first_line: list[float] = field(default_factory=list)


@dataclass
class SamplingProgressed(Message):
    done: int
    total: int
    text: str

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SamplingProgressed)


@dataclass
class SamplingDone(Message):
    """`sampling.find_sampling`'s report."""

    report: Any


@dataclass
class DataloggerGenerated(Message):
    """`datalogger.generate_datalogger` wrote the source; `source` is its text."""

    result: Any
    source: str = ""


@dataclass
class DataActionDone(Message):
    """`data_ops.run_action` finished: a `DataResult` (a file written) or a `Preview`."""

    result: Any
    first_line: list[float] = field(default_factory=list)


@dataclass
class DataFileInspected(Message):
    """`data_ops.preview` of the first file a Signal files form names (or why not)."""

    path: str
    preview: Any = None
    error: str = ""


@dataclass
class DataResultImported(Message):
    """A Signal files result was imported into a project (`SignalEntry`)."""

    project: str
    entry: Any
    screen: Any = None  # the project's screen when it is open in the app
