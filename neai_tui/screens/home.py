"""The home screen: the projects of the workspace, and what to do with them."""
from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Header, Input, Label, Static

from ..engine.project import Project, ProjectSummary, Workspace
from ..messages import ProjectsListed, WorkspaceChanged
from ..widgets.keybar import KeyBar
from ..widgets.table import Table
from .base import NeaiScreen
from .dialogs import ConfirmScreen, NewProjectScreen, PromptScreen


class ProjectTable(Table):
    """The workspace's projects; enter opens the highlighted one."""

    BINDINGS = [Binding("enter", "select_cursor", "Open", id="home.open")]


class FilterInput(Input):
    """Type to filter the projects; enter or ↓ goes back to the list, escape clears."""

    BINDINGS = [
        Binding("escape", "clear_filter", "Clear filter", id="home.filter.clear"),
        Binding("down", "to_table", "To the list", id="home.filter.to_table", show=False),
    ]

    def action_clear_filter(self) -> None:
        self.value = ""
        self.screen.query_one("#projects").focus()

    def action_to_table(self) -> None:
        self.screen.query_one("#projects").focus()


class HomeScreen(NeaiScreen):
    AUTO_FOCUS = "#projects"
    HELP = (
        "The projects of your workspace, a folder holding one sub-folder per project (its settings, signal "
        "files, benchmarks and libraries). n creates a project, enter opens the highlighted one, c duplicates "
        "it, x deletes it (after asking), / filters the list, e exports a project as one .zip archive and i "
        "imports such an archive. w sets the workspace folder (NEAI_WORKSPACE, when set, wins). m opens the "
        "bundled demo project (a fan on a 3-axis accelerometer). t opens the tools: recordings to signal "
        "files, the sampling finder and the datalogger generator."
    )

    BINDINGS = [
        Binding("n", "new_project", "New", id="home.new"),
        Binding("c", "duplicate", "Duplicate", id="home.duplicate"),
        Binding("x", "delete", "Delete", id="home.delete"),
        Binding("slash", "filter", "Filter", key_display="/", id="home.filter"),
        Binding("e", "export", "Export", id="home.export"),
        Binding("i", "import_archive", "Import", id="home.import"),
        Binding("w", "workspace", "Workspace", id="home.workspace"),
        Binding("m", "demo", "Demo", id="home.demo"),
        Binding("t", "tools", "Tools", id="home.tools"),
        Binding("r", "refresh", "Refresh", id="home.refresh", show=False),
    ]

    def __init__(self, workspace: Workspace) -> None:
        super().__init__()
        self.workspace = workspace
        self.summaries: list[ProjectSummary] = []
        self.shown: list[ProjectSummary] = []
        self.resumed = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="home"):
            yield Label("Projects", classes="pane-title")
            search = FilterInput(placeholder="filter: name, type, target… (escape clears)", id="filter", compact=True)
            search.display = False  # until / is pressed
            yield search
            table = ProjectTable(id="projects", cursor_type="row", zebra_stripes=True)
            table.add_columns("Name", "Type", "Axes", "Target", "Signals", "Benchmarks")
            yield table
            yield Static(id="project-detail")
        yield KeyBar()

    def on_mount(self) -> None:
        self.title = "neai"
        self.query_one("#projects", DataTable).focus()
        self.action_refresh()

    def on_screen_resume(self) -> None:
        # Back from a project: its signal and benchmark counts may have changed.
        # (The first resume is the screen's first showing: on_mount lists already.)
        if self.resumed:
            self.action_refresh()
        self.resumed = True

    def set_workspace(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.action_refresh()

    # -- the list ----------------------------------------------------------------------
    def action_refresh(self, select: Path | None = None) -> None:
        self.sub_title = f"workspace {self.workspace.root}"
        self.list_projects(select or self.highlighted_path())

    @work(thread=True, exclusive=True, exit_on_error=False, group="home-list", description="reading the workspace")
    def list_projects(self, select: Path | None) -> None:
        try:
            self.post_message(ProjectsListed(self.workspace.list_projects(), select))
        except OSError as exc:
            self.post_message(ProjectsListed([], None, f"{exc.strerror or exc}: {exc.filename or self.workspace.root}"))

    def on_projects_listed(self, message: ProjectsListed) -> None:
        if message.error:
            self.notify(message.error, title="Cannot read the workspace", severity="error")
        self.summaries = message.summaries
        self.fill(message.select)

    def fill(self, select: Path | None = None) -> None:
        from ..engine.workspace_ops import filter_projects

        table = self.query_one("#projects", DataTable)
        current = select or self.highlighted_path()
        self.shown = filter_projects(self.summaries, self.query_one("#filter", Input).value)
        running = getattr(self.app, "running_benchmarks", lambda: set())()
        table.clear()
        for s in self.shown:
            if s.error:
                table.add_row(s.name, Text("damaged", style="bold red"), "", "", "", "", key=str(s.path))
                continue
            axes = f"{s.axes} var" if s.multisensor else str(s.axes)
            benches = Text(f"{s.benchmarks} running", style="bold green") if s.path in running else str(s.benchmarks)
            table.add_row(s.name, s.type, axes, s.target, str(s.signals), benches, key=str(s.path))
        for row, s in enumerate(self.shown):
            if current is not None and s.path == current:
                table.move_cursor(row=row)
        self.show_detail()

    def highlighted_summary(self) -> ProjectSummary | None:
        table = self.query_one("#projects", DataTable)
        if not self.shown or table.cursor_row is None or table.cursor_row >= len(self.shown):
            return None
        return self.shown[table.cursor_row]

    def highlighted_path(self) -> Path | None:
        summary = self.highlighted_summary()
        return summary.path if summary else None

    @on(DataTable.RowHighlighted, "#projects")
    def show_detail(self) -> None:
        # Duplicate, delete and export depend on the highlighted project: the key bar
        # shows them as soon as the list arrives, not at the next focus move.
        self.refresh_bindings()
        detail = self.query_one("#project-detail", Static)
        summary = self.highlighted_summary()
        if summary is None:
            if self.summaries:
                detail.update(Text("No project matches the filter (escape in the filter clears it).", style="italic"))
            else:
                detail.update(Text("No project in this workspace yet: n creates one, m opens the demo.",
                                   style="italic"))
        elif summary.error:
            detail.update(Text(f"{summary.path.name}: {summary.error}", style="red"))
        else:
            detail.update(Text(f"Folder: {summary.path.name}/   enter opens it.", style="dim"))

    @on(DataTable.RowSelected, "#projects")
    def action_open_project(self) -> None:
        summary = self.highlighted_summary()
        if summary is None:
            self.notify("No project to open: n creates one.", severity="warning")
            return
        self.app.open_project(summary.path)  # type: ignore[attr-defined]

    def action_filter(self) -> None:
        field = self.query_one("#filter", Input)
        field.display = True
        field.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self) -> None:
        self.fill()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.query_one("#projects").focus()

    @on(Input.Blurred, "#filter")
    def _filter_left(self) -> None:
        field = self.query_one("#filter", Input)
        if not field.value:
            field.display = False

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("duplicate", "delete", "export"):
            summary = self.highlighted_summary()
            return True if summary is not None and not summary.error else None
        return True

    # -- creating, copying, deleting ---------------------------------------------------------
    def action_new_project(self) -> None:
        def created(project: Project | None) -> None:
            if project is not None:
                self.action_refresh(select=project.path)
                self.app.open_project(project.path)  # type: ignore[attr-defined]

        self.app.push_screen(NewProjectScreen(self.workspace), created)

    def action_duplicate(self) -> None:
        summary = self.highlighted_summary()
        if summary is None or summary.error:
            return

        def named(name: str | None) -> None:
            if name is not None:
                self.duplicate(summary.path, name)

        self.app.push_screen(PromptScreen(f"Duplicate {summary.name}", "New name", f"{summary.name} copy",
                                          note="Signals, benchmarks and libraries are copied too."), named)

    @work(thread=True, exclusive=True, exit_on_error=False, group="home-ops", description="duplicating the project")
    def duplicate(self, path: Path, name: str) -> None:
        from ..engine.workspace_ops import duplicate_project

        copy = duplicate_project(self.workspace, path, name)
        self.post_message(WorkspaceChanged(copy.path, f"Duplicated as {copy.settings.name} ({copy.path.name}/)."))

    def action_delete(self) -> None:
        summary = self.highlighted_summary()
        if summary is None:
            return
        if summary.path in getattr(self.app, "running_benchmarks", lambda: set())():
            self.notify("A benchmark is running in this project: stop it first.", severity="warning")
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.delete(summary.path)

        self.app.push_screen(ConfirmScreen(
            "Delete a project",
            f"Delete {summary.name} and everything in its folder ({summary.signals} signal file(s), "
            f"{summary.benchmarks} benchmark(s), its libraries)?\n{summary.path}\n\nThis cannot be undone; "
            "e exports an archive first if you may need it. Your original signal files are not touched.",
            "Delete",
        ), confirmed)

    @work(thread=True, exclusive=True, exit_on_error=False, group="home-ops", description="deleting the project")
    def delete(self, path: Path) -> None:
        from ..engine.workspace_ops import delete_project

        delete_project(self.workspace, path)
        self.post_message(WorkspaceChanged(None, f"Deleted {path.name}/."))

    def action_export(self) -> None:
        summary = self.highlighted_summary()
        if summary is None or summary.error:
            return
        from ..engine.workspace_ops import default_archive_path

        def chosen(out: str | None) -> None:
            if out:
                self.export(summary.path, Path(out).expanduser())

        self.app.push_screen(PromptScreen(
            f"Export {summary.name}", "Archive", str(default_archive_path(summary.path)), path=True,
            browse_suffixes=(".zip",), note="One .zip holding the whole project folder; i imports it again.",
        ), chosen)

    @work(thread=True, exclusive=True, exit_on_error=False, group="home-ops", description="exporting the project")
    def export(self, path: Path, out: Path) -> None:
        from ..engine.workspace_ops import export_project

        written = export_project(path, out)
        self.post_message(WorkspaceChanged(path, f"Exported to {written}."))

    def action_import_archive(self) -> None:
        def chosen(archive: str | None) -> None:
            if archive:
                self.import_archive(Path(archive).expanduser())

        self.app.push_screen(PromptScreen(
            "Import a project archive", "Archive", "", path=True, browse_suffixes=(".zip",),
            note="A .zip made by export (e); it becomes a new project folder in this workspace.",
        ), chosen)

    @work(thread=True, exclusive=True, exit_on_error=False, group="home-ops", description="importing the archive")
    def import_archive(self, archive: Path) -> None:
        from ..engine.workspace_ops import import_project_archive

        project = import_project_archive(self.workspace, archive)
        self.post_message(WorkspaceChanged(project.path, f"Imported {project.settings.name} ({project.path.name}/)."))

    def on_workspace_changed(self, message: WorkspaceChanged) -> None:
        if message.note:
            self.notify(message.note, title="Workspace")
        self.app.forget_missing_projects()  # type: ignore[attr-defined]
        self.action_refresh(select=message.select)

    # -- workspace folder and demo -------------------------------------------------------------
    def action_workspace(self) -> None:
        from ..engine.user_config import workspace_overridden

        note = "Projects live in sub-folders of it. Saved in your neai config."
        if workspace_overridden():
            note += " NEAI_WORKSPACE is set in this shell: it wins at the next start."

        def chosen(folder: str | None) -> None:
            if folder:
                self.app.change_workspace(folder)  # type: ignore[attr-defined]

        self.app.push_screen(PromptScreen("Workspace folder", "Folder", str(self.workspace.root), path=True,
                                          want_dir=True, note=note), chosen)

    def action_tools(self) -> None:
        from .tools import ToolsScreen

        self.app.push_screen(ToolsScreen())

    def action_demo(self) -> None:
        self.notify("Preparing the demo project…", title="Demo")
        self.open_demo()

    @work(thread=True, exclusive=True, exit_on_error=False, group="home-ops", description="preparing the demo")
    def open_demo(self) -> None:
        from ..engine.demo import ensure_demo_project

        project = ensure_demo_project(self.workspace.root)
        self.app.call_from_thread(self.app.open_project, project.path)  # type: ignore[attr-defined]
        self.post_message(WorkspaceChanged(project.path))
