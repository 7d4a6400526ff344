"""The report document (engine/report.py) drawn for a terminal: text sections,
a boxed flowchart, bars, tables and plotext plots (plot.py), all readable at
80 columns and in 16 colours (each series has its own marker)."""
from __future__ import annotations

import textwrap

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from .format import format_number
from .plot import BRAILLE, PlotSpec, Rule, Series


def fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return format_number(value) if value is not None else "–"


def heading(text: str) -> Text:
    return Text(text, style="bold reverse")


def pairs(items: list[tuple[str, object]]) -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for key, value in items:
        table.add_row(str(key), value if isinstance(value, Text) else fmt(value) if not isinstance(value, str)
                      else value)
    return table


def flowchart_text(stages: list[dict], width: int = 78) -> Text:
    """The stages as boxes side by side joined by arrows, or stacked (with ↓) when
    the boxes would be narrower than 14 columns."""
    n = len(stages)
    if not n:
        return Text("")
    box = (width - 3 * (n - 1)) // n
    if box >= 14:
        return _flow_across(stages, box)
    return _flow_down(stages, min(width, 60))


def _box_lines(stage: dict, inner: int, max_params: int = 6) -> list[tuple[str, str]]:
    lines = [(t, "") for t in textwrap.wrap(stage["title"], inner) or [""]]
    for key, value in list(stage["params"].items())[:max_params]:
        lines.append((textwrap.shorten(f"{key} {fmt(value)}", inner, placeholder="…"), "dim"))
    return lines


def _flow_across(stages: list[dict], box: int) -> Text:
    inner = box - 2
    bodies = [_box_lines(s, inner) for s in stages]
    height = max(len(b) for b in bodies)
    middle = 1 + height // 2
    out = Text(no_wrap=True, overflow="crop")
    rows = height + 2
    for row in range(rows):
        for i, (stage, body) in enumerate(zip(stages, bodies)):
            if row == 0:
                title = f" {stage['stage']} "
                out.append("┌", style="cyan")
                out.append(title[:inner], style="bold")
                out.append("─" * max(0, inner - len(title)) + "┐", style="cyan")
            elif row == rows - 1:
                out.append("└" + "─" * inner + "┘", style="cyan")
            else:
                text, style = body[row - 1] if row - 1 < len(body) else ("", "")
                out.append("│", style="cyan")
                out.append(text.ljust(inner)[:inner], style=style)
                out.append("│", style="cyan")
            if i < len(stages) - 1:
                out.append(" → " if row == middle else "   ", style="bold cyan")
        if row < rows - 1:
            out.append("\n")
    return out


def _flow_down(stages: list[dict], width: int) -> Text:
    inner = width - 2
    out = Text(no_wrap=True, overflow="crop")
    for i, stage in enumerate(stages):
        title = f" {stage['stage']} "
        out.append("┌", style="cyan")
        out.append(title, style="bold")
        out.append("─" * max(0, inner - len(title)) + "┐\n", style="cyan")
        for text, style in _box_lines(stage, inner, max_params=4):
            out.append("│", style="cyan")
            out.append(text.ljust(inner), style=style)
            out.append("│\n", style="cyan")
        out.append("└" + "─" * inner + "┘", style="cyan")
        if i < len(stages) - 1:
            out.append("\n" + " " * (width // 2) + "↓\n", style="bold cyan")
    return out


def bars_text(counts: dict[str, int], width: int = 60) -> Text:
    """One bar per label, scaled to the largest count."""
    if not counts:
        return Text("no data", style="dim")
    label_w = min(24, max(len(k) for k in counts))
    top = max(counts.values()) or 1
    room = max(5, width - label_w - 8)
    out = Text(no_wrap=True, overflow="crop")
    for i, (label, n) in enumerate(counts.items()):
        if i:
            out.append("\n")
        out.append(label[:label_w].rjust(label_w) + " ", style="bold")
        out.append("█" * max(1, round(room * n / top)), style="cyan")
        out.append(f" {n}")
    return out


def roc_spec(res: dict) -> PlotSpec:
    roc = res["roc"]
    series = [Series([0, 1], [0, 1], "chance", marker="·", style="bright_black", lines=True),
              Series(roc["fpr"], roc["tpr"], f"ROC (AUC {fmt(roc['auc'])})", marker=BRAILLE, style="cyan", lines=True)]
    for pt, marker, style in zip(res["operating_points"], ("●", "■"), ("red", "yellow")):
        if pt["fpr"] is not None and pt["tpr"] is not None:
            series.append(Series([pt["fpr"]], [pt["tpr"]], pt["label"], marker=marker, style=style))
    return PlotSpec(series, x_limits=(0, 1), y_limits=(0, 1), title="ROC: detection rate against false alarms",
                    x_label="false alarm rate")


def extrapolation_spec(res: dict) -> PlotSpec:
    real, pred = res["real"], res["predicted"]
    if not real:
        return PlotSpec(empty_text="No line with a true value.")
    lo, hi = min(min(real), min(pred)), max(max(real), max(pred))
    return PlotSpec([Series([lo, hi], [lo, hi], "y = x", marker="·", style="bright_black", lines=True),
                     Series(real, pred, "predicted", marker="•", style="cyan")],
                    title=f"predicted against true (R² {fmt(res.get('r2'))}, RMSE {fmt(res.get('rmse'))})",
                    x_label="true value")


def residuals_spec(res: dict) -> PlotSpec:
    return PlotSpec([Series(res["real"], res["residuals"], "predicted − true", marker="•", style="yellow")],
                    rules=[Rule(0.0, "")], title="residuals", x_label="true value")


def learning_spec(lc: dict) -> PlotSpec:
    counts = lc["counts"]
    minimum = lc.get("min_learning_iterations")
    return PlotSpec([Series(counts, lc["balanced_accuracy"], "balanced accuracy", marker=BRAILLE, style="cyan",
                            lines=True)],
                    rules=[Rule(minimum, f"minimum {minimum}", vertical=True)] if minimum else [],
                    y_limits=(0, 1), x_log=bool(counts) and counts[0] > 0 and counts[-1] / max(counts[0], 1) > 20,
                    title=f"learning curve: learn at least {minimum} times", x_label="signals learned")


def nested_spec(n: dict) -> PlotSpec:
    folds = [f for f in n.get("folds", []) if "error" not in f]
    metric = n.get("metric", "")
    if not folds:
        return PlotSpec(empty_text="No fold finished.")
    xs = [f["fold"] for f in folds]
    series = [Series(xs, [f["outer"].get(metric) for f in folds], "held-out fold", marker="●", style="cyan"),
              Series(xs, [f["inner_mean"] for f in folds], "inner mean", marker="^", style="yellow"),
              Series(xs, [f["inner_worst"] for f in folds], "inner worst", marker="v", style="red"),
              Series(xs, [f["baseline"].get(metric) for f in folds], "baseline", marker="x", style="bright_black")]
    series = [Series(s.xs, [v if v is not None else float("nan") for v in s.ys], s.label, s.marker, s.style)
              for s in series]
    own = (n.get("benchmark_figure") or {}).get("worst")
    return PlotSpec(series, rules=[Rule(own, "benchmark's worst split")] if own is not None else [],
                    x_limits=(0.5, len(folds) + 0.5), title=f"nested cross-validation: {metric} per outer fold",
                    x_label="outer fold")


def confusion_table(res: dict) -> Table:
    classes = res["classes"]
    table = Table(box=None, padding=(0, 1), show_edge=False, title="rows: true class · columns: predicted",
                  title_style="dim", title_justify="left")
    short = [c[:8] for c in classes]
    table.add_column("true \\ pred", style="bold", no_wrap=True)
    for name in short:
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("prec.", justify="right")
    table.add_column("recall", justify="right")
    for i, (name, row) in enumerate(zip(classes, res["confusion"])):
        cells = [Text(str(v), style="bold green" if i == j else ("red" if v else "dim")) for j, v in enumerate(row)]
        table.add_row(name[:14], *cells, fmt(res["precision"][i]), fmt(res["recall"][i]))
    return table


def evolution_spec(points: list[dict], max_ram: float | None = None, max_flash: float | None = None,
                   main: str = "balanced_accuracy") -> PlotSpec:
    """The Studio's four indicators of the best library over time, in %: the score,
    the main metric, RAM and flash (against the project's limits, else the largest seen)."""
    if not points:
        return PlotSpec(empty_text="The best library's score, main metric, RAM and flash over time are drawn here "
                                   "while a benchmark runs.")
    ts = [float(p["t"]) for p in points]
    ram_top = max_ram or max((p.get("ram_bytes") or 0) for p in points) or 1
    flash_top = max_flash or max((p.get("flash_bytes") or 0) for p in points) or 1

    def step(values: list[float | None]) -> tuple[list[float], list[float]]:
        xs, ys = [], []
        for t, v in zip(ts, values):
            if v is None:
                continue
            if ys:
                xs.append(t)
                ys.append(ys[-1])
            xs.append(t)
            ys.append(v)
        if len(xs) == 1:
            xs, ys = [xs[0], xs[0] + 1.0], [ys[0], ys[0]]
        return xs, ys

    def metric(p: dict) -> float | None:
        value = (p.get("metrics") or {}).get(main)
        return None if value is None else 100.0 * float(value) if main != "smape" else float(value)

    rows = [("score", [p.get("score") for p in points], BRAILLE, "cyan"),
            (main.replace("_", " "), [metric(p) for p in points], "•", "green"),
            ("RAM", [100.0 * p["ram_bytes"] / ram_top if p.get("ram_bytes") else None for p in points], "r", "yellow"),
            ("flash", [100.0 * p["flash_bytes"] / flash_top if p.get("flash_bytes") else None for p in points], "f",
             "magenta")]
    series = []
    for label, values, marker, style in rows:
        xs, ys = step(values)
        series.append(Series(xs, ys, label, marker=marker, style=style, lines=marker == BRAILLE))
    last = points[-1]
    changed = last.get("improved") or {}
    note = "last: " + ", ".join(f"{k.replace('_bytes', '')} {fmt(a)}→{fmt(b)}" for k, (a, b) in changed.items()) \
        if changed else ""
    return PlotSpec(series, y_limits=(0, 105), x_label="seconds",
                    title=f"% (RAM, flash: of {'the limits' if max_ram or max_flash else 'the largest seen'})",
                    note=note)


def result_renderables(res: dict) -> list[RenderableType | PlotSpec]:
    """A results section: its figures as text, then its plots (PlotSpec) or tables."""
    kind = res["kind"]
    out: list[RenderableType | PlotSpec] = [Text(f"Source: {res['source']}", style="dim")]
    if kind in ("anomaly", "one-class"):
        pts = " · ".join(f"{p['label']}: false alarms {fmt(p['fpr'])}, detected {fmt(p['tpr'])}"
                         for p in res["operating_points"])
        figures = [("ROC AUC", fmt(res["roc"]["auc"]))]
        if kind == "anomaly":
            figures += [("balanced accuracy", fmt(res["balanced_accuracy"])),
                        ("lines", f"{len(res['nominal'])} nominal, {len(res['abnormal'])} abnormal")]
        else:
            figures += [("recall", fmt(res.get("recall"))), ("rejection", fmt(res.get("outlier_rejection")))]
        out += [pairs(figures), Text(pts), roc_spec(res)]
    elif kind == "one-class-flags":
        out.append(pairs([("recall", fmt(res.get("recall"))), ("rejection", fmt(res.get("outlier_rejection"))),
                          ("balanced accuracy", fmt(res.get("balanced_accuracy")))]))
    elif kind == "n-class":
        out += [pairs([("balanced accuracy", fmt(res["balanced_accuracy"])), ("accuracy", fmt(res["accuracy"]))]),
                confusion_table(res)]
    else:
        out += [pairs([("R²", fmt(res.get("r2"))), ("RMSE", fmt(res.get("rmse"))), ("SMAPE %", fmt(res.get("smape")))]),
                extrapolation_spec(res), residuals_spec(res)]
    return out


def summary_group(doc: dict) -> Group:
    """The report's top: project, library and measured figures, in one screen."""
    p, lib, m = doc["project"], doc["library"], doc["measured"]
    ci = lib.get("ci95")
    rows = [("project", f"{p['name']} · {p['type_title']} · {p['axes']} axes × {p['buffer_size']} samples"
                        + (f" at {fmt(p['sampling_rate_hz'])} Hz" if p.get("sampling_rate_hz") else "")),
            ("library", f"{lib['id']} (benchmark {lib['benchmark']}), score {fmt(lib['score'])}"),
            (lib["main_metric"].replace("_", " "), f"worst split {fmt(lib['worst'])}, mean {fmt(lib['mean'])}"
                                                   + (f" (95 % {fmt(ci[0])}–{fmt(ci[1])})" if ci else ""))]
    if "missing" in m:
        rows.append(("on the core", m["missing"]))
    else:
        rows += [("on the core", f"{m['core']}: flash {fmt(m['flash_bytes'])} B, RAM {fmt(m['ram_bytes'])} B"),
                 (f"per {m['call']}", f"{fmt(m['instructions'])} instructions, {fmt(m['cycles'])} cycles, "
                                      f"{fmt(m['us'])} µs at {fmt(m['clock_mhz'])} MHz"
                                      + (" (assumed)" if m.get("clock_assumed") else ""))]
    n = doc.get("nested_cv") or {}
    if n.get("summary"):
        s = n["summary"]
        rows.append(("nested CV", f"held-out {fmt(s['outer'])} vs inner mean {fmt(s['inner_mean'])}: optimism "
                                  f"{fmt(s['optimism_mean'])}; baseline {fmt(s['baseline'])}"))
    return Group(pairs(rows))
