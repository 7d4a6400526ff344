"""Temporary build folders that a killed process does not leave behind for good.

``tempfile.TemporaryDirectory`` cleans up on exit, but not after kill -9, a
power cut or a closed SSH session: deploys left ``neai-deploy-*`` folders of
compiled libraries in /tmp. Here every scratch folder lives under the cache's
``scratch/`` and holds an ``flock`` on its own ``.owner`` file while in use. The
kernel drops that lock when the process dies, so the next ``scratch_dir`` call
(any neai command that builds) removes the folders nobody holds any more.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .paths import cache_dir

OWNER = ".owner"
_GRACE_S = 3600  # a folder without an owner file is being created, unless it is this old

try:
    import fcntl as _fcntl
except ImportError:  # pragma: no cover - Windows: folders are removed on exit only
    _fcntl = None


def scratch_root() -> Path:
    return cache_dir() / "scratch"


def _lock(fd: int) -> bool:
    if _fcntl is None:  # pragma: no cover
        return True
    try:
        _fcntl.flock(fd, _fcntl.LOCK_EX | _fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def reclaim(root: Path | None = None) -> list[Path]:
    """Remove the scratch folders whose process has ended; returns them."""
    root = root or scratch_root()
    removed: list[Path] = []
    if _fcntl is None or not root.is_dir():
        return removed
    for folder in root.iterdir():
        if folder.is_symlink() or not folder.is_dir():
            continue
        owner = folder / OWNER
        try:
            fd = os.open(owner, os.O_RDWR | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            try:
                if time.time() - folder.stat().st_mtime > _GRACE_S:
                    shutil.rmtree(folder, ignore_errors=True)
                    removed.append(folder)
            except OSError:
                pass
            continue
        except OSError:
            continue
        try:
            if _lock(fd):  # nobody holds it: its process is gone, or has not locked it yet
                claimed = bool(os.read(fd, 64).strip())  # the owner writes its pid once it holds the lock
                if claimed or time.time() - folder.stat().st_mtime > _GRACE_S:
                    shutil.rmtree(folder, ignore_errors=True)
                    removed.append(folder)
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed


@contextmanager
def scratch_dir(prefix: str = "neai-") -> Iterator[str]:
    """A fresh temporary folder (its path, like TemporaryDirectory), removed at the
    end of the block, or by a later call if this process is killed first."""
    root = scratch_root()
    root.mkdir(parents=True, exist_ok=True)
    reclaim(root)
    folder = tempfile.mkdtemp(prefix=prefix, dir=root)
    fd = os.open(os.path.join(folder, OWNER), os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        if _fcntl is not None:
            _fcntl.flock(fd, _fcntl.LOCK_EX)  # blocking: a reclaim() may hold it for a moment
        os.write(fd, f"{os.getpid()}\n".encode())
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        os.close(fd)
