"""Where neai-tui keeps machine-local files (never inside a project)."""
from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """Build and emulator cache: $NEAI_CACHE_DIR, else the user's cache directory."""
    env = os.environ.get("NEAI_CACHE_DIR")
    if env:
        path = Path(env).expanduser()
    else:
        import platformdirs

        path = Path(platformdirs.user_cache_dir("neai-tui"))
    path.mkdir(parents=True, exist_ok=True)
    return path
