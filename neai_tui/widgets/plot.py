"""Performance history: the best score so far against time, drawn with plotext."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


def render_history(points: list[tuple[float, float]], width: int, height: int) -> Text:
    """A plotext line plot of (elapsed seconds, best score) as rich Text, no colours."""
    if width < 20 or height < 5:
        return Text("")
    if len(points) < 2:
        return Text("The best score over time is drawn here while a benchmark runs.", style="dim")
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    try:
        return Text.from_ansi(_plotext_build(xs, ys, width, height))
    except Exception as exc:  # a drawing problem must never take the benchmark view down
        return Text(f"(plot unavailable: {exc})", style="dim")


def _plotext_build(xs: list[float], ys: list[float], width: int, height: int) -> str:
    import plotext as plt

    if hasattr(plt, "build"):  # plotext 5.x: module-level state
        plt.clear_figure()
        plt.plotsize(width, height)
        plt.theme("clear")  # plain characters: readable in 16 colours and over any SSH link
        plt.plot(xs, ys, marker="braille")
        plt.xlabel("seconds")
        plt.title("best score")
        return plt.build()
    figure = plt.figure  # plotext 6.x: one figure object
    figure.clear()
    figure.plot_size(width, height)
    figure.theme("colorless")
    figure.draw(figure.signal(xs, ys, marker="braille").lines())
    figure.title("best score")
    figure.label("seconds")
    return figure.build().string(colorless=True)

class ScorePlot(Static):
    """Redraws the history whenever it changes or the widget is resized."""

    def __init__(self, **kwargs) -> None:
        super().__init__("", **kwargs)
        self.points: list[tuple[float, float]] = []

    def set_points(self, points: list[tuple[float, float]]) -> None:
        self.points = list(points)
        self._redraw()

    def on_resize(self) -> None:
        self._redraw()

    def _redraw(self) -> None:
        size = self.content_size
        self.update(render_history(self.points, size.width, size.height))
