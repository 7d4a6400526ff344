"""Step 5: validation — compare selected libraries on new files: the zips built
for the project and the benchmarks' candidates, which are built first (into
deploy/, as step 6 would) when chosen without a zip."""
from __future__ import annotations

import threading
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Input, Static
from textual.worker import Worker, WorkerState

from ..engine.errors import Cancelled
from ..engine.project import Project
from ..messages import LibraryZipsLoaded, ValidationDone, ValidationProgressed
from ..widgets.table import Table
from ..widgets.format import format_number
from ..widgets.forms import TickList, field_row
from ..widgets.suggest import PathSuggester
from .base import StepPane
from .emulator import shown_path, typed_path

TEST_ROWS = 3
CANDIDATE = "lib:"  # list values: a zip's path, or CANDIDATE + the id of a candidate without a zip
# Per library type: the figures of each test file (column title, report key).
COLUMNS = {
    "anomaly": (("Mean", "mean"), ("≥90 %", "at_least_90")),
    "one-class": (("Outliers %", "outliers"),),
    "n-class": (("Classes", "classes"),),
    "extrapolation": (("Mean", "mean"), ("Min", "min"), ("Max", "max")),
}
EXPECTED_HINT = {
    "anomaly": "nominal / abnormal",
    "one-class": "inlier / outlier",
    "n-class": "class name",
    "extrapolation": "(no label)",
}


def test_defaults(project: Project) -> list[tuple[str, str]]:
    """(file, expected answer) to start the test rows with: the project's own files,
    so that a first run works; new recordings are what really validates a library."""
    kind = project.settings.type
    if kind == "anomaly":
        picks = [next((e for e in project.signals if e.role == role), None) for role in ("nominal", "abnormal")]
        rows = [(e, e.role) for e in picks if e is not None]
    elif kind == "n-class":
        rows = [(e, e.class_name or "") for e in project.signals]
    else:
        rows = [(e, "inlier" if kind == "one-class" else "") for e in project.signals]
    return [(shown_path(project, project.signal_path(e)), expected) for e, expected in rows[:TEST_ROWS]]


def figure_text(value) -> str:
    """A cell of the results: a number, or n-class's class counts ("normal 30, tapping 2")."""
    if isinstance(value, dict):
        return ", ".join(f"{name} {count}" for name, count in value.items())
    return format_number(value)


class ValidationPane(StepPane):
    STEP = "validation"
    TITLE = "Validation"
    HELP = (
        "Compare libraries on files they have not seen: the zips built for the project and the benchmarks' "
        "candidates (their 10 best and Pareto set; one without a zip is built into deploy/ first, as the "
        "Deployment step would, and s stops between builds). Space toggles a library in the list (a selects "
        "all). Anomaly detection: each library is initialised, learns the learn file (a line range such as "
        "1-100 is allowed), then detects each test file. Give each test file its expected answer (nominal or "
        "abnormal; inlier or outlier; a class name) to get the share answered right and the balanced "
        "accuracy. r runs the comparison."
    )
    KEYS = [
        Binding("r", "run", "Run comparison"),
        Binding("a", "select_all", "All libraries"),
        Binding("s", "stop", "Stop"),
    ]

    def __init__(self, project: Project, **kwargs) -> None:
        super().__init__(project, **kwargs)
        self.zips: list[dict] = []
        self.candidates: list[dict] = []  # the benchmarks' libraries (list_libraries)
        self.zips_loaded = False
        self.compared = False  # a comparison ended: its summary stays in the status line
        self.running = False
        self.cancel: threading.Event | None = None

    def compose(self) -> ComposeResult:
        kind = self.project.settings.type
        learn = next((s for s in self.project.signals if s.role == "nominal"), None)
        yield self.title_label()
        yield TickList(id="val-libs", compact=True)
        yield field_row("Learn file", Input(shown_path(self.project, self.project.signal_path(learn)) if learn else "",
                                            id="val-learn", suggester=PathSuggester(), compact=True),
                        Input(id="val-learn-range", placeholder="all lines", compact=True, classes="range"),
                        id="val-learn-row")
        defaults = test_defaults(self.project)
        for i in range(TEST_ROWS):
            path, expected = defaults[i] if i < len(defaults) else ("", "")
            yield field_row(f"Test file {i + 1}",
                            Input(path, id=f"val-test-{i}", placeholder="new signals (→ completes)",
                                  suggester=PathSuggester(), compact=True),
                            Input(expected, id=f"val-expected-{i}", placeholder=EXPECTED_HINT.get(kind, ""),
                                  compact=True, classes="expected"))
        yield Static(id="val-status", classes="pane-note")
        yield Table(id="val-results", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one("#val-learn-row").display = self.project.settings.type == "anomaly"
        note = ("The test files start as the project's own (signals/…): replace them with new recordings. "
                if test_defaults(self.project) else "")
        self.set_status("val-status", note + "Choose libraries (space), test files and their expected answers; r (or "
                                             "enter in a field) runs.")
        self.load_zips()

    def on_step_shown(self) -> None:
        self.load_zips()

    @work(thread=True, exclusive=True, exit_on_error=False, group="val-zips", description="listing library zips")
    def load_zips(self) -> None:
        from ..engine.emulator_session import list_library_zips

        self.post_message(LibraryZipsLoaded(list_library_zips(self.project)))

    def on_library_zips_loaded(self, message: LibraryZipsLoaded) -> None:
        self.zips = message.zips
        self.zips_loaded = True
        self.fill_libraries()

    def show_libraries(self, libraries: list[dict]) -> None:
        self.candidates = libraries
        self.fill_libraries()

    @property
    def unbuilt(self) -> list[dict]:
        """The candidates without a zip in deploy/ (those with one are listed as their zip)."""
        built = {z["library_id"] for z in self.zips}
        return [lib for lib in self.candidates if lib["id"] not in built]

    def fill_libraries(self) -> None:
        """The zips, newest first, then the candidates still to build; the choice is kept,
        a chosen candidate that got a zip stays chosen as that zip."""
        libs = self.query_one("#val-libs", TickList)
        chosen = set(libs.selected)
        highlighted = libs.highlighted
        libs.clear_options()
        for z in self.zips:
            path = str(z["path"])
            ticked = path in chosen or f"{CANDIDATE}{z['library_id']}" in chosen
            libs.add_option((f"{z['library_id']}  {z['target']}  ({Path(path).name})", path, ticked))
        for lib in self.unbuilt:
            value = f"{CANDIDATE}{lib['id']}"
            stale = " ! other data" if lib.get("other_data") else ""  # benchmarked before the data changed
            libs.add_option((f"{lib['id']}{stale}  score {format_number(lib.get('score'))}  built when run · "
                             f"{lib.get('pipeline', '')}", value, value in chosen))
        if libs.option_count and not libs.selected and self.zips_loaded:
            libs.select(libs.get_option_at_index(0).value)  # the newest zip, else the best candidate
        if libs.option_count:
            libs.highlighted = min(highlighted or 0, libs.option_count - 1)
        if self.zips_loaded and not self.zips and not self.running and not self.compared:
            self.set_status("val-status", "No library zip yet: the candidates chosen are built into deploy/ when r runs"
                            if self.candidates else "No library yet: run a benchmark (3) first.", "yellow")
        self.refresh_keys()

    def check_key(self, action: str) -> bool | None:
        has_libraries = bool(self.zips or self.candidates)
        if action == "run":
            return None if self.running or not has_libraries else True
        if action == "select_all":
            return True if has_libraries else None
        if action == "stop":
            return True if self.running else None  # greyed out, as every step key when idle
        return True

    def action_select_all(self) -> None:
        self.query_one("#val-libs", TickList).select_all()

    def action_stop(self) -> None:
        if self.cancel is not None and not self.cancel.is_set():
            self.cancel.set()
            self.set_status("val-status", "Stopping after the current step…", "bold")

    def action_run(self) -> None:
        from ..engine.validation import ValidationFile

        chosen = [str(v) for v in self.query_one("#val-libs", TickList).selected]
        zips = [v for v in chosen if not v.startswith(CANDIDATE)]
        candidates = [v[len(CANDIDATE):] for v in chosen if v.startswith(CANDIDATE)]
        if not chosen:
            self.notify("Choose at least one library (space in the list).", severity="warning")
            return
        tests = []
        for i in range(TEST_ROWS):
            path = self.query_one(f"#val-test-{i}", Input).value.strip()
            if path:
                expected = self.query_one(f"#val-expected-{i}", Input).value.strip() or None
                tests.append(ValidationFile(typed_path(self.project, path), expected))
        if not tests:
            self.notify("Give at least one test file.", severity="warning")
            return
        learn = []
        if self.project.settings.type == "anomaly":
            learn_path = self.query_one("#val-learn", Input).value.strip()
            if learn_path:
                learn.append(ValidationFile(typed_path(self.project, learn_path),
                                      line_range=self.query_one("#val-learn-range", Input).value))
        self.running = True
        self.cancel = threading.Event()
        self.refresh_keys()
        n = len(chosen)
        building = f", building {len(candidates)} first (s stops)" if candidates else ""
        self.set_status("val-status", f"Running {n} librar{'y' if n == 1 else 'ies'}{building}…", "bold")
        self.validate(zips, candidates, learn, tests, self.cancel)

    @work(thread=True, exclusive=True, exit_on_error=False, group="validation", description="validation")
    def validate(self, zips: list[str], candidates: list[str], learn, tests, cancel: threading.Event) -> None:
        from ..engine.validation import validate_project_libraries

        reports = validate_project_libraries(
            self.project, zips=[Path(z) for z in zips], candidates=candidates, learn=learn, tests=tests,
            progress=lambda text: self.post_message(ValidationProgressed(str(text))), cancel=cancel)
        self.post_message(ValidationDone(reports))

    def on_validation_progressed(self, message: ValidationProgressed) -> None:
        if self.running:
            self.set_status("val-status", f"{message.text[:1].upper()}{message.text[1:]}…", "bold")

    @on(Input.Submitted)
    def _field_submitted(self) -> None:
        if self.check_key("run"):
            self.action_run()

    def on_validation_done(self, message: ValidationDone) -> None:
        table = self.query_one("#val-results", DataTable)
        table.clear(columns=True)  # columns depend on the libraries' type; widths start afresh
        kinds = {report.type for report in message.reports if not report.error}
        figures = COLUMNS.get(next(iter(kinds)), ()) if len(kinds) == 1 else ()
        table.add_columns("Library", "File", "Expected", "Lines", "Right %", *(title for title, _ in figures))
        summary = Text()
        for report in message.reports:
            if summary:
                summary.append("   ")
            summary.append(report.library_id, style="bold")
            if report.error:
                summary.append(f" failed: {report.error.splitlines()[0]}", style="red")
                continue
            for f in report.files:
                table.add_row(
                    report.library_id, Path(f["file"]).name, f.get("expected") or "–", str(f["lines"]),
                    format_number(f.get("correct")), *(figure_text(f.get(key)) for _, key in figures),
                )
            ba = report.balanced_accuracy
            summary.append(f" BA {format_number(ba)}" if ba is not None else " (no expected answers)")
            if report.type == "anomaly":
                summary.append(f", learned {report.learned}")
            if report.built:
                summary.append(f", built {Path(report.zip_path).name}", style="green")
        self.query_one("#val-status", Static).update(summary or Text("Done."))

    def worker_ended(self, worker: Worker, state: WorkerState) -> None:
        if worker.group == "validation":
            self.running = False
            self.compared = True
            self.cancel = None
            self.refresh_keys()
            if isinstance(worker.error, Cancelled):
                self.set_status("val-status", "Stopped; the libraries built so far are in the list. r runs again.",
                                "yellow")
            elif state != WorkerState.SUCCESS:
                self.set_status("val-status", "The comparison failed; see the message.", "red")
            screen = self.screen
            if hasattr(screen, "zips_changed"):
                screen.zips_changed()  # built candidates are zips now, here and in the Emulator
