"""Input helpers: file-path completion for keyboard-only use over SSH."""
from __future__ import annotations

import os
from pathlib import Path

from textual.suggester import Suggester


class PathSuggester(Suggester):
    """Suggests the first file or folder that completes what was typed (→ accepts)."""

    def __init__(self, base: Path | None = None) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.base = base  # relative paths complete in this folder (a project's), else the current one

    async def get_suggestion(self, value: str) -> str | None:
        if not value:
            return None
        expanded = os.path.expanduser(value)
        folder, prefix = os.path.split(expanded)
        if self.base is not None and not os.path.isabs(expanded):
            folder = os.path.join(str(self.base), folder)
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
