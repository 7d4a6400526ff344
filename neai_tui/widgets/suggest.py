"""Input helpers: file-path completion for keyboard-only use over SSH."""
from __future__ import annotations

import os
from pathlib import Path

from textual.suggester import Suggester


class PathSuggester(Suggester):
    """Suggests the first file or folder that completes what was typed (→ accepts)."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        if not value:
            return None
        expanded = os.path.expanduser(value)
        folder, prefix = os.path.split(expanded)
        try:
            names = sorted(os.listdir(folder or "."))
        except OSError:
            return None
        for name in names:
            if name.startswith(prefix) and name != prefix and (prefix.startswith(".") or not name.startswith(".")):
                completed = name + ("/" if Path(folder or ".", name).is_dir() else "")
                # Keep what the user typed (e.g. "~/") and append the rest of the name.
                return value + completed[len(prefix):]
        return None
