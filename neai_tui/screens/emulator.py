"""Step 4: the emulator — a library zip's host build (the very C deployed), driven by hand.

Anomaly detection: initialise, learn a file or a range of its lines (the count
learned grows), detect a file or a range, change the sensitivity and watch the
same lines detected again through the C. Other types: run inference on a file or
range. Results are plotted and listed.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Input, Label, Select, Static, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from ..engine.errors import NeaiError, UsageError
from ..engine.project import Project
from ..messages import (
    DeployProgressed,
    EmulatorDetected,
    EmulatorLearned,
    EmulatorOpened,
    LibraryDeployed,
    LibraryZipsLoaded,
)
from ..widgets.table import Table
from ..widgets.format import format_bytes, format_number
from ..widgets.forms import field_row
from ..widgets.plot import PlotSpec, PlotView, Rule, Series
from ..widgets.result_plots import WRONG, class_marker, extrapolation_spec
from ..widgets.paths import shown_path, typed_path  # noqa: F401 (validation imports them from here)
from ..widgets.suggest import PathSuggester
from .base import StepPane
from ..widgets.format import optional_int
from ..widgets.keybar import KeyBar
from .dialogs import Dialog, PromptScreen

THRESHOLD = 90
RUN_ACTIONS = {"anomaly": "detect", "n-class": "classify", "one-class": "outlier", "extrapolation": "extrapolate"}
SENSITIVITY_STEP = 0.1


def default_files(project: Project) -> tuple[str, str]:
    """(learn file, detect file): the project's own copies of its nominal and abnormal
    signals, relative to the project folder (short enough to read at 80 columns)."""
    nominal = [s for s in project.signals if s.role == "nominal"]
    abnormal = [s for s in project.signals if s.role == "abnormal"]
    first = project.signals[0] if project.signals else None
    learn = nominal[0] if nominal else first
    detect = abnormal[0] if abnormal else first
    return (shown_path(project, project.signal_path(learn)) if learn else "",
            shown_path(project, project.signal_path(detect)) if detect else "")


def detect_spec(report, lib_type: str, classes: list[str] | None = None) -> PlotSpec:
    results = report.results
    lines = [r["line"] for r in results]
    where = f"{Path(report.path).name if report.path else ''} {lines[0]}-{lines[-1]}" if lines else ""
    if lib_type == "anomaly":
        ok = [(r["line"], r["similarity"]) for r in results if r["similarity"] >= THRESHOLD]
        bad = [(r["line"], r["similarity"]) for r in results if r["similarity"] < THRESHOLD]
        sens = format_number(report.sensitivity, 2) if report.sensitivity is not None else "–"
        return PlotSpec(
            [Series([x for x, _ in ok], [y for _, y in ok], "≥ 90 (normal)", marker="•", style="green"),
             Series([x for x, _ in bad], [y for _, y in bad], "< 90 (anomaly)", marker="x", style="red")],
            rules=[Rule(THRESHOLD, "90 %")],
            y_limits=(0, 100),
            title=f"{where}: sensitivity {sens}, learned {report.learned}",
            x_label="line",
            empty_text="No line detected.",
        )
    if lib_type == "n-class":
        return classes_spec(results, where, classes or [])
    if lib_type == "one-class":
        outliers = [r["line"] for r in results if r.get("outlier")]
        inliers = [r["line"] for r in results if r.get("outlier") is False]
        return PlotSpec([Series(inliers, [0] * len(inliers), "inlier (0)", marker="•", style="green"),
                         Series(outliers, [1] * len(outliers), "outlier (1)", marker="x", style="red")],
                        y_limits=(0, 1), title=f"{where}: {len(outliers)} outlier(s) of {len(results)} lines",
                        x_label="line")
    if results and all(r.get("real") is not None and r.get("value") is not None for r in results):
        return extrapolation_spec({
            "library": where, "real": [r["real"] for r in results], "predicted": [r["value"] for r in results],
            "rmse": report.summary.get("rmse"),
        }, points="line of the file")
    ys = [r.get("value") if r.get("value") is not None else 0.0 for r in results]
    return PlotSpec([Series(lines, ys, "extrapolated value", marker="•", style="cyan")], title=f"{where}: values",
                    x_label="line")


def classes_spec(results: list[dict], where: str, classes: list[str]) -> PlotSpec:
    """The class the C gives each line (its marker) and that class's probability."""
    names = list(classes) or sorted({str(r.get("class")) for r in results if r.get("id")})
    per_class: dict[str, tuple[list, list]] = {}
    for r in results:
        probs = r.get("probabilities") or []
        ident = int(r.get("id") or 0)
        p = probs[ident - 1] if 0 < ident <= len(probs) else (max(probs) if probs else 0.0)
        xs, ys = per_class.setdefault(str(r.get("class")), ([], []))
        xs.append(r["line"])
        ys.append(p)
    series = []
    for name, points in per_class.items():
        marker, style = class_marker(names.index(name)) if name in names else WRONG
        series.append(Series(*points, name, marker=marker, style=style))
    return PlotSpec(series, y_limits=(0, 1), title=f"{where}: class per line and its probability", x_label="line")


class EmulatorPane(StepPane):
    STEP = "emulator"
    TITLE = "Emulator"
    HELP = (
        "Run a library zip's host build: the same C as the Cortex-M library. Choose the zip (B builds the "
        "chosen library if none exists; z opens any zip). Anomaly detection learns on the device: l learns "
        "the learn file's lines (a range such as 1-100, blank = all), the count learned grows; n forgets "
        "everything (initialise); d detects the detect file's lines. + and - change the sensitivity and "
        "detect the same lines again through the C. Other library types run inference with d. p reads lines "
        "from a live serial port (a board running the datalogger; any pyserial URL: /dev/ttyACM0, "
        "socket://host:port) and learns or detects them."
    )
    KEYS = [
        Binding("l", "learn", "Learn"),
        # d runs the library with its kind's own verb (one of these is live per project).
        Binding("d", "detect", "Detect"),
        Binding("d", "classify", "Classify"),
        Binding("d", "outlier", "Outlier?"),
        Binding("d", "extrapolate", "Extrapolate"),
        Binding("n", "initialise", "Init"),
        Binding("plus", "sensitivity(1)", "Sens.+", key_display="+"),
        Binding("minus", "sensitivity(-1)", "Sens.-", key_display="-"),
        Binding("v", "next_view", "View"),
        Binding("B", "build", "Build zip"),
        Binding("z", "open_zip", "Open zip…"),
        Binding("p", "live_port", "Live port…"),
    ]

    def __init__(self, project: Project, **kwargs) -> None:
        super().__init__(project, **kwargs)
        self.session = None
        self.lock = threading.Lock()
        self.zips: list[dict] = []
        self.libraries: list[dict] = []
        self.report = None
        self.busy = False
        self.live = LiveRequest()  # the last live-port settings

    def compose(self) -> ComposeResult:
        learn, detect = default_files(self.project)
        yield self.title_label()
        yield field_row("Library", Select([], prompt="no library zip yet: B builds one", id="emu-zip", compact=True))
        yield Static(id="emu-info", classes="pane-text")
        yield field_row("Learn file", Input(learn, id="emu-learn-file", suggester=PathSuggester(), compact=True),
                        Input(id="emu-learn-range", placeholder="all lines", compact=True, classes="range"),
                        id="emu-learn-row")
        yield field_row("Detect file", Input(detect, id="emu-detect-file", suggester=PathSuggester(), compact=True),
                        Input(id="emu-detect-range", placeholder="all lines", compact=True, classes="range"),
                        label_id="emu-detect-label")
        yield field_row("Sensitivity", Input("1.0", type="number", id="emu-sensitivity", compact=True,
                                             classes="range"), Static(id="emu-status", classes="inline-status"),
                        id="emu-sensitivity-row", label_id="emu-sensitivity-label")
        with TabbedContent(id="emu-views"):
            with TabPane("Plot", id="emu-plot-tab"):
                yield PlotView(PlotSpec(empty_text=self.first_hint()), id="emu-plot")
            with TabPane("List", id="emu-list-tab"):
                table = Table(id="emu-results", cursor_type="row", zebra_stripes=True)
                yield table

    def on_mount(self) -> None:
        self.show_layout(self.project.settings.type == "anomaly")
        self.show_status("Choose a library zip.")
        self.load_zips()

    def show_layout(self, anomaly: bool) -> None:
        """Anomaly detection learns, detects and has a sensitivity; the other types run
        inference only. The status stays in view either way."""
        self.query_one("#emu-learn-row").display = anomaly
        self.query_one("#emu-sensitivity-label").display = anomaly
        self.query_one("#emu-sensitivity").display = anomaly
        self.query_one("#emu-detect-label").update("Detect file" if anomaly else "Run file")

    def first_hint(self) -> str:
        verbs = {"anomaly": "Learn, then detect: the similarity of each line appears here.",
                 "n-class": "d classifies the run file's lines: the class of each line and its probability appear "
                            "here.",
                 "one-class": "d tells, line by line, whether the run file's lines are outliers.",
                 "extrapolation": "d extrapolates the run file's lines: the value of each line appears here."}
        return verbs.get(self.kind, "")

    def on_step_shown(self) -> None:
        self.load_zips()

    def show_status(self, text: str, style: str = "") -> None:
        self.set_status("emu-status", text, style)

    def show_libraries(self, libraries: list[dict]) -> None:
        self.libraries = libraries

    def show_project(self) -> None:
        learn, detect = default_files(self.project)
        for selector, value in (("#emu-learn-file", learn), ("#emu-detect-file", detect)):
            field = self.query_one(selector, Input)
            if not field.value:
                field.value = value

    # -- library zips --------------------------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="emu-zips", description="listing library zips")
    def load_zips(self) -> None:
        from ..engine.emulator_session import list_library_zips

        self.post_message(LibraryZipsLoaded(list_library_zips(self.project)))

    def on_library_zips_loaded(self, message: LibraryZipsLoaded) -> None:
        listed = {str(z["path"]) for z in message.zips}
        external = [z for z in self.zips if z.get("external") and str(z["path"]) not in listed]
        self.zips = message.zips + external
        select = self.query_one("#emu-zip", Select)
        current = str(select.value) if select.value != Select.BLANK else None
        paths = [str(z["path"]) for z in self.zips]
        open_path = str(self.session.zip_path) if self.session is not None else None
        target = current if current in paths else open_path if open_path in paths else paths[0] if paths else None
        with select.prevent(Select.Changed):
            select.set_options(self._zip_options())
            if target is not None:
                select.value = target
        if target is not None and target != open_path:
            self.show_status("Opening the library…", "bold")
            self.open_session(Path(target))
        if not self.zips:
            self.query_one("#emu-info", Static).update(Text(
                "No library zip yet: B builds the chosen library (as step 6 does); z opens another zip.",
                style="yellow"))

    def _zip_options(self) -> list[tuple[str, str]]:
        return [(f"{z['library_id']}  {z['type']}  {z['target']}  ({Path(z['path']).name})", str(z["path"]))
                for z in self.zips]

    @on(Select.Changed, "#emu-zip")
    def _zip_chosen(self, event: Select.Changed) -> None:
        if event.value == Select.BLANK:
            return
        if self.session is not None and str(self.session.zip_path) == str(event.value):
            return
        self.show_status("Opening the library…", "bold")
        self.open_session(Path(str(event.value)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="emulator", description="opening the library")
    def open_session(self, path: Path) -> None:
        from ..engine.emulator_session import EmulatorSession

        with self.lock:
            session = EmulatorSession(path)
        self.post_message(EmulatorOpened(session))

    def on_emulator_opened(self, message: EmulatorOpened) -> None:
        self.session = message.session
        self.report = None
        meta = self.session.meta
        anomaly = self.session.type == "anomaly"
        measured = meta.get("measured") or {}
        info = Text()
        info.append(f"{meta.get('library_id', '?')}", style="bold")
        data = meta.get("data") or {}
        if data.get("layout") == "multisensor":
            window = (meta.get("pipeline_config") or {}).get("pre", {}).get("lookback")
            shape = f"{self.session.axes} variables" + (f", window {window}" if window else "")
        else:
            shape = f"{self.session.axes} axes × {self.session.buffer_size}"
        info.append(f"  {meta.get('target', '')}  {shape}")
        if measured:
            info.append(f"  flash {format_bytes(measured.get('flash_bytes'))}, RAM {format_bytes(measured.get('ram_bytes'))}")
        self.query_one("#emu-info", Static).update(info)
        self.show_layout(anomaly)
        self.query_one("#emu-sensitivity", Input).value = format_number(self.session.sensitivity or 1.0, 2)
        self.query_one("#emu-plot", PlotView).set_spec(PlotSpec(
            empty_text="l learns, then d detects." if anomaly else "d runs the library on the file's lines."))
        self.query_one("#emu-results", DataTable).clear(columns=True)
        self.show_status("Initialised: learned 0." if anomaly else "Ready.", "green")
        self.refresh_keys()

    # -- keys ------------------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        """The library type: the open zip's, else the project's (before any zip exists)."""
        return self.session.type if self.session is not None else self.project.settings.type

    def check_key(self, action: str) -> bool | None:
        # Each kind's own keys from the start: no learn/init/sensitivity for a trained
        # type, and d named for what it does (detect, classify, outlier?, extrapolate).
        anomaly = self.kind == "anomaly"
        if action in ("learn", "initialise", "sensitivity", "detect"):
            if not anomaly:
                return False
            return True if self.session is not None and not self.busy else None
        if action == "live_port":
            return True if self.session is not None and not self.busy else None
        if action in RUN_ACTIONS.values():
            if RUN_ACTIONS.get(self.kind) != action:
                return False
            return True if self.session is not None and not self.busy else None
        return True

    def action_classify(self) -> None:
        self.action_detect()

    def action_outlier(self) -> None:
        self.action_detect()

    def action_extrapolate(self) -> None:
        self.action_detect()

    def action_next_view(self) -> None:
        tabs = self.query_one("#emu-views", TabbedContent)
        tabs.active = "emu-list-tab" if tabs.active == "emu-plot-tab" else "emu-plot-tab"

    def _need_session(self) -> bool:
        if self.session is None:
            self.notify("Choose a library zip first (B builds one).", severity="warning")
            return False
        return True

    def _set_busy(self, busy: bool, text: str = "") -> None:
        self.busy = busy
        if text:
            self.show_status(text, "bold" if busy else "")
        self.refresh_keys()

    def action_initialise(self) -> None:
        if self._need_session():
            self._set_busy(True, "Initialising…")
            self.initialise()

    @work(thread=True, exclusive=False, exit_on_error=False, group="emulator", description="initialising")
    def initialise(self) -> None:
        with self.lock:
            self.session.init()
        self.post_message(EmulatorLearned({"lines": 0, "learned": 0, "states": {}, "reset": True}))

    def action_learn(self) -> None:
        if not self._need_session():
            return
        path = self.query_one("#emu-learn-file", Input).value.strip()
        if not path:
            self.notify("Type the file to learn (the project's nominal signals are a good start).", severity="warning")
            return
        self._set_busy(True, "Learning…")
        self.learn(str(typed_path(self.project, path)), self.query_one("#emu-learn-range", Input).value)

    @work(thread=True, exclusive=False, exit_on_error=False, group="emulator", description="learning")
    def learn(self, path: str, line_range: str) -> None:
        with self.lock:
            report = self.session.learn(path, line_range)
        self.post_message(EmulatorLearned(report))

    def on_emulator_learned(self, message: EmulatorLearned) -> None:
        report = message.report
        self._set_busy(False)
        if report.get("reset"):
            self.show_status("Initialised: learned 0.", "green")
            self.notify("Knowledge reset (init).", title="Emulator")
            return
        if "sensitivity" in report:
            self.show_status(f"Sensitivity {format_number(report['sensitivity'], 2)}; learned {report['learned']}. "
                             "d detects.", "green")
            return
        minimum = (self.session.meta.get("min_learning_iterations") if self.session else None) or 0
        enough = "" if report["learned"] >= minimum else f" (recommended ≥ {minimum})"
        self.show_status(f"Learned {report['learned']}{enough}; last: lines {report['first']}-{report['last']}.",
                         "green" if not enough else "yellow")

    def action_detect(self) -> None:
        if not self._need_session():
            return
        path = self.query_one("#emu-detect-file", Input).value.strip()
        if not path:
            self.notify("Type the file to detect.", severity="warning")
            return
        self._set_busy(True, "Detecting…" if self.session.type == "anomaly" else "Running…")
        self.detect(str(typed_path(self.project, path)), self.query_one("#emu-detect-range", Input).value)

    @on(Input.Submitted, "#emu-learn-file, #emu-learn-range")
    def _learn_submitted(self) -> None:
        if self.check_key("learn"):
            self.action_learn()

    @on(Input.Submitted, "#emu-detect-file, #emu-detect-range")
    def _detect_submitted(self) -> None:
        if self.check_key(RUN_ACTIONS.get(self.kind, "detect")):
            self.action_detect()

    @work(thread=True, exclusive=False, exit_on_error=False, group="emulator", description="detecting")
    def detect(self, path: str | None, line_range: str, sensitivity: float | None = None) -> None:
        with self.lock:
            if sensitivity is not None:
                report = self.session.set_sensitivity(sensitivity)
                if report is None:  # nothing detected yet: only the setting changed
                    self.post_message(EmulatorLearned({"sensitivity": sensitivity, "learned": self.session.learned}))
                    return
            else:
                report = self.session.detect(path, line_range)
        self.post_message(EmulatorDetected(report))

    def on_emulator_detected(self, message: EmulatorDetected) -> None:
        self.report = message.report
        self._set_busy(False)
        kind = self.session.type if self.session else "anomaly"
        classes = (self.session.meta.get("classes") if self.session else None) or []
        self.query_one("#emu-plot", PlotView).set_spec(detect_spec(self.report, kind, classes))
        self.fill_results(kind)
        summary = self.report.summary
        if kind == "anomaly" and summary.get("lines"):
            self.show_status(f"learned {self.report.learned} · mean {format_number(summary['mean'], 1)} · "
                             f"{format_number(summary['at_least_90'], 1)} % ≥ 90", "green")
        else:
            rmse = f", RMSE {format_number(summary['rmse'])} against the file's real values" if "rmse" in summary else ""
            self.show_status(f"{summary.get('lines', 0)} lines run{rmse}.", "green")

    def fill_results(self, kind: str) -> None:
        table = self.query_one("#emu-results", DataTable)
        table.clear(columns=True)
        results = self.report.results
        if kind == "anomaly":
            table.add_columns("Line", "Similarity", "Verdict")
            for r in results:
                verdict = Text("normal", style="green") if r["similarity"] >= THRESHOLD else Text("anomaly", style="red")
                table.add_row(str(r["line"]), str(r["similarity"]), r.get("status") or verdict)
        elif kind == "n-class":
            table.add_columns("Line", "Class", "Id", "Probability")
            for r in results:
                probs = r.get("probabilities") or []
                table.add_row(str(r["line"]), str(r.get("class")), str(r.get("id")),
                              format_number(max(probs), 3) if probs else "–")
        elif kind == "one-class":
            table.add_columns("Line", "Outlier")
            for r in results:
                table.add_row(str(r["line"]), "yes" if r.get("outlier") else "no")
        elif results and "real" in results[0]:
            table.add_columns("Line", "Predicted", "Real")
            for r in results:
                table.add_row(str(r["line"]), format_number(r.get("value"), 4), format_number(r.get("real"), 4))
        else:
            table.add_columns("Line", "Value")
            for r in results:
                table.add_row(str(r["line"]), format_number(r.get("value"), 4))

    def action_sensitivity(self, direction: int) -> None:
        field = self.query_one("#emu-sensitivity", Input)
        try:
            value = float(field.value or "1")
        except ValueError:
            value = 1.0
        value = max(0.0, round(value + direction * SENSITIVITY_STEP, 2))
        field.value = format_number(value, 2)
        self.apply_sensitivity(value)

    @on(Input.Submitted, "#emu-sensitivity")
    def _sensitivity_typed(self, event: Input.Submitted) -> None:
        try:
            value = float(event.value)
        except ValueError:
            self.app.show_error(UsageError(f"the sensitivity must be a number, not '{event.value}'", "1 is the default."))  # type: ignore[attr-defined]
            return
        self.apply_sensitivity(value)

    def apply_sensitivity(self, value: float) -> None:
        if not self._need_session() or self.session.type != "anomaly":
            return
        self._set_busy(True, f"Sensitivity {format_number(value, 2)}: detecting again…")
        self.detect(None, "", sensitivity=value)

    def worker_ended(self, worker: Worker, state: WorkerState) -> None:
        if worker.group == "emulator" and state != WorkerState.SUCCESS:
            self._set_busy(False, "Failed; see the message.")
        if worker.group == "emu-build":
            self.refresh_keys()

    # -- a live serial port -----------------------------------------------------------------------
    def action_live_port(self) -> None:
        if not self._need_session():
            return
        if self.busy:
            self.notify("Busy: wait for the current step to finish.", severity="warning")
            return
        anomaly = self.session.type == "anomaly"

        def chosen(request: "LiveRequest | None") -> None:
            if request is None:
                return
            self.live = request
            self._set_busy(True, f"Reading {request.lines} lines from {request.url}…")
            self.read_live(request)

        self.app.push_screen(LivePortScreen(self.live, anomaly), chosen)

    @work(thread=True, exclusive=False, exit_on_error=False, group="emulator", description="reading the live port")
    def read_live(self, request: "LiveRequest") -> None:
        from ..engine.live_port import read_live_lines

        session = self.session
        expected = session.axes * session.buffer_size if session.layout != "multisensor" else session.axes

        def progress(p) -> None:
            self.app.call_from_thread(self.show_status, f"{request.url}: {p.lines}/{request.lines} lines"
                                      + (f", {p.dropped} dropped" if p.dropped else "") + "…", "bold")

        live = read_live_lines(request.url, request.lines, baud=request.baud, values_per_line=expected,
                               timeout_s=request.timeout_s, progress=progress)
        with self.lock:
            rows = session.live_rows(live.values, request.url)
            if request.action == "learn":
                report = session.learn(rows)
                self.post_message(EmulatorLearned(report))
            else:
                self.post_message(EmulatorDetected(session.detect(rows)))
        if live.dropped or live.reason != "max-lines":
            why = {"idle": "the port went quiet", "stopped": "stopped"}.get(live.reason, live.reason)
            self.app.call_from_thread(self.notify, f"{live.lines} line(s) used, {live.dropped} dropped"
                                      + (f"; {why}" if live.reason != "max-lines" else ""), title="Live port")

    # -- other zips and building one -------------------------------------------------------------
    def action_open_zip(self) -> None:
        def chosen(path: str | None) -> None:
            if path:
                self.add_zip(Path(path).expanduser())

        self.app.push_screen(PromptScreen("Open a library zip", "Zip", "", path=True, browse_suffixes=(".zip",),
                                          note="A library zip built on this machine (Deployment step or `neai deploy`)."), chosen)

    def add_zip(self, path: Path) -> None:
        from ..engine.emulator_session import library_zip_info

        try:
            info = library_zip_info(path)
        except NeaiError as exc:
            self.app.show_error(exc, title="Cannot open the zip")  # type: ignore[attr-defined]
            return
        info["external"] = True
        self.zips = [z for z in self.zips if str(z["path"]) != str(path)] + [info]
        select = self.query_one("#emu-zip", Select)
        with select.prevent(Select.Changed):
            select.set_options(self._zip_options())
            select.value = str(path)
        self.show_status("Opening the library…", "bold")
        self.open_session(path)

    def action_build(self) -> None:
        chosen = next((lib["id"] for lib in self.libraries if lib.get("selected")), None)
        self.show_status(f"Building {chosen or 'the best library'}…", "bold")
        self.build(chosen)

    @work(thread=True, exclusive=True, exit_on_error=False, group="emu-build", description="building the library")
    def build(self, lib_id: str | None) -> None:
        from ..engine.deploy import deploy

        result = deploy(self.project, lib_id=lib_id, progress=lambda text: self.post_message(DeployProgressed(str(text))))
        self.post_message(LibraryDeployed(result.zip_path, result.metadata))

    def on_deploy_progressed(self, message: DeployProgressed) -> None:
        self.show_status(f"{message.text}…", "bold")

    def on_library_deployed(self, message: LibraryDeployed) -> None:
        self.show_status(f"Built {Path(message.path).name}.", "green")
        self.session = None
        self.load_zips()
        screen = self.screen
        if hasattr(screen, "zips_changed"):
            screen.zips_changed()


@dataclass
class LiveRequest:
    url: str = ""
    baud: int = 115200
    lines: int = 20
    action: str = "detect"  # "learn" | "detect"
    timeout_s: float = 10.0


class LivePortScreen(Dialog):
    """Which port, at which speed, how many lines, and learn or detect them."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="live.cancel"),
        Binding("ctrl+s", "submit", "Read", id="live.submit"),
    ]

    def __init__(self, last: LiveRequest, anomaly: bool) -> None:
        super().__init__()
        self.last = last
        self.anomaly = anomaly

    def compose(self) -> ComposeResult:
        from ..engine.serial_capture import list_ports

        ports = list_ports()
        seen = ", ".join(device for device, _ in ports[:4]) or "none found"
        actions = [("learn them (learn())", "learn"), ("detect them (detect())", "detect")] if self.anomaly else \
            [("run the library on them", "detect")]
        with Vertical(id="dialog", classes="form-dialog"):
            yield Label("Lines from a live serial port", id="dialog-title")
            yield field_row("Port", Input(self.last.url, id="live-url", compact=True,
                                          placeholder="/dev/ttyACM0, COM3, socket://host:port, loop://"))
            yield field_row("Baud", Input(str(self.last.baud), type="integer", id="live-baud", compact=True))
            yield field_row("Lines", Input(str(self.last.lines), type="integer", id="live-lines", compact=True))
            yield field_row("Then", Select(actions, value=self.last.action if self.anomaly else "detect",
                                           allow_blank=False, id="live-action", compact=True))
            yield Static(Text(f"Ports on this machine: {seen}. The board prints one buffer per line (the "
                              "datalogger of the Tools screen does); a first line cut short and lines of another "
                              f"length are dropped. Gives up after {self.last.timeout_s:g} s without data."),
                         classes="dialog-note")
            with Horizontal(classes="buttons"):
                yield Button("Read (ctrl+s)", id="read", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#live-url", Input).focus()

    @on(Button.Pressed, "#read")
    @on(Input.Submitted)
    def action_submit(self) -> None:
        url = self.query_one("#live-url", Input).value.strip()
        try:
            if not url:
                raise UsageError("no port given", "Type a device such as /dev/ttyACM0 or a URL such as socket://host:port.")
            baud = optional_int(self.query_one("#live-baud", Input).value, "the baud rate") or 115200
            lines = optional_int(self.query_one("#live-lines", Input).value, "the number of lines") or 20
            if baud < 1 or lines < 1:
                raise UsageError("the baud rate and the line count must be 1 or more", "e.g. 115200 baud, 20 lines.")
        except NeaiError as exc:
            self.show_error("Check the form", exc)
            return
        action = str(self.query_one("#live-action", Select).value)
        self.dismiss(LiveRequest(url, baud, lines, action, self.last.timeout_s))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
