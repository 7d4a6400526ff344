"""Record signal lines from a serial port (the Studio's "from serial port" import).

The board prints one signal example per line: numbers separated by spaces,
commas, semicolons or tabs. Lines are written, one space between values, to a
capture file that the project then imports like any other file (so the same
checks run). A line whose values do not parse, or whose count differs from the
lines before it, is dropped and counted, never guessed: the first line is often
cut short because the port opened mid-line.
"""
from __future__ import annotations

import datetime as _dt
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .errors import InputError, UsageError

DEFAULT_BAUD = 115200
BAUD_RATES = (9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)
_SPLIT = re.compile(r"[ ,;\t]+")
PROGRESS_EVERY_S = 0.1


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
    reason: str  # "max-lines", "stopped" or "idle"


def list_ports() -> list[tuple[str, str]]:
    """(device, description) of the serial ports of this machine."""
    try:
        from serial.tools import list_ports as lp
    except ImportError:  # pragma: no cover - pyserial is a dependency
        return []
    return [(p.device, p.description or "") for p in sorted(lp.comports(), key=lambda p: p.device)]


def parse_line(raw: bytes) -> list[float] | None:
    """The numbers of one received line, or None when it is not a signal line."""
    text = raw.decode("utf-8", errors="replace").strip()
    if not text:
        return None
    try:
        values = [float(v) for v in _SPLIT.split(text) if v]
    except ValueError:
        return None
    if not values or any(v != v or v in (float("inf"), float("-inf")) for v in values):
        return None
    return values


def _open_port(port: str, baud: int, timeout: float):
    import serial

    try:
        return serial.serial_for_url(port, baudrate=baud, timeout=timeout)
    except (serial.SerialException, ValueError, OSError) as exc:
        raise UsageError(
            f"cannot open serial port {port} at {baud} baud ({exc})",
            "Check the port name (see the list of ports), that no other program holds it, and your "
            "permissions (on Linux: the dialout group).",
        ) from None


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
) -> CaptureResult:
    """Read lines from `port` into `out_path` until `max_lines`, `cancel` or
    `idle_timeout` seconds without data. The file appears only when done."""
    if baud <= 0:
        raise UsageError(f"the baud rate must be positive, not {baud}", f"Common rates: {', '.join(map(str, BAUD_RATES))}.")
    if max_lines is not None and max_lines < 1:
        raise UsageError(f"the maximum line count must be 1 or more, not {max_lines}", "Leave it blank for no limit.")
    cancel = cancel or threading.Event()
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    partial = out_path.with_name(f".{out_path.name}.partial")
    started = last_data = time.monotonic()
    last_report = 0.0
    kept = dropped = 0
    expected = expected_values
    pending: list[float] | None = None  # the first line, kept until the second says whether it is whole
    buffer = b""
    reason = "stopped"

    def report(force: bool = False) -> None:
        nonlocal last_report
        now = time.monotonic()
        if progress and (force or now - last_report >= PROGRESS_EVERY_S):
            last_report = now
            progress(CaptureProgress(kept, dropped, expected, now - started))

    ser = _open_port(port, baud, timeout=0.05)
    try:
        with ser, open(partial, "w", encoding="utf-8") as out:

            def keep(values: list[float]) -> None:
                nonlocal kept
                out.write(" ".join(repr(v) if not v.is_integer() else str(int(v)) for v in values) + "\n")
                kept += 1

            report(force=True)
            while True:
                if max_lines is not None and kept >= max_lines:
                    reason = "max-lines"
                    break
                if cancel.is_set():
                    break
                if idle_timeout is not None and time.monotonic() - last_data >= idle_timeout:
                    reason = "idle"
                    break
                try:
                    chunk = ser.read(max(1, getattr(ser, "in_waiting", 0) or 0))
                except Exception as exc:  # noqa: BLE001 - a pulled cable must end the capture cleanly
                    raise InputError(f"reading {port} failed ({exc})", "Check the cable and the board.") from None
                if not chunk:
                    report()
                    continue
                last_data = time.monotonic()
                buffer += chunk.replace(b"\r", b"\n")
                *lines, buffer = buffer.split(b"\n")
                for raw in lines:
                    if max_lines is not None and kept >= max_lines:
                        break
                    values = parse_line(raw)
                    if values is None:
                        if raw.strip():
                            dropped += 1
                        continue
                    if expected is None:
                        if pending is None:
                            pending = values
                            continue
                        expected = len(values)
                        if len(pending) == expected:
                            keep(pending)
                        else:
                            dropped += 1
                        pending = None
                    if len(values) != expected:
                        dropped += 1
                        continue
                    keep(values)
                report()
            if pending is not None and (max_lines is None or kept < max_lines):
                expected = len(pending)
                keep(pending)
            out.flush()
            os.fsync(out.fileno())
        report(force=True)
        if kept == 0:
            raise InputError(
                f"no signal line came from {port} ({dropped} line(s) did not hold numbers only)"
                if dropped else f"nothing came from {port} at {baud} baud",
                "Check that the board prints one signal example per line, numbers only, and the baud rate.",
            )
        os.replace(partial, out_path)
    finally:
        partial.unlink(missing_ok=True)
    return CaptureResult(out_path, kept, dropped, expected, reason)


def capture_path(project_dir: Path | str, port: str) -> Path:
    """Where a capture of the project is kept (the imported copy goes to signals/)."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    name = re.sub(r"[^A-Za-z0-9]+", "_", Path(port).name or port).strip("_") or "serial"
    return Path(project_dir) / "captures" / f"{name}_{stamp}.csv"


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
):
    """Capture into the project's captures/ folder, then import the file: (result, entry).

    Stopping (the cancel event) ends the capture and still imports what came in."""
    result = capture(
        port, capture_path(project.path, port), baud=baud, max_lines=max_lines,
        expected_values=project.values_per_line, cancel=cancel, progress=progress, idle_timeout=idle_timeout,
    )
    entry = project.import_signal(result.path, role=role, class_name=class_name, couple=couple, sep="space")
    return result, entry

