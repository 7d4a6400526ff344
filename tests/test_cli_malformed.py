"""Malformed signal files through the real command line (SPEC §1, §2).

Acceptance: at least 15 kinds of malformed input file each give exit code 2 and a
message with file:line:column; the originals are byte-identical afterwards.

Every case runs `python -m neai_tui.cli import DIR FILE --role nominal` on an anomaly
project with 3 axes and checks: exit code 2, the most precise location the reader
gives (``file:line:column`` where a value is at fault, ``file:line`` for a whole line,
``file`` for the whole file), a "Fix:" hint, no traceback, the file unchanged
(sha256), and the project unchanged (nothing added to signals/, project.json as it was).
"""
from __future__ import annotations

import hashlib
import io
import os
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pytest

AXES = 3
VALUES = 12  # per line: 3 axes x 4 samples
LINES = 30
DIRECTORY = object()  # the "file" is a folder


def neai(*args, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "neai_tui.cli", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=120)


# ------------------------------------------------------------------------ file makers


def row(i: int, sep: str = " ") -> str:
    return sep.join(f"{((i * 7 + j * 3) % 23) / 10 - 1.1:.3f}" for j in range(VALUES))


def good(sep: str = " ") -> list[str]:
    return [row(i, sep) for i in range(LINES)]


def text(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def edit(lines: list[str], lineno: int, column: int, value: str, sep: str = " ") -> list[str]:
    """Replace the value at (1-based) line/column."""
    lines = list(lines)
    fields = lines[lineno - 1].split(sep)
    fields[column - 1] = value
    lines[lineno - 1] = sep.join(fields)
    return lines


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b""))


def xlsx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    return buf.getvalue()


def case(kind, name, content, line, column, needle):
    return pytest.param(name, content, line, column, needle, id=kind)


# (kind, file name, content, line, column, text the message must hold); line/column 0 =
# "not applicable" (the reader locates the problem on the whole line or the whole file).
CASES = [
    # -- a value is at fault: file:line:column
    case("header-row", "header.csv", text(["ax ay az " * 4] + good()), 1, 1, "header row"),
    case("header-row-partial", "header_partial.csv",
         text(["1,2,temp,rpm," + ",".join(["0"] * 8)] + good(",")), 1, 3, "'temp' is not a number"),
    case("text-value", "text.csv", text(edit(good(), 5, 3, "abc")), 5, 3, "'abc' is not a number"),
    case("two-decimal-points", "two_dots.csv", text(edit(good(), 4, 2, "1.2.3")), 4, 2, "more than one decimal point"),
    case("decimal-comma-semicolon", "decimal_comma.csv", text(edit(good(";"), 6, 4, "0,5", ";")), 6, 4,
         "',' as decimal mark"),
    case("mixed-separators-comma", "mixed_comma.csv", text(edit(good(), 8, 5, "0.1,0.2")), 8, 5,
         "file's separator is space"),
    case("mixed-separators-tab", "mixed_tab.csv", text(edit(good(), 9, 6, "0.1\t0.2")), 9, 6,
         "separated by tab"),
    case("empty-field", "empty_field.csv", text(edit(good(","), 10, 7, "", ",")), 10, 7,
         "empty value between two separators"),
    case("leading-separator", "leading_sep.csv", text(good(",")[:11] + ["," + row(11, ",")] + good(",")[12:]),
         12, 1, "starts with a separator"),
    case("nan", "nan.csv", text(edit(good(), 12, 8, "NaN")), 12, 8, "not a finite number"),
    case("inf", "inf.csv", text(edit(good(), 13, 9, "-inf")), 13, 9, "not a finite number"),
    case("inconsistent-count-line-7", "count_long.csv", text(good()[:6] + [row(6) + " 0.5 0.5 0.5"] + good()[7:]),
         7, VALUES + 1, "holds 15 values, expected 12"),
    case("short-line-7", "count_short.csv", text(good()[:6] + [" ".join(row(6).split()[:9])] + good()[7:]),
         7, 10, "holds 9 values, expected 12"),
    case("lone-cr", "old_mac.csv", text(good()[:14] + [row(14) + "\r" + row(15)] + good()[16:]), 15, VALUES,
         "carriage return"),
    case("quoted-number", "quoted.csv", text(edit(good(), 16, 10, '"1.5"')), 16, 10, "quoted"),
    # A timestamp column (time, then 11 values: 12 fields, so the count itself is fine).
    case("timestamp-column", "timestamps.csv",
         text([f"2024-01-01T12:00:{i:02d}," + ",".join(row(i, ",").split(",")[:VALUES - 1]) for i in range(LINES)]),
         1, 1, "date or time"),
    case("not-utf8-byte", "latin1.csv", text(edit(good(), 17, 11, "12.5\u00b0")).replace("\u00b0".encode(), b"\xb0"),
         17, 11, "not UTF-8"),
    case("unit-suffix", "units.csv", text(edit(good(), 18, 12, "0.5g")), 18, 12, "'0.5g' is not a number"),
    case("hex-value", "hex.csv", text(edit(good(), 19, 1, "0x1A")), 19, 1, "'0x1A' is not a number"),
    case("comment-line", "comment.csv", text(good()[:19] + ["# sensor restarted"] + good()[19:]), 20, 1,
         "not a number"),
    # -- the whole line is at fault: file:line
    case("not-multiple-of-3-axes", "ten_values.csv", text([" ".join(r.split()[:10]) for r in good()]), 1, 0,
         "not a multiple of the 3 axes"),
    case("16386-values-per-line", "too_many.csv", text([" ".join(["0.5"] * 16386)] * 3), 1, 0,
         "the limit is 16383 values per line"),
    case("binary-png", "chart.png", png(), 3, 0, "binary"),  # the first NUL byte is on line 3
    case("excel-workbook", "recording.xlsx", xlsx(), 1, 0, "Excel workbook"),
    # -- the whole file is at fault: file
    case("empty-file", "empty.csv", b"", 0, 0, "the file is empty"),
    case("only-blank-lines", "blank.csv", b"\n  \n\t\n\r\n", 0, 0, "only blank lines"),
    case("utf-16", "utf16.txt", text(good()).decode().encode("utf-16"), 0, 0, "UTF-16"),
    case("directory", "signals_folder", DIRECTORY, 0, 0, "folder, not a file"),
]


def location(path: Path, line: int, column: int) -> str:
    loc = str(path)
    if line:
        loc += f":{line}"
        if column:
            loc += f":{column}"
    return loc + ": "


def snapshot(folder: Path) -> dict[str, str]:
    """Every file (sha256) and folder under ``folder``."""
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        out[rel] = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "<dir>"
    return out


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    return {**os.environ, "NEAI_WORKSPACE": str(tmp_path_factory.mktemp("workspace"))}


@pytest.fixture(scope="module")
def project(tmp_path_factory, env) -> Path:
    d = tmp_path_factory.mktemp("malformed") / "proj"
    result = neai("new", d, "--type", "anomaly", "--axes", AXES, env=env)
    assert result.returncode == 0, result.stderr
    return d


# -------------------------------------------------------------------------------- tests


def test_the_cases_cover_the_acceptance():
    kinds = [p.id for p in CASES]
    assert len(set(kinds)) == len(kinds) >= 18
    with_column = [p.id for p in CASES if p.values[2] and p.values[3]]
    assert len(with_column) >= 15, with_column


@pytest.mark.parametrize("name, content, line, column, needle", CASES)
def test_malformed_file_is_refused_with_its_location(project, env, tmp_path, name, content, line, column, needle):
    path = tmp_path / name
    if content is DIRECTORY:
        path.mkdir()
        (path / "nominal.csv").write_bytes(text(good()))
        before = snapshot(path)
    else:
        path.write_bytes(content)
        before = hashlib.sha256(content).hexdigest()
    project_before = snapshot(project)
    project_json = (project / "project.json").read_bytes()
    signals_before = sorted(os.listdir(project / "signals")) if (project / "signals").is_dir() else []

    result = neai("import", project, path, "--role", "nominal", env=env)

    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    assert result.stdout == ""
    where = location(path, line, column)
    assert where in result.stderr, f"expected {where!r} in:\n{result.stderr}"
    assert needle in result.stderr, result.stderr
    assert "Fix:" in result.stderr, result.stderr
    # The original is untouched, the project too.
    after = snapshot(path) if content is DIRECTORY else hashlib.sha256(path.read_bytes()).hexdigest()
    assert after == before
    assert (project / "project.json").read_bytes() == project_json
    signals_after = sorted(os.listdir(project / "signals")) if (project / "signals").is_dir() else []
    assert signals_after == signals_before
    assert snapshot(project) == project_before


@pytest.mark.parametrize("sep", [" ", ",", ";", "\t"])
def test_the_sound_base_files_import(tmp_path, env, sep):
    """Control: the files above are malformed only where the case says (the same lines import)."""
    d = tmp_path / "proj"
    assert neai("new", d, "--type", "anomaly", "--axes", AXES, env=env).returncode == 0
    path = tmp_path / "nominal.csv"
    path.write_bytes(text(good(sep)))
    result = neai("import", d, path, "--role", "nominal", env=env)
    assert result.returncode == 0, result.stderr
    assert f"{LINES} lines x {VALUES} values" in result.stdout


def test_exponent_notation_is_data(tmp_path, env):
    d = tmp_path / "proj"
    assert neai("new", d, "--type", "anomaly", "--axes", AXES, env=env).returncode == 0
    path = tmp_path / "savetxt.csv"
    path.write_bytes(text([" ".join(f"{float(v):.18e}" for v in r.split()) for r in good()]))
    result = neai("import", d, path, "--role", "nominal", env=env)
    assert result.returncode == 0, result.stderr
