"""Terminal plots with plotext, drawn into a Static.

plotext builds a colourless character picture; colours are then given per
marker character with Rich's named colours, so a plot reads the same in 16
colours, over any SSH link, and in snapshots. Each series has its own marker,
which the legend line under the plot repeats.
"""
from __future__ import annotations

import math
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
    x_limits: tuple[float, float] | None = None
    x_log: bool = False
    empty_text: str = "Nothing to draw yet."
    note: str = ""

    @property
    def empty(self) -> bool:
        return not any(len(s.xs) for s in self.series) and not any(len(b.xs) for b in self.bands)


def _log_x(spec: PlotSpec) -> PlotSpec:
    """The spec with every x as log10(x), for a log x axis drawn on a linear one:
    plotext's own log scale (6.x) squeezes the data against the left edge."""
    from dataclasses import replace

    def lg(xs):
        return [math.log10(x) for x in xs]

    return replace(
        spec,
        series=[replace(s, xs=lg(s.xs)) for s in spec.series],
        bands=[replace(b, xs=lg(b.xs)) for b in spec.bands],
        rules=[replace(r, at=math.log10(r.at)) if r.vertical else r for r in spec.rules],
        x_limits=None if spec.x_limits is None else tuple(lg(spec.x_limits)),
        x_log=False,
    )


def _build(spec: PlotSpec, width: int, height: int) -> str:
    import plotext as plt

    log_ticks_at = None
    xs_given = [x for s in spec.series for x in s.xs] + [x for b in spec.bands for x in b.xs]
    if spec.x_log and xs_given and min(xs_given) > 0:
        log_ticks_at = log_ticks(min(xs_given), max(xs_given))
        spec = _log_x(spec)
    f = plt.figure
    f.clear.all()
    f.plot_size(width, height)
    f.theme("colorless")
    f.legend(False)
    xs_all = [x for s in spec.series for x in s.xs] + [x for b in spec.bands for x in b.xs]
    x0, x1 = (min(xs_all), max(xs_all)) if xs_all else (0.0, 1.0)
    if spec.x_limits is not None:
        x0, x1 = spec.x_limits
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
    if log_ticks_at is not None:
        f.ruler("x").ticks([math.log10(t) for t in log_ticks_at], [f"{t:g}" for t in log_ticks_at])
    elif all(float(x).is_integer() for x in xs_all) and x1 - x0 >= ticks:
        positions = sorted({int(round(v)) for v in (x0 + (x1 - x0) * i / (ticks - 1) for i in range(ticks))})
        f.ruler("x").ticks(positions)
    else:
        f.ruler("x").ticks(*nice_ticks(x0, x1, ticks))
    ys_all = [y for s in spec.series for y in s.ys] + [v for b in spec.bands for v in (*b.lows, *b.highs)]
    ys_all += [r.at for r in spec.rules if not r.vertical]
    y0, y1 = spec.y_limits or ((min(ys_all), max(ys_all)) if ys_all else (0.0, 1.0))
    if y0 < y1:
        f.ruler("y").ticks(*nice_ticks(y0, y1, 5 if height >= 12 else 3))
    else:
        f.ruler("y").frequency(3)
    if spec.title:
        f.title(spec.title if len(spec.title) <= width - 2 else spec.title[: width - 3] + "…")
    if spec.x_label:
        f.label(spec.x_label, "x")
    return f.build().string(colorless=True)


def nice_ticks(lo: float, hi: float, count: int) -> tuple[list[float], list[str]]:
    """About `count` round positions within [lo, hi] (steps of 1, 2, 2.5 or 5 × 10^k)
    and their labels, with as many decimals as the step needs: 1300, not 1.3e3."""
    raw = (hi - lo) / max(1, count - 1)
    magnitude = 10.0 ** math.floor(math.log10(raw))

    def positions_for(step: float) -> list[float]:
        first = math.ceil(lo / step - 1e-9)
        last = math.floor(hi / step + 1e-9)
        return [0.0 if k == 0 else k * step for k in range(first, last + 1)]

    steps = [m * magnitude for m in (0.5, 1, 2, 2.5, 5, 10)]
    step = min(steps, key=lambda st: (abs(len(positions_for(st)) - count), -st))
    positions = positions_for(step)
    decimals = next(d for d in range(12) if abs(step * 10**d - round(step * 10**d)) < 1e-6 * step * 10**d or d == 11)
    big = max(abs(lo), abs(hi)) >= 1e6
    labels = [f"{v:.3g}" if big else f"{v:.{decimals}f}" for v in positions]
    if len(positions) < 2:  # the range is narrower than one step: its ends
        positions, labels = [lo, hi], [f"{lo:.4g}", f"{hi:.4g}"]
    return positions, labels


def log_ticks(x0: float, x1: float) -> list[float]:
    """1, 2, 5, 10, 20, 50… within [x0, x1] (counts read better than 2.4, 5.6)."""
    ticks = []
    decade = 10.0 ** math.floor(math.log10(x0))
    while decade <= x1:
        ticks += [m * decade for m in (1, 2, 5) if x0 <= m * decade <= x1]
        decade *= 10
    return [int(t) if float(t).is_integer() else t for t in ticks] or [x0, x1]


def _styles(spec: PlotSpec) -> dict[str, str]:
    styles: dict[str, str] = {}
    for item in [*spec.bands, *spec.rules, *spec.series]:
        if item.marker == BRAILLE:
            styles.setdefault(BRAILLE, item.style)
        else:
            styles[item.marker] = item.style
    return styles


def legend(spec: PlotSpec, width: int | None = None) -> list[Text]:
    """The key line under the plot: each series' marker and label, then the note.
    When it does not fit in `width`, the note goes on a line of its own."""
    items = Text()
    for item in [*spec.series, *spec.bands, *spec.rules]:
        if not item.label:
            continue
        glyph = "⣿" if item.marker == BRAILLE else item.marker
        if items:
            items.append("  ")
        items.append(glyph, style=item.style)
        items.append(f" {item.label}")
    note = Text(spec.note, style="dim")
    if not spec.note:
        return [items] if items else []
    if not items:
        return [note]
    if width is not None and items.cell_len + 3 + note.cell_len > width:
        return [items, note]
    return [Text.assemble(items, "   ", note)]


def render_plot(spec: PlotSpec, width: int, height: int) -> Text:
    """The plot as Rich Text of at most `height` lines (legend included)."""
    if width < 20 or height < 5:
        return Text("")
    if spec.empty:
        return Text(spec.empty_text, style="dim")
    key = legend(spec, width)
    plot_height = height - len(key)
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
    for line in key:
        out.append("\n")
        out.append_text(line)
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
