"""What every full screen and every step pane of the app shares."""
from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Label, Static
from textual.worker import Worker, WorkerState

if TYPE_CHECKING:
    from ..engine.project import Project

FINISHED = (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED)


class NeaiScreen(Screen):
    """A screen whose workers' failures all go to the app's single handler."""

    HELP = ""
    """What the screen is for, shown above its keys by `?`."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # Worker.StateChanged does not bubble: hand it to the app, which owns the
        # one place where failures become error dialogs.
        self.app.worker_state_changed(event)  # type: ignore[attr-defined]


class StepPane(Vertical):
    """One step of the project view (Settings, Signals, Benchmark, ...).

    A pane owns its workers and handles their messages. Its keys (`KEYS`) are
    bound on the project screen, which runs `action_<name>` here when this step
    is shown, so they work whether the focus is in the step list or in the pane.
    """

    STEP: ClassVar[str] = ""
    TITLE: ClassVar[str] = ""
    HELP: ClassVar[str] = ""
    KEYS: ClassVar[list[Binding]] = []

    def __init__(self, project: "Project", **kwargs) -> None:
        super().__init__(id=self.STEP, classes="step-pane", **kwargs)
        self.project = project

    def on_mount(self) -> None:
        # Mounted after the libraries were listed: show them (subclasses' on_mount run too).
        libraries = getattr(self.screen, "libraries", None)
        if libraries:
            self.show_libraries(libraries)

    # -- hooks for the project screen ----------------------------------------------------
    def check_key(self, action: str) -> bool | None:
        """True: available; None: shown greyed out; False: hidden."""
        return True

    def on_step_shown(self) -> None:
        """The user switched to this step."""

    def show_libraries(self, libraries: list[dict]) -> None:
        """The candidate libraries changed (benchmark, selection, deployment)."""

    def show_project(self) -> None:
        """The project's settings or signals changed."""

    # -- helpers ---------------------------------------------------------------------------
    def refresh_keys(self) -> None:
        if self.is_attached:
            self.screen.refresh_bindings()

    def title_label(self) -> Label:
        return Label(self.TITLE, classes="pane-title")

    def set_status(self, widget_id: str, text: str, style: str = "") -> None:
        self.query_one(f"#{widget_id}", Static).update(Text(text, style=style))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.app.worker_state_changed(event)  # type: ignore[attr-defined]
        if event.state in FINISHED:
            self.worker_ended(event.worker, event.state)

    def worker_ended(self, worker: Worker, state: WorkerState) -> None:
        """A worker of this pane finished (successfully or not)."""
