"""Continuous recordings: one sample per line, as loggers and datasets write them.

Unlike a signal file (SPEC §1, `signals.py`), a recording may start with a header
row, hold columns that are not signals (a timestamp, labels) and run for millions
of lines. This reader is `signals._Reader` with those differences: it shares its
file checks (missing, folder, too large, binary, UTF-16, not UTF-8), its line
preparation (blank lines, CRLF, a CR alone, trailing separators, runs of spaces),
its separator detection and its value diagnostics (decimal comma, NaN, quotes,
mixed separators...), so a bad value is reported with file, line, column and a
fix in the same words as `neai import` uses.

Decisions:

* **Header row**: the first data line is a header when one of its fields holds a
  word (not a number, NaN or a date) where the second line holds a number
  (``header="auto"``); ``"yes"`` / ``"no"`` override. A header names the columns.
* **Columns** are chosen by header name (exact, then ignoring case) or by 1-based
  index, ranges allowed (``2-4``); indices win over a header name made of digits.
  By default every numeric column is taken except label columns (the ``where`` and
  ``target`` columns, and those named anomaly, changepoint, label(s), class or
  target); what was left out, and why, is reported, never dropped silently.
* **Counts**: every line must have as many fields as the header (or, without one,
  as most lines); other lines block (``inconsistent-count``).
* Only the chosen columns are parsed: a timestamp column left out costs nothing and
  may hold anything.
* No line limit (a recording at 10 kHz has 600 000 lines a minute); the byte
  limit is the signal files' 1 GiB. Files are only ever opened read-only.
"""
from __future__ import annotations

import csv
import glob
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ..errors import Problem, SignalFileError, UsageError
from ..signals import (
    _DATE_OR_TIME,
    _LETTER,
    _NON_FINITE,
    _NUMBER,
    _ODD_SPACE,
    FLOAT32_LIMIT,
    MAX_FILE_BYTES,
    MAX_LINE_CHARS,
    _detect_from_lines,
    _Reader,
    _sep_label,
    out_of_range,
    read_head,
)

__all__ = [
    "LABEL_NAMES",
    "RECORDING_SUFFIXES",
    "Recording",
    "RecordingInfo",
    "expand_inputs",
    "inspect_recording",
    "parse_columns",
    "read_recording",
]

LABEL_NAMES = ("anomaly", "changepoint", "label", "labels", "class", "target")
RECORDING_SUFFIXES = (".csv", ".txt", ".tsv", ".dat")
HEADER_CHOICES = ("auto", "yes", "no")
_CHUNK_LINES = 8192
_INSPECT_BYTES = 256 * 1024


@dataclass
class Recording:
    """The chosen columns of one recording, one row per sample, in file order."""

    path: Path
    sep: str
    header: list[str] | None  # column names, when the file has a header row
    n_columns: int  # fields per line in the file
    columns: list[int]  # 0-based indices of the signal columns, in the order asked
    values: np.ndarray  # float64, (samples, len(columns))
    line_numbers: np.ndarray  # 1-based source line of each sample
    extra: dict[int, np.ndarray] = field(default_factory=dict)  # other columns asked for (float, or text)
    dropped: list[tuple[int, str]] = field(default_factory=list)  # (index, why) left out by default
    problems: list[Problem] = field(default_factory=list)  # warnings

    def name(self, index: int) -> str:
        return column_name(self.header, index)

    @property
    def column_names(self) -> list[str]:
        return [self.name(c) for c in self.columns]

    @property
    def samples(self) -> int:
        return int(self.values.shape[0])


@dataclass
class RecordingInfo:
    """What a quick look at a file's first lines says (for forms that help choose columns)."""

    path: Path
    sep: str
    header: list[str] | None
    n_columns: int
    numeric: list[bool]  # per column: the first data line holds a number there
    first_values: list[str]  # the first data line's fields

    def describe(self, width: int = 30) -> str:
        parts = []
        for i in range(self.n_columns):
            name = column_name(self.header, i) if self.header else ""
            kind = "" if self.numeric[i] else " (text)"
            sample = self.first_values[i] if i < len(self.first_values) else ""
            text = f"{i + 1} {name}{kind}" if name else f"{i + 1}{kind} e.g. {sample[:width]}"
            parts.append(text)
        return ", ".join(parts)


def column_name(header: list[str] | None, index: int) -> str:
    if header and index < len(header) and header[index]:
        return header[index]
    return f"column {index + 1}"


# -- inputs -------------------------------------------------------------------------------


def expand_inputs(items: Iterable[str | Path]) -> list[Path]:
    """Files from paths, folders (their .csv/.txt/.tsv/.dat files, sorted) and globs.

    A missing path stays in the list: the reader reports it as a file problem.
    """
    out: list[Path] = []
    for item in items:
        text = os.path.expanduser(str(item))
        path = Path(text)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in RECORDING_SUFFIXES
                           and not p.name.startswith("."))
            if not found:
                raise UsageError(
                    f"{path}: the folder holds no recording (.csv, .txt, .tsv or .dat file)",
                    "Give the recordings' files, or the folder that holds them.",
                )
            out.extend(found)
        elif not path.exists() and glob.has_magic(text):
            matches = sorted(Path(p) for p in glob.glob(text) if Path(p).is_file())
            if not matches:
                raise UsageError(f"{text}: no file matches this pattern", "Check the folder and the pattern.")
            out.extend(matches)
        else:
            out.append(path)
    if not out:
        raise UsageError("no input file given", "Give one or more recordings (files or folders).")
    return out


# -- columns ------------------------------------------------------------------------------


def parse_columns(spec: str | Sequence[str | int] | None) -> list[str | int] | None:
    """'2-4,Current' -> [2, 3, 4, 'Current'] (indices 1-based); None or '' -> None (default)."""
    if spec is None:
        return None
    items = [s.strip() for s in spec.split(",")] if isinstance(spec, str) else list(spec)
    out: list[str | int] = []
    for item in items:
        if isinstance(item, int):
            out.append(item)
            continue
        if not item:
            continue
        match = re.fullmatch(r"(\d+)\s*-\s*(\d+)", item)
        if match:
            lo, hi = int(match[1]), int(match[2])
            if lo > hi:
                raise UsageError(f"column range '{item}' runs backwards", f"Write {hi}-{lo}.")
            out.extend(range(lo, hi + 1))
        elif item.isdigit():
            out.append(int(item))
        else:
            out.append(item)
    return out or None


def _resolve_one(item: str | int, header: list[str] | None, n_columns: int, path: Path, header_line: int) -> int:
    where = f"{path}:{header_line}" if header else str(path)
    if isinstance(item, int):
        if not 1 <= item <= n_columns:
            raise UsageError(
                f"{path}: there is no column {item}; the file has {n_columns} column(s)",
                f"Columns are numbered 1 to {n_columns}: {_listing(header, n_columns)}.",
            )
        return item - 1
    if not header:
        raise UsageError(
            f"{path}: column '{item}' asked by name, but the file has no header row",
            f"Give 1-based column numbers instead (1 to {n_columns}), e.g. --columns 1-{n_columns}.",
        )
    exact = [i for i, name in enumerate(header) if name == item]
    if not exact:
        exact = [i for i, name in enumerate(header) if name.lower() == item.lower()]
    if len(exact) > 1:
        raise UsageError(
            f"{where}: {len(exact)} columns are named '{item}' ({', '.join(str(i + 1) for i in exact)})",
            "Choose one by its number.",
        )
    if not exact:
        raise UsageError(
            f"{where}: no column named '{item}'",
            f"The columns are: {_listing(header, n_columns)}. Give names or 1-based numbers.",
        )
    return exact[0]


def _listing(header: list[str] | None, n_columns: int, limit: int = 24) -> str:
    names = [f"{i + 1} {column_name(header, i)}" if header else str(i + 1) for i in range(min(n_columns, limit))]
    more = f", … ({n_columns} in all)" if n_columns > limit else ""
    return ", ".join(names) + more


def _is_word(value: str) -> bool:
    return bool(
        value
        and not _NUMBER.fullmatch(value)
        and not _NON_FINITE.fullmatch(value)
        and not _DATE_OR_TIME.search(value)
        and _LETTER.search(value)
    )


def _is_number(value: str) -> bool:
    return bool(_NUMBER.fullmatch(value))


# -- reading ------------------------------------------------------------------------------


class _RecordingReader(_Reader):
    """signals._Reader's checks and diagnostics, for one sample per line."""

    def __init__(self, path: Path, sep: str, header: str, max_bytes: int | None) -> None:
        if header not in HEADER_CHOICES:
            raise UsageError(f"unknown header choice {header!r}", "Use auto, yes or no.")
        super().__init__(path, 1, sep, "multisensor", max_bytes, None, MAX_LINE_CHARS)
        self.header_choice = header
        self.column_repeats: dict[int, list[int]] = {}  # column -> [index of its problem, lines not listed]
        self.header: list[str] | None = None
        self.header_line = 0

    def _fields(self, line: str) -> list[str]:
        """The fields of a line; CSV quoting ("a;b" as one field) is honoured."""
        if '"' in line and self.sep != " ":
            return [f.strip(" \t") for f in next(csv.reader([line], delimiter=self.sep))]
        return self._split(line)

    def fail(self) -> None:
        if self.errors:
            raise SignalFileError(sorted(self.errors, key=lambda p: (p.line, p.column)))

    def load_lines(self) -> tuple[list[str], list[int]]:
        """The prepared data lines (header removed) and their source line numbers."""
        read = self._read_lines("export the recording again: one sample per line")
        self.fail()
        assert read is not None  # _read_lines records an error whenever it gives up
        lines, bad_line, bad_byte = read
        data, numbers = self._prepare(lines)
        del lines
        if bad_line:
            self._report_utf8(bad_line, bad_byte, data, numbers)
        self.fail()
        if not data:
            self.error("empty-file", 0, 0, "the file holds no data lines", "export the recording again")
            self.fail()
        self._take_header(data, numbers)
        if not data:
            self.error("empty-file", self.header_line, 0, "the file holds a header row and no data",
                       "export the recording again, with its samples")
            self.fail()
        return data, numbers

    def _take_header(self, data: list[str], numbers: list[int]) -> None:
        first = self._fields(data[0])
        if self.header_choice == "no":
            return
        if self.header_choice == "auto":
            second = self._fields(data[1]) if len(data) > 1 else []
            words = [i for i, v in enumerate(first) if _is_word(v)]
            if not words:
                return
            if second and not any(i < len(second) and _is_number(second[i]) for i in words):
                return  # words under words: a text column (labels), not a header
        self.header = [name.strip().strip('"').strip("'").strip() for name in first]
        self.header_line = numbers[0]
        del data[0]
        del numbers[0]

    def expected_count(self, data: list[str]) -> int:
        if self.header is not None:
            return len(self.header)
        sample = data[: min(len(data), 1000)]
        counts = [len(self._fields(line)) for line in sample]
        values, freq = np.unique(counts, return_counts=True)
        return int(values[np.argmax(freq)])

    def field_counts(self, chunk: list[str]) -> np.ndarray:
        sep = self.sep
        return np.fromiter((line.count(sep) + 1 for line in chunk), dtype=np.int64, count=len(chunk))

    def parse(self, data: list[str], numbers: list[int], n_columns: int, numeric: list[int],
              text: list[int], names: dict[int, str]) -> tuple[np.ndarray, dict[int, np.ndarray]]:
        """Values of the `numeric` columns (float) and raw text of the `text` columns."""
        rows: list[np.ndarray] = []
        texts: dict[int, list[str]] = {c: [] for c in text}
        sep = self.sep
        for lo in range(0, len(data), _CHUNK_LINES):
            chunk = data[lo: lo + _CHUNK_LINES]
            counts = self.field_counts(chunk)
            block = None
            # numpy's parser also skips no-break and other odd spaces around a value, and reads
            # 1e400 as Inf: such chunks go through the precise scan (SPEC §1: ASCII numbers
            # within float32's range).
            if (counts == n_columns).all() and all(chunk) and not _ODD_SPACE.search("\n".join(chunk)):
                try:
                    block = np.loadtxt(chunk, delimiter=sep, usecols=numeric, comments=None,
                                       dtype=np.float64, ndmin=2) if numeric else np.empty((len(chunk), 0))
                except ValueError:
                    block = None
                if block is not None and (block.shape[0] != len(chunk) or not (np.abs(block) <= FLOAT32_LIMIT).all()):
                    block = None
            if block is None:
                block = self._scan(chunk, numbers[lo: lo + len(chunk)], n_columns, numeric, names)
            rows.append(block)
            if text:
                for line in chunk:
                    fields = self._fields(line)
                    for c in text:
                        texts[c].append(fields[c] if c < len(fields) else "")
        for index, count in self.column_repeats.values():
            if count:
                first = self.errors[index]
                self.errors[index] = Problem(first.severity, first.code, first.file, first.line, first.column,
                                             f"{first.message}; the same column fails on {count} more line(s)",
                                             first.hint)
        self.fail()
        values = np.vstack(rows) if rows else np.empty((0, len(numeric)))
        return values, {c: np.asarray(v, dtype=object) for c, v in texts.items()}

    def _scan(self, chunk: list[str], numbers: list[int], n_columns: int, numeric: list[int],
              names: dict[int, str]) -> np.ndarray:
        out = np.zeros((len(chunk), len(numeric)))
        repeats = self.column_repeats
        for k, (line, lineno) in enumerate(zip(chunk, numbers)):
            if not line:  # a line _prepare already reported (too long, lone CR)
                continue
            fields = self._fields(line)
            if len(fields) != n_columns:
                found = len(fields)
                self.error(
                    "inconsistent-count", lineno, (n_columns + 1) if found > n_columns else (found + 1),
                    f"the line holds {found} fields, expected {n_columns} like "
                    + ("the header" if self.header is not None else "the other lines"),
                    "every line must hold the same columns; fix or remove this line (a short last line "
                    "often comes from a logger stopped in mid-write)",
                )
                continue
            for j, c in enumerate(numeric):
                value = fields[c]
                if _NUMBER.fullmatch(value) and abs(float(value)) <= FLOAT32_LIMIT:
                    out[k, j] = float(value)
                    continue
                if c in repeats:  # one problem per column: a text column fails on every line
                    repeats[c][1] += 1
                    break
                code, message, hint = out_of_range(value) if _NUMBER.fullmatch(value) else (
                    self._classify(value, c + 1, lineno))
                if code == "not-a-number":
                    hint = ("a signal column must hold numbers on every line: leave this column out of "
                            "the columns, or fix the value")
                what = f"column {c + 1} ({names[c]})" if self.header is not None else f"column {c + 1}"
                self.error(code, lineno, c + 1, f"{what}: {message}", hint)
                if self.errors and self.errors[-1].line == lineno:
                    repeats[c] = [len(self.errors) - 1, 0]
                break
        return out


def _label_like(name: str) -> bool:
    return name.strip().lower() in LABEL_NAMES


def read_recording(
    path: Path | str,
    *,
    columns: str | Sequence[str | int] | None = None,
    extra: Sequence[str | int] = (),
    text_extra: Sequence[str | int] = (),
    sep: str = "auto",
    header: str = "auto",
    max_bytes: int | None = MAX_FILE_BYTES,
) -> Recording:
    """Read the chosen columns of one recording (one sample per line).

    ``columns``: names / 1-based indices / ranges (see ``parse_columns``); None takes
    every numeric column but label-like ones. ``extra`` columns are read as numbers
    and ``text_extra`` ones as text, into ``Recording.extra`` (keyed by 0-based
    index); both are left out of the default signal columns. Raises
    ``SignalFileError`` (file, line, column, fix) or ``UsageError``.
    """
    path = Path(path).expanduser()
    reader = _RecordingReader(path, sep, header, max_bytes)
    data, numbers = reader.load_lines()
    n_columns = reader.expected_count(data)
    head = reader.header

    def resolve(items) -> list[int]:
        return [_resolve_one(item, head, n_columns, path, reader.header_line) for item in items]

    extra_idx = resolve(parse_columns(list(extra)) or [])
    text_idx = resolve(parse_columns(list(text_extra)) or [])
    asked = parse_columns(columns)
    dropped: list[tuple[int, str]] = []
    if asked is not None:
        chosen = resolve(asked)
        repeated = sorted({c for c in chosen if chosen.count(c) > 1})
        if repeated:
            raise UsageError(f"{path}: column {column_name(head, repeated[0])} is asked for twice",
                             "Give each column once.")
    else:
        first = reader._fields(data[0])
        chosen = []
        for i in range(n_columns):
            value = first[i] if i < len(first) else ""
            if i in extra_idx:
                dropped.append((i, "read apart"))
            elif i in text_idx:
                dropped.append((i, "read apart as text"))
            elif head and _label_like(column_name(head, i)):
                dropped.append((i, "label"))
            elif not (_NUMBER.fullmatch(value) or _NON_FINITE.fullmatch(value)):
                kind = "date/time" if _DATE_OR_TIME.search(value) else "text"
                dropped.append((i, kind))
            else:
                chosen.append(i)
        if not chosen:
            raise UsageError(
                f"{path}: no numeric signal column found",
                f"The columns are: {_listing(head, n_columns)}. Choose the signal columns by name or number.",
            )
    clash = sorted(set(chosen) & (set(extra_idx) | set(text_idx)))
    if clash:
        raise UsageError(
            f"{path}: column {column_name(head, clash[0])} is both a signal and a label/target column",
            "Leave it out of the signal columns.",
        )
    numeric = list(dict.fromkeys(chosen + extra_idx))
    names = {c: column_name(head, c) for c in range(n_columns)}
    values, texts = reader.parse(data, numbers, n_columns, numeric, text_idx, names)
    extras = {c: values[:, numeric.index(c)] for c in extra_idx}
    extras.update(texts)
    signal = values[:, [numeric.index(c) for c in chosen]]
    return Recording(
        path=path,
        sep=reader.sep,
        header=head,
        n_columns=n_columns,
        columns=chosen,
        values=np.ascontiguousarray(signal),
        line_numbers=np.asarray(numbers, dtype=np.int64),
        extra=extras,
        dropped=dropped,
        problems=list(reader.warnings),
    )


def inspect_recording(path: Path | str, *, sep: str = "auto", header: str = "auto") -> RecordingInfo:
    """Separator, header and columns of a recording from its first lines (fast, for forms)."""
    path = Path(path).expanduser()
    reader = _RecordingReader(path, sep, header, MAX_FILE_BYTES)
    raw = read_head(path, _INSPECT_BYTES, MAX_FILE_BYTES)
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if reader._is_binary(raw):
        reader.fail()
    lines = raw.decode("utf-8", errors="replace").split("\n")
    if len(raw) == _INSPECT_BYTES and len(lines) > 1:
        lines.pop()
    if reader.given_sep is None:
        reader.sep = _detect_from_lines(lines)
    data, numbers = reader._prepare(lines[:400])
    data = [d for d in data if d]
    if not data:
        raise SignalFileError([Problem("error", "empty-file", str(path), 0, 0, "the file holds no data lines",
                                       "export the recording again")])
    reader._take_header(data, numbers)
    n_columns = reader.expected_count(data) if data else len(reader.header or [])
    first = reader._fields(data[0]) if data else []
    numeric = [i < len(first) and bool(_NUMBER.fullmatch(first[i]) or _NON_FINITE.fullmatch(first[i]))
               for i in range(n_columns)]
    return RecordingInfo(path, reader.sep, reader.header, n_columns, numeric, first)


def separator_label(sep: str) -> str:
    return _sep_label(sep)
