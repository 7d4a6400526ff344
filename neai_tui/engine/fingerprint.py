"""What a benchmark ran on: a fingerprint of the project's data and settings.

A benchmark stores the fingerprint it started from (bench.json "fingerprint").
When the signals (their content, role, couple or class) or the settings that
judge a candidate (type, axes, RAM/flash limits, target, frequency filter)
change, the benchmark's scores no longer describe this project: ``neai bench``
starts a new benchmark instead of resuming it, and its candidates are shown as
computed on other data (``neai libs``, the TUI's tables, deploy's metadata).

Benchmarks written before fingerprints existed are judged by what they did
record: a signal imported after they started, or another frequency filter,
means other data.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading

from .userfiles import open_user_file

# The settings a candidate's score depends on (not the name or description).
SETTINGS = ("type", "axes", "multisensor", "max_ram_kb", "max_flash_kb", "max_time_ms", "target", "frequency_filter")

_cache_lock = threading.Lock()
_digests: dict[str, tuple[tuple, str]] = {}


def file_digest(path) -> str:
    """sha256 of a file's content (cached while its size and mtime stay the same)."""
    key = os.path.realpath(path)
    with open_user_file(path, None) as handle:
        st = os.fstat(handle.fileno())
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        with _cache_lock:
            known = _digests.get(key)
        if known is not None and known[0] == stamp:
            return known[1]
        digest = hashlib.sha256()
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    value = digest.hexdigest()
    with _cache_lock:
        _digests[key] = (stamp, value)
    return value


def data_fingerprint(project) -> dict:
    """{"digest", "signals": {id: {...}}, "settings": {...}} of the project as it is now."""
    signals = {}
    for entry in project.signals:
        try:
            content = file_digest(project.signal_path(entry))[:24]
        except OSError:
            content = "missing"
        except Exception as exc:  # noqa: BLE001 - a missing or odd copy is "other data", the check reports it
            content = f"unreadable:{type(exc).__name__}"
        signals[entry.id] = {"content": content, "role": entry.role, "couple": entry.couple,
                             "class": entry.class_name, "sep": entry.sep}
    from .filtering import active

    settings = {name: getattr(project.settings, name, None) for name in SETTINGS}
    # A sampling rate without a cut-off only labels spectra: the data are the same.
    settings["frequency_filter"] = active(settings["frequency_filter"])
    body = json.dumps({"signals": signals, "settings": settings}, sort_keys=True)
    return {"digest": hashlib.sha256(body.encode()).hexdigest()[:24], "signals": signals, "settings": settings}


_SETTING_WORDS = {
    "type": "the project type", "axes": "the number of axes", "multisensor": "Multi-sensor",
    "max_ram_kb": "the RAM limit", "max_flash_kb": "the flash limit", "max_time_ms": "the time limit",
    "target": "the target",
    "frequency_filter": "the frequency filter",
}


def changes(old: dict | None, new: dict, state: dict | None = None, project=None) -> list[str]:
    """What differs between the fingerprint a benchmark ran on and now, in words
    (empty: same data). ``old`` None: a benchmark from before fingerprints, judged
    from its ``state`` (created, frequency_filter) and the project's signals."""
    if old is None:
        return _legacy_changes(state or {}, project, new)
    if old.get("digest") == new.get("digest"):
        return []
    out: list[str] = []
    before, after = old.get("signals", {}), new.get("signals", {})
    added = [i for i in after if i not in before]
    removed = [i for i in before if i not in after]
    if added:
        out.append(f"signal(s) {', '.join(added)} imported")
    if removed:
        out.append(f"signal(s) {', '.join(removed)} removed")
    for sid in after:
        if sid in before and before[sid] != after[sid]:
            what = "content" if before[sid].get("content") != after[sid].get("content") else "role, couple or class"
            out.append(f"the {what} of signal {sid} changed")
    for name in SETTINGS:
        a, b = old.get("settings", {}).get(name), new.get("settings", {}).get(name)
        if a != b:
            out.append(f"{_SETTING_WORDS.get(name, name)} changed ({_short(a)} -> {_short(b)})")
    return out or ["the project's data changed"]


def _short(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, dict):
        return ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in value.items()
                         if v is not None) or "none"
    return str(value)


def _legacy_changes(state: dict, project, new: dict) -> list[str]:
    out = []
    created = str(state.get("created", ""))
    if project is not None and created:
        later = [s.id for s in project.signals if s.imported_at and s.imported_at > created]
        if later:
            out.append(f"signal(s) {', '.join(later)} imported after it started")
    if "frequency_filter" in state and state.get("frequency_filter") != new["settings"]["frequency_filter"]:
        out.append("the frequency filter changed")
    return out

