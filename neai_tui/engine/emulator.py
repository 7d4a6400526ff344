"""`neai emulate`: run a deployed library's host build on signal files.

The zip's emulator/ folder holds the same C as libneai.a, built for this
machine; it is extracted to the cache (keyed by the zip's hash) and loaded with
ctypes. Nothing here re-implements the library.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import zipfile
from pathlib import Path

from .emulator_runtime import STATE_NAMES, AnomalyLibrary
from .errors import InputError, UsageError
from .paths import cache_dir
from .userfiles import read_user_file

MAX_LIBRARY_ZIP_BYTES = 512 * 1024**2


def _check_members(zf: zipfile.ZipFile, zip_path: Path) -> None:
    """A library zip holds a few plain files: no path outside its folder, no link, no bomb."""
    import stat
    from pathlib import PurePosixPath

    total = 0
    for info in zf.infolist():
        member = PurePosixPath(info.filename)
        if member.is_absolute() or ".." in member.parts or "\\" in info.filename or stat.S_ISLNK(info.external_attr >> 16):
            raise InputError(f"{zip_path}: member '{info.filename}' would land outside the library's folder",
                             "Use a zip made by `neai deploy`.")
        total += info.file_size
    if total > 4 * MAX_LIBRARY_ZIP_BYTES:
        raise InputError(f"{zip_path}: the zip would unpack to {total / 1024**3:.1f} GB", "Use a zip made by `neai deploy`.")


def host_platform() -> str:
    return f"{platform.system().lower()}-{platform.machine().lower()}"


def open_library_zip(zip_path: Path | str) -> tuple[dict, Path]:
    """(metadata, extracted folder) of a library zip."""
    zip_path = Path(zip_path).expanduser()
    if not zip_path.exists() and not zip_path.is_symlink():
        raise UsageError(f"{zip_path}: no such library zip", "Build one with `neai deploy DIR --out FILE.zip`.")
    content = read_user_file(zip_path, MAX_LIBRARY_ZIP_BYTES, what="library zip")
    try:
        digest = hashlib.sha256(content).hexdigest()[:16]
        folder = cache_dir() / "emulators" / digest
        if not (folder / "metadata.json").is_file():
            tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
            with zipfile.ZipFile(io.BytesIO(content)) as zf:
                _check_members(zf, zip_path)
                zf.extractall(tmp)
            try:
                os.replace(tmp, folder)
            except OSError:  # another process won the race
                pass
        meta = json.loads((folder / "metadata.json").read_text())
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InputError(f"{zip_path}: not a neai library zip ({exc})", "Use a zip made by `neai deploy`.") from None
    check_library_metadata(meta, zip_path)
    return meta, folder


def check_library_metadata(meta, zip_path: Path) -> None:
    """The metadata fields that name files or size buffers: plain names, sane numbers."""
    import re

    def bad(field: str, value) -> InputError:
        return InputError(f"{zip_path}: metadata.json: field {field}: {value!r} is not allowed here",
                          "Use a zip made by `neai deploy`.")

    if not isinstance(meta, dict):
        raise bad("(top level)", type(meta).__name__)
    emu = meta.get("emulator") or {}
    for key in ("shared_library", "knowledge"):
        value = emu.get(key) if isinstance(emu, dict) else None
        if value is not None and not (isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}", value)):
            raise bad(f"emulator.{key}", value)
    data = meta.get("data") or {}
    for key, top in (("axes", 64), ("buffer_size", 1 << 16), ("values_per_line", 1 << 16)):
        value = data.get(key) if isinstance(data, dict) else None
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top):
            raise bad(f"data.{key}", value)


def load_anomaly_library(zip_path: Path | str) -> tuple[dict, AnomalyLibrary]:
    meta, folder = open_library_zip(zip_path)
    if meta.get("type") != "anomaly":
        raise UsageError(
            f"{zip_path} is a {meta.get('type')} library", "Use --detect with anomaly-detection libraries only."
        )
    emu = meta.get("emulator", {})
    if emu.get("platform") != host_platform():
        raise UsageError(
            f"this library's emulator was built for {emu.get('platform')}, this machine is {host_platform()}",
            "Rebuild the zip on this machine with `neai deploy`.",
        )
    so = folder / "emulator" / emu["shared_library"]
    lib = AnomalyLibrary(so, meta["data"]["axes"], meta["data"]["buffer_size"], meta.get("suffix") or "")
    return meta, lib


def read_inference_file(path: Path, axes: int, buffer_size: int, layout: str = "buffers"):
    """Lines of a file given to a library: `axes * buffer_size` values each (no target)."""
    from .signals import read_signals

    data = read_signals(path, axes=axes, layout=layout)
    n = data.values.shape[1]
    if n != axes * buffer_size:
        raise InputError(
            f"{path}:1: lines hold {n} values but this library takes {axes} axes x {buffer_size} samples = "
            f"{axes * buffer_size}",
            "Give lines with the library's buffer size and axes (see metadata.json: data).",
        )
    return data.values


def emulate(
    zip_path: Path | str,
    *,
    learn: list[Path] = (),
    detect: Path | None = None,
    mode: str = "detect",
    sensitivity: float | None = None,
) -> dict:
    meta, _ = open_library_zip(zip_path)
    expected = {"anomaly": "detect", "one-class": "outlier", "n-class": "classify", "extrapolation": "extrapolate"}
    lib_type = meta.get("type")
    if expected.get(lib_type) != mode:
        want = expected.get(lib_type)
        raise UsageError(
            f"{zip_path} is a {lib_type} library: it does not answer --{mode}",
            f"Use --{want} with it." if want else "Use a zip made by `neai deploy`.",
        )
    if lib_type != "anomaly":
        from .emulator_trained import emulate_trained

        return emulate_trained(zip_path, meta, learn=learn, infile=detect, mode=mode)
    meta, lib = load_anomaly_library(zip_path)
    axes, buffer_size = meta["data"]["axes"], meta["data"]["buffer_size"]
    # Read everything first: a bad file fails before anything runs.
    layout = meta["data"].get("layout", "buffers")  # Multi-sensor: one sample per line
    learn_rows = [read_inference_file(Path(p), axes, buffer_size, layout) for p in learn]
    detect_rows = read_inference_file(Path(detect), axes, buffer_size, layout) if detect else None
    if detect is not None and not any(len(rows) for rows in learn_rows):
        raise UsageError(
            f"{zip_path} is an anomaly-detection library: it ships untrained and learns on the device, so "
            "detecting without learning gives 0 on every line",
            "Give the normal signals to learn first: `--learn NOMINAL.csv --detect FILE` (--learn repeats).",
        )
    lib.init()
    if sensitivity is not None:
        if not sensitivity >= 0:
            raise UsageError(f"--sensitivity must be 0 or more, not {sensitivity}", "1 is the default.")
        lib.set_sensitivity(sensitivity)
    states = {}
    for rows in learn_rows:
        for row in rows:
            st = lib.learn(row)
            states[STATE_NAMES.get(st, st)] = states.get(STATE_NAMES.get(st, st), 0) + 1
    results = []
    if detect_rows is not None:
        for row in detect_rows:
            st, sim = lib.detect(row)
            item = {"similarity": sim}
            if st != 0:
                item["status"] = STATE_NAMES.get(st, st)
            results.append(item)
    out: dict = {"results": results}
    if learn:
        out["learned"] = lib.learned
    return out
