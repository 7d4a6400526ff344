"""The user's own settings (not a project's): for now, the workspace folder.

Kept in `$NEAI_CONFIG_DIR/config.json`, else the user's config directory. The
`NEAI_WORKSPACE` environment variable and `neai --workspace` win over it.
"""
from __future__ import annotations

import os
from pathlib import Path

from .errors import UsageError
from .storage import atomic_write_json, read_json

CONFIG_FILE = "config.json"


def config_dir() -> Path:
    env = os.environ.get("NEAI_CONFIG_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("neai-tui"))


def load_config() -> dict:
    path = config_dir() / CONFIG_FILE
    try:
        data = read_json(path)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def configured_workspace() -> Path | None:
    value = load_config().get("workspace")
    return Path(value).expanduser() if isinstance(value, str) and value.strip() else None


def save_workspace(folder: Path | str) -> Path:
    """Remember `folder` as the workspace (created if missing); returns it, absolute."""
    path = Path(folder).expanduser()
    if not str(folder).strip():
        raise UsageError("the workspace folder is empty", "Give a folder path, e.g. ~/neai-projects.")
    if path.exists() and not path.is_dir():
        raise UsageError(f"{path} is a file, not a folder", "Give a folder for the workspace.")
    path = path.resolve()
    path.mkdir(parents=True, exist_ok=True)
    config = load_config()
    config["workspace"] = str(path)
    atomic_write_json(config_dir() / CONFIG_FILE, config)
    return path


def workspace_overridden() -> bool:
    """True when NEAI_WORKSPACE is set: it wins over the saved folder."""
    return bool(os.environ.get("NEAI_WORKSPACE"))


# -- favourite targets (`neai targets --favourite`, the TUI's target lists) ------------------------


def favourite_targets() -> list[str]:
    """The user's favourite boards and MCUs, by catalogue name, in the order added."""
    value = load_config().get("favourite_targets")
    return [str(v) for v in value if isinstance(v, str)] if isinstance(value, list) else []


def set_favourite_target(name: str, favourite: bool = True) -> list[str]:
    """Add (or remove) a target to the favourites; returns them. The name is checked and
    stored as the catalogue spells it."""
    from .targets import resolve_target

    target = resolve_target(name)
    config = load_config()
    current = [n for n in favourite_targets() if n != target.name]
    if favourite:
        current.append(target.name)
    config["favourite_targets"] = current
    atomic_write_json(config_dir() / CONFIG_FILE, config)
    return current
