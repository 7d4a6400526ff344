"""What the tools' forms held last time, per project (issue 16): the data tools
opened from a project find their fields as the user left them.

Kept in `<project>/tools.json` (crash-safe write); a missing or damaged file is
an empty memory, never an error. Relative paths typed in a project's tools are
the project folder's (`resolve_in`), as everywhere a project is open.
"""
from __future__ import annotations

import os
from pathlib import Path

from .storage import atomic_write_json, read_json

MEMORY_FILE = "tools.json"


def load_fields(project) -> dict[str, object]:
    try:
        data = read_json(Path(project.path) / MEMORY_FILE)
    except (OSError, ValueError):
        return {}
    fields = data.get("fields") if isinstance(data, dict) else None
    return {str(k): v for k, v in fields.items() if isinstance(v, (str, bool))} if isinstance(fields, dict) else {}


def save_fields(project, fields: dict[str, object]) -> None:
    atomic_write_json(Path(project.path) / MEMORY_FILE, {"fields": fields})


def resolve_in(base: Path | None, text: str) -> Path:
    """A typed path: ~ expanded; a relative one is the project folder's (`base`),
    else the current folder's when no project is open."""
    path = Path(os.path.expanduser(text.strip()))
    if base is not None and not path.is_absolute():
        return Path(base) / path
    return path


def adopt_rate(project, rate_hz: float | None) -> bool:
    """The sampling rate a tool was given becomes the project's (spectra, the
    frequency filter, reports) when it differs; True when it changed."""
    if not rate_hz or rate_hz <= 0:
        return False
    current = dict(project.settings.frequency_filter or {})
    if current.get("sampling_rate_hz") == rate_hz:
        return False
    if current.get("low_hz") is not None or current.get("high_hz") is not None:
        return False  # a filter designed for another rate: the user changes it in the filter dialog
    current["sampling_rate_hz"] = float(rate_hz)
    project.update_settings(frequency_filter=current)
    return True
