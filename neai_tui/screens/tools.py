"""The Tools screen: data manipulation, sampling finder and datalogger generator.

Reached from the home screen (key t). One tab per tool, each a keyboard form:
enter in any field (or ctrl+r) runs the tool in a worker, which reports back only
by messages; the result (text, a table, a plot) is drawn under the form. The
forms only read their fields: what a tool does is the engine's (engine/tools/),
the same functions `neai tools …` calls.
"""
from __future__ import annotations

import os
import shlex
import threading
from pathlib import Path

from rich.console import Group, RenderableType
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.widgets import (
    Button,
    DataTable,
    Header,
    Input,
    Label,
    Select,
    Static,
    TabbedContent,
    TabPane,
    Tabs,
    TextArea,
)
from textual.worker import Worker, WorkerState

from ..engine.errors import NeaiError, UsageError
from ..messages import (
    DataActionDone,
    DataFileInspected,
    DataloggerGenerated,
    DataResultImported,
    RecordingInspected,
    ReshapeDone,
    SamplingDone,
    SamplingProgressed,
)
from ..widgets.format import optional_float, optional_int
from ..widgets.forms import TickBox, field_row
from ..widgets.keybar import KeyBar
from ..widgets.plot import PlotSpec, PlotView, Series
from ..widgets.result_plots import class_marker
from ..widgets.suggest import PathSuggester
from ..widgets.table import Table
from .base import FINISHED, NeaiScreen
from .dialogs import Dialog, FileBrowserScreen, ImportRequest, guess_role, import_fields, read_import_fields

TOOLS = (("reshape", "Data manipulation"), ("sampling", "Sampling finder"), ("datalogger", "Datalogger"),
         ("data", "Signal files"))
TOOL_KEYS = Binding.Group("Tools", compact=True)
SAMPLING_VIEWS = ("table", "plot")


def split_paths(text: str, what: str) -> list[str]:
    """Paths typed in one field, as a shell would split them ('my file.csv' quoted)."""
    try:
        items = shlex.split(text)
    except ValueError as exc:
        raise UsageError(f"cannot read the {what}: {exc}", "Quote paths that hold spaces: 'my file.csv'.") from None
    if not items:
        raise UsageError(f"no {what} given", "Type one or more paths (→ completes), or press ctrl+o to browse.")
    return items


def inline(text: str) -> Label:
    return Label(text, classes="inline-label")


def short_input(value: str = "", *, id: str, placeholder: str = "", kind: str = "text") -> Input:
    # valid_empty: a blank number field means "the default", not an error (no red while it is blank)
    return Input(value, id=id, placeholder=placeholder, type=kind, compact=True, classes="short", valid_empty=True)


def warnings_text(problems) -> list[RenderableType]:
    out: list[RenderableType] = []
    for p in problems:
        line = Text("! ", style="bold yellow")
        line.append(f"{p.location()}: ", style="bold")
        line.append(p.message)
        if p.hint:
            line.append(f"  Fix: {p.hint}", style="italic")
        out.append(line)
    return out


class ToolPane(Vertical):
    """One tool: a form, a status line and the result. Owns its workers."""

    TOOL = ""
    TITLE = ""
    HELP = ""
    PATH_FIELD = ""  # the field ctrl+o browses for
    BROWSE_DIR = False

    def __init__(self, **kwargs) -> None:
        super().__init__(id=f"{self.TOOL}-pane", classes="tool-pane", **kwargs)
        self.running = False

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.app.worker_state_changed(event)  # type: ignore[attr-defined]
        if event.state in FINISHED and event.worker.group == f"tool-{self.TOOL}":
            self.running = False
            if event.state != WorkerState.SUCCESS:
                self.status("Stopped: see the message." if event.state == WorkerState.ERROR else "Stopped.")

    def status(self, text: str, style: str = "") -> None:
        self.query_one(f"#{self.TOOL}-status", Static).update(Text(text, style=style))

    def field(self, name: str) -> str:
        return self.query_one(f"#{self.TOOL}-{name}", Input).value.strip()

    @property
    def base(self) -> Path | None:
        """The open project's folder: relative paths in the fields are its (None: the current folder's)."""
        project = getattr(self.screen, "project", None)
        return project.path if project is not None else None

    def path(self, text: str) -> Path:
        from ..engine.tool_memory import resolve_in

        return resolve_in(self.base, text)

    def paths(self, items: list[str]) -> list[str]:
        """Typed inputs resolved by the one rule (NAME=PATH keeps its name)."""
        out = []
        for item in items:
            name, sep, rest = item.partition("=")
            if sep and not Path(os.path.expanduser(item)).exists() and rest:
                out.append(f"{name}={self.path(rest)}")
            else:
                out.append(str(self.path(item)))
        return out

    def adopt_rate(self, rate: float | None) -> None:
        """Inside a project, the rate given to a tool becomes the project's rate."""
        project = getattr(self.screen, "project", None)
        if project is None or rate is None:
            return
        from ..engine.tool_memory import adopt_rate

        if adopt_rate(project, rate):
            self.notify(f"{rate:g} Hz is now {project.settings.name}'s sampling rate (spectra, filter, reports).",
                        title="Sampling rate")
            self.screen.project_changed()
    def start(self) -> None:
        """Read the form and run the tool (UsageError for a field that cannot be read)."""

    def action_run(self) -> None:
        if self.running:
            self.notify("Already running: wait for it to finish.", severity="warning")
            return
        remember = getattr(self.screen, "remember_fields", None)
        if remember is not None:
            remember()
        try:
            self.start()
        except UsageError as exc:
            self.app.show_error(exc, title="Check the form")  # type: ignore[attr-defined]
            return

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_run()

    def browse(self) -> None:
        field = self.query_one(f"#{self.TOOL}-{self.PATH_FIELD}", Input)
        current = field.value.strip()
        last = ""
        try:
            last = shlex.split(current)[-1] if current else ""
        except ValueError:
            pass

        def chosen(path: Path | None) -> None:
            if path is None:
                return
            quoted = shlex.quote(str(path))
            field.value = quoted if self.BROWSE_DIR or not current else f"{current} {quoted}"
            field.cursor_position = len(field.value)
            field.focus()

        suffixes = () if self.BROWSE_DIR else (".csv", ".txt", ".tsv", ".dat")
        self.app.push_screen(FileBrowserScreen(last.split("=", 1)[-1], suffixes, want_dir=self.BROWSE_DIR), chosen)

    def stop_work(self) -> None:
        """Leaving the screen."""

    VIEWS: tuple[str, ...] = ()  # widget ids the v key cycles through, the first shown by default

    def show_view(self, view: str) -> None:
        for name in self.VIEWS:
            self.query_one(f"#{name}").display = name == view

    def next_view(self) -> None:
        shown = [name for name in self.VIEWS if self.query_one(f"#{name}").display]
        if not self.VIEWS or not self.has_result():
            self.notify("Run the tool first (enter).", severity="warning")
            return
        current = shown[0] if shown else self.VIEWS[-1]
        self.show_view(self.VIEWS[(self.VIEWS.index(current) + 1) % len(self.VIEWS)])

    def has_result(self) -> bool:
        return False

    # -- the first input's columns, as the user types ---------------------------------------------
    def inspect_first(self, text: str) -> None:
        try:
            first = shlex.split(text)[0] if text.strip() else ""
        except ValueError:
            return
        if "=" in first and not Path(first).expanduser().exists():
            first = first.split("=", 1)[1]
        if not first or not Path(first).expanduser().exists():
            self.show_format(None, "")
            return
        self.inspect(first)

    @work(thread=True, exclusive=True, exit_on_error=False, group="inspect", description="reading the recording")
    def inspect(self, first: str) -> None:
        from ..engine.errors import NeaiError
        from ..engine.tools.recordings import expand_inputs, inspect_recording

        try:
            path = expand_inputs([first])[0]
            self.post_message(RecordingInspected(self.TOOL, inspect_recording(path)))
        except (NeaiError, OSError) as exc:
            self.post_message(RecordingInspected(self.TOOL, None, getattr(exc, "message", None) or str(exc)))

    def on_recording_inspected(self, message: RecordingInspected) -> None:
        if message.tool == self.TOOL:
            self.show_format(message.info, message.error)

    def show_format(self, info, error: str) -> None:
        note = self.query_one(f"#{self.TOOL}-format", Static)
        if info is None:
            note.update(Text(error, style="red") if error else Text(""))
            return
        from ..engine.tools.recordings import separator_label

        text = Text(f"{info.path.name}: ", style="bold")
        text.append(f"{separator_label(info.sep)} separated, "
                    + ("a header row" if info.header else "no header") + f", {info.n_columns} columns: ")
        text.append(info.describe(width=12))
        note.update(text)


# -- data manipulation ----------------------------------------------------------------------------


class ReshapePane(ToolPane):
    TOOL = "reshape"
    TITLE = "Data manipulation"
    PATH_FIELD = "inputs"
    HELP = (
        "Cut continuous recordings (one sample per line; a header, a timestamp and label columns are fine) "
        "into a signal file for a project: one buffer of samples per line, axes interleaved. Recordings: "
        "files, folders or patterns (each file is a separate run: no buffer spans two). Columns: header "
        "names or 1-based numbers (2-4,Current), blank for every numeric one but timestamps and labels. "
        "Keep rows: a label filter such as anomaly=0. Hop: samples between buffer starts (blank: the buffer, "
        "no overlap). Decimate Q: low-pass, then one sample in Q. Target: a column whose mean over the "
        "buffer starts each line (extrapolation). The output is never written over an existing file unless "
        "Overwrite is ticked. v switches between the report and a plot of the first line written."
    )

    def compose(self) -> ComposeResult:
        with Vertical(classes="tool-form"):
            yield field_row("Recordings", Input(id="reshape-inputs", compact=True, suggester=PathSuggester(),
                                                placeholder="files, folders, patterns (→ completes, ctrl+o)"))
            yield Static(id="reshape-format", classes="tool-note")
            yield field_row("Columns", Input(id="reshape-columns", compact=True,
                                             placeholder="blank = numeric ones"),
                            inline("Keep rows"), Input(id="reshape-where", compact=True, classes="mid",
                                                       placeholder="e.g. anomaly=0"))
            yield field_row("Buffer", short_input("256", id="reshape-buffer", kind="integer"),
                            inline("Hop"), short_input(id="reshape-hop", kind="integer", placeholder="= buffer"),
                            inline("Decimate"), short_input("1", id="reshape-decimate", kind="integer"),
                            inline("Rate Hz"), short_input(id="reshape-rate", kind="number", placeholder="opt."))
            yield field_row("Target", Input(id="reshape-target", compact=True, placeholder="extrapolation only"),
                            TickBox("Multi-sensor", id="reshape-multisensor", compact=True, classes="inline"))
            yield field_row("Output", Input(id="reshape-out", compact=True, suggester=PathSuggester(),
                                            placeholder="the signal file to write"),
                            TickBox("Overwrite", id="reshape-force", compact=True, classes="inline"))
        yield Static(id="reshape-status", classes="tool-status")
        with Vertical(classes="tool-result"):
            with VerticalScroll(id="reshape-report"):
                yield Static(id="reshape-result")
            yield PlotView(id="reshape-plot")

    VIEWS = ("reshape-report", "reshape-plot")

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.result = None

    def has_result(self) -> bool:
        return self.result is not None

    def on_mount(self) -> None:
        self.status("Enter (or ctrl+r) writes the file.")
        self.show_view("reshape-report")

    @on(Input.Changed, "#reshape-inputs")
    def _inputs_changed(self, event: Input.Changed) -> None:
        self.inspect_first(event.value)

    def start(self) -> None:
        from ..engine.tools.reshape import ReshapeOptions

        inputs = self.paths(split_paths(self.field("inputs"), "recordings"))
        out = self.field("out")
        if not out:
            raise UsageError("no output file given", "Type the path of the signal file to write, e.g. nominal.csv.")
        multisensor = self.query_one("#reshape-multisensor", TickBox).value
        options = ReshapeOptions(
            columns=self.field("columns") or None,
            buffer=None if multisensor else optional_int(self.field("buffer"), "the buffer size"),
            hop=None if multisensor else optional_int(self.field("hop"), "the hop"),
            decimate=optional_int(self.field("decimate"), "the decimation factor") or 1,
            where=self.field("where") or None,
            target=self.field("target") or None,
            layout="multisensor" if multisensor else "buffers",
            rate_hz=optional_float(self.field("rate"), "the sampling rate", "Hz"),
        )
        self.running = True
        self.status("Reading the recordings…")
        self.adopt_rate(options.rate_hz)
        self.run_reshape(inputs, self.path(out), options, self.query_one("#reshape-force", TickBox).value)

    @work(thread=True, exclusive=True, exit_on_error=False, group="tool-reshape", description="cutting the recordings")
    def run_reshape(self, inputs: list[str], out: Path, options, force: bool) -> None:
        from ..engine.tools.reshape import reshape

        result = reshape(inputs, out, options, force=force,
                         progress=lambda text: self.app.call_from_thread(self.status, text))
        with open(result.out, encoding="ascii") as handle:
            line = handle.readline().split()
        first = [float(v) for v in line]
        self.post_message(ReshapeDone(result, first))

    def on_reshape_done(self, message: ReshapeDone) -> None:
        from ..engine.tools.reshape import describe

        result = self.result = message.result
        self.running = False
        project = getattr(self.screen, "project", None)
        where = (f"i imports it into {project.settings.name} (role or class asked)" if project is not None
                 else "import it in a project (its Signals step, i)")
        self.status(f"Wrote {result.out.name}: {result.lines} lines. {where.capitalize()}; v shows its first line.",
                    "bold green")
        lines: list[RenderableType] = [Text(line) for line in describe(result)[1:]]
        lines += warnings_text(result.warnings)
        self.query_one("#reshape-result", Static).update(Group(*lines))
        plot = self.query_one("#reshape-plot", PlotView)
        if result.layout == "buffers" and message.first_line:
            plot.set_spec(first_line_spec(result, message.first_line))
        else:
            plot.set_spec(PlotSpec(empty_text="A Multi-sensor file holds one sample per line: no buffer to draw."))
        self.show_view("reshape-report")
        self.screen.refresh_bindings()
        self.notify(f"{result.out}: {result.lines} lines × {result.values_per_line} values.", title="Written")


def first_line_spec(result, values: list[float]) -> PlotSpec:
    """The first buffer written, one series per axis."""
    offset = 1 if result.target else 0
    buffer = values[offset:]
    axes = max(1, result.axes)
    rate = result.rate_hz
    xs = [i / rate * 1000 if rate else i for i in range(len(buffer) // axes)]
    series = []
    for a in range(axes):
        marker, style = class_marker(a)
        name = result.columns[a] if a < len(result.columns) else f"axis {a + 1}"
        series.append(Series(xs, buffer[a::axes], name[:16], marker=marker, style=style))
    return PlotSpec(series, title=f"line 1 of {result.lines}", x_label="ms" if rate else "sample",
                    note="target " + f"{values[0]:.4g}" if result.target else "")


# -- sampling finder -------------------------------------------------------------------------------


class SamplingPane(ToolPane):
    TOOL = "sampling"
    TITLE = "Sampling finder"
    PATH_FIELD = "inputs"
    HELP = (
        "Which sampling rate and buffer size should a project use? Give one recording per machine state (a "
        "file, a folder of recordings, or NAME=PATH; space separated) at their sampling rate, or recordings "
        "and a label column whose values are the states. Every rate (the base divided by 1, 2, 4 …) and "
        "buffer size (powers of two) is measured: the share of the signal power kept below the rate's "
        "Nyquist frequency and, with several states, how well a simple classifier tells them apart on "
        "held-out stretches of time. The table is ranked, the recommendation and its reason above it; v "
        "switches between the table and a plot."
    )

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.cancel: threading.Event | None = None
        self.report = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="tool-form"):
            yield field_row("States", Input(id="sampling-inputs", compact=True, suggester=PathSuggester(),
                                            placeholder="one per state: file, folder or NAME=PATH"))
            yield Static(id="sampling-format", classes="tool-note")
            yield field_row("Rate Hz", short_input(id="sampling-rate", kind="number", placeholder="required"),
                            inline("Columns"), Input(id="sampling-columns", compact=True,
                                                     placeholder="blank = numeric ones"))
            yield field_row("State column", Input(id="sampling-state", compact=True,
                                                  placeholder="optional: states from a label column, e.g. anomaly"))
            yield field_row("Buffers", short_input("16", id="sampling-min", kind="integer"), inline("to"),
                            short_input("2048", id="sampling-max", kind="integer"),
                            inline("Max decimation"), short_input("32", id="sampling-decimation", kind="integer"))
        yield Static(id="sampling-status", classes="tool-status")
        with Vertical(classes="tool-result"):
            yield Static(id="sampling-reason", classes="tool-reason")
            table = Table(id="sampling-table", cursor_type="row", zebra_stripes=True)
            table.add_columns("", "Rate Hz", "Buffer", "Duration", "Resol. Hz", "Energy", "Accuracy", "Buffers")
            yield table
            yield PlotView(id="sampling-plot")

    def on_mount(self) -> None:
        self.status("Enter (or ctrl+r) measures every rate and buffer size.")
        for name in self.VIEWS:
            self.query_one(f"#{name}").display = False

    @on(Input.Changed, "#sampling-inputs")
    def _inputs_changed(self, event: Input.Changed) -> None:
        self.inspect_first(event.value)

    def start(self) -> None:
        states = self.paths(split_paths(self.field("inputs"), "recordings"))
        rate = optional_float(self.field("rate"), "the sampling rate", "Hz")
        if rate is None:
            raise UsageError("the sampling rate is missing", "Give the rate the recordings were made at, in Hz.")
        self.adopt_rate(rate)
        settings = {
            "columns": self.field("columns") or None,
            "state_column": self.field("state") or None,
            "min_buffer": optional_int(self.field("min"), "the smallest buffer") or 16,
            "max_buffer": optional_int(self.field("max"), "the largest buffer") or 2048,
            "max_decimation": optional_int(self.field("decimation"), "the largest decimation") or 32,
        }
        self.running = True
        self.cancel = threading.Event()
        self.status("Reading the recordings…")
        self.run_sampling(states, rate, settings, self.cancel)

    @work(thread=True, exclusive=True, exit_on_error=False, group="tool-sampling",
          description="measuring sampling rates")
    def run_sampling(self, states: list[str], rate: float, settings: dict, cancel: threading.Event) -> None:
        from ..engine.tools.sampling import find_sampling, load_states

        loaded = load_states(states, columns=settings["columns"], state_column=settings["state_column"])
        report = find_sampling(
            loaded, rate, max_decimation=settings["max_decimation"], min_buffer=settings["min_buffer"],
            max_buffer=settings["max_buffer"], cancel=cancel,
            progress=lambda done, total, text: self.post_message(SamplingProgressed(done, total, text)),
        )
        self.post_message(SamplingDone(report))

    def on_sampling_progressed(self, message: SamplingProgressed) -> None:
        if self.running:
            self.status(f"Measuring {message.done}/{message.total}: {message.text}…")

    def on_sampling_done(self, message: SamplingDone) -> None:
        report = self.report = message.report
        self.running = False
        several = report.mode == "separability"
        states = ", ".join(s["name"] for s in report.states)
        self.status(f"{len(report.states)} state(s): {states}"[:200], "bold")
        reason = Text()
        if report.recommended is not None:
            reason.append("Recommended: ", style="bold green")
        reason.append(report.reason)
        self.query_one("#sampling-reason", Static).update(reason)
        table = self.query_one("#sampling-table", DataTable)
        table.clear()
        for c in report.candidates:
            mark = Text("*", style="bold green") if c is report.recommended else ""
            if several and c.accuracy is not None:
                acc = f"{c.accuracy:.3f}"
            else:
                acc = "too few" if several and c.note.startswith("only") else "–"
            table.add_row(mark, f"{c.rate_hz:.4g}", str(c.buffer), _duration(c.duration_s),
                          f"{c.resolution_hz:.3g}", f"{c.energy_kept:.1%}", acc, str(c.buffers_per_state))
        self.query_one("#sampling-plot", PlotView).set_spec(sampling_spec(report))
        self.show_view("sampling-table")
        self.screen.refresh_bindings()
        self.notify("Sampling finder done: the table is ranked, best first.", title="Sampling finder")

    VIEWS = ("sampling-table", "sampling-plot")

    def has_result(self) -> bool:
        return self.report is not None

    def stop_work(self) -> None:
        if self.cancel is not None:
            self.cancel.set()


def _duration(seconds: float) -> str:
    return f"{seconds * 1000:.4g} ms" if seconds < 10 else f"{seconds:.4g} s"


def sampling_spec(report) -> PlotSpec:
    """Accuracy (several states) or energy kept (one) against the buffer's duration, one series per rate."""
    several = report.mode == "separability"
    by_rate: dict[float, list] = {}
    for c in report.candidates:
        value = c.accuracy if several else c.energy_kept
        if value is not None:
            by_rate.setdefault(c.rate_hz, []).append((c.duration_s * 1000, value))
    series = []
    for i, (rate, points) in enumerate(sorted(by_rate.items(), reverse=True)):
        points.sort()
        marker, style = class_marker(i)
        series.append(Series([x for x, _ in points], [y for _, y in points], f"{rate:g} Hz", marker=marker,
                             style=style))
    return PlotSpec(series, title="balanced accuracy" if several else "share of the power kept", x_label="ms",
                    x_log=True, y_limits=(0, 1), empty_text="No candidate could be measured.")


# -- datalogger -------------------------------------------------------------------------------------


class DataloggerPane(ToolPane):
    TOOL = "datalogger"
    TITLE = "Datalogger"
    PATH_FIELD = "folder"
    BROWSE_DIR = True
    HELP = (
        "Generate firmware that samples N axes at a rate into buffers and prints each buffer as one line in "
        "the Studio's format over a serial port: a C99 main.c for any Cortex-M project (fill in board_init(), "
        "with a timer calling datalogger_tick(), and read_sensor()) or an Arduino sketch (FOLDER/FOLDER.ino; "
        "fill in readSensor()). The source is shown once written. Existing files are kept unless Overwrite is "
        "ticked."
    )

    def compose(self) -> ComposeResult:
        from ..engine.tools.datalogger import BOARD_TITLES, BOARDS

        with Vertical(classes="tool-form"):
            yield field_row("Folder", Input(id="datalogger-folder", compact=True, suggester=PathSuggester(),
                                            placeholder="where to write the source (ctrl+o)"),
                            TickBox("Overwrite", id="datalogger-force", compact=True, classes="inline"))
            yield field_row("Board", Select([(BOARD_TITLES[b], b) for b in BOARDS], value="generic",
                                            allow_blank=False, id="datalogger-board", compact=True))
            yield field_row("Axes", short_input("3", id="datalogger-axes", kind="integer"),
                            inline("Rate Hz"), short_input("1000", id="datalogger-rate", kind="number"),
                            inline("Buffer"), short_input("256", id="datalogger-buffer", kind="integer"))
            yield field_row("Baud", short_input("115200", id="datalogger-baud", kind="integer"),
                            inline("Decimals"), short_input("6", id="datalogger-decimals", kind="integer"))
        yield Static(id="datalogger-status", classes="tool-status")
        with Vertical(classes="tool-result"):
            yield Static(id="datalogger-result")
            yield TextArea("", id="datalogger-source", read_only=True, show_line_numbers=False, soft_wrap=False,
                           compact=True)

    def on_mount(self) -> None:
        self.status("Enter (or ctrl+r) writes the source.")
        self.query_one("#datalogger-source").display = False

    def start(self) -> None:
        from ..engine.tools.datalogger import DataloggerOptions

        folder = self.field("folder")
        if not folder:
            raise UsageError("no folder given", "Type the folder to write the datalogger into (it is created).")

        def number(name: str, label: str) -> int:
            value = optional_int(self.field(name), label)
            if value is None:
                raise UsageError(f"{label} is missing", "Fill in every number of the form.")
            return value

        rate = optional_float(self.field("rate"), "the sampling rate", "Hz")
        if rate is None:
            raise UsageError("the sampling rate is missing", "Give it in Hz, e.g. 1000.")
        options = DataloggerOptions(
            axes=number("axes", "the number of axes"), rate_hz=rate, buffer=number("buffer", "the buffer size"),
            board=str(self.query_one("#datalogger-board", Select).value), baud=number("baud", "the baud rate"),
            decimals=number("decimals", "the decimals"),
        )
        self.running = True
        self.generate(self.path(folder), options, self.query_one("#datalogger-force", TickBox).value)

    @work(thread=True, exclusive=True, exit_on_error=False, group="tool-datalogger",
          description="writing the datalogger")
    def generate(self, folder: Path, options, force: bool) -> None:
        from ..engine.tools.datalogger import generate_datalogger

        result = generate_datalogger(folder, options, force=force)
        self.post_message(DataloggerGenerated(result, result.files[0].read_text(encoding="utf-8")))

    def on_datalogger_generated(self, message: DataloggerGenerated) -> None:
        from ..engine.tools.datalogger import describe

        result = message.result
        self.running = False
        self.status(f"Wrote {result.files[0]}", "bold green")
        self.query_one("#datalogger-result", Static).update(Text("\n".join(describe(result)[1:])))
        source = self.query_one("#datalogger-source", TextArea)
        source.load_text(message.source)
        source.display = True
        self.notify(str(result.files[0]), title="Datalogger written")


# -- data manipulation on signal files ------------------------------------------------------------

DATA_LAYOUTS = (("buffers", "buffers"), ("target 1st", "target-first"), ("1 sample", "multisensor"))
DATA_OPTION_ROWS = {"extract": "data-opts-extract", "shuffle": "data-opts-shuffle", "recut": "data-opts-recut",
                    "remove-columns": "data-opts-remove"}


class DataPane(ToolPane):
    TOOL = "data"
    TITLE = "Signal files"
    PATH_FIELD = "inputs"
    HELP = (
        "Work on signal files (one buffer per line, as a project imports them): extract lines (ranges such as "
        "1-100,250-, every k-th from a start line, N random ones with a seed), shuffle (seeded), re-cut the "
        "buffers to another size (axis-aware; a hop below the buffer overlaps; Continuous takes the lines as one "
        "recording so buffers may span lines), remove value columns or whole axes, concatenate files, preview. "
        "Axes and Layout say how to read the file. Each action writes a new file (blank Output: a name next to "
        "the input); an existing file is kept unless Overwrite is ticked, an input never. ctrl+n runs the next "
        "action on the result (it becomes the input); ctrl+t imports the result into a project; v switches "
        "between the report and a plot of its first line. Same as `neai data ACTION …`."
    )
    VIEWS = ("data-report", "data-plot")

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.result = None  # the last DataResult (a file written)
        self.previewed = False

    def compose(self) -> ComposeResult:
        from ..engine.tools.data_ops import ACTION_TITLES, ACTIONS

        with Vertical(classes="tool-form"):
            yield field_row("Action", Select([(ACTION_TITLES[a], a) for a in ACTIONS], value="recut",
                                             allow_blank=False, id="data-action", compact=True),
                            inline("Axes"), short_input("1", id="data-axes", kind="integer"),
                            inline("Layout"), Select(DATA_LAYOUTS, value="buffers", allow_blank=False,
                                                     id="data-layout", compact=True))
            yield field_row("Files", Input(id="data-inputs", compact=True, suggester=PathSuggester(),
                                           placeholder="signal file(s) (→ completes, ctrl+o)"))
            yield Static(id="data-format", classes="tool-note")
            yield field_row("Lines", Input(id="data-lines", compact=True, classes="mid", placeholder="1-100,250-"),
                            inline("Every"), short_input(id="data-every", kind="integer", placeholder="k"),
                            inline("From"), short_input(id="data-start", kind="integer", placeholder="1"),
                            inline("Random"), short_input(id="data-random", kind="integer", placeholder="N"),
                            id="data-opts-extract")
            yield field_row("Seed", short_input("0", id="data-seed", kind="integer"), id="data-opts-shuffle")
            yield field_row("Buffer", short_input("64", id="data-buffer", kind="integer"),
                            inline("Hop"), short_input(id="data-hop", kind="integer", placeholder="= buffer"),
                            TickBox("Continuous", id="data-continuous", compact=True, classes="inline"),
                            id="data-opts-recut")
            yield field_row("Columns", Input(id="data-columns", compact=True, classes="mid", placeholder="e.g. 1-3"),
                            inline("or axes"), Input(id="data-remove-axes", compact=True, classes="mid",
                                                     placeholder="e.g. 3"),
                            id="data-opts-remove")
            yield field_row("Output", Input(id="data-out", compact=True, suggester=PathSuggester(),
                                            placeholder="blank = a new name next to the input"),
                            TickBox("Overwrite", id="data-force", compact=True, classes="inline"), id="data-out-row")
        yield Static(id="data-status", classes="tool-status")
        with Vertical(classes="tool-result"):
            with VerticalScroll(id="data-report"):
                yield Static(id="data-result")
            yield PlotView(id="data-plot")

    def on_mount(self) -> None:
        self.status("Enter (or ctrl+r) runs the action; each writes a new file.")
        self.show_view("data-report")
        self.show_action_fields()

    @property
    def action_name(self) -> str:
        value = self.query_one("#data-action", Select).value
        return value if isinstance(value, str) else "recut"

    @property
    def file_layout(self) -> str:
        value = self.query_one("#data-layout", Select).value
        return value if isinstance(value, str) else "buffers"

    @on(Select.Changed, "#data-action")
    def show_action_fields(self) -> None:
        action = self.action_name
        for name, row in DATA_OPTION_ROWS.items():
            self.query_one(f"#{row}").display = name == action or (row == "data-opts-shuffle" and action == "extract")
        self.query_one("#data-out-row").display = action != "preview"

    @on(Input.Changed, "#data-inputs")
    @on(Input.Changed, "#data-axes")
    @on(Select.Changed, "#data-layout")
    def _inputs_changed(self) -> None:
        try:
            first = shlex.split(self.field("inputs"))[0] if self.field("inputs") else ""
        except ValueError:
            return
        if not first or not Path(first).expanduser().is_file():
            self.query_one("#data-format", Static).update("")
            return
        try:
            axes = optional_int(self.field("axes"), "the axes") or 1
        except UsageError:
            return
        self.inspect_file(first, axes, self.file_layout)

    @work(thread=True, exclusive=True, exit_on_error=False, group="inspect", description="reading the file")
    def inspect_file(self, path: str, axes: int, layout: str) -> None:
        from ..engine.errors import NeaiError
        from ..engine.tools.data_ops import preview

        try:
            self.post_message(DataFileInspected(path, preview(path, axes=axes, layout=layout, lines=0)))
        except (NeaiError, OSError) as exc:
            self.post_message(DataFileInspected(path, None, getattr(exc, "message", None) or str(exc)))

    def on_data_file_inspected(self, message: DataFileInspected) -> None:
        # A thread worker cannot be stopped mid-read: a reading started for the fields
        # as they were (another file, axes or layout) may report after a newer one.
        try:
            first = shlex.split(self.field("inputs"))[0] if self.field("inputs") else ""
            axes = optional_int(self.field("axes"), "the axes") or 1
        except (ValueError, UsageError):
            return
        if first != message.path or (message.preview is not None and (message.preview.axes, message.preview.layout)
                                     != (axes, self.file_layout)):
            return
        note = self.query_one("#data-format", Static)
        if message.preview is None:
            note.update(Text(message.error.split("\n")[0][:160], style="red"))
        else:
            from ..engine.tools.data_ops import shape_text

            p = message.preview
            note.update(Text(f"{Path(message.path).name}: {p.lines} lines × {p.values_per_line} values "
                             f"({shape_text(p.layout, p.values_per_line, p.axes)})"))

    def options(self) -> dict:
        axes = optional_int(self.field("axes"), "the number of axes") or 1
        opts: dict = {"axes": axes, "layout": self.file_layout}
        action = self.action_name
        if action == "extract":
            opts.update(lines=self.field("lines") or None, every=optional_int(self.field("every"), "every k-th"),
                        start=optional_int(self.field("start"), "the first line kept") or 1,
                        random=optional_int(self.field("random"), "the random line count"))
            if opts["random"] is not None:
                opts["seed"] = optional_int(self.field("seed"), "the seed") or 0
        elif action == "shuffle":
            opts["seed"] = optional_int(self.field("seed"), "the seed") or 0
        elif action == "recut":
            buffer = optional_int(self.field("buffer"), "the buffer size")
            if buffer is None:
                raise UsageError("the new buffer size is missing", "Give the samples per axis of a new line, e.g. 64.")
            opts.update(buffer=buffer, hop=optional_int(self.field("hop"), "the hop"),
                        continuous=self.query_one("#data-continuous", TickBox).value)
        elif action == "remove-columns":
            columns, axes_text = self.field("columns") or None, self.field("remove-axes") or None
            if (columns is None) == (axes_text is None):
                raise UsageError("fill in either Columns or Axes", "Columns: value positions such as 1-3; axes: 3.")
            opts.update(columns=columns, remove_axes=axes_text)
        return opts

    def default_out(self, first: str) -> Path:
        """A name that does not exist yet, next to the input: nominal_recut.csv, nominal_recut_2.csv…"""
        source = Path(first).expanduser()
        stem = f"{source.stem}_{self.action_name.replace('-columns', '')}"
        candidate = source.with_name(f"{stem}{source.suffix or '.csv'}")
        n = 2
        while candidate.exists():
            candidate = source.with_name(f"{stem}_{n}{source.suffix or '.csv'}")
            n += 1
        return candidate

    def start(self) -> None:
        inputs = split_paths(self.field("inputs"), "signal files")
        options = self.options()
        action = self.action_name
        out = None
        if action != "preview":
            out = Path(self.field("out")).expanduser() if self.field("out") else self.default_out(inputs[0])
            self.query_one("#data-out", Input).value = str(out)
        self.running = True
        self.status("Working…")
        self.run_data(action, inputs, out, options, self.query_one("#data-force", TickBox).value)

    @work(thread=True, exclusive=True, exit_on_error=False, group="tool-data", description="the data action")
    def run_data(self, action: str, inputs: list[str], out: Path | None, options: dict, force: bool) -> None:
        from ..engine.tools.data_ops import Preview, run_action

        result = run_action(action, inputs, out, options, force=force)
        if isinstance(result, Preview):
            first = result.first_lines[0] if result.first_lines else []
        else:
            with open(result.out, encoding="ascii") as handle:
                first = [float(v) for v in handle.readline().split()]
        self.post_message(DataActionDone(result, first))

    def on_data_action_done(self, message: DataActionDone) -> None:
        from ..engine.tools.data_ops import Preview, describe, describe_preview

        result = message.result
        self.running = False
        if isinstance(result, Preview):
            self.previewed = True
            lines = describe_preview(result, width=6)
            self.status(f"{result.path.name}: {result.lines} lines × {result.values_per_line} values.", "bold")
            body: list[RenderableType] = [Text(line) for line in lines[1:]]
            shape = (result.axes, result.layout, result.lines)
        else:
            self.result = result
            self.status(f"Wrote {result.out.name}: {result.lines} lines. ctrl+n: next action on it; ctrl+t: import "
                        "into a project.", "bold green")
            body = [Text(line) for line in describe(result)[1:]]
            shape = (result.axes, result.layout, result.lines)
            self.notify(f"{result.out}: {result.lines} lines × {result.values_per_line} values.", title="Written")
        body += warnings_text(result.warnings)
        self.query_one("#data-result", Static).update(Group(*body))
        axes, layout, n_lines = shape
        plot = self.query_one("#data-plot", PlotView)
        if layout == "multisensor" or not message.first_line:
            plot.set_spec(PlotSpec(empty_text="A Multi-sensor file holds one sample per line: no buffer to draw."))
        else:
            offset = 1 if layout == "target-first" else 0
            buffer = message.first_line[offset:]
            xs = list(range(len(buffer) // max(1, axes)))
            series = []
            for a in range(axes):
                marker, style = class_marker(a)
                series.append(Series(xs, buffer[a::axes], f"axis {a + 1}", marker=marker, style=style))
            plot.set_spec(PlotSpec(series, title=f"line 1 of {n_lines}", x_label="sample"))
        self.show_view("data-report")
        self.screen.refresh_bindings()

    def has_result(self) -> bool:
        return self.result is not None or self.previewed



    # -- chaining and importing ---------------------------------------------------------------------
    def chain(self) -> None:
        """The result becomes the input of the next action."""
        if self.result is None:
            self.notify("Run an action that writes a file first.", severity="warning")
            return
        result = self.result
        self.query_one("#data-inputs", Input).value = shlex.quote(str(result.out))
        self.query_one("#data-axes", Input).value = str(result.axes)
        self.query_one("#data-layout", Select).value = result.layout
        self.query_one("#data-out", Input).value = ""
        self.query_one("#data-force", TickBox).value = False
        self.status(f"Input: {result.out.name}. Choose the next action, then enter.", "bold")
        self.query_one("#data-action", Select).focus()

    def import_result(self) -> None:
        if self.result is None:
            self.notify("Run an action that writes a file first.", severity="warning")
            return
        project = getattr(self.screen, "project", None)

        def chosen(choice) -> None:
            if choice is not None:
                self.do_import(*choice)

        self.app.push_screen(ImportResultScreen(self.result.out, self.app.workspace,  # type: ignore[attr-defined]
                                                project.path if project is not None else None), chosen)

    @work(thread=True, exclusive=True, exit_on_error=False, group="tool-data-import",
          description="importing the result")
    def do_import(self, project_dir: Path, request) -> None:
        from ..engine.project import Project

        # A project open in the app is imported into through its own object, so its screen sees the signal.
        screen = getattr(self.app, "project_screens", {}).get(Path(project_dir).resolve())
        project = screen.project if screen is not None else Project.open(project_dir)
        entry = project.import_signal(request.path, role=request.role, class_name=request.class_name,
                                      couple=request.couple, sep="space")
        self.post_message(DataResultImported(project.settings.name, entry, screen))

    def on_data_result_imported(self, message: DataResultImported) -> None:
        entry = message.entry
        self.status(f"Imported into {message.project} as {entry.id} ({entry.label()}): {entry.lines} lines.",
                    "bold green")
        self.notify(f"{entry.file} ({entry.label()})", title=f"Imported into {message.project}")
        if message.screen is not None and hasattr(message.screen, "project_changed"):
            message.screen.project_changed()


class ImportResultScreen(Dialog):
    """Which project (the open one first), and by its type the role and couple or the class."""

    DEFAULT_CSS = """
    ImportResultScreen #import-anomaly, ImportResultScreen #import-nclass { height: auto; }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="import_result.cancel"),
        Binding("ctrl+s", "submit", "Import", id="import_result.submit"),
    ]

    def __init__(self, path: Path, workspace, current: Path | None = None) -> None:
        super().__init__()
        self.path = path
        self.summaries = [s for s in workspace.list_projects() if not s.error]
        if current is not None and not any(Path(s.path).resolve() == Path(current).resolve() for s in self.summaries):
            from ..engine.project import Project, ProjectSummary

            p = Project.open(current)
            self.summaries.insert(0, ProjectSummary(Path(current), p.settings.name, p.settings.type, p.settings.axes,
                                                    p.settings.multisensor, p.settings.target, len(p.signals), 0))
        self.current = str(Path(current).resolve()) if current is not None else None

    def compose(self) -> ComposeResult:
        from ..engine.project import TYPE_TITLES

        options = [(f"{s.name}  ({TYPE_TITLES.get(s.type, s.type)}, {s.axes} axes)", str(Path(s.path).resolve()))
                   for s in self.summaries]
        value = self.current if self.current in [v for _, v in options] else (options[0][1] if options else None)
        with Vertical(id="dialog", classes="form-dialog"):
            yield Label(f"Import {self.path.name} into a project", id="dialog-title")
            if options:
                yield field_row("Project", Select(options, value=value, allow_blank=False, id="import-project",
                                                  compact=True))
            else:
                yield Static("No project in the workspace yet: create one on the home screen (n).",
                             classes="dialog-note")
            with Vertical(id="import-anomaly"):
                yield from import_fields("anomaly")
            with Vertical(id="import-nclass"):
                yield from import_fields("n-class")
            yield Static("The file is checked and copied into the project; it stays where it is.",
                         classes="dialog-note")
            with Horizontal(classes="buttons"):
                yield Button("Import (ctrl+s)", id="import", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.show_fields()
        try:
            self.query_one("#import-project", Select).focus()
        except NoMatches:
            self.query_one("#cancel", Button).focus()
        role = guess_role(str(self.path))
        if role is not None:
            self.query_one("#role", Select).value = role

    def project_type(self) -> str:
        try:
            value = str(self.query_one("#import-project", Select).value)
        except NoMatches:
            return ""
        return next((s.type for s in self.summaries if str(Path(s.path).resolve()) == value), "")

    @on(Select.Changed, "#import-project")
    def show_fields(self) -> None:
        kind = self.project_type()
        self.query_one("#import-anomaly").display = kind == "anomaly"
        self.query_one("#import-nclass").display = kind == "n-class"

    @on(Button.Pressed, "#import")
    @on(Input.Submitted)
    def action_submit(self) -> None:
        try:
            folder = Path(str(self.query_one("#import-project", Select).value))
        except NoMatches:
            self.dismiss(None)
            return
        try:
            request = read_import_fields(self, self.project_type(), ImportRequest(str(self.path)))
        except NeaiError as exc:
            self.show_error("Cannot import", exc)
            return
        self.dismiss((folder, request))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


# -- the screen --------------------------------------------------------------------------------------

PANES: tuple[type[ToolPane], ...] = (ReshapePane, SamplingPane, DataloggerPane, DataPane)


class ToolsScreen(NeaiScreen):
    """The three tools, one tab each."""

    DEFAULT_CSS = """
    ToolsScreen #tools-tabs { height: 1fr; }
    ToolsScreen .tool-pane { height: 1fr; }
    ToolsScreen .tool-form { height: auto; }
    ToolsScreen .tool-note { color: $text-muted; height: auto; max-height: 3; padding-left: 14; }
    ToolsScreen .tool-status { height: auto; max-height: 2; margin-top: 1; }
    ToolsScreen .tool-result { height: 1fr; }
    ToolsScreen .tool-reason { height: auto; max-height: 5; }
    ToolsScreen .field Input.short { width: 9; }
    ToolsScreen .field Input.mid { width: 16; }
    ToolsScreen .field TickBox.inline { width: auto; margin-left: 1; }
    ToolsScreen .field Select { width: 40; }
    ToolsScreen .inline-label { width: auto; padding: 0 1 0 2; }
    ToolsScreen #reshape-plot { height: 12; }
    ToolsScreen #sampling-table { height: 1fr; }
    ToolsScreen #sampling-plot { height: 1fr; }
    ToolsScreen #datalogger-source { height: 1fr; }
    ToolsScreen #data-plot { height: 1fr; }
    ToolsScreen #data-layout { width: 14; }
    ToolsScreen #data-action { width: 26; }
    """
    HELP = (
        "The Studio's tools, for your data before a project exists. 1 data manipulation (recordings to a "
        "signal file), 2 sampling finder (which rate and buffer size), 3 datalogger (firmware that prints "
        "buffers over a serial port), 4 signal files (extract, shuffle, re-cut, remove columns, concatenate, "
        "preview; ctrl+n chains, ctrl+t imports into a project). Tab moves between fields, enter in a field (or ctrl+r) runs the tool, "
        "ctrl+o browses for the path field; escape leaves the form, then the screen. The same tools are "
        "`neai tools reshape|sampling|datalogger` and `neai data ACTION` on the command line."
    )
    BINDINGS = [
        *(Binding(str(n), f"tool('{key}')", title, id=f"tools.{key}", group=TOOL_KEYS)
          for n, (key, title) in enumerate(TOOLS, start=1)),
        Binding("ctrl+r", "run", "Run", id="tools.run"),
        Binding("ctrl+o", "browse", "Browse", id="tools.browse"),
        Binding("v", "view", "View", id="tools.view"),
        Binding("ctrl+n", "chain", "Next action", id="tools.chain"),
        Binding("i", "import_result", "Import into project", id="tools.import"),
        Binding("ctrl+t", "import_result", "Import into project", id="tools.import_ctrl", show=False),
        Binding("escape", "back", "Back", id="tools.back"),
    ]

    def __init__(self, project=None, *, reshape_inputs: str | None = None, on_import=None) -> None:
        """`project`: opened from a project (its fields remembered, paths relative to
        its folder, the rate its rate, i imports a result; a Signal files result
        imports into it first); `reshape_inputs`: a file to cut (an import that
        failed); `on_import(ImportRequest)`: imports a reshape result into it."""
        super().__init__()
        self.project = project
        self.reshape_inputs = reshape_inputs
        self.on_import = on_import

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="tools-tabs"):
            for n, pane in enumerate(PANES, start=1):
                with TabPane(f"{n} {pane.TITLE}", id=f"{pane.TOOL}-tab"):
                    yield pane()
        yield KeyBar()

    def on_mount(self) -> None:
        self.title = "Tools" if self.project is None else f"Tools — {self.project.settings.name}"
        self.sub_title = "the data tools"  # the tab bar names them: a longer title is cut at 80 columns
        if self.project is not None:
            self.restore_fields()
        if self.reshape_inputs:
            self.query_one("#reshape-inputs", Input).value = shlex.quote(self.reshape_inputs)
        self.call_after_refresh(self.focus_form)

    # -- a project's tools ------------------------------------------------------------------------
    def form_fields(self):
        for widget in self.query(".tool-form Input, .tool-form TickBox"):
            if widget.id:
                yield widget

    def restore_fields(self) -> None:
        from ..engine.tool_memory import load_fields
        from ..widgets.suggest import PathSuggester

        remembered = load_fields(self.project)
        for widget in self.form_fields():
            if widget.id in remembered:
                value = remembered[widget.id]
                if isinstance(widget, TickBox) and isinstance(value, bool):
                    widget.value = value
                elif isinstance(widget, Input) and isinstance(value, str):
                    widget.value = value
            if isinstance(widget, Input) and isinstance(widget.suggester, PathSuggester):
                widget.suggester.base = self.project.path
                widget.placeholder = f"relative to {self.project.path.name}/ (→ completes, ctrl+o)"
        rate = (self.project.settings.frequency_filter or {}).get("sampling_rate_hz")
        for field_id in ("reshape-rate", "sampling-rate", "datalogger-rate"):
            field = self.query_one(f"#{field_id}", Input)
            if rate and not field.value.strip():  # the project's rate where none was typed
                field.value = f"{rate:g}"

    def remember_fields(self) -> None:
        if self.project is None:
            return
        from ..engine.tool_memory import save_fields

        try:
            save_fields(self.project, {w.id: w.value for w in self.form_fields()})
        except OSError:
            pass  # a read-only project: the fields are simply not remembered

    def project_changed(self) -> None:
        screen = getattr(self.app, "project_screens", {}).get(Path(self.project.path).resolve())
        if screen is not None:
            screen.project_changed()

    def action_import_result(self) -> None:
        from .dialogs import ImportScreen

        if self.current == "data":
            self.query_one(DataPane).import_result()
            return
        pane = self.pane("reshape")
        if self.project is None or pane.result is None or self.on_import is None:
            return

        def chosen(request) -> None:
            if request is not None:
                self.on_import(request)
                self.notify(f"Importing {Path(request.path).name} into {self.project.settings.name}…",
                            title="Import")

        self.app.push_screen(ImportScreen(self.project.settings.type, str(pane.result.out)), chosen)

    @property
    def current(self) -> str:
        active = self.query_one("#tools-tabs", TabbedContent).active or "reshape-tab"
        return active.removesuffix("-tab")

    def pane(self, tool: str | None = None) -> ToolPane:
        return self.query_one(f"#{tool or self.current}-pane", ToolPane)

    def focus_form(self) -> None:
        self.pane().query_one(f"#{self.current}-{self.pane().PATH_FIELD}", Input).focus()

    def action_tool(self, tool: str) -> None:
        # The focus stays out of the form (on the tab bar): number keys go on picking
        # tools, and typing cannot overwrite a field; tab or enter moves into the form.
        tabs = self.query_one("#tools-tabs", TabbedContent)
        tabs.active = f"{tool}-tab"
        tabs.query_one(Tabs).focus()

    @on(TabbedContent.TabActivated, "#tools-tabs")
    def _tab_changed(self) -> None:
        self.refresh_bindings()

    def action_run(self) -> None:
        self.pane().action_run()

    def action_browse(self) -> None:
        self.pane().browse()

    def action_view(self) -> None:
        self.pane().next_view()

    def action_chain(self) -> None:
        if self.current != "data":
            self.query_one("#tools-tabs", TabbedContent).active = "data-tab"
        self.query_one(DataPane).chain()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "import_result":
            try:
                pane = self.pane()
            except NoMatches:  # still mounting
                return None
            if isinstance(pane, DataPane):
                return True if pane.result is not None else None
            if self.project is None or self.current != "reshape":
                return False
            return True if pane.result is not None else None
        if action == "view":
            try:
                pane = self.pane()
            except NoMatches:  # still mounting
                return None
            return (True if pane.has_result() else None) if pane.VIEWS else False
        if action == "chain":
            try:
                pane = self.pane()
            except NoMatches:
                return None
            if not isinstance(pane, DataPane):
                return False
            return True if pane.result is not None else None
        return True

    def action_back(self) -> None:
        tabs = self.query_one("#tools-tabs", TabbedContent)
        tab_bar = tabs.query_one(Tabs)
        if self.focused is not None and self.focused is not tab_bar:
            tab_bar.focus()
            return
        self.stop_work()
        self.remember_fields()
        self.app.pop_screen()

    def stop_work(self) -> None:
        for pane in self.query(ToolPane):
            pane.stop_work()

    def key_order(self, binding: Binding) -> int:
        order = ["tools.reshape", "tools.sampling", "tools.datalogger", "tools.data", "tools.run", "tools.browse",
                 "tools.view", "tools.chain", "tools.import"]
        return order.index(binding.id) if binding.id in order else 100

    def palette_commands(self) -> list[tuple[str, str, object]]:
        commands: list[tuple[str, str, object]] = [
            (f"Tools: {title}", f"key {n}", lambda key=key: self.action_tool(key))
            for n, (key, title) in enumerate(TOOLS, start=1)
        ]
        commands += [
            ("Tools: run", "Run the tool shown (ctrl+r)", self.action_run),
            ("Tools: browse", "Choose the path field's file or folder (ctrl+o)", self.action_browse),
            ("Tools: next action on the result", "Signal files: the result becomes the input (ctrl+n)",
             self.action_chain),
            ("Tools: import the result", "Reshape or Signal files: import the file just written, with its role "
             "or class (i)", self.action_import_result),
            ("Home", "Back to the workspace's projects", self.app.pop_screen),
        ]
        return commands
