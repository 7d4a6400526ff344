"""Run a trained library's host build (1-class, n-class, extrapolation) through ctypes.

Standard library only at module level: this file is also shipped in every
trained library zip as emulator/emulate.py, next to the host build and the
knowledge (emulator/knowledge.bin, the floats of knowledge.h as little-endian
float32), so the zip can be tried on its own:

    python emulator/emulate.py new_lines.csv            # prints the SPEC §2 JSON

`neai emulate` calls :func:`emulate_trained`, which reads the input file with the
project's checked reader, then runs the same class.
"""
from __future__ import annotations

import ctypes
import json
import struct
import sys
from pathlib import Path

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
API_NAMES = {"one-class": "oneclass", "n-class": "classification", "extrapolation": "extrapolation"}
MODES = {"one-class": "outlier", "n-class": "classify", "extrapolation": "extrapolate"}
KNOWLEDGE_FILE = "knowledge.bin"


def read_knowledge(path: Path | str) -> list[float]:
    data = Path(path).read_bytes()
    if len(data) % 4:
        raise ValueError(f"{path}: not a whole number of float32 values")
    return list(struct.unpack(f"<{len(data) // 4}f", data))


class TrainedLibrary:
    """The API of one host-built trained library (init with its knowledge, then infer)."""

    def __init__(self, so_path: Path | str, lib_type: str, axes: int, buffer_size: int, suffix: str = "",
                 class_number: int = 0):
        if lib_type not in API_NAMES:
            raise ValueError(f"not a trained library type: {lib_type!r}")
        self.lib = ctypes.CDLL(str(so_path))
        self.type = lib_type
        self.values_per_line = axes * buffer_size
        self.class_number = class_number
        api, s = API_NAMES[lib_type], f"_{suffix}" if suffix else ""
        self._init = getattr(self.lib, f"neai_{api}_init{s}")
        self._infer = getattr(self.lib, f"neai_{api}{s}")
        self._init.restype = self._infer.restype = ctypes.c_int
        self._init.argtypes = [ctypes.POINTER(ctypes.c_float)]
        f32p = ctypes.POINTER(ctypes.c_float)
        if lib_type == "one-class":
            self._infer.argtypes = [f32p, ctypes.POINTER(ctypes.c_uint8)]
        elif lib_type == "n-class":
            if class_number < 2:
                raise ValueError("an n-class library needs its class number")
            self._infer.argtypes = [f32p, f32p, ctypes.POINTER(ctypes.c_uint16)]
            self._proba = (ctypes.c_float * class_number)()
        else:
            self._infer.argtypes = [f32p, f32p]
        self._buffer = (ctypes.c_float * self.values_per_line)()
        self._knowledge = None  # kept alive: the library keeps the pointer

    def init(self, knowledge) -> int:
        self._knowledge = (ctypes.c_float * max(1, len(knowledge)))(*knowledge)
        return self._init(self._knowledge)

    def _load(self, values) -> None:
        if len(values) != self.values_per_line:
            raise ValueError(f"a line must hold {self.values_per_line} values, not {len(values)}")
        for i, v in enumerate(values):
            self._buffer[i] = float(v)

    def infer(self, values):
        """(state, output): is_outlier (0/1), (id_class, [probabilities]) or the value.

        On an error the library leaves its outputs untouched; so does this call
        (outlier 0, id 0 and zeros, value 0.0 are what it started with)."""
        self._load(values)
        if self.type == "one-class":
            flag = ctypes.c_uint8(0)
            state = self._infer(self._buffer, ctypes.byref(flag))
            return state, flag.value
        if self.type == "n-class":
            ident = ctypes.c_uint16(0)
            for k in range(self.class_number):
                self._proba[k] = 0.0
            state = self._infer(self._buffer, self._proba, ctypes.byref(ident))
            return state, (ident.value, list(self._proba))
        value = ctypes.c_float(0.0)
        state = self._infer(self._buffer, ctypes.byref(value))
        return state, value.value

    def raw_outputs(self) -> bytes:
        """The n-class output buffer as the library wrote it (for bit-exact comparisons)."""
        return bytes(self._proba) if self.type == "n-class" else b""


def result_item(lib_type: str, state: int, output, classes: list[str] | None = None) -> dict:
    """One SPEC §2 result object; errors add "status" and carry no answer."""
    ok = state == 0
    if lib_type == "one-class":
        item = {"outlier": bool(output) if ok else None}
    elif lib_type == "n-class":
        ident, proba = output
        names = ["unknown", *(classes or [])]
        if not ok:
            ident, proba = 0, None
        item = {"class": names[ident] if ident < len(names) else f"class {ident}", "id": ident,
                "probabilities": proba}
    else:
        item = {"value": output if ok else None}
    if not ok:
        item["status"] = STATE_NAMES.get(state, state)
    return item


def run_lines(lib: TrainedLibrary, knowledge, rows, classes: list[str] | None = None) -> list[dict]:
    state = lib.init(knowledge)
    if state != 0:
        raise RuntimeError(f"init refused the knowledge: {STATE_NAMES.get(state, state)}")
    results = []
    for row in rows:
        st, out = lib.infer(row)
        results.append(result_item(lib.type, st, out, classes))
    return results


def open_zip_library(folder: Path, meta: dict) -> tuple[TrainedLibrary, list[float]]:
    """The host library and the knowledge of an extracted trained library zip."""
    emu = meta["emulator"]
    lib = TrainedLibrary(folder / "emulator" / emu["shared_library"], meta["type"], meta["data"]["axes"],
                         meta["data"]["buffer_size"], meta.get("suffix") or "", len(meta.get("classes") or []))
    return lib, read_knowledge(folder / "emulator" / emu.get("knowledge", KNOWLEDGE_FILE))


# ----------------------------------------------------------------- `neai emulate`
def emulate_trained(zip_path, meta: dict, *, learn=(), infile=None, mode: str = "") -> dict:
    """`neai emulate` on a trained library zip: {"results": [...]} (SPEC §2)."""
    from .emulator import host_platform, open_library_zip, read_inference_file
    from .errors import InputError, UsageError

    lib_type = meta.get("type")
    if learn:
        raise UsageError(
            f"{zip_path} is a {lib_type} library: it was trained when it was built and does not learn "
            "on the device, so --learn does not apply",
            f"Drop --learn and give the lines to run: neai emulate {zip_path} --{MODES.get(lib_type, mode)} FILE.",
        )
    if infile is None:
        raise UsageError("no input file", f"Give --{MODES.get(lib_type, mode)} FILE.")
    emu = meta.get("emulator", {})
    if emu.get("platform") != host_platform():
        raise UsageError(
            f"this library's emulator was built for {emu.get('platform')}, this machine is {host_platform()}",
            "Rebuild the zip on this machine with `neai deploy`.",
        )
    _, folder = open_library_zip(zip_path)
    axes, buffer_size = meta["data"]["axes"], meta["data"]["buffer_size"]
    try:
        rows = read_inference_file(Path(infile), axes, buffer_size)
    except InputError as exc:
        if lib_type == "extrapolation" and f"hold {axes * buffer_size + 1} values" in exc.message:
            raise InputError(
                exc.message + " (one more: the target value?)",
                "Files given to an extrapolation library carry no target: drop the first column.",
            ) from None
        raise
    lib, knowledge = open_zip_library(folder, meta)
    try:
        results = run_lines(lib, knowledge, rows, meta.get("classes"))
    except RuntimeError as exc:
        raise InputError(f"{zip_path}: {exc}", "The zip is damaged: deploy the library again.") from None
    return {"results": results}


# ---------------------------------------------------------- the zip's own runner
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
    parser = argparse.ArgumentParser(
        description=f"Run {meta['type']} library {meta['library_id']} (host build) on a signal file: "
        "one line per buffer, no target column.")
    parser.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    lib, knowledge = open_zip_library(here.parent, meta)
    try:
        results = run_lines(lib, knowledge, _read_lines(args.file), meta.get("classes"))
    except (RuntimeError, ValueError) as exc:
        raise SystemExit(f"{args.file}: {exc}") from None
    json.dump({"results": results}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
