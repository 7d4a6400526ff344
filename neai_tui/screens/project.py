"""The project view: the Studio's steps on the left, the chosen step on the right."""
from __future__ import annotations

import inspect
import threading
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import ContentSwitcher, Footer, Header, OptionList
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from ..engine.project import TYPE_TITLES, Project
from ..messages import (
    BenchmarkFinished,
    BenchmarkProgressed,
    ChecksDone,
    DeployProgressed,
    LibrariesLoaded,
    LibraryDeployed,
    SignalImported,
)
from ..widgets.steps import (
    EMULATOR_TEXT,
    STEPS,
    VALIDATION_TEXT,
    BenchmarkPane,
    DeploymentPane,
    LaterPane,
    SettingsPane,
    SignalsPane,
    field,
    format_number,
)
from .base import NeaiScreen
from .dialogs import ImportRequest, ImportScreen

STEP_KEYS = Binding.Group("Steps", compact=True)

# Which step each step-specific action belongs to: elsewhere its key is hidden.
ACTION_STEPS = {
    "import_signal": "signals",
    "optional_checks": "signals",
    "start_benchmark": "benchmark",
    "stop_benchmark": "benchmark",
    "deploy": "deployment",
}


def engine_module(name: str) -> tuple[Any, str]:
    """Import an engine module that may not exist in this build yet: (module, why not)."""
    try:
        if name == "search":
            from ..engine import search as module
        else:
            from ..engine import deploy as module
    except ImportError as exc:
        return None, str(exc)
    return module, ""


class ProjectScreen(NeaiScreen):
    HELP = (
        "The steps of a project, as in NanoEdge AI Studio: settings, signals, benchmark, "
        "emulator, validation and deployment. Number keys jump to a step; the keys of "
        "the step shown are in the footer. Enter on a step moves into its table."
    )

    BINDINGS = [
        *(
            Binding(str(n), f"step('{key}')", title, id=f"project.step.{key}", group=STEP_KEYS)
            for n, (key, title) in enumerate(STEPS, start=1)
        ),
        Binding("i", "import_signal", "Import", id="project.import"),
        Binding("o", "optional_checks", "Optional checks", id="project.optional_checks"),
        Binding("b", "start_benchmark", "Start", id="project.bench.start"),
        Binding("s", "stop_benchmark", "Stop", id="project.bench.stop"),
        Binding("d", "deploy", "Deploy", id="project.deploy"),
        Binding("escape", "home", "Home", id="project.home"),
    ]

    def __init__(self, project: Project) -> None:
        super().__init__()
        self.project = project
        self.current_step = "settings"
        self.cancel_benchmark: threading.Event | None = None
        self.history: list[tuple[float, float]] = []
        self.libraries: list[dict] = []
        self.last_progress: Any = None

    # -- layout ----------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield OptionList(
                *(Option(f"{n} {title}", id=key) for n, (key, title) in enumerate(STEPS, start=1)),
                id="steps",
            )
            with ContentSwitcher(initial="settings", id="panes"):
                yield SettingsPane(id="settings")
                yield SignalsPane(id="signals")
                yield BenchmarkPane(id="benchmark")
                yield LaterPane("Emulator", EMULATOR_TEXT, id="emulator")
                yield LaterPane("Validation", VALIDATION_TEXT, id="validation")
                yield DeploymentPane(id="deployment")
        yield Footer()

    def on_mount(self) -> None:
        s = self.project.settings
        self.title = s.name
        self.sub_title = TYPE_TITLES.get(s.type, s.type)
        self.query_one("#steps", OptionList).highlighted = 0
        self.query_one(SettingsPane).show(self.project)
        self.query_one(SignalsPane).show(self.project)
        self.run_checks(optional=False)
        search, why = engine_module("search")
        bench = self.query_one(BenchmarkPane)
        if search is None:
            bench.show_status(f"The benchmark engine is not in this build yet ({why}).", "yellow")
            self.query_one(DeploymentPane).show_status("Deployment needs the benchmark engine.", "yellow")
        else:
            bench.show_status("Idle. b starts a benchmark (an interrupted one resumes), s stops it.")
            self.query_one(DeploymentPane).show_status("d builds the highlighted library for the project's target.")
            self.load_libraries()

    def on_unmount(self) -> None:
        # A benchmark thread must not outlive its screen (nor keep the app from exiting).
        if self.cancel_benchmark is not None:
            self.cancel_benchmark.set()

    # -- steps -----------------------------------------------------------------------
    def action_step(self, key: str) -> None:
        steps = self.query_one("#steps", OptionList)
        steps.highlighted = [k for k, _ in STEPS].index(key)
        steps.focus()  # focus must not stay in the pane just hidden

    @on(OptionList.OptionHighlighted, "#steps")
    def _step_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self.current_step = event.option.id or "settings"
        self.query_one("#panes", ContentSwitcher).current = self.current_step
        self.refresh_bindings()

    @on(OptionList.OptionSelected, "#steps")
    def _step_selected(self, event: OptionList.OptionSelected) -> None:
        # Enter on a step moves into its pane, where its table (if any) takes the keys.
        pane = self.query_one(f"#{event.option.id}")
        focusable = [w for w in pane.query("DataTable") if w.focusable]
        if focusable:
            focusable[0].focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        step = ACTION_STEPS.get(action)
        if step is not None and step != self.current_step:
            return False
        running = self.cancel_benchmark is not None
        if action == "start_benchmark" and running:
            return None
        if action == "stop_benchmark" and not running:
            return None
        return True

    def action_home(self) -> None:
        if self.cancel_benchmark is not None:
            self.cancel_benchmark.set()
            self.notify("Benchmark stopped; b resumes it from the project view.", title="Benchmark")
        self.app.pop_screen()

    # -- signals ---------------------------------------------------------------------
    def action_import_signal(self) -> None:
        def imported(request: ImportRequest | None) -> None:
            if request is not None:
                self.import_signal(request)

        self.app.push_screen(ImportScreen(self.project.settings.type), imported)

    @work(thread=True, exclusive=True, exit_on_error=False, group="import", description="importing signals")
    def import_signal(self, request: ImportRequest) -> None:
        entry = self.project.import_signal(
            request.path, role=request.role, class_name=request.class_name, couple=request.couple
        )
        self.post_message(SignalImported(entry))

    def on_signal_imported(self, message: SignalImported) -> None:
        entry = message.entry
        self.notify(f"{entry.file}: {entry.lines} lines of {entry.values_per_line} values.", title="Imported")
        for warning in entry.warnings[:3]:
            self.notify(warning, severity="warning", title="Warning")
        self.query_one(SettingsPane).show(self.project)
        self.query_one(SignalsPane).show(self.project)
        self.run_checks(optional=False)

    def action_optional_checks(self) -> None:
        self.run_checks(optional=True)

    def run_checks(self, optional: bool) -> None:
        self.query_one(SignalsPane).show_checks(self.project, None)
        self.check_project(optional)

    @work(thread=True, exclusive=True, exit_on_error=False, group="checks", description="checking signals")
    def check_project(self, optional: bool) -> None:
        self.post_message(ChecksDone(self.project.check(optional=optional), optional))

    def on_checks_done(self, message: ChecksDone) -> None:
        self.query_one(SignalsPane).show_checks(self.project, message.problems, message.optional)

    # -- benchmark -------------------------------------------------------------------
    def action_start_benchmark(self) -> None:
        search, why = engine_module("search")
        if search is None:
            self.notify(f"The benchmark engine is not in this build yet ({why}).", severity="warning")
            return
        if self.cancel_benchmark is not None:
            return
        self.cancel_benchmark = threading.Event()
        self.history = []
        self.query_one(BenchmarkPane).show_history(self.history)
        self.query_one(BenchmarkPane).show_status("Running… s stops it (what was found so far is kept).", "bold")
        self.refresh_bindings()
        self.benchmark(self.cancel_benchmark)

    def action_stop_benchmark(self) -> None:
        if self.cancel_benchmark is not None:
            self.cancel_benchmark.set()
            self.query_one(BenchmarkPane).show_status("Stopping after the current evaluation…", "yellow")

    @work(thread=True, exclusive=True, exit_on_error=False, group="benchmark", description="benchmark")
    def benchmark(self, cancel: threading.Event) -> None:
        from ..engine.search import run_benchmark

        def progress(report: Any) -> None:
            self.post_message(BenchmarkProgressed(report))

        result = run_benchmark(self.project, progress=progress, cancel=cancel)
        self.post_message(BenchmarkFinished(result))

    def on_benchmark_progressed(self, message: BenchmarkProgressed) -> None:
        report = message.progress
        self.last_progress = report
        pane = self.query_one(BenchmarkPane)
        pane.show_progress(report)
        elapsed, best = field(report, "elapsed_s"), field(report, "best_score")
        if elapsed is not None and best is not None:
            self.history.append((float(elapsed), float(best)))
            pane.show_history(self.history)
        text = field(report, "message")
        if text and self.cancel_benchmark is not None and not self.cancel_benchmark.is_set():
            pane.show_status(f"Running… {text}", "bold")

    def on_benchmark_finished(self, message: BenchmarkFinished) -> None:
        result = message.result
        best = field(result, "best") or {}
        stopped = self.cancel_benchmark is not None and self.cancel_benchmark.is_set()
        stopped = stopped or field(result, "status") == "stopped"
        summary = f"{'Stopped' if stopped else 'Finished'}: benchmark {field(result, 'benchmark', '') or ''}".rstrip()
        if best:
            summary += f", best library {field(best, 'id', '?')} scores {format_number(field(best, 'score'))}."
        self.query_one(BenchmarkPane).show_status(summary + " b runs it again.", "green")
        self.notify(summary, title="Benchmark")

    def benchmark_ended(self) -> None:
        self.cancel_benchmark = None
        self.refresh_bindings()
        self.load_libraries()

    @work(thread=True, exclusive=True, exit_on_error=False, group="libraries", description="listing libraries")
    def load_libraries(self) -> None:
        from ..engine.search import list_libraries

        self.post_message(LibrariesLoaded(list_libraries(self.project)))

    def on_libraries_loaded(self, message: LibrariesLoaded) -> None:
        self.libraries = message.libraries
        self.query_one(BenchmarkPane).show_libraries(self.libraries)
        self.query_one(DeploymentPane).show_libraries(self.libraries)

    # -- deployment ------------------------------------------------------------------
    def action_deploy(self) -> None:
        deploy_module, why = engine_module("deploy")
        if deploy_module is None:
            self.notify(f"Deployment is not in this build yet ({why}).", severity="warning")
            return
        pane = self.query_one(DeploymentPane)
        lib_id = pane.chosen_library()
        pane.show_status(f"Building {'library ' + lib_id if lib_id else 'the selected library'}…", "bold")
        self.deploy(lib_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="deploy", description="deployment")
    def deploy(self, lib_id: str | None) -> None:
        from ..engine.deploy import deploy

        options: dict[str, Any] = {"lib_id": lib_id}
        if "progress" in inspect.signature(deploy).parameters:
            options["progress"] = lambda text: self.post_message(DeployProgressed(str(text)))
        result = deploy(self.project, **options)
        # The engine returns a DeployResult (zip_path, metadata); accept a bare path too.
        path = field(result, "zip_path") or result
        self.post_message(LibraryDeployed(path, field(result, "metadata") or {}))

    def on_deploy_progressed(self, message: DeployProgressed) -> None:
        self.query_one(DeploymentPane).show_status(f"{message.text}…", "bold")

    def on_library_deployed(self, message: LibraryDeployed) -> None:
        pane = self.query_one(DeploymentPane)
        pane.show_status("Done. d builds it again.", "green")
        pane.show_result(message.path, message.metadata)
        self.notify(str(message.path), title="Library written")
        self.load_libraries()  # deploying selects the library

    # -- worker bookkeeping ------------------------------------------------------------
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # Runs besides NeaiScreen's handler (which reports failures): tidy up state.
        if event.state not in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            return
        group = event.worker.group
        if group == "benchmark":
            if event.state != WorkerState.SUCCESS:
                self.query_one(BenchmarkPane).show_status(
                    "Stopped. b resumes the benchmark.", "yellow"
                )
            self.benchmark_ended()
        elif group == "deploy" and event.state != WorkerState.SUCCESS:
            self.query_one(DeploymentPane).show_status("Deployment failed; see the message. d tries again.", "red")
        elif group == "checks" and event.state != WorkerState.SUCCESS:
            self.query_one(SignalsPane).show_checks_failed()
