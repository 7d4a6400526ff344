"""Run a library's host build (the very C deployed to the board) through ctypes.

Standard library only: this file is also shipped in every library zip as
emulator/emulate.py, next to the host build, so the zip can be tried on its own:

    python emulator/emulate.py --learn nominal.csv --detect new.csv
"""
from __future__ import annotations

import ctypes
import json
import sys
from pathlib import Path

NEAI_OK = 0
STATE_NAMES = {
    0: "NEAI_OK",
    123: "NEAI_INIT_FCT_NOT_CALLED",
    124: "NEAI_BOARD_ERROR",
    125: "NEAI_KNOWLEDGE_BUFFER_ERROR",
    126: "NEAI_NOT_ENOUGH_CALL_TO_LEARNING",
    127: "NEAI_MINIMAL_RECOMMENDED_LEARNING_DONE",
    128: "NEAI_UNKNOWN_ERROR",
    129: "NEAI_BUFFER_REFUSED",
}


class AnomalyLibrary:
    """The anomaly-detection API of one host-built library."""

    def __init__(self, so_path: Path | str, axes: int, buffer_size: int, suffix: str = ""):
        self.lib = ctypes.CDLL(str(so_path))
        self.values_per_line = axes * buffer_size
        s = f"_{suffix}" if suffix else ""
        self._init = getattr(self.lib, f"neai_anomalydetection_init{s}")
        self._learn = getattr(self.lib, f"neai_anomalydetection_learn{s}")
        self._detect = getattr(self.lib, f"neai_anomalydetection_detect{s}")
        self._set_sens = getattr(self.lib, f"neai_anomalydetection_set_sensitivity{s}")
        self._get_sens = getattr(self.lib, f"neai_anomalydetection_get_sensitivity{s}")
        for fn in (self._init, self._learn, self._detect):
            fn.restype = ctypes.c_int
        self._learn.argtypes = [ctypes.POINTER(ctypes.c_float)]
        self._detect.argtypes = [ctypes.POINTER(ctypes.c_float), ctypes.POINTER(ctypes.c_uint8)]
        self._set_sens.argtypes = [ctypes.c_float]
        self._set_sens.restype = None
        self._get_sens.restype = ctypes.c_float
        self._buffer = (ctypes.c_float * self.values_per_line)()
        self.learned = 0

    def _load(self, values) -> None:
        if len(values) != self.values_per_line:
            raise ValueError(f"a line must hold {self.values_per_line} values, not {len(values)}")
        for i, v in enumerate(values):
            self._buffer[i] = float(v)

    def init(self) -> int:
        self.learned = 0
        return self._init()

    def learn(self, values) -> int:
        self._load(values)
        state = self._learn(self._buffer)
        if state in (126, 127):
            self.learned += 1
        return state

    def detect(self, values) -> tuple[int, int]:
        self._load(values)
        similarity = ctypes.c_uint8(0)
        state = self._detect(self._buffer, ctypes.byref(similarity))
        return state, similarity.value

    def set_sensitivity(self, value: float) -> None:
        self._set_sens(value)

    def get_sensitivity(self) -> float:
        return self._get_sens()


def _read_lines(path: Path) -> list[list[float]]:
    import os
    import re
    import stat

    # A regular file only (a FIFO or /dev/zero would block or never end); ASCII numbers
    # within float32's range only, as `neai` reads them (SPEC §1).
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise SystemExit(f"{path}: not a regular file (a pipe, device or folder): give a signal file")
        content = handle.read().decode("utf-8-sig")
    number_re = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
    rows = []
    for number, line in enumerate(content.splitlines(), start=1):
        text = line.strip()
        if not text:
            continue
        for sep in (";", "\t", ","):
            text = text.replace(sep, " ")
        try:
            fields = text.split(" ")
            bad = next((v for v in fields if v and not (number_re.fullmatch(v) and abs(float(v)) <= 3.4028235e38)),
                       None)
            if bad is not None:
                raise ValueError(f"value {bad!r} is not an ASCII number within float32's range")
            rows.append([float(v) for v in fields if v])
        except ValueError as exc:
            raise SystemExit(f"{path}:{number}: {exc}; signal files hold numbers only") from None
    return rows


def main(argv: list[str] | None = None) -> int:
    import argparse

    here = Path(__file__).resolve().parent
    meta = json.loads((here.parent / "metadata.json").read_text())
    parser = argparse.ArgumentParser(description=f"Run library {meta['library_id']} (host build) on signal files.")
    parser.add_argument("--learn", action="append", default=[], type=Path)
    parser.add_argument("--detect", required=True, type=Path)
    parser.add_argument("--sensitivity", type=float, default=1.0)
    args = parser.parse_args(argv)
    lib = AnomalyLibrary(here / meta["emulator"]["shared_library"], meta["data"]["axes"], meta["data"]["buffer_size"],
                         meta.get("suffix") or "")
    lib.init()
    lib.set_sensitivity(args.sensitivity)
    for path in args.learn:
        for row in _read_lines(path):
            lib.learn(row)
    results = [{"similarity": lib.detect(row)[1]} for row in _read_lines(args.detect)]
    json.dump({"results": results, "learned": lib.learned}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
