"""Step 1: the project's settings, editable (type and sensor shape fixed once signals exist)."""
from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Input, Select, Static

from ..engine.errors import NeaiError
from ..engine.project import PROJECT_TYPES, TYPE_TITLES
from ..engine.targets import resolve_target
from ..messages import SettingsSaved
from ..widgets.format import format_number, grid, optional_float
from ..widgets.forms import TargetPicker, TickBox, field_row
from .base import StepPane


def target_text(name: str) -> str:
    try:
        t = resolve_target(name)
    except NeaiError:
        return f"{name} (not in the catalogue)"
    if t.kind == "core":
        return t.name
    mcu = [t.mcu] if t.mcu != t.name else []
    return f"{t.name} ({', '.join([*mcu, t.core, f'{t.flash_kb} KB flash', f'{t.ram_kb} KB RAM'])})"


def time_text(settings) -> str:
    """The core, its clock and the time limit as instructions, e.g. 'cortex-m0plus at 64 MHz, soft
    float; max 4 ms = ~179 523 instructions'."""
    from ..engine.cost import SHORT_CLASS_TITLES as CLASS_TITLES
    from ..engine.cost import core_class
    from ..engine.scoring import Limits

    try:
        limits = Limits.of(settings)
    except NeaiError:
        return "unknown target"
    text = f"{limits.core} at {format_number(limits.clock_mhz)} MHz, {CLASS_TITLES[core_class(limits.core)]}"
    if limits.max_instructions:
        text += f"; max {format_number(limits.max_time_ms)} ms = ~{limits.max_instructions:,} instructions".replace(",", " ")
    return text


def _kb(value) -> str:
    return "" if value is None else format_number(value)


class SettingsPane(StepPane):
    STEP = "settings"
    TITLE = "Project settings"
    HELP = (
        "Edit the project's name, description, RAM, flash and inference-time limits and target, then ctrl+s "
        "saves. The time limit is in milliseconds per inference at the target's clock; the benchmark "
        "excludes candidates estimated slower, as it does those over RAM or flash. "
        "The type and the sensor (axes or Multi-sensor variables) are fixed once signals are imported, "
        "because every imported file was checked against them."
    )
    KEYS = [
        Binding("ctrl+s", "save", "Save settings"),
        Binding("ctrl+r", "revert", "Revert"),
    ]

    def compose(self) -> ComposeResult:
        yield self.title_label()
        with VerticalScroll(id="settings-form"):
            yield field_row("Name", Input(id="settings-name", compact=True))
            yield field_row("Description", Input(id="settings-description", placeholder="optional", compact=True))
            yield field_row(
                "Type",
                Select([(TYPE_TITLES[t], t) for t in PROJECT_TYPES], allow_blank=False, id="settings-type",
                       compact=True),
            )
            yield field_row("Axes", Input(type="integer", id="settings-axes", compact=True), label_id="settings-axes-label")
            yield field_row("", TickBox("Multi-sensor: N variables, one sample per line", id="settings-multisensor",
                                        compact=True), id="settings-multisensor-row")
            yield field_row("Max RAM KB", Input(type="number", id="settings-ram", placeholder="blank = no limit", compact=True))
            yield field_row("Max flash KB",
                            Input(type="number", id="settings-flash", placeholder="blank = no limit", compact=True))
            yield field_row("Max time ms",
                            Input(type="number", id="settings-time", placeholder="blank = no limit", compact=True))
            yield TargetPicker(self.project.settings.target, input_id="settings-target", id="settings-target-picker")
            yield Static(id="settings-facts", classes="pane-text")
            yield Static(id="settings-status", classes="pane-note")

    def on_mount(self) -> None:
        self.fill()

    def fill(self) -> None:
        s = self.project.settings
        self.query_one("#settings-name", Input).value = s.name
        self.query_one("#settings-description", Input).value = s.description
        self.query_one("#settings-type", Select).value = s.type
        self.query_one("#settings-axes", Input).value = str(s.axes)
        self.query_one("#settings-multisensor", TickBox).value = s.multisensor
        self.query_one("#settings-multisensor-row").display = s.type == "anomaly"
        self.query_one("#settings-ram", Input).value = _kb(s.max_ram_kb)
        self.query_one("#settings-flash", Input).value = _kb(s.max_flash_kb)
        self.query_one("#settings-time", Input).value = _kb(s.max_time_ms)
        self.query_one(TargetPicker).value = s.target
        self.show_project()

    def show_project(self) -> None:
        s = self.project.settings
        locked = bool(self.project.signals)
        for selector in ("#settings-type", "#settings-axes", "#settings-multisensor"):
            self.query_one(selector).disabled = locked
        self.query_one("#settings-axes-label").update("Variables" if s.multisensor else "Axes")
        buffer = self.project.buffer_size
        freq = s.frequency_filter or {}
        freq_text = "not set (Signals step, F)"
        if freq:
            parts = [f"sampling {format_number(freq.get('sampling_rate_hz'))} Hz"]
            if freq.get("low_hz") is not None or freq.get("high_hz") is not None:
                parts.append(f"band {format_number(freq.get('low_hz')) if freq.get('low_hz') is not None else '0'}–"
                             f"{format_number(freq.get('high_hz')) if freq.get('high_hz') is not None else 'Nyquist'} Hz")
            freq_text = ", ".join(parts) + " (stored; not applied by the benchmark yet)"
        rows = [
            ("Target", target_text(s.target)),
            ("Inference time", time_text(s)),
            ("Buffer size", f"{buffer} samples" if buffer else "set by the first imported signal file"),
            ("Frequency filter", freq_text),
            ("Folder", str(self.project.path)),
        ]
        self.query_one("#settings-facts", Static).update(grid(rows))
        note = ("Type and sensor are fixed: signals are imported. " if locked else "") + "ctrl+s saves, ctrl+r reverts."
        self.set_status("settings-status", note)

    @on(Select.Changed, "#settings-type")
    def _type_changed(self, event: Select.Changed) -> None:
        checkbox = self.query_one("#settings-multisensor", TickBox)
        self.query_one("#settings-multisensor-row").display = event.value == "anomaly"
        if event.value != "anomaly":
            checkbox.value = False

    @on(TickBox.Changed, "#settings-multisensor")
    def _multisensor_changed(self, event: TickBox.Changed) -> None:
        self.query_one("#settings-axes-label").update("Variables" if event.value else "Axes")

    def changes(self) -> dict:
        axes_text = self.query_one("#settings-axes", Input).value.strip()
        try:
            axes = int(axes_text)
        except ValueError:
            raise NeaiError(f"the number of axes must be a whole number, not '{axes_text}'", "Give 1..64.") from None
        return {
            "name": self.query_one("#settings-name", Input).value.strip(),
            "description": self.query_one("#settings-description", Input).value.strip(),
            "type": str(self.query_one("#settings-type", Select).value),
            "axes": axes,
            "multisensor": self.query_one("#settings-multisensor", TickBox).value,
            "max_ram_kb": optional_float(self.query_one("#settings-ram", Input).value, "max RAM", "KB"),
            "max_flash_kb": optional_float(self.query_one("#settings-flash", Input).value, "max flash", "KB"),
            "max_time_ms": optional_float(self.query_one("#settings-time", Input).value, "max time", "ms"),
            "target": self.query_one(TargetPicker).value,
        }

    def action_save(self) -> None:
        try:
            changes = self.changes()
        except NeaiError as exc:
            self.app.show_error(exc, title="Cannot save the settings")  # type: ignore[attr-defined]
            return
        self.set_status("settings-status", "Saving…", "bold")
        self.save(changes)

    @work(thread=True, exclusive=True, exit_on_error=False, group="settings", description="saving the settings")
    def save(self, changes: dict) -> None:
        self.post_message(SettingsSaved(self.project.update_settings(**changes)))

    def on_settings_saved(self, message: SettingsSaved) -> None:
        self.show_project()
        self.set_status("settings-status", "Saved.", "green")
        self.notify("Settings saved.", title=self.project.settings.name)
        from ..engine.limits import libraries_over_limits

        for lib, reasons in libraries_over_limits(self.project, getattr(self.screen, "libraries", None) or []):
            self.notify(f"The chosen library {lib['id']} no longer fits: {'; '.join(reasons)}. Choose another "
                        "(step 3, Libraries) or run a new benchmark; deployment refuses it.",
                        title="Limits", severity="warning", timeout=12)
        screen = self.screen
        if hasattr(screen, "project_changed"):
            screen.project_changed()

    def action_revert(self) -> None:
        self.fill()
        self.query_one("#settings-status", Static).update(Text("Reverted to the saved settings.", style="yellow"))
