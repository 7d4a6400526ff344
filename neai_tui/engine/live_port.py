"""Signal lines from a live serial source, for the emulator (learn or detect what a board
sends now) and the firmware tests.

Any pyserial URL works: a device (``/dev/ttyACM0``, ``COM3``), ``socket://host:port``
(a board behind ser2net, QEMU's UART), ``rfc2217://…``, ``loop://`` (tests). The lines
go through the serial capture (``serial_capture.capture``: a first line cut short by
opening mid-line is dropped, a line whose value count differs is dropped and counted,
nothing is guessed), then through the strict signal reader, exactly as an imported file.

This module is the one place the emulator talks to the capture engine, so the capture's
API can change (branch i14 reworks it for `neai capture`) without touching the screens.
"""
from __future__ import annotations

import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .errors import UsageError
from .serial_capture import DEFAULT_BAUD, CaptureProgress, capture
from .signals import read_signals

DEFAULT_LINES = 20
DEFAULT_TIMEOUT_S = 10.0  # seconds without a byte before giving up


@dataclass
class LiveLines:
    url: str
    values: np.ndarray  # (lines, values per line), float64 as read back from the capture
    dropped: int  # lines that were not whole signal lines
    reason: str  # "max-lines", "stopped" or "idle"
    file: Path | None = None  # the capture, when the caller asked to keep it

    @property
    def lines(self) -> int:
        return int(self.values.shape[0])


def read_live_lines(
    url: str,
    lines: int = DEFAULT_LINES,
    *,
    baud: int = DEFAULT_BAUD,
    values_per_line: int | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    connect_timeout_s: float = 0.0,
    cancel: threading.Event | None = None,
    progress: Callable[[CaptureProgress], None] | None = None,
    keep: Path | str | None = None,
) -> LiveLines:
    """Read `lines` signal lines from `url` (fewer if `cancel` is set or the source is idle
    for `timeout_s`). `values_per_line` drops lines of another length (the library's input).
    `connect_timeout_s` retries a refused connection that long (a socket server starting).
    `keep`: also leave the capture in that file."""
    if not str(url).strip():
        raise UsageError("no serial port given", "Give a device (/dev/ttyACM0, COM3) or a pyserial URL "
                                                  "(socket://host:port, loop://).")
    if isinstance(lines, bool) or not isinstance(lines, int) or lines < 1:
        raise UsageError(f"the number of lines must be 1 or more, not {lines!r}", "e.g. 20 lines.")
    with tempfile.TemporaryDirectory(prefix="neai-live-") as tmp:
        out = Path(keep) if keep is not None else Path(tmp) / "live.csv"
        deadline = time.monotonic() + connect_timeout_s
        while True:
            try:
                result = capture(url, out, baud=baud, max_lines=lines, expected_values=values_per_line,
                                 cancel=cancel, progress=progress, idle_timeout=timeout_s)
                break
            except UsageError as exc:  # "cannot open": retried while a server may still be starting
                if time.monotonic() >= deadline or "cannot open" not in exc.message:
                    raise
                time.sleep(0.1)
        values = read_signals(result.path, sep="space").values
    return LiveLines(str(url), values, result.dropped, result.reason, Path(keep) if keep is not None else None)
