"""Plots of what a library answers, per project type: the benchmark's results view
(engine.bench_results documents) and the emulator's per-line answers.

Every series has its own marker character, since plot.py colours by marker: a
plot reads the same in 16 colours and in a snapshot. Class markers are plain
characters of width one in every terminal; red `x` is kept for wrong answers.
"""
from __future__ import annotations

from .format import format_number
from .plot import BRAILLE, PlotSpec, Rule, Series

CLASS_MARKERS = ("•", "+", "*", "o", "#", "=", "%", "@")
CLASS_STYLES = ("green", "cyan", "yellow", "bright_blue", "bright_white", "bright_yellow", "bright_green", "bright_cyan")
WRONG = ("x", "red")


def class_marker(index: int) -> tuple[str, str]:
    """(marker, style) of the class at `index` (they repeat past 8 classes)."""
    return CLASS_MARKERS[index % len(CLASS_MARKERS)], CLASS_STYLES[index % len(CLASS_STYLES)]


def results_spec(results: dict | None, error: str = "") -> PlotSpec:
    """The benchmark's results plot of a library, by project type."""
    if results is None:
        return PlotSpec(empty_text=error or "The best library's results on the project's held-out signals appear "
                                            "here once a benchmark has found one.")
    kind = results.get("type")
    if kind == "anomaly":
        return anomaly_spec(results)
    if kind == "n-class":
        return nclass_spec(results)
    if kind == "one-class":
        return oneclass_spec(results)
    if kind == "extrapolation":
        return extrapolation_spec(results)
    return PlotSpec(empty_text=f"No results view for {kind} libraries.")


def anomaly_spec(results: dict) -> PlotSpec:
    """Similarity per held-out signal (or window), nominal then abnormal, and the 90 % line."""
    nominal, abnormal = [], []
    for c in results["couples"]:
        nominal += c["nominal"]
        abnormal += c["abnormal"]
    threshold = results.get("threshold", 90)
    ba = results.get("balanced_accuracy")
    learned = sum(c["learned"] for c in results["couples"])
    unit = results.get("unit", "signal")
    return PlotSpec(
        series=[
            Series(list(range(1, len(nominal) + 1)), nominal, "nominal", marker="•", style="green"),
            Series(list(range(len(nominal) + 1, len(nominal) + len(abnormal) + 1)), abnormal, "abnormal",
                   marker="x", style="red"),
        ],
        rules=[Rule(threshold, f"{threshold} %")],
        y_limits=(0, 100),
        title=f"{results['library']}: similarity per held-out {unit} (learned {learned})",
        x_label=f"held-out {unit}s: nominal, then abnormal",
        note=f"BA {format_number(ba)}" if ba is not None else "",
    )


def nclass_spec(results: dict) -> PlotSpec:
    """The probability the C gives to each held-out line's true class; marker = true class,
    red x = given another class."""
    classes = results["classes"]
    per_class: dict[int, tuple[list, list]] = {c: ([], []) for c in range(len(classes))}
    wrong: tuple[list, list] = ([], [])
    for x, (true, predicted, proba) in enumerate(zip(results["true"], results["predicted"], results["probabilities"]),
                                                 start=1):
        p = proba[true] if true < len(proba) else 0.0
        target = per_class[true] if predicted == true else wrong
        target[0].append(x)
        target[1].append(p)
    series = []
    for c, name in enumerate(classes):
        marker, style = class_marker(c)
        series.append(Series(*per_class[c], name, marker=marker, style=style))
    if wrong[0]:
        series.append(Series(*wrong, "wrong class", marker=WRONG[0], style=WRONG[1]))
    ba = results.get("balanced_accuracy")
    return PlotSpec(
        series=series,
        y_limits=(0, 1),
        title=f"{results['library']}: probability of the true class, per held-out line",
        x_label="held-out lines, by class",
        note=f"BA {format_number(ba)}" if ba is not None else "",
    )


def _boundary(grid: dict) -> tuple[list[float], list[float]]:
    """Points between neighbouring grid cells the C answers differently."""
    xs, ys, flags = grid["xs"], grid["ys"], grid["outlier"]
    out_x, out_y = [], []
    for r, row in enumerate(flags):
        for c, flag in enumerate(row):
            if c + 1 < len(row) and row[c + 1] != flag:
                out_x.append((xs[c] + xs[c + 1]) / 2)
                out_y.append(ys[r])
            if r + 1 < len(flags) and flags[r + 1][c] != flag:
                out_x.append(xs[c])
                out_y.append((ys[r] + ys[r + 1]) / 2)
    return out_x, out_y


def oneclass_spec(results: dict) -> PlotSpec:
    """Held-out lines and synthetic outliers on the 2 principal directions of the
    features, with the C's decision boundary in that plane."""
    grid = results["grid"]
    x_limits = (grid["xs"][0], grid["xs"][-1])
    y_limits = (grid["ys"][0], grid["ys"][-1])

    def inside(x: float, y: float) -> bool:
        return x_limits[0] <= x <= x_limits[1] and y_limits[0] <= y <= y_limits[1]

    def split(points: dict) -> tuple[tuple[list, list], tuple[list, list], int]:
        """(accepted, flagged) points in the view, and how many fall outside it."""
        accepted: tuple[list, list] = ([], [])
        flagged: tuple[list, list] = ([], [])
        outside = 0
        for x, y, outlier in zip(points["x"], points["y"], points["outlier"]):
            if not inside(x, y):
                outside += 1
                continue
            target = flagged if outlier else accepted
            target[0].append(x)
            target[1].append(y)
        return accepted, flagged, outside

    normal_ok, normal_flagged, outside = split(results["normal"])
    series = [Series(*_boundary(grid), "boundary", marker="·", style="cyan")]
    if results.get("synthetic"):
        syn_missed, syn_caught, syn_out = split(results["synthetic"])
        series += [Series(*syn_caught, "caught", marker="+", style="bright_blue"),
                   Series(*syn_missed, "missed", marker="o", style="yellow")]
        outside += syn_out
    # The project's own lines last: drawn over the synthetic ones.
    series += [Series(*normal_ok, "normal", marker="•", style="green"),
               Series(*normal_flagged, "false alarm", marker="x", style="red")]
    notes = [f"recall {format_number(results.get('recall'))}"]
    if results.get("rejection") is not None:
        notes.append(f"rejects {format_number(results['rejection'])}")
    if outside:
        notes.append(f"{outside} off view")
    return PlotSpec(
        series=series,
        x_limits=x_limits,
        y_limits=y_limits,
        title=f"{results['library']}: normal lines, synthetic outliers, boundary",
        x_label="2 principal directions of the features",
        note=", ".join(notes),
    )


def extrapolation_spec(results: dict, points: str = "held-out line") -> PlotSpec:
    """What the C predicts for each held-out line against its real value, and y = x."""
    real, predicted = results["real"], results["predicted"]
    values = [*real, *predicted]
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    return PlotSpec(
        series=[
            Series([lo, hi], [lo, hi], "y = x (perfect)", marker=BRAILLE, style="yellow", lines=True),
            Series(real, predicted, points, marker="•", style="cyan"),
        ],
        x_limits=(lo, hi),
        y_limits=(lo, hi),
        title=f"{results['library']}: predicted (y) against real (x) target",
        x_label="real value",
        note="  ".join(f"{name} {format_number(results[key])}" for name, key in (("R²", "r2"), ("RMSE", "rmse"))
                       if results.get(key) is not None),
    )
