"""The Textual app: `neai` opens the home screen, `neai tui DIR` a project."""
from __future__ import annotations

import traceback
from pathlib import Path
from typing import Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from .engine.errors import Cancelled, NeaiError
from .engine.project import Project, Workspace
from .keyboard import OrderedKeys
from .screens.dialogs import ErrorScreen, HelpScreen
from .screens.home import HomeScreen
from .screens.project import ProjectScreen
from .screens.tools import ToolsScreen
from .widgets.format import tui_hint

def describe_failure(error: BaseException) -> tuple[str, str]:
    """(title, text) for an error dialog: the user's message and hint, never a traceback."""
    if isinstance(error, NeaiError):
        text = error.user_text()
        problems = getattr(error, "problems", None) or []
        if len(problems) > 1:
            text += "\n\nAll findings:\n" + "\n".join(
                f"• {p.location()}: {p.severity}: {p.message}" + (f"\n  Fix: {p.hint}" if p.hint else "")
                for p in problems[:20]
            )
            if len(problems) > 20:
                text += f"\n… and {len(problems) - 20} more."
        return "Cannot do that", tui_hint(text)
    if isinstance(error, OSError) and error.strerror:
        where = f": {error.filename}" if error.filename else ""
        return "File system error", f"{error.strerror}{where}"
    detail = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
    return (
        "Unexpected error",
        f"{type(error).__name__}{': ' + detail if detail else ''}\n"
        "This is a bug in neai-tui, not in your data. The project on disk is unchanged; "
        "please report what you were doing.",
    )


ANSI_THEME = "ansi-dark"


def few_colours(color_system: str | None) -> bool:
    """The terminal shows 16 colours or fewer (TERM=xterm, xterm-16color, linux…)."""
    return color_system in ("standard", "windows")


class NeaiApp(OrderedKeys, App[int]):
    """NanoEdge AI Studio in the terminal."""

    CSS_PATH = "app.tcss"
    TITLE = "neai"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", id="app.help"),
    ]

    def __init__(self, workspace: Path | str | None = None, project: Path | str | None = None) -> None:
        super().__init__()
        self._init_ordered_keys()
        self.workspace = Workspace(workspace)
        self.start_project = Path(project) if project else None
        self.project_screens: dict[Path, ProjectScreen] = {}

    def on_mount(self) -> None:
        if not self.is_headless and few_colours(self.console.color_system):
            # A 16-colour terminal: draw with its own ANSI palette, which it shows as
            # intended, rather than RGB colours rounded to the nearest of 16. (Not
            # headless: tests and snapshots look the same whatever TERM says.)
            self.theme = ANSI_THEME
        self.push_screen(HomeScreen(self.workspace))
        if self.start_project is not None:
            self.open_project(self.start_project)

    # -- navigation ------------------------------------------------------------------
    def open_project(self, path: Path) -> None:
        """Show a project; its screen is kept (installed) so a benchmark keeps running from home."""
        key = Path(path).expanduser().resolve()
        screen = self.project_screens.get(key)
        if screen is None:
            try:
                project = Project.open(key)
            except Exception as exc:  # noqa: BLE001 - shown to the user, never raised to the terminal
                self.show_error(exc)
                return
            screen = ProjectScreen(project)
            self.project_screens[key] = screen
            self.install_screen(screen, name=f"project:{key}")
        if self.screen is not screen:
            self.push_screen(screen)

    def running_benchmarks(self) -> set[Path]:
        """Projects (folder paths) whose benchmark is running."""
        running = set()
        for path, screen in self.project_screens.items():
            try:
                if screen.benchmark_running:
                    running.add(path)
            except Exception:  # noqa: BLE001 - a screen not mounted yet has no benchmark
                continue
        return running

    def forget_missing_projects(self) -> None:
        """Drop the kept screens of projects deleted or moved away."""
        for path, screen in list(self.project_screens.items()):
            if not (path / "project.json").is_file() and screen is not self.screen:
                screen.stop_work()
                del self.project_screens[path]
                self.uninstall_screen(screen)

    def change_workspace(self, folder: str) -> None:
        from .engine.user_config import save_workspace

        try:
            root = save_workspace(folder)
        except (NeaiError, OSError) as exc:
            self.show_error(exc, title="Cannot use that folder")
            return
        self.workspace = Workspace(root)
        for screen in self.screen_stack:
            if isinstance(screen, HomeScreen):
                screen.set_workspace(self.workspace)
        self.notify(f"Workspace: {root}", title="Workspace")

    async def action_quit(self) -> None:
        for screen in self.project_screens.values():
            screen.stop_work()
        self.exit(0)

    def action_help(self) -> None:
        screen = self.screen
        bindings = []
        seen = set()
        for active in screen.active_bindings.values():
            binding = active.binding
            # Ours all have an id; Textual's own (cursor keys of tables...) are left out.
            if not binding.id or not binding.description or (binding.action, binding.description) in seen:
                continue
            seen.add((binding.action, binding.description))
            bindings.append(binding)
        order = getattr(screen, "key_order", None)
        if order is not None:  # as the key bar lists them: steps, this step's keys, the rest
            bindings.sort(key=order)
        keys = [(self.get_key_display(binding), binding.description) for binding in bindings]
        title = screen.title or self.title
        about = getattr(screen, "HELP", "")
        if isinstance(screen, ProjectScreen):
            # The step's class, not its pane: a step chosen a moment ago may not have
            # its pane yet (3 then ? typed at once).
            pane = screen.step_class(screen.current_step)
            about = f"{pane.TITLE}: {pane.HELP}\n\n{about}"
            title = f"{title} — {pane.TITLE}"
        elif isinstance(screen, ToolsScreen):
            pane = screen.pane()
            about = f"{pane.TITLE}: {pane.HELP}\n\n{about}"
            title = f"Tools — {pane.TITLE}"
        self.push_screen(HelpScreen(title, about, keys))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if isinstance(screen, HomeScreen):
            yield SystemCommand("New project", "Create a project in the workspace", screen.action_new_project)
            yield SystemCommand("Open project", "Open the highlighted project", screen.action_open_project)
            yield SystemCommand("Duplicate project", "Copy the highlighted project", screen.action_duplicate)
            yield SystemCommand("Delete project", "Delete the highlighted project (asks first)", screen.action_delete)
            yield SystemCommand("Filter projects", "Type to filter the list", screen.action_filter)
            yield SystemCommand("Export project", "Write the highlighted project as one .zip", screen.action_export)
            yield SystemCommand("Import project archive", "Add a project from an exported .zip",
                                screen.action_import_archive)
            yield SystemCommand("Workspace folder", "Choose where projects live", screen.action_workspace)
            yield SystemCommand("Demo project", "Open the bundled fan demo", screen.action_demo)
            yield SystemCommand("Tools", "Data manipulation, sampling finder, datalogger (key t)",
                                screen.action_tools)
            yield SystemCommand("Refresh", "Read the workspace again", screen.action_refresh)
        elif isinstance(screen, (ProjectScreen, ToolsScreen)):
            for title, help_text, callback in screen.palette_commands():
                yield SystemCommand(title, help_text, callback)

    # -- errors ----------------------------------------------------------------------
    def show_error(self, error: BaseException, title: str | None = None) -> None:
        default_title, text = describe_failure(error)
        if not isinstance(error, NeaiError):
            # Only for `textual console`: the screen shows the short text, never this.
            self.log.error("".join(traceback.format_exception(error)))
        self.push_screen(ErrorScreen(title or default_title, text))

    def worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place where a worker's failure reaches the user."""
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        if isinstance(error, Cancelled):
            self.notify(error.message or "Stopped.", title="Stopped")
            return
        what = event.worker.description or event.worker.name or "the task"
        title, text = describe_failure(error)
        if title == "Cannot do that":
            title = f"{what[:1].upper()}{what[1:]} failed"
        self.show_error(error, title=title)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.worker_state_changed(event)


def run_app(workspace: Path | str | None = None, project: Path | str | None = None) -> int:
    """Run the TUI until the user quits; the exit status for the CLI."""
    app = NeaiApp(workspace=workspace, project=project)
    app.run()
    return app.return_code or 0
