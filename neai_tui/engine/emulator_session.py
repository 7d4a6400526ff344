"""An interactive emulator session on one library zip (the Studio's emulator step).

Anomaly detection keeps the library's state between calls, as on the device:
initialise, learn a file or a range of its lines (the count learned grows), then
detect a file or a range; changing the sensitivity detects the same lines again
through the C (`set_sensitivity` then `detect`), nothing is rescaled in Python.
Other library types run inference through `emulator.emulate` on the chosen lines.

Every call runs the zip's host build (ctypes); a session is used from one thread
at a time.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .emulator import emulate, load_anomaly_library, open_library_zip, read_inference_file
from .emulator_runtime import STATE_NAMES, AnomalyLibrary
from .errors import InputError, UsageError
from .userfiles import open_user_file

MODES = {"anomaly": "detect", "one-class": "outlier", "n-class": "classify", "extrapolation": "extrapolate"}


def parse_range(text: str, n_lines: int) -> tuple[int, int]:
    """(first, last) 1-based inclusive from '', 'all', '7', '10-50', '10-', '-20'."""
    text = (text or "").strip().lower().replace(" ", "").replace("..", "-").replace(":", "-")
    if n_lines < 1:
        raise InputError("the file has no line", "Choose a file with signal lines.")
    if text in ("", "all", "*"):
        return 1, n_lines
    match = re.fullmatch(r"(\d*)(-?)(\d*)", text)
    if not match or not (match.group(1) or match.group(3)):
        raise UsageError(f"'{text}' is not a line range", "Write e.g. 1-100, 50- or 7 (blank = all lines).")
    first_text, dash, last_text = match.groups()
    first = int(first_text) if first_text else 1
    last = int(last_text) if last_text else (n_lines if dash else first)
    if not 1 <= first <= last:
        raise UsageError(f"line range {first}-{last} is empty", "The first line must not come after the last.")
    if first > n_lines:
        raise UsageError(f"line {first} is past the end of the file ({n_lines} lines)", f"Use a range within 1-{n_lines}.")
    return first, min(last, n_lines)


def library_zip_info(path: Path | str) -> dict:
    """What a library zip is (from its metadata.json, without extracting it)."""
    path = Path(path)
    try:
        with open_user_file(path, None, what="library zip") as handle, zipfile.ZipFile(handle) as zf:
            meta = json.loads(zf.read("metadata.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise InputError(f"{path}: not a neai library zip ({exc})", "Use a zip made by `neai deploy`.") from None
    return {
        "path": path,
        "library_id": meta.get("library_id", "?"),
        "type": meta.get("type", "?"),
        "target": meta.get("target", ""),
        "core": meta.get("core", ""),
        "suffix": meta.get("suffix", ""),
        "created": meta.get("created", ""),
        "metadata": meta,
    }


def list_library_zips(project) -> list[dict]:
    """The libraries built for a project (deploy/*.zip), newest first."""
    folder = Path(project.path) / "deploy"
    out = []
    if folder.is_dir():
        for path in sorted(folder.glob("*.zip"), key=lambda p: p.stat().st_mtime, reverse=True):
            try:
                out.append(library_zip_info(path))
            except InputError:
                continue
    return out


@dataclass
class Rows:
    path: Path
    first: int
    last: int
    values: np.ndarray  # the chosen lines
    targets: np.ndarray | None = None  # extrapolation: the real values, when the file has them (column 1)

    @property
    def line_numbers(self) -> list[int]:
        return list(range(self.first, self.last + 1))


@dataclass
class DetectReport:
    results: list[dict]  # {"line": N, ...type-specific fields (SPEC §2)...}
    sensitivity: float | None = None
    learned: int = 0
    path: Path | None = None
    summary: dict = field(default_factory=dict)


class EmulatorSession:
    """One library zip, opened for interactive use."""

    def __init__(self, zip_path: Path | str):
        self.zip_path = Path(zip_path).expanduser()
        self.meta, self.folder = open_library_zip(self.zip_path)
        self.type = self.meta.get("type", "?")
        data = self.meta.get("data", {})
        self.axes = int(data.get("axes", 1))
        self.buffer_size = int(data.get("buffer_size", 1))
        self.layout = data.get("layout", "buffers")
        self.library = None
        self._private_dir = None
        if self.type == "anomaly":
            load_anomaly_library(self.zip_path)  # the type and platform checks
            # A private copy of the shared library: dlopen shares one state per path,
            # and another session (validation) must not reset this one's knowledge.
            self._private_dir = tempfile.TemporaryDirectory(prefix="neai-session-")
            so_name = self.meta["emulator"]["shared_library"]
            private = Path(self._private_dir.name) / so_name
            shutil.copyfile(self.folder / "emulator" / so_name, private)
            self.library = AnomalyLibrary(private, self.axes, self.buffer_size, self.meta.get("suffix") or "")
            self.library.init()
        self.initialised = self.type == "anomaly"
        self.last_rows: Rows | None = None

    # -- shared ------------------------------------------------------------------
    @property
    def mode(self) -> str:
        return MODES.get(self.type, "detect")

    @property
    def learned(self) -> int:
        return self.library.learned if self.library is not None else 0

    @property
    def sensitivity(self) -> float | None:
        return float(self.library.get_sensitivity()) if self.library is not None else None

    def read_rows(self, path: Path | str, line_range: str = "") -> Rows:
        """The chosen lines of a file. An extrapolation library also takes its training
        files (the real value first, then the buffer): the real values are kept to
        compare the predictions with."""
        path = Path(path).expanduser()
        targets = None
        try:
            values = read_inference_file(path, self.axes, self.buffer_size, self.layout)
        except InputError:
            if self.type != "extrapolation":
                raise
            from .signals import read_signals

            try:
                data = read_signals(path, axes=self.axes, layout="target-first")
            except InputError:
                data = None
            if data is None or data.values.shape[1] != 1 + self.axes * self.buffer_size:
                raise
            values, targets = data.values[:, 1:], data.values[:, 0]
        first, last = parse_range(line_range, len(values))
        return Rows(path, first, last, values[first - 1 : last],
                    None if targets is None else targets[first - 1 : last])

    # -- anomaly detection -------------------------------------------------------------
    def _need_anomaly(self, what: str) -> None:
        if self.library is None:
            raise UsageError(
                f"{what} is for anomaly-detection libraries; this one is {self.type}",
                "Trained libraries (1-class, n-class, extrapolation) only run inference.",
            )

    def init(self) -> None:
        """Forget everything learned (NanoEdgeAI_initialize)."""
        self._need_anomaly("initialising")
        state = self.library.init()
        if state != 0:
            raise InputError(f"init failed: {STATE_NAMES.get(state, state)}", "Deploy the library again.")
        self.initialised = True

    def live_rows(self, values: np.ndarray, source: str) -> Rows:
        """Lines that came from a live port (`live_port.read_live_lines`), as the file rows are."""
        values = np.asarray(values, dtype=np.float64)
        expected = self.axes * self.buffer_size if self.layout != "multisensor" else self.axes
        if values.ndim != 2 or values.shape[1] != expected or not len(values):
            raise InputError(f"{source}: the lines hold {values.shape[-1] if values.ndim == 2 else 0} values, the "
                             f"library takes {expected}",
                             "Check that the board sends the project's axes and buffer size, one buffer per line.")
        return Rows(Path(source), 1, len(values), values)

    def learn(self, path: Path | str | Rows, line_range: str = "") -> dict:
        """Learn the chosen lines (of a file, or live `Rows`), one learn() call each:
        {"lines", "learned", "states"}."""
        self._need_anomaly("learning")
        rows = path if isinstance(path, Rows) else self.read_rows(path, line_range)
        states: dict[str, int] = {}
        for row in rows.values:
            name = STATE_NAMES.get(self.library.learn(row), "?")
            states[name] = states.get(name, 0) + 1
        return {"lines": len(rows.values), "learned": self.learned, "states": states, "first": rows.first,
                "last": rows.last, "path": rows.path}

    def detect(self, path: Path | str | Rows | None = None, line_range: str = "") -> DetectReport:
        """Detect the chosen lines (of a file, or live `Rows`; without either, the last ones
        detected again)."""
        if isinstance(path, Rows):
            rows = path
        else:
            rows = self.read_rows(path, line_range) if path is not None else self.last_rows
        if rows is None:
            raise UsageError("no lines to detect yet", "Choose a file (and a range) first.")
        if self.library is None:
            return self._infer(rows)
        results = []
        for number, row in zip(rows.line_numbers, rows.values):
            state, similarity = self.library.detect(row)
            item = {"line": number, "similarity": int(similarity)}
            if state != 0:
                item["status"] = STATE_NAMES.get(state, state)
            results.append(item)
        self.last_rows = rows
        sims = np.array([r["similarity"] for r in results], dtype=float)
        summary = {
            "lines": len(results),
            "mean": round(float(sims.mean()), 2) if len(sims) else None,
            "min": int(sims.min()) if len(sims) else None,
            "at_least_90": round(float(np.mean(sims >= 90)) * 100, 1) if len(sims) else None,
        }
        return DetectReport(results, self.sensitivity, self.learned, rows.path, summary)

    def set_sensitivity(self, value: float) -> DetectReport | None:
        """Set the sensitivity; if lines were detected, detect them again through the C."""
        self._need_anomaly("the sensitivity")
        if not value >= 0:
            raise UsageError(f"the sensitivity must be 0 or more, not {value}", "1 is the default.")
        self.library.set_sensitivity(float(value))
        return self.detect() if self.last_rows is not None else None

    # -- trained libraries -------------------------------------------------------------
    def _infer(self, rows: Rows) -> DetectReport:
        fd, tmp = tempfile.mkstemp(prefix="neai-emulate-", suffix=".csv")
        try:
            with os.fdopen(fd, "w") as handle:
                for row in rows.values:
                    handle.write(" ".join(repr(float(v)) for v in row) + "\n")
            doc = emulate(self.zip_path, detect=Path(tmp), mode=self.mode)
        finally:
            os.unlink(tmp)
        results = [{"line": n, **r} for n, r in zip(rows.line_numbers, doc.get("results", []))]
        summary: dict = {"lines": len(results)}
        if rows.targets is not None:
            for item, real in zip(results, rows.targets):
                item["real"] = float(real)
            pairs = np.array([(r["real"], r["value"]) for r in results if r.get("value") is not None], dtype=float)
            if len(pairs):
                summary["rmse"] = round(float(np.sqrt(np.mean((pairs[:, 0] - pairs[:, 1]) ** 2))), 6)
        self.last_rows = rows
        return DetectReport(results, None, 0, rows.path, summary)


def library_file_text(zip_path: Path | str, name: str) -> str:
    """A text file of a library zip (main.c, the header, metadata.json)."""
    try:
        with open_user_file(Path(zip_path), None, what="library zip") as handle, zipfile.ZipFile(handle) as zf:
            return zf.read(name).decode("utf-8", errors="replace")
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        raise InputError(f"{zip_path}: no {name} in it ({exc})", "Deploy the library again.") from None
