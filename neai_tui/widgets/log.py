"""A log that wraps its lines to the width it has now (issue 16).

RichLog renders a line once, at the width it has when the line is written: lines
written while its tab was hidden were wrapped at its minimum width (~20 columns)
and stayed so. This one keeps what was written and renders it again whenever
its width changes."""
from __future__ import annotations

from rich.console import RenderableType
from textual import events
from textual.widgets import RichLog


class WrappingLog(RichLog):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.written: list[RenderableType] = []
        self.rendered_width = 0

    def write(self, content, *args, **kwargs):  # type: ignore[override]
        if not kwargs.pop("_again", False):
            self.written.append(content)
            if self.max_lines and len(self.written) > self.max_lines:
                del self.written[: len(self.written) - self.max_lines]
        return super().write(content, *args, **kwargs)

    def on_resize(self, event: events.Resize) -> None:
        width = event.size.width
        if width and width != self.rendered_width:
            self.rendered_width = width
            self.clear_again()

    def clear_again(self) -> None:
        kept = list(self.written)
        super().clear()
        for content in kept:
            self.write(content, _again=True)

    def clear(self):  # type: ignore[override]
        self.written = []
        return super().clear()
