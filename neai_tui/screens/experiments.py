"""The project's validation experiments: a list with a filter, one experiment's
data and results, and two side by side (`neai experiments` shows the same).

Reached from the Validation step (h). Type in the filter to keep the
experiments holding every word (ids, dates, notes, libraries, files, labels);
space marks up to two, c compares the marked ones (or the highlighted one with
the one before it), e opens the report of the highlighted one.
"""
from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Header, Input, Label, Static

from ..engine.project import Project
from ..messages import ExperimentsLoaded
from ..widgets.format import SHORT_METRIC_NAMES, format_number
from ..widgets.forms import field_row
from ..widgets.keybar import KeyBar
from ..widgets.table import Table
from .base import NeaiScreen
from .dialogs import Dialog


def figure_cell(value) -> str:
    return format_number(value) if value is not None else "–"


class ExperimentsScreen(NeaiScreen):
    HELP = (
        "Every validation experiment of the project, oldest first: its date, test files (lines), and each "
        "library's headline figure. Type in the filter (/ goes there) to keep those holding every word. "
        "Space marks an experiment (two at most); c compares the two marked, side by side (or the highlighted "
        "one with the one before it); e opens the highlighted experiment's report; escape goes back."
    )
    BINDINGS = [
        Binding("escape", "close", "Back", id="experiments.close"),
        Binding("slash", "filter", "Filter", id="experiments.filter", key_display="/"),
        Binding("space", "mark", "Mark", id="experiments.mark"),
        Binding("c", "compare", "Compare", id="experiments.compare"),
        Binding("e", "report", "Report", id="experiments.report"),
    ]
    DEFAULT_CSS = """
    #exp-table { height: 1fr; margin: 0 1; }
    #exp-detail { height: auto; max-height: 5; padding: 0 1; }
    #exp-filter-row { margin: 0 1; }
    """

    def __init__(self, project: Project) -> None:
        super().__init__()
        self.project = project
        self.items: list[dict] = []
        self.marked: list[str] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield field_row("Filter", Input(id="exp-filter", placeholder="words: library, file, label, note, date…",
                                        compact=True), id="exp-filter-row")
        table = Table(id="exp-table", cursor_type="row", zebra_stripes=True)
        table.add_columns("", "Id", "Date", "Test files", "Lines", "Figures")
        yield table
        yield Static(id="exp-detail")
        yield KeyBar()

    def on_mount(self) -> None:
        self.title = f"Experiments: {self.project.settings.name}"
        self.query_one("#exp-table", DataTable).focus()
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="experiments", description="listing experiments")
    def load(self, text: str = "") -> None:
        from ..engine.experiments import list_experiments

        self.post_message(ExperimentsLoaded(list_experiments(self.project, text)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="experiments-compare", description="comparing")
    def compare(self, first: str, second: str) -> None:
        from ..engine.experiments import compare_experiments

        self.post_message(ExperimentsLoaded(comparison=compare_experiments(self.project, first, second)))

    def on_experiments_loaded(self, message: ExperimentsLoaded) -> None:
        if message.comparison is not None:
            self.app.push_screen(ComparisonScreen(message.comparison))
            return
        self.items = message.experiments
        table = self.query_one("#exp-table", DataTable)
        table.clear()
        for e in self.items:
            name = SHORT_METRIC_NAMES.get(e["headline"], e["headline"])
            figures = ", ".join(f"{lib} {figure_cell(v)}" for lib, v in e["figures"].items())
            table.add_row("*" if e["id"] in self.marked else "", e["id"], e["created"][5:16].replace("T", " "),
                          ", ".join(e["files"]), str(e["lines"]), f"{name} {figures}", key=e["id"])
        self.show_detail()
        if not self.items:
            self.query_one("#exp-detail", Static).update(Text(
                "No experiment matches the filter." if self.query_one("#exp-filter", Input).value.strip()
                else "No experiment yet: r in the Validation step runs one.", style="italic"))

    @on(Input.Changed, "#exp-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.load(event.value)

    @on(Input.Submitted, "#exp-filter")
    def _filter_done(self) -> None:
        self.query_one("#exp-table", DataTable).focus()

    @on(DataTable.RowHighlighted, "#exp-table")
    def show_detail(self) -> None:
        e = self.highlighted()
        if e is None:
            self.query_one("#exp-detail", Static).update("")
            return
        text = Text()
        text.append(f"{e['id']}", style="bold")
        text.append(f"  {e['created']}  libraries {', '.join(e['libraries'])}")
        if e.get("note"):
            text.append(f"\nnote: {e['note']}", style="italic")
        text.append(f"\nmarked: {', '.join(self.marked) or 'none'} (space marks two, c compares)", style="dim")
        self.query_one("#exp-detail", Static).update(text)

    def highlighted(self) -> dict | None:
        table = self.query_one("#exp-table", DataTable)
        if not table.row_count or not self.items:
            return None
        row = min(table.cursor_row, len(self.items) - 1)
        return self.items[row]

    # -- keys -------------------------------------------------------------------------------
    def check_action(self, action: str, parameters) -> bool | None:
        if action in ("mark", "report"):
            return True if self.items else None
        if action == "compare":
            return True if len(self.items) >= 2 or len(self.marked) == 2 else None
        return True

    def action_close(self) -> None:
        if self.focused is self.query_one("#exp-filter", Input):
            self.query_one("#exp-table", DataTable).focus()
            return
        self.dismiss()

    def action_filter(self) -> None:
        self.query_one("#exp-filter", Input).focus()

    def action_mark(self) -> None:
        e = self.highlighted()
        if e is None:
            return
        if e["id"] in self.marked:
            self.marked.remove(e["id"])
        else:
            self.marked = (self.marked + [e["id"]])[-2:]
        table = self.query_one("#exp-table", DataTable)
        for item in self.items:
            table.update_cell(item["id"], table.ordered_columns[0].key, "*" if item["id"] in self.marked else "")
        self.show_detail()
        self.refresh_bindings()

    def action_compare(self) -> None:
        if len(self.marked) == 2:
            self.compare(*self.marked)
            return
        e = self.highlighted()
        ids = [item["id"] for item in self.items]
        if e is None or len(ids) < 2:
            return
        i = ids.index(e["id"])
        first, second = (ids[i - 1], ids[i]) if i > 0 else (ids[0], ids[1])
        self.compare(first, second)

    def action_report(self) -> None:
        from .report import ReportScreen

        e = self.highlighted()
        if e is not None:
            self.app.push_screen(ReportScreen(self.project, e["libraries"][0] if e["libraries"] else None, e["id"]))


class ComparisonScreen(Dialog):
    """Two experiments side by side: data, then each library's figures and the difference."""

    BINDINGS = [Binding("escape,enter", "close", "Close", id="comparison.close")]
    DEFAULT_CSS = """
    #comparison-table { height: auto; max-height: 18; }
    """

    def __init__(self, comparison: dict) -> None:
        super().__init__()
        self.comparison = comparison

    def compose(self) -> ComposeResult:
        a, b = self.comparison["a"], self.comparison["b"]
        with Vertical(id="dialog"):
            yield Label(f"{a['id']} ({a['created'][:16]})  against  {b['id']} ({b['created'][:16]})", id="dialog-title")
            table = Table(id="comparison-table", zebra_stripes=True, cursor_type="row")
            table.add_columns("", a["id"], b["id"], "change")
            for row in self.comparison["data"]:
                cells = [f"{row[k]['lines']}, {row[k].get('expected') or '–'}" if row[k] else "–"
                         for k in ("a", "b")]
                same = "same file" if row["same_content"] else ("differs" if row["a"] and row["b"] else "")
                table.add_row(row["file"], *cells, same)
            for row in self.comparison["figures"]:
                diff = f"{row['difference']:+.4g}" if row["difference"] is not None else ""
                table.add_row(f"{row['library']} {row['figure'].replace('_', ' ')}", figure_cell(row["a"]),
                              figure_cell(row["b"]), diff)
            yield table
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#comparison-table", DataTable).focus()

    def action_close(self) -> None:
        self.dismiss(None)
