"""Step 2: signal files — import (file or serial port), checks with advice, previews, FFT,
frequency filter settings."""
from __future__ import annotations

import os
import threading
from typing import Any

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, DataTable, Input, Label, OptionList, Select, Static, TabbedContent, TabPane
from textual.widgets.option_list import Option

from ..engine.errors import NeaiError
from ..engine.project import TYPE_TITLES, Project
from ..messages import (
    CaptureFinished,
    CaptureProgressed,
    ChecksDone,
    ImportNeedsReshape,
    PreviewReady,
    SettingsSaved,
    SignalImported,
    SignalRemoved,
)
from ..widgets.keybar import KeyBar
from ..widgets.table import Table
from ..widgets.format import format_duration, format_number, optional_float, optional_int, tui_hint
from ..widgets.forms import field_row
from ..widgets.plot import BRAILLE, Band, PlotSpec, PlotView, Series
from .base import StepPane
from .dialogs import ConfirmScreen, Dialog, ImportRequest, ImportScreen, import_fields, read_import_fields

VIEWS = ("checks-tab", "preview-tab", "spectrum-tab")


def problems_text(problems: list[Any], project: Project, *, header: str = "") -> list[RenderableType]:
    """Each finding: its severity and place, then its message and fix indented under
    it (wrapped lines keep the indent, so findings stay apart at 80 columns)."""
    prefix = str(project.path) + os.sep
    out: list[RenderableType] = [Text(header, style="bold")] if header else []
    for p in problems:
        error = p.severity == "error"
        line = Text("✗ error  " if error else "! warning  ", style="bold red" if error else "bold yellow")
        line.append(p.location().replace(prefix, ""), style="bold")
        out.append(line)
        out.append(Padding(Text(p.message), (0, 0, 0, 2)))
        if p.hint:
            out.append(Padding(Text(f"Fix: {tui_hint(p.hint)}", style="italic"), (0, 0, 0, 2)))
    return out


class SignalsPane(StepPane):
    STEP = "signals"
    TITLE = "Signals"
    HELP = (
        "The project's signal files. Import from a file (i; ctrl+o in the dialog browses folders) or "
        "record from a serial port (c). The table's highlighted file shows its checks and advice, a "
        "preview per axis (mean line, min–max band, ±1 standard deviation along the buffer) and its "
        "spectrum (v switches view, a the axis). o runs the optional checks. F sets the frequency "
        "filter settings, which are stored with the project (the benchmark does not apply them yet)."
    )
    KEYS = [
        Binding("i", "import_file", "Import file"),
        Binding("c", "capture", "Serial port"),
        Binding("o", "optional_checks", "Optional checks"),
        Binding("v", "next_view", "View"),
        Binding("a", "next_axis", "Axis"),
        Binding("F", "frequency_filter", "Freq. filter"),
        Binding("x", "remove_file", "Remove"),
    ]

    def __init__(self, project: Project, **kwargs) -> None:
        super().__init__(project, **kwargs)
        self.problems: list[Any] | None = None
        self.optional = False
        self.axis = 0
        self.previews: dict[str, Any] = {}
        self.spectra: dict[str, Any] = {}

    def compose(self) -> ComposeResult:
        yield self.title_label()
        table = Table(id="signals-table", cursor_type="row", zebra_stripes=True)
        # The file name last: the longest and least needed column is the one cut at 80 columns.
        table.add_columns("ID", "Checks", "Lines", "Values", "Role / class", "File")
        yield table
        yield Static(id="signals-empty", classes="pane-note")
        with TabbedContent(id="signals-views"):
            with TabPane("Checks", id="checks-tab"):
                with VerticalScroll(id="checks-scroll"):
                    yield Static("Checking…", id="checks")
            with TabPane("Preview", id="preview-tab"):
                yield PlotView(id="preview-plot")
            with TabPane("Spectrum", id="spectrum-tab"):
                yield PlotView(id="spectrum-plot")

    def on_mount(self) -> None:
        self.show_project()
        self.run_checks(optional=False)

    # -- files ---------------------------------------------------------------------------
    def show_project(self) -> None:
        table = self.query_one("#signals-table", DataTable)
        current = self.highlighted_id()
        table.clear()
        for s in self.project.signals:
            status = self._file_status(s)
            table.add_row(s.id, status, str(s.lines), str(s.values_per_line), s.label(), os.path.basename(s.file),
                          key=s.id)
        ids = [s.id for s in self.project.signals]
        if current in ids:
            table.move_cursor(row=ids.index(current))
        empty = self.query_one("#signals-empty", Static)
        empty.display = not self.project.signals
        empty.update(Text("No signal file yet: press i to import one, or c to record from a serial port."))
        table.display = bool(self.project.signals)

    def _file_status(self, entry) -> Text:
        if self.problems is None:
            return Text("…", style="dim")
        path = str(self.project.signal_path(entry))
        mine = [p for p in self.problems if p.file == path]
        errors = sum(p.severity == "error" for p in mine)
        if errors:
            return Text(f"✗ {errors} err", style="bold red")
        if mine:
            return Text(f"! {len(mine)} warn", style="yellow")
        return Text("✓ ok", style="green")

    def highlighted_id(self) -> str | None:
        table = self.query_one("#signals-table", DataTable)
        if not table.row_count:
            return None
        try:
            return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        except Exception:  # noqa: BLE001 - no row under the cursor
            return None

    def check_key(self, action: str) -> bool | None:
        if action in ("remove_file", "next_axis") and not self.project.signals:
            return None
        return True

    def refuse_second_file(self) -> bool:
        """1-class and extrapolation projects take one file. Their import keys stay
        live, so that pressing one says why nothing is imported."""
        kind = self.project.settings.type
        if kind in ("one-class", "extrapolation") and self.project.signals:
            self.notify(f"A {TYPE_TITLES[kind]} project takes one file; remove it first (x).", severity="warning")
            return True
        return False

    @on(DataTable.RowHighlighted, "#signals-table")
    def _row_highlighted(self) -> None:
        self.show_checks()
        self.show_view()

    def action_import_file(self) -> None:
        if self.refuse_second_file():
            return

        def imported(request: ImportRequest | None) -> None:
            if request is not None:
                self.import_signal(request)

        self.app.push_screen(ImportScreen(self.project.settings.type, base=self.project.path), imported)

    @work(thread=True, exclusive=True, exit_on_error=False, group="import", description="importing signals")
    def import_signal(self, request: ImportRequest) -> None:
        from ..engine.errors import InputError
        from ..engine.tool_memory import resolve_in

        try:
            entry = self.project.import_signal(
                resolve_in(self.project.path, request.path), role=request.role, class_name=request.class_name,
                couple=request.couple,
            )
        except InputError as exc:
            if "tools reshape" not in exc.hint and "tools reshape" not in exc.message:
                raise
            self.post_message(ImportNeedsReshape(str(resolve_in(self.project.path, request.path)), exc))
            return
        self.post_message(SignalImported(entry))

    def on_import_needs_reshape(self, message: ImportNeedsReshape) -> None:
        from ..app import describe_failure

        _, text = describe_failure(message.error)

        def answered(yes: bool | None) -> None:
            if yes:
                self.screen.action_tools("reshape", message.path)

        self.app.push_screen(ConfirmScreen(
            "Cannot import: recordings, not signals",
            f"{text}\n\nOpen the data manipulation tool with this file filled in? It cuts the recording into "
            "buffers; i there imports the result into this project.",
            "Open the tool",
        ), answered)

    def on_signal_imported(self, message: SignalImported) -> None:
        entry = message.entry
        note = f"{entry.file}: {entry.lines} lines of {entry.values_per_line} values."
        if entry.warnings:  # the Checks view below lists them, with their fixes
            note += f" {len(entry.warnings)} warning(s): see Checks."
        self.notify(note + (f" {message.note}" if message.note else ""), title="Imported",
                    severity="warning" if entry.warnings else "information")
        self.previews.clear()
        self.spectra.clear()
        self.project_changed()
        table = self.query_one("#signals-table", DataTable)
        table.move_cursor(row=len(self.project.signals) - 1)

    def project_changed(self) -> None:
        screen = self.screen
        if hasattr(screen, "project_changed"):
            screen.project_changed()
        else:
            self.show_project()
        self.run_checks(optional=False)

    def action_capture(self) -> None:
        if self.refuse_second_file():
            return

        def done(entry) -> None:
            if entry is not None:
                self.post_message(SignalImported(entry, "Recorded from the serial port."))

        self.app.push_screen(SerialCaptureScreen(self.project), done)

    def action_remove_file(self) -> None:
        signal_id = self.highlighted_id()
        entry = next((s for s in self.project.signals if s.id == signal_id), None)
        if entry is None:
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.remove_signal(entry.id)

        self.app.push_screen(
            ConfirmScreen(
                "Remove a signal file",
                f"Remove {entry.id} ({os.path.basename(entry.file)}, {entry.label()}) from the project?\n"
                f"The project's copy is deleted; your original ({entry.original}) is not touched.",
                "Remove",
            ),
            confirmed,
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="import", description="removing a signal file")
    def remove_signal(self, signal_id: str) -> None:
        self.project.remove_signal(signal_id)
        self.post_message(SignalRemoved(signal_id))

    def on_signal_removed(self, message: SignalRemoved) -> None:
        self.previews.pop(message.signal_id, None)
        self.spectra.pop(message.signal_id, None)
        self.notify(f"{message.signal_id} removed.", title="Signals")
        self.project_changed()

    # -- checks ----------------------------------------------------------------------------
    def action_optional_checks(self) -> None:
        self.run_checks(optional=True)
        self.query_one("#signals-views", TabbedContent).active = "checks-tab"

    def run_checks(self, optional: bool) -> None:
        self.problems = None
        self.show_checks()
        self.check_project(optional)

    @work(thread=True, exclusive=True, exit_on_error=False, group="checks", description="checking signals")
    def check_project(self, optional: bool) -> None:
        self.post_message(ChecksDone(self.project.check(optional=optional), optional))

    def on_checks_done(self, message: ChecksDone) -> None:
        self.problems = message.problems
        self.optional = message.optional
        self.show_project()
        self.show_checks()

    def show_checks(self) -> None:
        checks = self.query_one("#checks", Static)
        if self.problems is None:
            checks.update(Text("Checking…", style="dim"))
            return
        problems = self.problems
        signal_id = self.highlighted_id()
        entry = next((s for s in self.project.signals if s.id == signal_id), None)
        files = {str(self.project.signal_path(s)) for s in self.project.signals}
        general = [p for p in problems if p.file not in files]
        out: list[RenderableType] = []
        if entry is not None:
            path = str(self.project.signal_path(entry))
            mine = [p for p in problems if p.file == path]
            title = Text(f"{entry.id} {os.path.basename(entry.file)}: {entry.lines} lines × {entry.values_per_line} "
                         "values", style="bold")
            title.append(f"  ({entry.label()})", style="")
            out.append(title)
            if mine:
                out += problems_text(mine, self.project)
            else:
                out.append(Text("✓ The blocking checks pass" + (" and the optional ones too" if self.optional else "")
                                + ".", style="green"))
        if general:
            out.append(Text(""))
            out += problems_text(general, self.project, header="Project")
        errors = sum(1 for p in problems if p.severity == "error")
        verdict = "the benchmark cannot start yet." if errors else "the benchmark can start."
        summary = Text(f"All files: {errors} error(s), {len(problems) - errors} warning(s): {verdict}", style="bold")
        if not self.optional:
            summary.append("  o runs the optional checks.", style="dim")
        out += [Text(""), summary]
        checks.update(Group(*out))

    # -- previews --------------------------------------------------------------------------
    def action_next_view(self) -> None:
        tabs = self.query_one("#signals-views", TabbedContent)
        current = tabs.active if tabs.active in VIEWS else VIEWS[0]
        tabs.active = VIEWS[(VIEWS.index(current) + 1) % len(VIEWS)]

    def action_next_axis(self) -> None:
        self.axis = (self.axis + 1) % max(1, self.project.settings.axes)
        tabs = self.query_one("#signals-views", TabbedContent)
        if tabs.active == "checks-tab":
            tabs.active = "preview-tab"
        self.show_view()

    @on(TabbedContent.TabActivated, "#signals-views")
    def _view_changed(self) -> None:
        self.show_view()

    def show_view(self) -> None:
        tabs = self.query_one("#signals-views", TabbedContent)
        if tabs.active not in ("preview-tab", "spectrum-tab"):
            return
        signal_id = self.highlighted_id()
        plot_id = "#preview-plot" if tabs.active == "preview-tab" else "#spectrum-plot"
        plot = self.query_one(plot_id, PlotView)
        if signal_id is None:
            plot.set_spec(PlotSpec(empty_text="Import a signal file to preview it."))
            return
        cache = self.previews if tabs.active == "preview-tab" else self.spectra
        if signal_id not in cache:
            plot.set_spec(PlotSpec(empty_text="Computing…"))
            self.load_preview(signal_id, spectrum=tabs.active == "spectrum-tab")
            return
        data = cache[signal_id]
        if isinstance(data, str):
            plot.set_spec(PlotSpec(empty_text=data))
        elif tabs.active == "preview-tab":
            plot.set_spec(preview_spec(data, self.axis, self.project.settings.multisensor))
        else:
            plot.set_spec(spectrum_spec(data, self.axis))

    @work(thread=True, exclusive=True, exit_on_error=False, group="preview", description="preparing the preview")
    def load_preview(self, signal_id: str, spectrum: bool) -> None:
        from ..engine import preview

        kind = "spectrum" if spectrum else "preview"
        try:
            data = preview.spectrum(self.project, signal_id) if spectrum else preview.signal_preview(self.project, signal_id)
        except NeaiError as exc:
            self.post_message(PreviewReady(signal_id, kind, None, exc.message))
            return
        self.post_message(PreviewReady(signal_id, kind, data))

    def on_preview_ready(self, message: PreviewReady) -> None:
        cache = self.spectra if message.kind == "spectrum" else self.previews
        cache[message.signal_id] = message.error or message.data
        self.show_view()

    # -- frequency filter ----------------------------------------------------------------------
    def action_frequency_filter(self) -> None:
        def chosen(settings: dict | None) -> None:
            if settings is not None:
                self.save_filter(settings)

        self.app.push_screen(FrequencyFilterScreen(self.project.settings.frequency_filter or {}), chosen)

    @work(thread=True, exclusive=True, exit_on_error=False, group="settings", description="saving the filter settings")
    def save_filter(self, settings: dict) -> None:
        value = settings if any(v is not None for v in settings.values()) else None
        self.post_message(SettingsSaved(self.project.update_settings(frequency_filter=value)))

    def on_settings_saved(self, message: SettingsSaved) -> None:
        self.spectra.clear()  # the spectrum's axis is in Hz once the sampling rate is known
        self.notify("Frequency filter settings saved with the project (the benchmark does not apply them yet).",
                    title="Signals")
        screen = self.screen
        if hasattr(screen, "project_changed"):
            screen.project_changed()
        self.show_view()


def preview_spec(preview, axis: int, multisensor: bool = False) -> PlotSpec:
    curve = preview.axes[axis % len(preview.axes)]
    xs = preview.x
    upper = [m + s for m, s in zip(curve.mean, curve.std)]
    lower = [m - s for m, s in zip(curve.mean, curve.std)]
    return PlotSpec(
        series=[
            Series(xs, upper, "±1 std", marker="·", style="yellow"),
            Series(xs, lower, marker="·", style="yellow"),
            Series(xs, curve.mean, "mean", marker=BRAILLE, style="cyan", lines=True),
        ],
        bands=[Band(xs, curve.minimum, curve.maximum, "min–max")],
        title=f"{preview.signal_id} {curve.name}: {preview.lines} lines",
        x_label=preview.x_label,
        note=f"a: next {'variable' if multisensor else 'axis'}",
    )


def spectrum_spec(spectrum, axis: int) -> PlotSpec:
    index = axis % len(spectrum.magnitudes)
    rate = f", {format_number(spectrum.sampling_rate_hz)} Hz sampling" if spectrum.sampling_rate_hz else ""
    return PlotSpec(
        series=[Series(spectrum.frequencies, spectrum.magnitudes[index], "mean |FFT|", marker=BRAILLE, style="cyan",
                       lines=True)],
        title=f"{spectrum.signal_id} {spectrum.axis_names[index]}: spectrum{rate}",
        x_label=spectrum.x_label,
        note="" if spectrum.sampling_rate_hz else "F sets the sampling rate (Hz axis)",
    )


class FrequencyFilterScreen(Dialog):
    """Sampling rate and band cut-offs; dismisses with the settings dict, or None."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="filter.cancel"),
        Binding("ctrl+s", "save", "Save", id="filter.save"),
    ]

    def __init__(self, current: dict) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        def value(key: str) -> str:
            v = self.current.get(key)
            return "" if v is None else format_number(v)

        with Vertical(id="dialog", classes="form-dialog"):
            yield Label("Frequency filter", id="dialog-title")
            yield field_row("Sampling Hz", Input(value("sampling_rate_hz"), type="number", id="rate",
                                                 placeholder="the sensor's data rate", compact=True))
            yield field_row("Low cut Hz", Input(value("low_hz"), type="number", id="low", placeholder="blank = none",
                                                compact=True))
            yield field_row("High cut Hz", Input(value("high_hz"), type="number", id="high",
                                                 placeholder="blank = none", compact=True))
            yield Static(
                "With a cut-off, benchmarks started from now on filter every buffer (2nd-order Butterworth "
                "high-pass at the low cut-off, low-pass at the high one), and their libraries filter their input "
                "the same way. The sampling rate alone only labels the spectrum in Hz. Blank all three to clear.",
                classes="dialog-note",
            )
            with Horizontal(classes="buttons"):
                yield Button("Save", id="save", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#rate", Input).focus()

    @on(Button.Pressed, "#save")
    @on(Input.Submitted)
    def action_save(self) -> None:
        from ..engine.project import validate_frequency_filter

        try:
            settings = {
                "sampling_rate_hz": optional_float(self.query_one("#rate", Input).value, "the sampling rate", "Hz"),
                "low_hz": optional_float(self.query_one("#low", Input).value, "the low cut-off", "Hz"),
                "high_hz": optional_float(self.query_one("#high", Input).value, "the high cut-off", "Hz"),
            }
            validate_frequency_filter(settings)
        except NeaiError as exc:
            self.show_error("Cannot use these settings", exc)
            return
        self.dismiss(settings)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class SerialCaptureScreen(Dialog):
    """Record lines from a serial port, then import them; dismisses with the entry, or None."""

    BINDINGS = [
        Binding("escape", "close", "Close / stop", id="capture.close"),
        Binding("ctrl+s", "start", "Start", id="capture.start"),
        Binding("ctrl+t", "stop", "Stop and import", id="capture.stop"),
        Binding("ctrl+r", "rescan", "Rescan ports", id="capture.rescan"),
    ]

    def __init__(self, project: Project) -> None:
        super().__init__()
        self.project = project
        self.cancel: threading.Event | None = None

    def compose(self) -> ComposeResult:
        from ..engine.serial_capture import BAUD_RATES, DEFAULT_BAUD

        with Vertical(id="dialog", classes="form-dialog"):
            yield Label("Record signals from a serial port", id="dialog-title")
            yield field_row("Port", Input(id="port", placeholder="e.g. /dev/ttyACM0 (↓ lists the ports)", compact=True))
            yield OptionList(id="ports", compact=True)
            yield field_row("Baud rate", Select([(str(b), b) for b in BAUD_RATES], value=DEFAULT_BAUD,
                                                allow_blank=False, id="baud", compact=True))
            yield field_row("Max lines", Input(type="integer", id="max-lines", placeholder="blank = until you stop",
                                               compact=True))
            yield from import_fields(self.project.settings.type)
            yield Static(id="capture-status", classes="dialog-note")
            with Horizontal(classes="buttons"):
                yield Button("Start (ctrl+s)", id="start", variant="primary", compact=True)
                yield Button("Stop + import (ctrl+t)", id="stop", compact=True, disabled=True)
                yield Button("Close", id="close", compact=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.action_rescan()
        self.query_one("#capture-status", Static).update(Text(
            "The board prints one signal example per line, numbers only. Lines that do not fit are dropped "
            "and counted. Stop keeps what came in and imports it."
        ))
        self.query_one("#port", Input).focus()

    def on_unmount(self) -> None:
        if self.cancel is not None:
            self.cancel.set()

    def action_rescan(self) -> None:
        from ..engine.serial_capture import list_ports

        ports = list_ports()
        options = self.query_one("#ports", OptionList)
        options.clear_options()
        options.add_options(Option(f"{dev}  {desc}", id=dev) for dev, desc in ports)
        if not ports:
            options.add_option(Option("(no serial port found: type a device or a pyserial URL)", disabled=True))
        port = self.query_one("#port", Input)
        if ports and not port.value:
            port.value = ports[0][0]

    @on(OptionList.OptionSelected, "#ports")
    def _port_chosen(self, event: OptionList.OptionSelected) -> None:
        self.query_one("#port", Input).value = event.option.id or ""
        self.query_one("#port", Input).focus()

    def on_key(self, event) -> None:
        if event.key == "down" and self.focused is self.query_one("#port", Input):
            self.query_one("#ports", OptionList).focus()
            event.stop()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        running = self.cancel is not None
        if action == "start":
            return None if running else True
        if action == "stop":
            return True if running else None
        return True

    @on(Button.Pressed, "#start")
    def action_start(self) -> None:
        if self.cancel is not None:
            return
        try:
            port = self.query_one("#port", Input).value.strip()
            if not port:
                raise NeaiError("no serial port given", "Type the device (e.g. /dev/ttyACM0) or pick one of the list.")
            max_lines = optional_int(self.query_one("#max-lines", Input).value, "the maximum line count")
            request = read_import_fields(self, self.project.settings.type, ImportRequest(port))
            if self.project.settings.type == "n-class" and not request.class_name:
                raise NeaiError("a recorded class needs a name", "Type the class name (e.g. the machine's state).")
        except NeaiError as exc:
            self.show_error("Cannot start recording", exc)
            return
        self.cancel = threading.Event()
        self.query_one("#start", Button).disabled = True
        self.query_one("#stop", Button).disabled = False
        self.refresh_bindings()
        baud = int(self.query_one("#baud", Select).value)
        self.query_one("#capture-status", Static).update(Text(f"Opening {port} at {baud} baud…", style="bold"))
        self.record(port, baud, max_lines, request, self.cancel)

    @work(thread=True, exclusive=True, exit_on_error=False, group="capture", description="serial capture")
    def record(self, port: str, baud: int, max_lines: int | None, request: ImportRequest,
               cancel: threading.Event) -> None:
        from ..engine.serial_capture import capture_and_import

        result, entry = capture_and_import(
            self.project, port, baud=baud, max_lines=max_lines, role=request.role, class_name=request.class_name,
            couple=request.couple, cancel=cancel, progress=lambda p: self.post_message(CaptureProgressed(p)),
        )
        self.post_message(CaptureFinished(result, entry))

    def on_capture_progressed(self, message: CaptureProgressed) -> None:
        p = message.progress
        values = f", {p.values_per_line} values per line" if p.values_per_line else ""
        dropped = f" ({p.dropped} dropped)" if p.dropped else ""
        self.query_one("#capture-status", Static).update(Text(
            f"Recording: {p.lines} lines{dropped}{values}, {format_duration(p.elapsed_s)}.  ctrl+t stops and imports.",
            style="bold",
        ))

    def on_capture_finished(self, message: CaptureFinished) -> None:
        self.cancel = None
        result = message.result
        if not getattr(result, "complete", True):  # the port closed mid-capture: what came in was kept
            self.app.notify(f"{result.message}; imported as {message.entry.id}.", title="Serial port closed",
                            severity="warning", timeout=15)
        self.dismiss(message.entry)

    def on_worker_state_changed(self, event) -> None:
        self.app.worker_state_changed(event)  # type: ignore[attr-defined]
        if event.state.name in ("ERROR", "CANCELLED"):
            self.cancel = None
            self.query_one("#start", Button).disabled = False
            self.query_one("#stop", Button).disabled = True
            self.query_one("#capture-status", Static).update(Text("Not recording. ctrl+s starts again.", style="yellow"))
            self.refresh_bindings()

    @on(Button.Pressed, "#stop")
    def action_stop(self) -> None:
        if self.cancel is not None:
            self.cancel.set()
            self.query_one("#capture-status", Static).update(Text("Stopping; importing what came in…", style="bold"))

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        if self.cancel is not None:
            self.action_stop()  # what came in is imported, then the dialog closes
            return
        self.dismiss(None)
