"""What every full screen of the app shares."""
from __future__ import annotations

from textual.screen import Screen
from textual.worker import Worker


class NeaiScreen(Screen):
    """A screen whose workers' failures all go to the app's single handler."""

    HELP = ""
    """What the screen is for, shown above its keys by `?`."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # Worker.StateChanged does not bubble: hand it to the app, which owns the
        # one place where failures become error dialogs.
        self.app.worker_state_changed(event)  # type: ignore[attr-defined]
