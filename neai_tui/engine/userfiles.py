"""Reading a file a user named: only regular files, never blocking, size known first.

A path can name a FIFO (whose open waits for a writer forever), a device
(/dev/zero reads without end), a socket or a folder, directly or through a link.
Every file the user gives (signal files, recordings, archives, library zips) is
opened here: ``O_NONBLOCK`` so opening a FIFO returns at once, then ``fstat`` on
the open descriptor (no race with a rename) says what it is, and its size is
checked against the caller's limit before a byte is read. Reads stop at the
limit even if the file grows meanwhile. Nothing is ever opened for writing.
"""
from __future__ import annotations

import io
import os
import stat
from pathlib import Path

from .errors import Problem, SignalFileError

_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


def human_bytes(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{int(n)} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)  # pragma: no cover


def _problem(path: Path, code: str, message: str, hint: str) -> SignalFileError:
    return SignalFileError([Problem("error", code, str(path), 0, 0, message, hint)])


def _kind(mode: int) -> str | None:
    for test, name in _KINDS:
        if test(mode):
            return name
    return None if stat.S_ISREG(mode) else "not a regular file"


def open_user_file(path: Path | str, max_bytes: int | None, *, what: str = "file") -> io.BufferedReader:
    """``path`` opened read-only as a binary file object, or SignalFileError (exit 2)
    with code file-not-found, not-a-file (folder), special-file, file-too-large
    or unreadable. The caller closes it (``with``)."""
    path = Path(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise _problem(
            path, "file-not-found", f"{what} not found",
            f"check the path; a relative path starts from the current folder ({os.getcwd()})",
        ) from None
    except IsADirectoryError:
        raise _problem(path, "not-a-file", "this is a folder, not a file",
                       f"give the path of one {what} inside it") from None
    except OSError as exc:
        raise unreadable(path, exc) from None
    try:
        st = os.fstat(fd)
        kind = _kind(st.st_mode)
        if kind == "a folder":
            raise _problem(path, "not-a-file", "this is a folder, not a file", f"give the path of one {what} inside it")
        if kind is not None:
            link = " (through a link)" if path.is_symlink() else ""
            raise _problem(
                path, "special-file", f"this is {kind}{link}, not a regular file: it is not read",
                f"give a regular {what}; to read from a device or a pipe, save its output to a file first "
                "(a serial port: `neai capture --port PORT --out FILE`)",
            )
        if max_bytes is not None and st.st_size > max_bytes:
            raise too_large(path, st.st_size, max_bytes)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_user_file(path: Path | str, max_bytes: int | None, *, what: str = "file") -> bytes:
    """The whole content of a regular file of at most ``max_bytes`` (see ``open_user_file``)."""
    path = Path(path)
    with open_user_file(path, max_bytes, what=what) as handle:
        try:
            data = handle.read() if max_bytes is None else handle.read(max_bytes + 1)
        except OSError as exc:
            raise unreadable(path, exc) from None
    if max_bytes is not None and len(data) > max_bytes:  # it grew while we read
        raise too_large(path, len(data), max_bytes)
    return data


def too_large(path: Path, size: int, max_bytes: int) -> SignalFileError:
    return _problem(
        path, "file-too-large", f"the file is {human_bytes(size)}; the limit is {human_bytes(max_bytes)}",
        "split the recording into several files or keep a representative part; "
        "a few hundred to a few thousand lines per class are usually enough",
    )


def unreadable(path: Path, exc: OSError) -> SignalFileError:
    return SignalFileError([unreadable_problem(path, exc)])


def unreadable_problem(path: Path, exc: OSError) -> Problem:
    reason = exc.strerror or str(exc)
    return Problem(
        "error", "unreadable", str(path), 0, 0,
        f"cannot read the file: {reason}",
        "check that you may read it (permissions) and that no other program locks it",
    )
