"""The project view: the Studio's steps on the left, the chosen step on the right.

Each step is a pane (screens/<step>.py) that owns its workers. Its keys are bound
here, on the screen, as `pane('<step>', '<action>')`, enabled only while that step
is shown: the footer always lists the keys of the step on screen, wherever the
focus is, and the same letter can mean different things in different steps.
"""
from __future__ import annotations

import asyncio

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import ContentSwitcher, Header, OptionList
from textual.widgets.option_list import Option

from ..engine.project import TYPE_TITLES, Project
from ..messages import LibrariesLoaded
from ..widgets.keybar import KeyBar
from .base import NeaiScreen, StepPane
from .benchmark import BenchmarkPane
from .deployment import DeploymentPane
from .emulator import EmulatorPane
from .settings import SettingsPane
from .signals import SignalsPane
from .validation import ValidationPane

PANES: tuple[type[StepPane], ...] = (SettingsPane, SignalsPane, BenchmarkPane, EmulatorPane, ValidationPane,
                                     DeploymentPane)
STEPS = tuple((pane.STEP, pane.TITLE.replace("Project settings", "Settings")) for pane in PANES)
STEP_KEYS = Binding.Group("Steps", compact=True)


def _pane_bindings() -> list[Binding]:
    out = []
    for pane in PANES:
        for key in pane.KEYS:
            out.append(Binding(
                key.key, f"pane('{pane.STEP}', \"{key.action}\")", key.description, show=key.show,
                key_display=key.key_display,
                id=f"project.{pane.STEP}.{key.action.split('(')[0]}" + (f".{key.key}" if "(" in key.action else ""),
            ))
    return out


class ProjectScreen(NeaiScreen):
    AUTO_FOCUS = "#steps"
    HELP = (
        "The steps of a project, as in NanoEdge AI Studio: settings, signals, benchmark, emulator, "
        "validation and deployment. Number keys jump to a step; enter (or tab) moves into it; escape comes "
        "back to the step list, and from there to the home screen. The keys of the step shown are in the "
        "footer and in the command palette (ctrl+p)."
    )

    BINDINGS = [
        *(
            Binding(str(n), f"step('{key}')", title, id=f"project.step.{key}", group=STEP_KEYS)
            for n, (key, title) in enumerate(STEPS, start=1)
        ),
        *_pane_bindings(),
        Binding("t", "tools", "Tools", id="project.tools"),
        Binding("escape", "back", "Back", id="project.back"),
    ]

    def __init__(self, project: Project) -> None:
        super().__init__()
        self.project = project
        self.current_step = "settings"  # the step whose keys are live
        self.shown_step = "settings"  # the step the switcher shows (a pane may still be mounting)
        self.libraries: list[dict] = []
        self.panes: dict[str, StepPane] = {}
        self.mounting: dict[str, asyncio.Task] = {}

    # -- layout ----------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield OptionList(
                *(Option(f"{n} {title}", id=key) for n, (key, title) in enumerate(STEPS, start=1)),
                id="steps",
            )
            with ContentSwitcher(initial="settings", id="panes"):
                # The other panes are mounted the first time their step is shown.
                self.panes["settings"] = SettingsPane(self.project)
                yield self.panes["settings"]
        yield KeyBar()

    def on_mount(self) -> None:
        self.show_titles()
        steps = self.query_one("#steps", OptionList)
        steps.highlighted = 0
        steps.focus()
        self.load_libraries()

    def show_titles(self) -> None:
        s = self.project.settings
        self.title = s.name
        self.sub_title = TYPE_TITLES.get(s.type, s.type) + (" (Multi-sensor)" if s.multisensor else "")

    @property
    def benchmark_running(self) -> bool:
        pane = self.panes.get("benchmark")
        return isinstance(pane, BenchmarkPane) and pane.running

    def stop_work(self) -> None:
        """Before the app quits or the project is deleted: stop the long work."""
        bench = self.panes.get("benchmark")
        if isinstance(bench, BenchmarkPane) and bench.cancel is not None:
            bench.cancel.set()
        validation = self.panes.get("validation")
        if isinstance(validation, ValidationPane) and validation.cancel is not None:
            validation.cancel.set()  # stops between candidate builds

    def pane(self, step: str) -> StepPane:
        return self.panes[step]

    @staticmethod
    def step_class(step: str) -> type[StepPane]:
        return next(p for p in PANES if p.STEP == step)

    def has_pane(self, step: str) -> bool:
        """The step's pane exists and is mounted (its widgets can be queried)."""
        pane = self.panes.get(step)
        return pane is not None and pane.is_mounted

    async def ensure_pane(self, step: str) -> StepPane:
        """The step's pane, mounted the first time it is needed (once, however many ask)."""
        if step not in self.panes:
            pane = self.step_class(step)(self.project)
            self.panes[step] = pane
            switcher = self.query_one("#panes", ContentSwitcher)

            async def mount() -> None:
                await switcher.mount(pane)

            self.mounting[step] = asyncio.create_task(mount())
        task = self.mounting.get(step)
        if task is not None:
            await task
        return self.panes[step]

    # -- steps -----------------------------------------------------------------------
    def action_step(self, key: str) -> None:
        steps = self.query_one("#steps", OptionList)
        self.current_step = key  # at once: a key typed right after is this step's key
        steps.highlighted = [k for k, _ in STEPS].index(key)
        steps.focus()  # focus must not stay in the pane just hidden
        self.refresh_bindings()

    @on(OptionList.OptionHighlighted, "#steps")
    async def _step_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        step = event.option.id or "settings"
        first_time = step not in self.panes
        self.current_step = step  # keys typed while the pane mounts are its keys
        self.refresh_bindings()
        pane = await self.ensure_pane(step)
        if self.current_step != step or self.shown_step == step:
            return  # the user moved on while this pane was mounting, or it is shown already
        self.shown_step = step
        self.query_one("#panes", ContentSwitcher).current = step
        if not first_time:
            pane.on_step_shown()
        self.refresh_bindings()

    @on(OptionList.OptionSelected, "#steps")
    def _step_selected(self, event: OptionList.OptionSelected) -> None:
        # Enter on a step moves into its pane: its first field, table or list (a
        # scrolling container holding fields is passed over for its first field).
        pane = self.pane(event.option.id or "settings")
        candidates = [w for w in pane.query("*") if w.focusable and w.display and w.visible]
        for widget in candidates:
            if not any(other is not widget and widget in other.ancestors for other in candidates):
                widget.focus()
                return
        if candidates:
            candidates[0].focus()

    def action_back(self) -> None:
        steps = self.query_one("#steps", OptionList)
        if self.focused is not None and self.focused is not steps:
            steps.focus()
            return
        if self.benchmark_running:
            self.notify("The benchmark keeps running; open the project again to follow it.", title="Benchmark")
        self.app.pop_screen()

    # -- the panes' keys -------------------------------------------------------------
    def key_order(self, binding: Binding) -> int:
        """Where a key goes in the key bar: steps, this step's keys as listed, then the rest."""
        binding_id = binding.id or ""
        if binding_id.startswith("project.step."):
            return 0
        prefix = f"project.{self.current_step}."
        if binding_id.startswith(prefix):
            pane = self.step_class(self.current_step)
            names = [f"{k.action.split('(')[0]}" + (f".{k.key}" if "(" in k.action else "") for k in pane.KEYS]
            rest = binding_id[len(prefix):]
            return 1 + (names.index(rest) if rest in names else len(names))
        return 100

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "pane":
            step, name = parameters
            if step != self.current_step:
                return False
            if not self.has_pane(str(step)):
                return True  # still mounting: action_pane waits for it
            return self.pane(str(step)).check_key(str(name).split("(")[0])
        return True

    async def action_pane(self, step: str, name: str) -> None:
        pane = await self.ensure_pane(step)
        if pane.check_key(name.split("(")[0]):
            await pane.run_action(name)

    async def run_pane_action(self, step: str, name: str) -> None:
        """From the command palette: show the step, then run the action if it is available."""
        await self.ensure_pane(step)
        self.action_step(step)
        if self.pane(step).check_key(name.split("(")[0]):
            await self.pane(step).run_action(name)
        else:
            self.notify("Not available right now.", severity="warning")

    def palette_commands(self) -> list[tuple[str, str, object]]:
        """(title, help, callback) for the command palette: every step and every step action."""
        commands = []
        for n, (key, title) in enumerate(STEPS, start=1):
            commands.append((f"Step {n}: {title}", f"Show the {title} step", lambda key=key: self.action_step(key)))
        for pane in PANES:
            for binding in pane.KEYS:
                commands.append((
                    f"{pane.TITLE.replace('Project settings', 'Settings')}: {binding.description}",
                    f"key {binding.key_display or binding.key} in the {pane.STEP} step",
                    lambda step=pane.STEP, action=binding.action: self.run_worker(self.run_pane_action(step, action)),
                ))
        for tool, title, words in (("reshape", "data manipulation", "reshape recordings into signal files, "
                                                                       "buffers, columns, decimate"),
                                   ("sampling", "sampling finder", "which sampling rate and buffer size"),
                                   ("datalogger", "datalogger", "firmware that logs buffers over a serial port")):
            commands.append((f"Tools: {title}", f"{words} (key t; the result imports into this project)",
                             lambda tool=tool: self.action_tools(tool)))
        commands.append(("Home", "Back to the workspace's projects", self.app.pop_screen))
        return commands

    # -- the data tools, inside the project ------------------------------------------
    def action_tools(self, tool: str | None = None, reshape_inputs: str | None = None) -> None:
        """The Tools screen for this project: its fields remembered, paths relative to
        the project, the rate its rate, and i imports a result (with its role or class)."""
        from .tools import ToolsScreen

        screen = ToolsScreen(self.project, reshape_inputs=reshape_inputs, on_import=self.import_from_tools)
        self.app.push_screen(screen)
        if tool is not None and tool != "reshape":
            screen.call_after_refresh(screen.action_tool, tool)

    def import_from_tools(self, request) -> None:
        async def run() -> None:
            pane = await self.ensure_pane("signals")
            pane.import_signal(request)

        self.run_worker(run(), group="tools-import")

    # -- shared state ----------------------------------------------------------------
    def on_screen_resume(self) -> None:
        """Back from home or a dialog: another process (the CLI) may have imported
        signals or run a benchmark meanwhile; show the project as it is on disk."""
        if self.benchmark_running:
            return  # this screen's own benchmark holds the writer lock
        try:
            changed = self.project.reload()
        except Exception as exc:  # noqa: BLE001 - a project damaged meanwhile is shown, not raised
            self.app.show_error(exc)  # type: ignore[attr-defined]
            return
        if changed:
            self.project_changed()
        self.load_libraries()

    def project_changed(self) -> None:
        """Settings or signals changed: every pane shows the project again."""
        self.show_titles()
        for pane in self.panes.values():
            if pane.is_mounted:
                pane.show_project()

    def zips_changed(self) -> None:
        for step in ("emulator", "validation"):
            if not self.has_pane(step):
                continue
            pane = self.pane(step)
            if hasattr(pane, "load_zips"):
                pane.load_zips()

    @work(thread=True, exclusive=True, exit_on_error=False, group="libraries", description="listing libraries")
    def load_libraries(self) -> None:
        from ..engine.search import list_libraries

        self.post_message(LibrariesLoaded(list_libraries(self.project)))

    def on_libraries_loaded(self, message: LibrariesLoaded) -> None:
        self.libraries = message.libraries
        for pane in self.panes.values():
            if pane.is_mounted:
                pane.show_libraries(self.libraries)
        self.refresh_bindings()
