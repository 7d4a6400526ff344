"""One writer per project: the lock held while a command changes a project.

Everything that writes into a project folder (import, settings, signal removal,
benchmark, deploy, the selected library...) runs inside ``project_writer``
(or ``Project.writer``). A second writer, in another process or another thread
of this one, gets ``ProjectBusy`` (exit 2) naming who holds the lock: pid,
command line, what it does and since when. Readers (check, libs, emulate) never
wait for it.

The lock is an advisory ``flock`` on ``<project>/.neai-writer.lock``. The kernel
releases it when its process ends, however it ends (kill -9 included), so a
lock left by a killed process is simply free again; the holder's description
written into the file is then stale, and the next writer overwrites it (and
reports whose it was). The file itself is never deleted: deleting a lock file
lets two processes lock two different files.

Re-entrant in one thread: an engine function that takes the lock can be called
from a block that already holds it (``capture_and_import`` -> ``import_signal``).
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import shlex
import socket
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .errors import UsageError

LOCK_FILE = ".neai-writer.lock"
_MAX_INFO_BYTES = 4096

try:  # POSIX
    import fcntl as _fcntl
except ImportError:  # pragma: no cover - Windows
    _fcntl = None
    import msvcrt as _msvcrt


class ProjectBusy(UsageError):
    """Another process (or thread) is changing this project."""

    def __init__(self, message: str, hint: str, holder: dict | None) -> None:
        super().__init__(message, hint)
        self.holder = holder or {}


@dataclass
class WriterLock:
    """A held lock; ``previous`` describes a holder that died without releasing it."""

    path: Path
    info: dict
    previous: dict | None = None
    nested: bool = False  # taken inside a block of the same thread that already held it


_registry_lock = threading.Lock()
_held: dict[str, tuple[int, int, dict, int]] = {}  # key -> (thread id, depth, info, fd)


def command_line() -> str:
    """This process's command as a user typed it (`neai bench fan --time 60`)."""
    argv = list(sys.argv) or ["neai"]
    argv[0] = os.path.basename(argv[0]) or "neai"
    if argv[0].endswith(".py") or argv[0] in ("-c", "-m"):
        argv[0] = "python"
    text = shlex.join(argv)
    if argv[0] == "neai" and (len(argv) == 1 or argv[1] in ("tui", "demo") or argv[1].startswith("--workspace")):
        text += " (the TUI)"
    return text if len(text) <= 300 else text[:299] + "…"


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def describe_holder(info: dict) -> str:
    """'`neai bench fan` (pid 123, benchmark, since 2026-12-05 10:01:02 UTC)'."""
    if not info:
        return "another neai process (it has not said which yet)"
    since = str(info.get("since", "?")).replace("T", " ").replace("+00:00", " UTC")
    host = info.get("host")
    where = f" on {host}" if host and host != socket.gethostname() else ""
    what = f": {info['action']}" if info.get("action") else ""
    return f"`{info.get('command', '?')}` (pid {info.get('pid', '?')}{where}{what}, since {since})"


def _read_info(fd: int) -> dict:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        raw = os.read(fd, _MAX_INFO_BYTES)
        info = json.loads(raw.decode("utf-8")) if raw.strip() else {}
        return info if isinstance(info, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_info(fd: int, info: dict) -> None:
    data = json.dumps(info).encode("utf-8")[:_MAX_INFO_BYTES]
    os.lseek(fd, 0, os.SEEK_SET)
    os.ftruncate(fd, 0)
    os.write(fd, data + b"\n")


def _try_lock(fd: int) -> bool:
    if _fcntl is not None:
        try:
            _fcntl.flock(fd, _fcntl.LOCK_EX | _fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True
    # Windows: lock one byte far past the description, which stays readable.
    os.lseek(fd, 1 << 30, os.SEEK_SET)  # pragma: no cover
    try:  # pragma: no cover
        _msvcrt.locking(fd, _msvcrt.LK_NBLCK, 1)
    except OSError:  # pragma: no cover
        return False
    return True  # pragma: no cover


def _unlock(fd: int) -> None:
    if _fcntl is not None:
        _fcntl.flock(fd, _fcntl.LOCK_UN)
    else:  # pragma: no cover
        os.lseek(fd, 1 << 30, os.SEEK_SET)
        _msvcrt.locking(fd, _msvcrt.LK_UNLCK, 1)


def _busy(project_dir: Path, info: dict, action: str) -> ProjectBusy:
    pid = info.get("pid")
    same = pid == os.getpid()
    if same:
        hint = "Wait until it finishes here (or stop it), then try again."
        who = f"this session ({info.get('action', 'another task')}, since " \
              f"{str(info.get('since', '?')).replace('T', ' ').replace('+00:00', ' UTC')})"
    else:
        stop = f"`kill {pid}`" if isinstance(pid, int) else "stop it"
        hint = (f"Wait for it to finish, or stop it (Ctrl-C in its terminal, or {stop}); "
                "read-only commands (check, libs, emulate) work meanwhile.")
        who = describe_holder(info)
    return ProjectBusy(
        f"cannot {action}: the project {project_dir} is being changed by {who}",
        hint, info,
    )


@contextmanager
def project_writer(project_dir: Path | str, action: str) -> Iterator[WriterLock]:
    """Hold the project's writer lock for the block; ``ProjectBusy`` if someone else does.

    ``action`` says what the holder does ("benchmark", "import", "deploy"...);
    a second writer sees it with the pid, command line and start time."""
    folder = Path(project_dir)
    key = os.path.realpath(folder)
    me = threading.get_ident()
    with _registry_lock:
        held = _held.get(key)
        if held is not None:
            owner, depth, info, fd = held
            if owner != me:
                raise _busy(folder, info, action)
            _held[key] = (owner, depth + 1, info, fd)
            nested = True
        else:
            nested = False
    if nested:
        try:
            yield WriterLock(folder / LOCK_FILE, info, nested=True)
        finally:
            with _registry_lock:
                owner, depth, info, fd = _held[key]
                _held[key] = (owner, depth - 1, info, fd)
        return

    path = folder / LOCK_FILE
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:
        raise UsageError(
            f"cannot {action}: the project's lock file {path} cannot be opened ({exc.strerror or exc})",
            "Check that the project folder is writable (and that the lock file is not a link).",
        ) from None
    try:
        if not _try_lock(fd):
            info = _read_info(fd)
            if not info:  # the holder has just locked and not yet written who it is
                threading.Event().wait(0.05)
                info = _read_info(fd)
            raise _busy(folder, info, action)
        previous = _read_info(fd) or None  # left by a process that died holding it
        info = {"pid": os.getpid(), "command": command_line(), "action": action, "since": _now(),
                "host": socket.gethostname()}
        _write_info(fd, info)
        with _registry_lock:
            _held[key] = (me, 1, info, fd)
        try:
            yield WriterLock(path, info, previous)
        finally:
            with _registry_lock:
                _held.pop(key, None)
            try:
                os.ftruncate(fd, 0)
            except OSError:
                pass
            _unlock(fd)
    finally:
        os.close(fd)


def holder(project_dir: Path | str) -> dict | None:
    """Who holds the project's writer lock now (None when nobody does)."""
    folder = Path(project_dir)
    with _registry_lock:
        held = _held.get(os.path.realpath(folder))
    if held is not None:
        return held[2]
    path = folder / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        if _try_lock(fd):
            _unlock(fd)
            return None
        return _read_info(fd) or {}
    finally:
        os.close(fd)
