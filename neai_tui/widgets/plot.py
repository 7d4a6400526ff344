"""Terminal plots with plotext, drawn into a Static.

plotext builds a colourless character picture; colours are then given per
marker character with Rich's named colours, so a plot reads the same in 16
colours, over any SSH link, and in snapshots. Each series has its own marker,
which the legend line under the plot repeats.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from rich.text import Text
from textual.widgets import Static

BRAILLE = "braille"


@dataclass
class Series:
    xs: Sequence[float]
    ys: Sequence[float]
    label: str = ""
    marker: str = BRAILLE  # "braille" draws a fine line; any other character draws points
    style: str = "cyan"
    lines: bool = False  # join the points


@dataclass
class Band:
    """A filled vertical band between two curves (e.g. min–max)."""

    xs: Sequence[float]
    lows: Sequence[float]
    highs: Sequence[float]
    label: str = ""
    marker: str = "░"
    style: str = "bright_black"


@dataclass
class Rule:
    """A horizontal (y) or vertical (x) line across the plot."""

    at: float
    label: str = ""
    vertical: bool = False
    style: str = "yellow"

    @property
    def marker(self) -> str:
        return "│" if self.vertical else "─"


@dataclass
class PlotSpec:
    series: list[Series] = field(default_factory=list)
    bands: list[Band] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    title: str = ""
    x_label: str = ""
    y_limits: tuple[float, float] | None = None
    x_log: bool = False
    empty_text: str = "Nothing to draw yet."
    note: str = ""

    @property
    def empty(self) -> bool:
        return not any(len(s.xs) for s in self.series) and not any(len(b.xs) for b in self.bands)


def _build(spec: PlotSpec, width: int, height: int) -> str:
    import plotext as plt

    f = plt.figure
    f.clear.all()
    f.plot_size(width, height)
    f.theme("colorless")
    f.legend(False)
    xs_all = [x for s in spec.series for x in s.xs] + [x for b in spec.bands for x in b.xs]
    x0, x1 = (min(xs_all), max(xs_all)) if xs_all else (0.0, 1.0)
    if x0 == x1:
        x0, x1 = x0 - 1, x1 + 1
    for band in spec.bands:
        for x, lo, hi in zip(band.xs, band.lows, band.highs):
            f.draw(f.segment([x, x], [lo, hi], marker=band.marker).density("full"))
    for rule in spec.rules:
        if rule.vertical:
            lo, hi = spec.y_limits or (0.0, 1.0)
            if spec.y_limits is None:
                ys_all = [y for s in spec.series for y in s.ys] or [0.0, 1.0]
                lo, hi = min(ys_all), max(ys_all)
            f.draw(f.segment([rule.at, rule.at], [lo, hi], marker=rule.marker).density("full"))
        else:
            f.draw(f.segment([x0, x1], [rule.at, rule.at], marker=rule.marker).density("full"))
    for s in spec.series:
        if not len(s.xs):
            continue
        signal = f.signal(list(s.xs), list(s.ys), marker=s.marker)
        if s.lines:
            signal.lines()
        f.draw(signal)
    if spec.y_limits is not None:
        f.ruler("y").lim(*spec.y_limits)
    f.ruler("x").lim(x0, x1)
    ticks = 5 if width >= 50 else 3
    if spec.x_log and x0 > 0:
        f.ruler("x").scale("log")
    elif all(float(x).is_integer() for x in xs_all) and x1 - x0 >= ticks:
        positions = sorted({int(round(v)) for v in (x0 + (x1 - x0) * i / (ticks - 1) for i in range(ticks))})
        f.ruler("x").ticks(positions)
    else:
        f.ruler("x").frequency(ticks)
    f.ruler("y").frequency(5 if height >= 12 else 3)
    if spec.title:
        f.title(spec.title if len(spec.title) <= width - 2 else spec.title[: width - 3] + "…")
    if spec.x_label:
        f.label(spec.x_label, "x")
    return f.build().string(colorless=True)


def _styles(spec: PlotSpec) -> dict[str, str]:
    styles: dict[str, str] = {}
    for item in [*spec.bands, *spec.rules, *spec.series]:
        if item.marker == BRAILLE:
            styles.setdefault(BRAILLE, item.style)
        else:
            styles[item.marker] = item.style
    return styles


def legend(spec: PlotSpec) -> Text:
    out = Text()
    for item in [*spec.series, *spec.bands, *spec.rules]:
        if not item.label:
            continue
        glyph = "⣿" if item.marker == BRAILLE else item.marker
        if out:
            out.append("  ")
        out.append(glyph, style=item.style)
        out.append(f" {item.label}")
    if spec.note:
        if out:
            out.append("   ")
        out.append(spec.note, style="dim")
    return out


def render_plot(spec: PlotSpec, width: int, height: int) -> Text:
    """The plot as Rich Text of at most `height` lines (legend included)."""
    if width < 20 or height < 5:
        return Text("")
    if spec.empty:
        return Text(spec.empty_text, style="dim")
    key = legend(spec)
    plot_height = height - (1 if key else 0)
    try:
        picture = _build(spec, width, plot_height)
    except Exception as exc:  # noqa: BLE001 - a drawing problem must never take a screen down
        return Text(f"(plot unavailable: {type(exc).__name__}: {exc})", style="dim")
    styles = _styles(spec)
    braille_style = styles.get(BRAILLE)
    lines = picture.rstrip("\n").split("\n")
    top = next((i for i, line in enumerate(lines) if "┌" in line), 0)
    bottom = next((i for i, line in enumerate(lines) if "└" in line), len(lines))
    left = lines[top].find("┌") if "┌" in lines[top] else -1
    right = lines[top].find("┐") if "┐" in lines[top] else len(lines[top])
    out = Text(no_wrap=True, overflow="crop")
    for row, line in enumerate(lines):
        if row:
            out.append("\n")
        if not top < row < bottom:
            out.append(line)
            continue
        # Only the canvas (inside the frame) is coloured, by each character's series.
        out.append(line[: left + 1])
        for ch in line[left + 1 : right]:
            if braille_style and "\u2800" <= ch <= "\u28ff":
                out.append(ch, style=braille_style)
            else:
                out.append(ch, style=styles.get(ch, ""))
        out.append(line[right:])
    if key:
        out.append("\n")
        out.append_text(key)
    return out


class PlotView(Static):
    """Redraws its PlotSpec whenever it changes or the widget is resized."""

    def __init__(self, spec: PlotSpec | None = None, **kwargs) -> None:
        super().__init__("", **kwargs)
        self.spec = spec or PlotSpec()

    def set_spec(self, spec: PlotSpec) -> None:
        self.spec = spec
        self._redraw()

    def on_resize(self) -> None:
        self._redraw()

    def on_mount(self) -> None:
        self._redraw()

    def _redraw(self) -> None:
        size = self.content_size
        self.update(render_plot(self.spec, size.width, size.height))


def history_spec(points: list[tuple[float, float]]) -> PlotSpec:
    """The performance-evolution plot: best score against elapsed seconds."""
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    if len(points) == 1:  # one point: draw a short flat step so it shows
        xs, ys = [xs[0], xs[0] + 1.0], [ys[0], ys[0]]
    return PlotSpec(
        [Series(xs, ys, "best score", marker=BRAILLE, style="cyan", lines=True)],
        x_label="seconds",
        empty_text="The best score over time is drawn here while a benchmark runs.",
    )
