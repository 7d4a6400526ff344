"""The right-hand panes of the project view, one per Studio step.

They only display what the engine returned; the project screen owns the workers
and feeds them.
"""
from __future__ import annotations

import os
from typing import Any, Iterable

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Label, Static

from ..engine.errors import NeaiError
from ..engine.project import TYPE_TITLES, Project
from ..engine.targets import resolve_target
from .plot import ScorePlot

STEPS = (
    ("settings", "Settings"),
    ("signals", "Signals"),
    ("benchmark", "Benchmark"),
    ("emulator", "Emulator"),
    ("validation", "Validation"),
    ("deployment", "Deployment"),
)

LIBRARY_COLUMNS = ("Sel.", "Library", "Score", "RAM", "Flash", "Benchmark", "Pipeline")


def field(record: Any, name: str, default: Any = None) -> Any:
    """Read `name` from an engine result, whether it is a dataclass or a dict."""
    if isinstance(record, dict):
        return record.get(name, default)
    return getattr(record, name, default)


def format_bytes(value: Any) -> str:
    if value is None:
        return "–"
    value = float(value)
    return f"{value:.0f} B" if value < 1024 else f"{value / 1024:.1f} KB"


def format_number(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if value and (abs(value) < 1e-3 or abs(value) >= 1e5):
        return f"{value:.{digits}g}"
    return f"{value:.{digits}f}".rstrip("0").rstrip(".")


def format_metrics(metrics: dict | None) -> str:
    """The headline metrics; intervals and per-split lists stay in `neai libs --json`."""
    scalars = {k: v for k, v in (metrics or {}).items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    if not scalars:
        return "–"
    return "  ".join(f"{k} {format_number(v)}" for k, v in scalars.items())


def format_duration(seconds: Any) -> str:
    if seconds is None:
        return "–"
    seconds = int(seconds)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes:02d}:{seconds:02d}"


def _grid(rows: Iterable[tuple[str, Any]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for label, value in rows:
        table.add_row(label, value if isinstance(value, Text) else Text(str(value)))
    return table


class SettingsPane(VerticalScroll):
    """Step 1: the project's settings (read-only for now)."""

    def compose(self) -> ComposeResult:
        yield Label("Project settings", classes="pane-title")
        yield Static(id="settings-summary")
        yield Static(
            "Settings are read-only here for now; `neai new` sets them when the project is made.",
            classes="pane-note",
        )

    def show(self, project: Project) -> None:
        s = project.settings
        try:
            t = resolve_target(s.target)
            if t.kind == "core":
                target = t.name
            else:
                mcu = [t.mcu] if t.mcu != t.name else []
                target = f"{t.name} ({', '.join([*mcu, t.core, f'{t.flash_kb} KB flash', f'{t.ram_kb} KB RAM'])})"
        except NeaiError:
            target = f"{s.target} (not in the catalogue)"
        buffer = project.buffer_size
        rows = [
            ("Name", s.name),
            ("Type", TYPE_TITLES.get(s.type, s.type)),
            ("Variables" if s.multisensor else "Axes", f"{s.axes}" + ("  (Multi-sensor)" if s.multisensor else "")),
            ("Buffer size", f"{buffer} samples" if buffer else "set by the first imported signal file"),
            ("Max RAM", f"{format_number(s.max_ram_kb)} KB" if s.max_ram_kb else "no limit"),
            ("Max flash", f"{format_number(s.max_flash_kb)} KB" if s.max_flash_kb else "no limit"),
            ("Target", target),
            ("Description", s.description or "–"),
            ("Folder", str(project.path)),
        ]
        self.query_one("#settings-summary", Static).update(_grid(rows))


class SignalsPane(Vertical):
    """Step 2: imported files and the findings of the checks."""

    def compose(self) -> ComposeResult:
        yield Label("Signals", classes="pane-title")
        table = DataTable(id="signals-table", cursor_type="row", zebra_stripes=True)
        table.add_columns("ID", "File", "Role / class", "Lines", "Values/line", "Warnings")
        yield table
        yield Static(id="signals-empty", classes="pane-note")
        yield Label("Checks", classes="pane-title")
        with VerticalScroll(id="checks-scroll"):
            yield Static("Checking…", id="checks")

    def show(self, project: Project) -> None:
        table = self.query_one("#signals-table", DataTable)
        table.clear()
        for s in project.signals:
            table.add_row(
                s.id,
                os.path.basename(s.file),
                s.label(),
                str(s.lines),
                str(s.values_per_line),
                str(len(s.warnings)) if s.warnings else "–",
                key=s.id,
            )
        empty = self.query_one("#signals-empty", Static)
        empty.display = not project.signals
        empty.update("No signal file yet: press i to import one.")

    def show_checks(self, project: Project, problems: list[Any] | None, optional: bool = False) -> None:
        checks = self.query_one("#checks", Static)
        if problems is None:
            checks.update(Text("Checking…", style="dim"))
            return
        if not problems:
            done = "All checks passed" + (", optional ones included" if optional else "")
            checks.update(Text(f"✓ {done}: the signals are ready for the benchmark.", style="green"))
            return
        prefix = str(project.path) + os.sep
        out = Text()
        for p in problems:
            error = p.severity == "error"
            out.append("✗ error  " if error else "! warning  ", style="bold red" if error else "bold yellow")
            out.append(p.location().replace(prefix, ""), style="bold")
            out.append(f"\n  {p.message}\n")
            if p.hint:
                out.append(f"  Fix: {p.hint}\n", style="italic")
        errors = sum(1 for p in problems if p.severity == "error")
        verdict = "the benchmark cannot start yet." if errors else "the benchmark can start."
        out.append(f"\n{errors} error(s), {len(problems) - errors} warning(s): {verdict}", style="bold")
        if not optional:
            out.append("  o runs the optional checks too.", style="dim")
        checks.update(out)


    def show_checks_failed(self) -> None:
        self.query_one("#checks", Static).update(Text("The checks could not run; see the message.", style="red"))


class BenchmarkPane(VerticalScroll):
    """Step 3: live search progress, the history plot and the candidate libraries."""

    def compose(self) -> ComposeResult:
        yield Label("Benchmark", classes="pane-title")
        yield Static(id="bench-status")
        yield Static(id="bench-stats")
        plot = ScorePlot(id="bench-plot")
        plot.display = False  # until there is a history to draw
        yield plot
        yield Label("Libraries", classes="pane-title")
        table = DataTable(id="bench-libraries", cursor_type="row", zebra_stripes=True)
        table.add_columns(*LIBRARY_COLUMNS)
        yield table

    def show_status(self, text: str, style: str = "") -> None:
        self.query_one("#bench-status", Static).update(Text(text, style=style))

    def show_progress(self, progress: Any) -> None:
        best = field(progress, "best") or {}
        rows = [
            (
                "Evaluations",
                f"{field(progress, 'evals_done', 0)}  ({format_number(field(progress, 'evals_per_s'), 2)}/s)"
                f"   elapsed {format_duration(field(progress, 'elapsed_s'))}",
            ),
            ("Best score", format_number(field(progress, "best_score"))),
            ("Metrics", format_metrics(field(best, "metrics"))),
            ("RAM / flash", f"{format_bytes(field(best, 'ram_bytes'))} / {format_bytes(field(best, 'flash_bytes'))}"),
            ("Pipeline", str(field(best, "pipeline_text") or field(best, "pipeline") or "–")),
        ]
        self.query_one("#bench-stats", Static).update(_grid(rows))

    def show_history(self, points: list[tuple[float, float]]) -> None:
        plot = self.query_one("#bench-plot", ScorePlot)
        plot.display = len(points) >= 2
        plot.set_points(points)

    def show_libraries(self, libraries: list[dict]) -> None:
        fill_library_table(self.query_one("#bench-libraries", DataTable), libraries)


def fill_library_table(table: DataTable, libraries: list[dict]) -> None:
    table.clear()
    selected_row = 0
    for index, lib in enumerate(libraries):
        if lib.get("selected"):
            selected_row = index
        table.add_row(
            "✓" if lib.get("selected") else "",
            str(lib.get("id", "?")),
            format_number(lib.get("score")),
            format_bytes(lib.get("ram_bytes")),
            format_bytes(lib.get("flash_bytes")),
            str(lib.get("benchmark", "")),
            str(lib.get("pipeline", "")),
            key=str(lib.get("id", index)),
        )
    if libraries:
        table.move_cursor(row=selected_row)


class DeploymentPane(VerticalScroll):
    """Step 6: build the library zip of the chosen candidate for the project's target."""

    def compose(self) -> ComposeResult:
        yield Label("Deployment", classes="pane-title")
        yield Static(id="deploy-status")
        table = DataTable(id="deploy-libraries", cursor_type="row", zebra_stripes=True)
        table.add_columns(*LIBRARY_COLUMNS)
        yield table
        yield Static(id="deploy-result")

    def show_status(self, text: str, style: str = "") -> None:
        self.query_one("#deploy-status", Static).update(Text(text, style=style))

    def show_libraries(self, libraries: list[dict]) -> None:
        fill_library_table(self.query_one("#deploy-libraries", DataTable), libraries)

    def chosen_library(self) -> str | None:
        table = self.query_one("#deploy-libraries", DataTable)
        if not table.row_count:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        except Exception:
            return None
        return key.value

    def show_result(self, path: Any, metadata: dict) -> None:
        try:
            size = format_bytes(os.path.getsize(path))
        except OSError:
            size = "–"
        rows = [("Library zip", str(path)), ("Zip size", size)]
        if metadata:
            target = metadata.get("target", "")
            core = metadata.get("core", "")
            rows += [
                ("Library", str(metadata.get("library_id", "–"))),
                ("Target", f"{target} ({core})" if core and core != target else target or "–"),
                ("Score", format_number(metadata.get("score"))),
                ("Metrics", format_metrics(metadata.get("metrics"))),
                (
                    "RAM / flash",
                    f"{format_bytes(metadata.get('ram_bytes'))} / {format_bytes(metadata.get('flash_bytes'))}"
                    + ("  (measured)" if metadata.get("measured") else ""),
                ),
                ("Pipeline", str(metadata.get("pipeline", "–"))),
            ]
        self.query_one("#deploy-result", Static).update(_grid(rows))


class LaterPane(VerticalScroll):
    """A step whose screen is still to come, saying what it will hold."""

    def __init__(self, title: str, text: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.pane_title = title
        self.text = text

    def compose(self) -> ComposeResult:
        yield Label(self.pane_title, classes="pane-title")
        yield Static(self.text, classes="pane-note")


EMULATOR_TEXT = (
    "Coming next: run a candidate library on your own files, on the host or in the "
    "bundled Cortex-M emulator: learn from nominal signals, then detect, classify or "
    "extrapolate line by line, with the same results as on the board.\n\n"
    "Until then, from a shell: neai emulate LIBRARY.zip --learn FILE --detect FILE"
)
VALIDATION_TEXT = (
    "Coming next: compare candidate libraries on data kept aside (scores, confusion "
    "matrices, RAM/flash and inference time side by side) before choosing one to deploy."
)
