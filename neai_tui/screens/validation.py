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
from ..messages import ExperimentDone, LibraryZipsLoaded, ValidationProgressed
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
    "one-class": "normal / outlier",
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
        rows = [(e, "normal" if kind == "one-class" else "") for e in project.signals]
    return [(shown_path(project, project.signal_path(e)), expected) for e, expected in rows[:TEST_ROWS]]


def figure_text(value) -> str:
    """A cell of the results: a number, or n-class's class counts ("normal 30, tapping 2")."""
    if isinstance(value, dict):
        return ", ".join(f"{name} {count}" for name, count in value.items())
    return format_number(value)


def fill_results(table: DataTable, experiment: dict) -> None:
    """One row per (library, test file) of an experiment; the type's figures as columns."""
    table.clear(columns=True)  # columns depend on the libraries' type; widths start afresh
    kinds = {lib["type"] for lib in experiment["libraries"] if not lib.get("error")}
    figures = COLUMNS.get(next(iter(kinds)), ()) if len(kinds) == 1 else ()
    table.add_columns("Library", "File", "Expected", "Lines", "Right %", *(title for title, _ in figures))
    for result in experiment["results"]:
        for f in result["files"]:
            table.add_row(
                result["library"], Path(f["file"]).name, f.get("expected") or "–", str(f["lines"]),
                format_number(f.get("correct")), *(figure_text(f.get(key)) for _, key in figures),
            )


def experiment_summary(experiment: dict) -> Text:
    """'e3: b1-c4 BA 0.97, learned 200   b1-c9 …' (the headline figure of each library)."""
    summary = Text()
    summary.append(f"{experiment['id']}: ", style="bold green")
    headline = "r2" if experiment["type"] == "extrapolation" else "balanced_accuracy"
    for n, (lib, result) in enumerate(zip(experiment["libraries"], experiment["results"])):
        if n:
            summary.append("   ")
        summary.append(result["library"], style="bold")
        if result.get("error"):
            summary.append(f" failed: {result['error'].splitlines()[0]}", style="red")
            continue
        value = (result.get("metrics") or {}).get(headline)
        label = "R²" if headline == "r2" else "BA"
        summary.append(f" {label} {format_number(value)}" if value is not None else " (no expected answers)")
        if experiment["type"] == "anomaly":
            summary.append(f", learned {result.get('learned', 0)}")
        if lib.get("built") and lib.get("zip"):
            summary.append(f", built {Path(lib['zip']).name}", style="green")
    return summary


class ValidationPane(StepPane):
    STEP = "validation"
    TITLE = "Validation"
    HELP = (
        "Compare libraries on files they have not seen: the zips built for the project and the benchmarks' "
        "candidates (their 10 best and Pareto set; one without a zip is built into deploy/ first, as the "
        "Deployment step would, and s stops between builds). Space toggles a library in the list (a selects "
        "all). Anomaly detection: each library is initialised, learns the learn file (a line range such as "
        "1-100 is allowed), then detects each test file. Give each test file its expected answer (nominal or "
        "abnormal; normal or outlier; a class name) to get the share answered right and the balanced "
        "accuracy; extrapolation files carry the true value first on each line. Live port: test lines read "
        "from a serial port (the board prints one buffer per line) before the libraries run. r runs the "
        "comparison; each run is kept as an experiment (id, date, files with their content hashes, "
        "libraries, results): h lists them (filter, compare two side by side), e opens the report of the "
        "last one."
    )
    KEYS = [
        Binding("r", "run", "Run comparison"),
        Binding("a", "select_all", "All libraries"),
        Binding("s", "stop", "Stop"),
        Binding("h", "experiments", "Experiments"),
        Binding("e", "report", "Report"),
    ]

    def __init__(self, project: Project, **kwargs) -> None:
        super().__init__(project, **kwargs)
        self.zips: list[dict] = []
        self.candidates: list[dict] = []  # the benchmarks' libraries (list_libraries)
        self.zips_loaded = False
        self.compared = False  # a comparison ended: its summary stays in the status line
        self.running = False
        self.cancel: threading.Event | None = None
        self.experiment: dict | None = None  # the last experiment run here

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
        yield field_row("Live port", Input(id="val-port", placeholder="serial port, e.g. /dev/ttyACM0",
                                           compact=True),
                        Input("100", id="val-port-lines", placeholder="lines", compact=True, classes="range",
                              type="integer"),
                        Input(id="val-port-expected", placeholder=EXPECTED_HINT.get(kind, ""), compact=True,
                              classes="expected"))
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
        if action == "report":
            return True if (self.experiment or self.candidates) and not self.running else None
        return True

    def action_select_all(self) -> None:
        self.query_one("#val-libs", TickList).select_all()

    def action_stop(self) -> None:
        if self.cancel is not None and not self.cancel.is_set():
            self.cancel.set()
            self.set_status("val-status", "Stopping after the current step…", "bold")

    def action_experiments(self) -> None:
        from .experiments import ExperimentsScreen

        self.app.push_screen(ExperimentsScreen(self.project))

    def action_report(self) -> None:
        from .report import ReportScreen

        if self.experiment is not None:
            lib = next((r["library"] for r in self.experiment["results"] if not r.get("error")), None)
            self.app.push_screen(ReportScreen(self.project, lib, self.experiment["id"]))
        else:
            self.app.push_screen(ReportScreen(self.project))

    def action_run(self) -> None:
        from ..engine.experiments import PortTest
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
        ports = []
        port = self.query_one("#val-port", Input).value.strip()
        if port:
            lines_text = self.query_one("#val-port-lines", Input).value.strip() or "100"
            if not lines_text.isdigit() or int(lines_text) < 1:
                self.notify("The live port's line count must be 1 or more.", severity="warning")
                return
            ports.append(PortTest(port, self.query_one("#val-port-expected", Input).value.strip() or None,
                                  int(lines_text)))
        if not tests and not ports:
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
        self.validate([*zips, *candidates], learn, tests, ports, self.cancel)

    @work(thread=True, exclusive=True, exit_on_error=False, group="validation", description="validation")
    def validate(self, libraries: list[str], learn, tests, ports, cancel: threading.Event) -> None:
        from ..engine.experiments import run_experiment

        doc = run_experiment(self.project, libraries=libraries, learn=learn, tests=tests, ports=ports, cancel=cancel,
                             progress=lambda text: self.post_message(ValidationProgressed(str(text))))
        self.post_message(ExperimentDone(doc))

    def on_validation_progressed(self, message: ValidationProgressed) -> None:
        if self.running:
            self.set_status("val-status", f"{message.text[:1].upper()}{message.text[1:]}…", "bold")

    @on(Input.Submitted)
    def _field_submitted(self) -> None:
        if self.check_key("run"):
            self.action_run()

    def on_experiment_done(self, message: ExperimentDone) -> None:
        self.experiment = message.experiment
        self.query_one("#val-status", Static).update(experiment_summary(message.experiment))
        fill_results(self.query_one("#val-results", DataTable), message.experiment)

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
