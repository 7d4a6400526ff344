"""Paths as the project's fields show them and as users type them."""
from __future__ import annotations

from pathlib import Path


def shown_path(project, path: Path | str) -> str:
    """A path as a field shows it: relative to the project folder when inside it."""
    try:
        return str(Path(path).relative_to(project.path))
    except ValueError:
        return str(path)


def typed_path(project, text: str) -> Path:
    """A path typed in a field: ~ expanded; relative ones are the project's
    (signals/…) when such a file exists there, else the current folder's."""
    path = Path(text.strip()).expanduser()
    if not path.is_absolute() and (project.path / path).exists():
        return project.path / path
    return path
