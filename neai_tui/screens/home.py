"""The home screen: the projects of the workspace."""
from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Header, Label, Static

from ..engine.project import Project, ProjectSummary, Workspace
from .base import NeaiScreen
from .dialogs import NewProjectScreen


class ProjectTable(DataTable):
    """The workspace's projects; enter opens the highlighted one."""

    BINDINGS = [Binding("enter", "select_cursor", "Open", id="home.open")]


class HomeScreen(NeaiScreen):
    HELP = (
        "The projects of your workspace. Each is a folder holding its settings, its "
        "signal files, its benchmarks and the libraries built from them. Set the "
        "workspace folder with the NEAI_WORKSPACE environment variable."
    )

    BINDINGS = [
        Binding("n", "new_project", "New project", id="home.new"),
        Binding("r", "refresh", "Refresh", id="home.refresh"),
    ]

    def __init__(self, workspace: Workspace) -> None:
        super().__init__()
        self.workspace = workspace
        self.summaries: list[ProjectSummary] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="home"):
            yield Label("Projects", classes="pane-title")
            table = ProjectTable(id="projects", cursor_type="row", zebra_stripes=True)
            table.add_columns("Name", "Type", "Axes", "Target", "Signals", "Benchmarks")
            yield table
            yield Static(id="project-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "neai"
        self.sub_title = f"workspace {self.workspace.root}"
        self.action_refresh()

    def on_screen_resume(self) -> None:
        # Back from a project: its signal and benchmark counts may have changed.
        if self.is_mounted:
            self.action_refresh()

    def action_refresh(self, select: Path | None = None) -> None:
        table = self.query_one("#projects", DataTable)
        current = select or self.highlighted_path()
        try:
            self.summaries = self.workspace.list_projects()
        except OSError as exc:
            self.summaries = []
            self.app.show_error(exc, title="Cannot read the workspace")  # type: ignore[attr-defined]
        table.clear()
        for s in self.summaries:
            if s.error:
                table.add_row(
                    s.name, Text("damaged", style="bold red"), "", "", "", "", key=str(s.path)
                )
                continue
            axes = f"{s.axes} var" if s.multisensor else str(s.axes)
            table.add_row(s.name, s.type, axes, s.target, str(s.signals), str(s.benchmarks), key=str(s.path))
        for row, s in enumerate(self.summaries):
            if current is not None and s.path == current:
                table.move_cursor(row=row)
        table.focus()
        self.show_detail()

    def highlighted_summary(self) -> ProjectSummary | None:
        table = self.query_one("#projects", DataTable)
        if not self.summaries or table.cursor_row is None or table.cursor_row >= len(self.summaries):
            return None
        return self.summaries[table.cursor_row]

    def highlighted_path(self) -> Path | None:
        summary = self.highlighted_summary()
        return summary.path if summary else None

    @on(DataTable.RowHighlighted, "#projects")
    def show_detail(self) -> None:
        detail = self.query_one("#project-detail", Static)
        summary = self.highlighted_summary()
        if summary is None:
            detail.update(Text("No project in this workspace yet: press n to create one.", style="italic"))
        elif summary.error:
            detail.update(Text(f"{summary.path.name}: {summary.error}", style="red"))
        else:
            detail.update(Text(f"Folder: {summary.path.name}/   enter opens it.", style="dim"))

    @on(DataTable.RowSelected, "#projects")
    def action_open_project(self) -> None:
        summary = self.highlighted_summary()
        if summary is None:
            self.notify("No project to open: press n to create one.", severity="warning")
            return
        self.app.open_project(summary.path)  # type: ignore[attr-defined]

    def action_new_project(self) -> None:
        def created(project: Project | None) -> None:
            if project is not None:
                self.action_refresh(select=project.path)
                self.app.open_project(project.path)  # type: ignore[attr-defined]

        self.app.push_screen(NewProjectScreen(self.workspace), created)
