"""Formatting of engine figures for display (numbers, bytes, durations, grids)."""
from __future__ import annotations

import math
import re
from typing import Any, Iterable

from rich.table import Table
from rich.text import Text


def field(record: Any, name: str, default: Any = None) -> Any:
    """Read `name` from an engine result, whether it is a dataclass or a dict."""
    if isinstance(record, dict):
        return record.get(name, default)
    return getattr(record, name, default)


def format_bytes(value: Any) -> str:
    if value is None:
        return "–"
    value = float(value)
    return f"{value:.0f} B" if value < 1024 else f"{value / 1024:.1f} KB"


def format_number(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if value and (abs(value) < 1e-3 or abs(value) >= 1e5):
        return f"{value:.{digits}g}"
    return f"{value:.{digits}f}".rstrip("0").rstrip(".")


def format_rate(value: Any) -> str:
    """A rate with at most 3 significant figures, never in exponent form:
    577.57 -> 578, 288.78 -> 289, 4.5 -> 4.5, 0.0123 -> 0.0123, 12345 -> 12300."""
    if value is None:
        return "–"
    value = float(value)
    if not math.isfinite(value) or value == 0:
        return "0" if value == 0 else str(value)
    decimals = 2 - math.floor(math.log10(abs(value)))
    rounded = round(value, decimals)
    if decimals <= 0:
        return str(int(rounded))
    return f"{rounded:.{decimals}f}".rstrip("0").rstrip(".")


def format_metrics(metrics: dict | None) -> str:
    """The headline metrics; intervals and per-split lists stay in `neai libs --json`."""
    scalars = {k: v for k, v in (metrics or {}).items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    if not scalars:
        return "–"
    return "  ".join(f"{k} {format_number(v)}" for k, v in scalars.items())


SHORT_METRIC_NAMES = {
    "balanced_accuracy": "BA",
    "outlier_rejection": "rejects",
    "functional_margin": "margin",
    "accuracy": "acc",
    "certainty": "cert",
    "recall": "recall",
    "r2": "R²",
    "smape": "SMAPE",
    "rmse": "RMSE",
    "f1": "F1",
    "mcc": "MCC",
}


def short_metrics(metrics: dict | None) -> str:
    """The contract metrics only, abbreviated, for one line at 80 columns."""
    parts = [f"{SHORT_METRIC_NAMES[k]} {format_number(v)}" for k, v in (metrics or {}).items()
             if k in SHORT_METRIC_NAMES and isinstance(v, (int, float)) and not isinstance(v, bool)]
    return "  ".join(parts) or format_metrics(metrics)


def format_duration(seconds: Any) -> str:
    if seconds is None:
        return "–"
    seconds = int(seconds)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes:02d}:{seconds:02d}"


def grid(rows: Iterable[tuple[str, Any]]) -> Table:
    """Label / value rows, labels bold; values fold rather than overflow."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for label, value in rows:
        table.add_row(label, value if isinstance(value, Text) else Text(str(value)))
    return table


def optional_float(text: str, label: str, unit: str = "") -> float | None:
    """A blank field is None; anything else must be a number (NeaiError otherwise)."""
    from ..engine.errors import UsageError

    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise UsageError(f"{label} must be a number{' of ' + unit if unit else ''}, not '{text}'",
                         "Leave it blank for none.") from None


def optional_int(text: str, label: str) -> int | None:
    from ..engine.errors import UsageError

    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"{label} must be a whole number, not '{text}'", "Leave it blank for the default.") from None


# The engine's hints name `neai` commands (they serve the CLI too); in the TUI the
# same step is a key. Most specific patterns first.
TUI_HINTS = (
    (r"`neai tools reshape[^`]*`", "the Tools screen's data manipulation (key t, in a project or at home)"),
    (r"`neai set (?:DIR|PROJECT|\S+) --max-(ram|flash) ([\d.]+)`", r"Project settings (step 1): max \1 \2 KB"),
    (r"`neai set [^`]*`", "Project settings (step 1)"),
    (r"`neai deploy DIR --force`", "the Deployment step (6), answering yes to build it anyway"),
    (r"`neai import DIR FILE --role (\w+) --couple (\d+)`",
     r"the Signals step (2, key i): role \1, couple \2"),
    (r"`neai import DIR FILE --class NAME`", "the Signals step (2, key i), one file per class"),
    (r"`neai import [^`]*`", "the Signals step (2, key i)"),
    (r"\(run `neai check DIR` for all findings\)", "(the Signals step, 2, lists them all)"),
    (r"`neai check DIR --optional`", "the Signals step (2, key o)"),
    (r"`neai check DIR`", "the Signals step (2)"),
    (r"`neai bench DIR[^`]*`", "the Benchmark step (3, key b)"),
    (r"`neai libs DIR`", "the Benchmark step's Libraries view (3, key v)"),
    (r"`neai deploy[^`]*`", "the Deployment step (6, key d)"),
    (r"Run `neai targets` for the catalogue, or give", "Type in the target field to search the catalogue, or give"),
    (r"`neai new DIR --type anomaly --variables N`", "the home screen (key n, Multi-sensor ticked)"),
    (r"`neai new [^`]*`", "the home screen (key n)"),
    (r"`neai tui DIR`", "the home screen (enter)"),
)


def tui_hint(text: str) -> str:
    """An engine message with its `neai …` commands replaced by the TUI's keys."""
    for pattern, replacement in TUI_HINTS:
        text = re.sub(pattern, replacement, text)
    return text
