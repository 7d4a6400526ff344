"""Record signal lines from a serial port (the Studio's "from serial port" import).

The board prints one signal example per line: numbers separated by spaces,
commas, semicolons or tabs. Lines are written, one space between values, to a
capture file that the project then imports like any other file (so the same
checks run). A line whose values do not parse, or whose count differs from the
lines before it, is dropped and counted, never guessed: the first line is often
cut short because the port opened mid-line.

The source is a pyserial URL: a device (/dev/ttyACM0, COM3), ``socket://HOST:PORT``
(a board behind a TCP bridge), ``loop://`` (tests), ``rfc2217://``...

What is received is kept:

* every complete line is written and flushed to the capture file as it arrives
  (fsynced at least every second), so a crash or a pulled cable loses at most
  the line in flight;
* a source that closes or fails mid-capture ends it with ``reason == "closed"``
  and a message saying so: the lines received stay in the file (and are
  imported by ``capture_and_import``); only the incomplete last line is dropped;
* a line is at most ``max_line_bytes`` long (512 KiB by default, above the
  Studio's 16 383 values): a longer one ends the capture with
  ``reason == "line-too-long"`` and a clear message, keeping the lines before it;
* cost is linear: each received byte is looked at once (``LineSplitter``).

API for other screens (e.g. a live port in the emulator)::

    with SerialLines("socket://localhost:7000", baud=115200, cancel=event) as source:
        for raw in source:               # complete lines, as bytes, without the line end
            values = parse_line(raw)     # list of floats, or None if not a signal line
    # SourceClosed (an InputError) is raised when the port closes or fails; LineTooLong
    # when a line exceeds the bound. source.end_reason is "stopped" or "idle" otherwise.
"""
from __future__ import annotations

import datetime as _dt
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from .errors import InputError, UsageError

DEFAULT_BAUD = 115200
BAUD_RATES = (9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)
MAX_LINE_BYTES = 512 * 1024
MAX_VALUES = 16383
PROGRESS_EVERY_S = 0.1
FSYNC_EVERY_S = 1.0
_READ_CHUNK = 64 * 1024
_SPLIT = re.compile(rb"[ ,;\t]+")
_NUMBER = re.compile(rb"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")  # bytes: ASCII digits only
_FLOAT32_LIMIT = 3.4028235e38


class SourceClosed(InputError):
    """The port or socket closed (or failed) while reading."""


class LineTooLong(InputError):
    """A line grew past the bound without a line break."""


@dataclass
class CaptureProgress:
    lines: int  # lines kept so far
    dropped: int
    values_per_line: int | None
    elapsed_s: float


@dataclass
class CaptureResult:
    path: Path
    lines: int
    dropped: int
    values_per_line: int | None
    reason: str  # "max-lines", "stopped", "idle"; or "closed", "line-too-long" (ended early, lines kept)
    message: str = ""  # what ended an early capture, for the user

    @property
    def complete(self) -> bool:
        """False when the source closed or failed before the capture ended normally."""
        return self.reason in ("max-lines", "stopped", "idle")


def list_ports() -> list[tuple[str, str]]:
    """(device, description) of the serial ports of this machine."""
    try:
        from serial.tools import list_ports as lp
    except ImportError:  # pragma: no cover - pyserial is a dependency
        return []
    return [(p.device, p.description or "") for p in sorted(lp.comports(), key=lambda p: p.device)]


def parse_line(raw: bytes | str) -> list[float] | None:
    """The numbers of one received line, or None when it is not a signal line:
    ASCII decimal numbers within float32's range only (SPEC §1)."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", errors="replace")
    raw = raw.strip()
    if not raw:
        return None
    parts = _SPLIT.split(raw, maxsplit=MAX_VALUES)  # bounded work, however long the line
    if len(parts) > MAX_VALUES:
        return None  # more values than a signal line holds (SPEC §1: fewer than 16 384)
    fields = [v for v in parts if v]
    if not fields or not all(_NUMBER.fullmatch(v) for v in fields):
        return None
    values = [float(v) for v in fields]
    if any(not abs(v) <= _FLOAT32_LIMIT for v in values):
        return None
    return values


class LineSplitter:
    """Bytes in, complete lines out, at linear cost: each byte is scanned once for a
    line end, however long the line grows (a 16 MB line without newline is not
    split again on every read), and a line over ``max_line_bytes`` sets ``failed``.
    CR, LF and CRLF all end a line; empty lines are dropped."""

    def __init__(self, max_line_bytes: int = MAX_LINE_BYTES, source: str = "the source"):
        self.max_line_bytes = max_line_bytes
        self.source = source
        self._buffer = bytearray()
        self.failed: LineTooLong | None = None

    @property
    def pending(self) -> int:
        """Bytes of the incomplete line received so far."""
        return len(self._buffer)

    def feed(self, chunk: bytes) -> list[bytes]:
        """The lines completed by ``chunk``. A line over the bound sets ``failed`` (a
        LineTooLong): the lines before it are returned, nothing after it is."""
        if self.failed is not None:
            return []
        parts = chunk.replace(b"\r", b"\n").split(b"\n")  # linear in the chunk
        # parts[0] continues the pending line; parts[-1] is the new pending line (maybe empty)
        if len(parts) == 1:
            self._buffer += parts[0]
            self._check(len(self._buffer))
            return []
        first = bytes(self._buffer) + parts[0] if self._buffer else parts[0]
        self._buffer = bytearray(parts[-1])
        out = []
        for line in (first, *parts[1:-1]):
            if self._check(len(line)):
                return out
            if line:
                out.append(line)
        self._check(len(self._buffer))
        return out

    def _check(self, size: int) -> bool:
        if size <= self.max_line_bytes:
            return False
        self._buffer.clear()
        self.failed = LineTooLong(
            f"{self.source}: a line grew past {self.max_line_bytes} bytes ({size} so far) without a line break",
            "Check the baud rate (a wrong one turns line breaks into noise) and that the board ends each "
            "signal line with \\n; a line holds fewer than 16 384 values.",
        )
        return True


def _open_port(port: str, baud: int, timeout: float):
    import serial

    try:
        return serial.serial_for_url(port, baudrate=baud, timeout=timeout)
    except (serial.SerialException, ValueError, OSError) as exc:
        raise UsageError(
            f"cannot open serial port {port} at {baud} baud ({exc})",
            "Check the port name (see the list of ports) or URL (socket://HOST:PORT, loop://), that no other "
            "program holds it, and your permissions (on Linux: the dialout group).",
        ) from None


def _check_settings(baud: int, max_lines: int | None = None) -> None:
    if isinstance(baud, bool) or not isinstance(baud, int) or baud <= 0:
        raise UsageError(f"the baud rate must be a positive whole number, not {baud}",
                         f"Common rates: {', '.join(map(str, BAUD_RATES))}.")
    if max_lines is not None and max_lines < 1:
        raise UsageError(f"the maximum line count must be 1 or more, not {max_lines}", "Leave it blank for no limit.")


class SerialLines:
    """Complete lines from a pyserial URL, as they arrive (see the module's docstring).

    Iterating ends when ``cancel`` is set (``end_reason = "stopped"``) or after
    ``idle_timeout`` seconds without a byte (``"idle"``); it raises SourceClosed when
    the source closes or fails, LineTooLong for an unbounded line. ``on_wait`` is
    called when a read returns nothing (progress reports)."""

    def __init__(self, port: str, *, baud: int = DEFAULT_BAUD, max_line_bytes: int = MAX_LINE_BYTES,
                 cancel: threading.Event | None = None, idle_timeout: float | None = None,
                 on_wait: Callable[[], None] | None = None, poll_s: float = 0.05):
        _check_settings(baud)
        self.port, self.baud = port, baud
        self.cancel = cancel or threading.Event()
        self.idle_timeout = idle_timeout
        self.on_wait = on_wait
        self.poll_s = poll_s
        self.splitter = LineSplitter(max_line_bytes, port)
        self.end_reason = ""
        self.received_bytes = 0
        self._ser = None

    def __enter__(self) -> "SerialLines":
        # Non-blocking reads (timeout 0): pyserial's blocking read of N bytes on socket://
        # drops what it gathered if the peer closes before N arrive, so the last lines
        # before a disconnect would be lost. Waiting for data is done here instead.
        self._ser = _open_port(self.port, self.baud, timeout=0)
        return self

    def _wait(self, ser) -> None:
        """Until the source has data, or poll_s."""
        import select

        try:
            select.select([ser.fileno()], [], [], self.poll_s)
        except (AttributeError, OSError, ValueError, TypeError, NotImplementedError):
            time.sleep(self.poll_s)
        except Exception:  # noqa: BLE001 - pyserial raises its own types for ports without a descriptor
            time.sleep(self.poll_s)

    def __exit__(self, *exc) -> None:
        if self._ser is not None:
            try:
                self._ser.close()
            except Exception:  # noqa: BLE001 - closing a pulled port may fail; nothing to keep
                pass
            self._ser = None

    def __iter__(self) -> Iterator[bytes]:
        if self._ser is None:
            raise RuntimeError("use SerialLines in a with block")
        ser = self._ser
        last_data = time.monotonic()
        while True:
            if self.cancel.is_set():
                self.end_reason = "stopped"
                return
            if self.idle_timeout is not None and time.monotonic() - last_data >= self.idle_timeout:
                self.end_reason = "idle"
                return
            try:
                chunk = ser.read(_READ_CHUNK)
            except Exception as exc:  # noqa: BLE001 - a pulled cable or closed socket ends the capture cleanly
                raise SourceClosed(
                    f"{self.port} closed or failed while reading ({exc})",
                    "Check the cable, the board and the connection; the lines received before are kept.",
                ) from None
            if not chunk:
                if self.on_wait:
                    self.on_wait()
                self._wait(ser)
                continue
            last_data = time.monotonic()
            self.received_bytes += len(chunk)
            yield from self.splitter.feed(chunk)
            if self.splitter.failed is not None:
                raise self.splitter.failed


def capture(
    port: str,
    out_path: Path | str,
    *,
    baud: int = DEFAULT_BAUD,
    max_lines: int | None = None,
    expected_values: int | None = None,
    cancel: threading.Event | None = None,
    progress: Callable[[CaptureProgress], None] | None = None,
    idle_timeout: float | None = None,
    max_line_bytes: int = MAX_LINE_BYTES,
    force: bool = False,
) -> CaptureResult:
    """Read lines from `port` into `out_path` until `max_lines`, `cancel` or
    `idle_timeout` seconds without data, or until the source closes. Each kept line
    is written and flushed as it arrives; an early end keeps them (see CaptureResult).
    `out_path` is never replaced unless `force`; it is removed if no line was kept."""
    _check_settings(baud, max_lines)
    out_path = Path(out_path)
    if out_path.is_symlink() or (out_path.exists() and not out_path.is_file()):
        raise UsageError(f"{out_path} is not a regular file (a link, folder, pipe or device)",
                         "Give the path of a new file.")
    if out_path.exists() and not force:
        raise UsageError(f"{out_path} exists", "Choose another output file, or add --force to replace it.")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    last_report = 0.0
    kept = dropped = 0
    expected = expected_values
    pending: list[float] | None = None  # the first line, kept until the second says whether it is whole
    reason, message = "stopped", ""

    def report(force_report: bool = False) -> None:
        nonlocal last_report
        now = time.monotonic()
        if progress and (force_report or now - last_report >= PROGRESS_EVERY_S):
            last_report = now
            progress(CaptureProgress(kept, dropped, expected, now - started))

    source = SerialLines(port, baud=baud, max_line_bytes=max_line_bytes, cancel=cancel, idle_timeout=idle_timeout,
                         on_wait=report)
    with source:  # opened before the file: a bad port leaves nothing behind
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0) | (0 if force else os.O_EXCL)
        try:
            fd = os.open(out_path, flags, 0o644)
        except FileExistsError:
            raise UsageError(f"{out_path} exists", "Choose another output file, or add --force to replace it.") from None
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            last_sync = time.monotonic()

            def keep(values: list[float]) -> None:
                nonlocal kept, last_sync
                out.write(" ".join(repr(v) if not v.is_integer() else str(int(v)) for v in values) + "\n")
                out.flush()  # in the file as it arrives: a crash keeps every complete line
                kept += 1
                if time.monotonic() - last_sync >= FSYNC_EVERY_S:
                    os.fsync(out.fileno())
                    last_sync = time.monotonic()

            report(force_report=True)
            try:
                for raw in source:
                    values = parse_line(raw)
                    if values is None:
                        dropped += 1
                    elif expected is None and pending is None:
                        pending = values
                    else:
                        if expected is None:
                            expected = len(values)
                            if len(pending) == expected:
                                keep(pending)
                            else:
                                dropped += 1
                            pending = None
                        if max_lines is not None and kept >= max_lines:
                            reason = "max-lines"
                            break
                        if len(values) != expected:
                            dropped += 1
                        else:
                            keep(values)
                    report()
                    if max_lines is not None and kept >= max_lines:
                        reason = "max-lines"
                        break
                else:
                    reason = source.end_reason or "stopped"
            except (SourceClosed, LineTooLong) as exc:
                reason = "closed" if isinstance(exc, SourceClosed) else "line-too-long"
                partial = f"; the incomplete last line ({source.splitter.pending} bytes) was dropped" if (
                    source.splitter.pending) else ""
                message = f"{exc.message}{partial}"
            except KeyboardInterrupt:
                reason = "stopped"
            if pending is not None and (max_lines is None or kept < max_lines):
                expected = len(pending)
                keep(pending)
            out.flush()
            os.fsync(out.fileno())
    report(force_report=True)
    if kept == 0:
        out_path.unlink(missing_ok=True)
        if reason in ("closed", "line-too-long"):
            raise InputError(f"{message}; no complete signal line had come", "Check the board and the connection.")
        raise InputError(
            f"no signal line came from {port} ({dropped} line(s) did not hold numbers only)"
            if dropped else f"nothing came from {port} at {baud} baud",
            "Check that the board prints one signal example per line, numbers only, and the baud rate.",
        )
    if message:
        message += f"; the {kept} complete line(s) received before are kept in {out_path}"
    return CaptureResult(out_path, kept, dropped, expected, reason, message)


def capture_path(project_dir: Path | str, port: str) -> Path:
    """Where a capture of the project is kept (the imported copy goes to signals/)."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    name = re.sub(r"[^A-Za-z0-9]+", "_", Path(port).name or port).strip("_") or "serial"
    path = Path(project_dir) / "captures" / f"{name}_{stamp}.csv"
    n = 2
    while path.exists():
        path = path.with_name(f"{name}_{stamp}-{n}.csv")
        n += 1
    return path


def capture_and_import(
    project,
    port: str,
    *,
    baud: int = DEFAULT_BAUD,
    max_lines: int | None = None,
    role: str | None = None,
    class_name: str | None = None,
    couple: int = 1,
    cancel: threading.Event | None = None,
    progress: Callable[[CaptureProgress], None] | None = None,
    idle_timeout: float | None = None,
    max_line_bytes: int = MAX_LINE_BYTES,
):
    """Capture into the project's captures/ folder, then import the file: (result, entry).

    Stopping (the cancel event) ends the capture and still imports what came in; so
    does a source that closes mid-capture (``result.complete`` is then False and
    ``result.message`` says so). The capture file stays in captures/. The role or
    class is checked before the port is opened, not after the recording."""
    kind = project.settings.type
    if kind == "anomaly" and role not in ("nominal", "abnormal"):
        raise UsageError("a capture into an anomaly-detection project needs its role",
                         "Give --role nominal or --role abnormal.")
    if kind == "n-class" and not class_name:
        raise UsageError("a capture into an n-class project needs the class it records",
                         "Give --class NAME (e.g. the machine's state).")
    result = capture(
        port, capture_path(project.path, port), baud=baud, max_lines=max_lines,
        expected_values=project.values_per_line, cancel=cancel, progress=progress, idle_timeout=idle_timeout,
        max_line_bytes=max_line_bytes,
    )
    entry = project.import_signal(result.path, role=role, class_name=class_name, couple=couple, sep="space")
    return result, entry
