"""Signal files: read them fast, check them the way NanoEdge AI Studio does.

The format is SPEC §1: plain text, numbers only, no header, one separator per file
(single space, tab, ``,`` or ``;``), ``.`` as decimal mark, the same number of values
on every line. Three layouts share it:

``buffers``       one line = one signal example, ``axes * BUFFER_SIZE`` values
                  interleaved sample by sample (``x0 y0 z0 x1 y1 z1 ...``).
``multisensor``   one line = one instantaneous sample of ``axes`` variables; line
                  order matters and ``axes`` need not be a power of two.
``target-first``  extrapolation training: the target value, then a buffer.
                  ``SignalData.values`` keeps the target as column 0.

Format errors block and are reported with file, line, column (the value's position
on the line, as a spreadsheet shows it) and a fix; nothing is guessed silently.
Every problem has a stable ``code`` (see ``ERROR_CODES`` and ``WARNING_CODES``).

Edge cases, decided deliberately:

* **Blank lines** (empty or whitespace only) are skipped. Before the first and after
  the last data line they are silent (editors and loggers add them); between data
  lines they give one ``blank-lines`` warning, since they often mean two recordings
  were pasted together. Source line numbers always count them.
* **Line endings**: LF and CRLF are accepted, even mixed. A carriage return alone
  inside a line (old Mac files) blocks (``bad-line-ending``): it would join lines.
* **UTF-8 BOM** (Excel writes one) is accepted and ignored. Bytes that are not UTF-8
  block (``not-utf8``); NUL bytes or many control bytes mean a binary file.
* **Whitespace**: leading and trailing spaces/tabs on a line are accepted, and so is
  whitespace around a value with the ``,`` ``;`` and tab separators (``1, 2, 3`` as
  many tools print it). In tab-separated files tabs are separators, never trimmed.
* **Several spaces** between values of a space-separated file (columns aligned by
  ``printf("%8.3f ")``) are read as one separator with a ``separator-runs`` warning:
  the meaning is unambiguous. A tab among spaces is a mixed separator (error).
* **Trailing separator** (``1,2,3,``) is accepted with a ``trailing-separator``
  warning: loggers that print ``"%f,"`` in a loop write it and it cannot be read two
  ways. Only one is dropped: ``1,2,,`` still has an empty value (error), and a
  leading separator is an empty first value (error).
* **Header row**: a first data line holding text blocks as ``header-row`` (one
  problem for the line, not one per column name).
* **NaN / Inf** block (``not-finite``): a library cannot learn from them.
* **Numbers** are ASCII decimal numbers only (sign, digits, ``.``, exponent): other
  scripts' digits (Arabic, fullwidth), ``1_0``, hex are not numbers, with a message
  that says which character is wrong (no-break and thin spaces, invisible characters
  are named by their code point). A value beyond float32's range (|x| > 3.4028235e38,
  e.g. ``1e39``, ``1e400``, a 400-digit integer) blocks as ``out-of-range``: the
  library computes in float32, where it would be Inf.
* **Special files**: only regular files are read (``userfiles.py``); a FIFO, device
  or socket is ``special-file``, refused at once.
* **Value count**: the expected count is the one most lines have (ties: the first
  line's), so a single odd line is reported, not every other line.
* **Limits** (keyword arguments): ``max_bytes`` (1 GiB), ``max_lines`` data lines
  (100 000), ``max_line_chars`` characters per line (512 Ki: 16 383 values of up to
  ~30 characters). ``None`` lifts a limit. Values per line must stay below 16 384.
* At most ``MAX_REPORTED`` errors are listed per file; a final ``more-problems``
  info says how many were left out.
* The file is only ever opened read-only.

Speed: data lines are parsed in chunks by ``np.loadtxt`` (C parser) after a regex
has checked that a chunk holds only characters a valid number can contain; only the
chunks that fail go through the precise per-value scan that locates each problem.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import Problem, SignalFileError, UsageError
from .userfiles import open_user_file, read_user_file, too_large, unreadable_problem

__all__ = [
    "SEPARATORS",
    "LAYOUTS",
    "MAX_VALUES_PER_LINE",
    "MIN_LINES_PER_AXIS",
    "SignalData",
    "detect_separator",
    "read_signals",
    "check_signals",
    "optional_checks",
]

SEPARATORS = {"space": " ", "tab": "\t", "comma": ",", "semicolon": ";"}
SEPARATOR_NAMES = {char: name for name, char in SEPARATORS.items()}
LAYOUTS = ("buffers", "multisensor", "target-first")

MAX_VALUES_PER_LINE = 16383  # the Studio: "fewer than 16 384 values per line"
MIN_LINES_PER_AXIS = 20  # the Studio's "bare minimum"
MAX_FILE_BYTES = 1 << 30
MAX_LINES = 100_000
MAX_LINE_CHARS = 512 * 1024
MAX_REPORTED = 50

ERROR_CODES = (
    "file-not-found", "not-a-file", "special-file", "unreadable", "file-too-large", "empty-file",
    "binary-file", "not-utf8", "too-many-lines", "line-too-long", "bad-line-ending",
    "header-row", "not-a-number", "not-finite", "out-of-range", "empty-field", "decimal-comma",
    "mixed-separators", "inconsistent-count", "not-multiple-of-axes",
    "wrong-variable-count", "missing-buffer", "too-many-values",
)
WARNING_CODES = ("few-lines", "not-power-of-two", "trailing-separator", "blank-lines", "separator-runs")

_CHUNK_LINES = 4096
_DETECT_BYTES = 4 << 20
_DETECT_LINES = 200

# The one number syntax (SPEC §1): ASCII only, so no other script's digits, no '_'.
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_NON_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)
_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+(?:[eE][+-]?\d+)?", re.ASCII)
_DATE_OR_TIME = re.compile(
    r"\d{1,4}[-/]\d{1,2}[-/]\d{1,4}|\d{1,2}\.\d{1,2}\.\d{4}|\d{4}\.\d{1,2}\.\d{1,2}|\d:\d\d", re.ASCII
)
_LETTER = re.compile(r"[^\W\d]")  # a letter of any script, or '_'; not a digit, space or U+FFFD
# Characters C parsers skip as whitespace that are not a plain space or tab: a value
# padded with one of them must not pass as a number (recordings' fast path).
_ODD_SPACE = re.compile("[\x0b\x0c\x1c-\x1f\x85\xa0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]")
# Largest magnitude a float32 holds (3.4028234664e38 rounds up to it): beyond, the
# library's float arithmetic would see Inf.
FLOAT32_LIMIT = 3.4028235e38
_HEADER_LETTERS = re.compile(r"[A-DF-Za-df-z_]")  # any letter but e/E: not part of a number


def _number_bytes(sep: str) -> bytes:
    """The only bytes a sound line holds: text free of others may take the fast path."""
    whitespace = " " if sep == " " else " \t"
    return b"0123456789eE+-.\n" + (whitespace + sep).encode()


def _only_number_bytes(text: str, allowed: bytes) -> bool:
    # bytes.translate runs at memory speed; a regex character-class scan is ~7x slower
    return not text.encode("utf-8", errors="replace").translate(None, allowed)


@dataclass
class SignalData:
    """The numbers of one signal file, with the findings that did not block."""

    path: Path
    sep: str  # the separator character itself
    values: np.ndarray  # float64, (n_lines, n_values); target-first keeps the target as column 0
    line_numbers: np.ndarray  # 1-based source line of each row
    problems: list[Problem] = field(default_factory=list)
    axes: int = 1
    layout: str = "buffers"

    @property
    def n_lines(self) -> int:
        return int(self.values.shape[0])

    @property
    def values_per_line(self) -> int:
        return int(self.values.shape[1]) if self.values.ndim == 2 else 0

    @property
    def targets(self) -> np.ndarray | None:
        """Target column of a target-first file, else None."""
        return self.values[:, 0] if self.layout == "target-first" else None

    @property
    def buffers(self) -> np.ndarray:
        """The signal part of each line (without the target of target-first files)."""
        return self.values[:, 1:] if self.layout == "target-first" else self.values

    @property
    def buffer_size(self) -> int | None:
        """Samples per axis in one line; None for multi-sensor files (a line is one sample)."""
        if self.layout == "multisensor":
            return None
        return self.buffers.shape[1] // self.axes if self.axes else None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


# -- public API ---------------------------------------------------------------------


def detect_separator(path: Path | str) -> str:
    """The separator character of a signal file (reads at most its first 4 MiB).

    Each line votes for the separator it uses (``;`` first, then tab, ``,``, space,
    since ``;`` and tab never occur inside a number); the majority wins. A first line
    holding words (a header) does not vote. ``1,5 2,5`` votes for space: its commas
    are decimal marks, which the reader then reports. Lines of a single value give a
    space.
    """
    head = read_head(Path(path), _DETECT_BYTES, MAX_FILE_BYTES)
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    lines = head.decode("utf-8", errors="replace").split("\n")
    if len(head) == _DETECT_BYTES and len(lines) > 1:
        lines.pop()  # possibly cut in the middle
    return _detect_from_lines(lines)


def read_signals(
    path: Path | str,
    *,
    axes: int = 1,
    sep: str = "auto",
    layout: str = "buffers",
    max_bytes: int | None = MAX_FILE_BYTES,
    max_lines: int | None = MAX_LINES,
    max_line_chars: int | None = MAX_LINE_CHARS,
    strict: bool = True,
    content: bytes | None = None,
) -> SignalData:
    """Read a signal file and run the Studio's blocking checks.

    ``sep`` is ``"auto"``, a name from ``SEPARATORS`` or the character itself.
    With ``strict`` (the default) any error raises ``SignalFileError`` listing every
    problem found; warnings are returned in ``.problems``. With ``strict=False``
    errors are returned too, and ``.values`` holds only the lines that were sound.
    ``content``: the file's bytes, already read (``path`` then only names it in messages).
    """
    reader = _Reader(Path(path), axes, sep, layout, max_bytes, max_lines, max_line_chars)
    reader.content = content
    data = reader.run()
    if strict and any(p.severity == "error" for p in data.problems):
        raise SignalFileError(data.problems)
    return data


def check_signals(
    path: Path | str,
    *,
    axes: int = 1,
    sep: str = "auto",
    layout: str = "buffers",
    max_bytes: int | None = MAX_FILE_BYTES,
    max_lines: int | None = MAX_LINES,
    max_line_chars: int | None = MAX_LINE_CHARS,
) -> list[Problem]:
    """Every blocking problem and warning of a file; never raises for its content."""
    reader = _Reader(Path(path), axes, sep, layout, max_bytes, max_lines, max_line_chars)
    return reader.run().problems


# -- reading ------------------------------------------------------------------------


def _resolve_sep(sep: str) -> str | None:
    if sep == "auto":
        return None
    if sep in SEPARATORS:
        return SEPARATORS[sep]
    if sep in SEPARATOR_NAMES:
        return sep
    raise UsageError(
        f"unknown separator {sep!r}",
        "Use auto, space, tab, comma or semicolon.",
    )


def _validate_args(axes: int, layout: str) -> None:
    if isinstance(axes, bool) or not isinstance(axes, (int, np.integer)) or axes < 1:
        raise UsageError(f"the number of axes must be a whole number of 1 or more, not {axes!r}", "Give --axes N.")
    if layout not in LAYOUTS:
        raise UsageError(f"unknown signal layout {layout!r}", f"Use one of: {', '.join(LAYOUTS)}.")


def read_head(path: Path, n: int, max_bytes: int | None) -> bytes:
    """The first ``n`` bytes of a regular file (userfiles.py: no FIFO, device or
    folder; no file over ``max_bytes``); SignalFileError otherwise."""
    with open_user_file(path, max_bytes) as handle:
        try:
            return handle.read(n)
        except OSError as exc:
            raise SignalFileError([unreadable_problem(path, exc)]) from None


def _line_sep(line: str) -> str | None:
    for candidate in (";", "\t", ",", " "):
        if candidate in line:
            return candidate
    return None


def _detect_from_lines(lines: list[str]) -> str:
    sample: list[str] = []
    for raw in lines:
        stripped = raw.strip(" \t\r")
        if stripped:
            sample.append(stripped)
            if len(sample) >= _DETECT_LINES:
                break
    if len(sample) > 1 and _HEADER_LETTERS.search(sample[0]):
        sample = sample[1:]
    votes: dict[str, int] = {}
    for line in sample:
        own = _line_sep(line)
        if own is not None:
            votes[own] = votes.get(own, 0) + 1
    if not votes:
        return " "
    order = (";", "\t", ",", " ")
    best = max(order, key=lambda c: (votes.get(c, 0), -order.index(c)))
    if best == ",":
        # "1,5 2,5": spaces separate, commas are decimal marks
        with_space = [line for line in sample if "," in line and " " in line]
        if with_space and all(
            all(_DECIMAL_COMMA.fullmatch(tok) or _NUMBER.fullmatch(tok) for tok in line.split())
            and any(_DECIMAL_COMMA.fullmatch(tok) for tok in line.split())
            for line in with_space
        ):
            return " "
    return best


def _sep_label(sep: str) -> str:
    return {" ": "space", "\t": "tab", ",": "','", ";": "';'"}[sep]


def _shorten(text: str, width: int = 60) -> str:
    text = text.replace("\t", "\\t")
    return text if len(text) <= width else text[: width - 1] + "…"


def out_of_range(value: str) -> tuple[str, str, str]:
    """The (code, message, hint) of a number beyond float32 (1e39, 1e400, 400 digits)."""
    return ("out-of-range",
            f"value '{_shorten(value, 40)}' is beyond the range of float32, the library's number type "
            "(|x| ≤ 3.4028235e38)",
            "a value this large is usually a logging error (an unset or overflowed variable, a wrong scale): "
            "fix it or remove the line")


def _char_desc(ch: str) -> str:
    """'a no-break space (U+00A0)'."""
    import unicodedata

    name = unicodedata.name(ch, "control character").lower()
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name} (U+{ord(ch):04X})"


def unusual_characters(value: str) -> tuple[str, str, str] | None:
    """A specific diagnosis for a value that holds something a plain ASCII number does
    not: other scripts' digits, '_' digit groups, odd spaces, invisible characters."""
    import unicodedata

    shown = _shorten(value.encode("unicode_escape").decode("ascii"), 48)
    for ch in value:
        if ch.isdigit() and not ch.isascii():
            script = unicodedata.name(ch, "other").split(" DIGIT")[0].lower()
            return ("not-a-number", f"value '{_shorten(value, 40)}' is written with {script} digits "
                    f"(U+{ord(ch):04X}), not the ASCII digits 0-9",
                    "signal files take the digits 0-9 only: export the numbers with an English (C) locale, "
                    "or convert them")
    if "_" in value and _NUMBER.fullmatch(value.replace("_", "")):
        return ("not-a-number", f"value '{_shorten(value, 40)}' is not a number ('_' between digits)",
                f"write the number without digit separators: {value.replace('_', '')}")
    spaces = [ch for ch in value if ch in "\xa0\u2009\u202f\u2007\u2008\u200a\u3000\u1680\u205f"
              or "\u2000" <= ch <= "\u2006"]
    if spaces:
        ch = spaces[0]
        parts = [p for p in re.split("[\\s\u00a0\u2000-\u200a\u202f\u205f\u3000\u1680]+", value) if p]
        if len(parts) > 1 and all(_NUMBER.fullmatch(p) or _DECIMAL_COMMA.fullmatch(p) for p in parts):
            escaped = "".join("\\x%02x" % b for b in ch.encode())
            return ("mixed-separators", f"values separated by {_char_desc(ch)} instead of a plain space "
                    f"('{shown}')",
                    "separate values with a plain space, a tab, ',' or ';' (spreadsheets and some locales write "
                    f"U+00A0 or U+2009): replace it, e.g. sed 's/{escaped}/ /g'")
        return ("not-a-number", f"value '{shown}' holds {_char_desc(ch)}, not a plain space",
                "remove it, or replace it by a plain space if it separates two values")
    for ch in value:
        if (unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cn") and ch not in "\t\r\n") or ch in "\u2028\u2029":
            return ("not-a-number", f"value '{shown}' holds an invisible character: {_char_desc(ch)}",
                    "delete it: most editors do not show it (search for it, or re-export the file as plain "
                    "ASCII text)")
    return None


class _Reader:
    """One pass over one file; collects problems instead of stopping at the first."""

    def __init__(self, path, axes, sep, layout, max_bytes, max_lines, max_line_chars):
        _validate_args(axes, layout)
        self.path = path
        self.name = str(path)
        self.axes = int(axes)
        self.given_sep = _resolve_sep(sep)
        self.layout = layout
        self.max_bytes = max_bytes
        self.max_lines = max_lines
        self.max_line_chars = max_line_chars
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []
        self.suppressed = 0
        self.sep = self.given_sep or " "
        self.first_data_line = 0
        self.allowed = _number_bytes(self.sep)
        self.content: bytes | None = None  # the file's bytes when the caller read them

    # -- problem collection ---------------------------------------------------------
    def error(self, code: str, line: int, column: int, message: str, hint: str) -> None:
        if len(self.errors) >= MAX_REPORTED:
            self.suppressed += 1
            return
        self.errors.append(Problem("error", code, self.name, line, column, message, hint))

    def warn(self, code: str, line: int, column: int, message: str, hint: str) -> None:
        self.warnings.append(Problem("warning", code, self.name, line, column, message, hint))

    def result(self, values=None, line_numbers=None) -> SignalData:
        problems = sorted(self.errors, key=lambda p: (p.line, p.column)) + self.warnings
        if self.suppressed:
            problems.append(Problem(
                "info", "more-problems", self.name, 0, 0,
                f"{self.suppressed} more problem(s) in this file are not listed",
                "fix the ones listed first; the same cause is often behind the rest",
            ))
        if values is None:
            values = np.empty((0, 0), dtype=np.float64)
            line_numbers = np.empty(0, dtype=np.int64)
        return SignalData(self.path, self.sep, values, line_numbers, problems, self.axes, self.layout)

    # -- the pass ------------------------------------------------------------------------
    def run(self) -> SignalData:
        read = self._read_lines("export the recording again; each line must hold one signal of numbers")
        if read is None:
            return self.result()
        lines, bad_utf8_line, bad_utf8_byte = read
        data_lines, line_nos = self._prepare(lines)
        del lines
        if not data_lines:
            if not self.errors:
                self.error("empty-file", 0, 0, "the file holds no data lines",
                           "export the recording again; each line must hold one signal of numbers")
            return self.result()
        if self.max_lines is not None and len(data_lines) > self.max_lines:
            return self.result()  # _prepare reported it; parsing would be wasted work
        self.first_data_line = line_nos[0]
        header = self._check_header(data_lines[0], line_nos[0])
        if bad_utf8_line and not (header and bad_utf8_line == line_nos[0]):
            self._report_utf8(bad_utf8_line, bad_utf8_byte, data_lines, line_nos)
        chunks, counts, bad = self._parse(data_lines, line_nos, header, bad_utf8_line)
        return self._structure(chunks, counts, bad, line_nos)

    def _read_lines(self, empty_fix: str) -> tuple[list[str], int, int] | None:
        """The file's text lines (read-only, BOM dropped, separator detected) and the
        first non-UTF-8 line and byte (0, 0 if none); None once an error is recorded."""
        try:  # read-only, regular files only, size checked first (userfiles.py)
            if self.content is None:
                raw = read_user_file(self.path, self.max_bytes)
            elif self.max_bytes is not None and len(self.content) > self.max_bytes:
                raise too_large(self.path, len(self.content), self.max_bytes)
            else:
                raw = self.content
        except SignalFileError as exc:
            self.errors += exc.problems
            return None
        if raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if not raw or raw.isspace():
            self.error("empty-file", 0, 0, "the file is empty" if not raw else "the file holds only blank lines",
                       empty_fix)
            return None
        if self._is_binary(raw):
            return None
        text, bad_line, bad_byte = self._decode(raw)
        del raw
        lines = text.split("\n")
        del text
        if self.given_sep is None:
            self.sep = _detect_from_lines(lines)
        return lines, bad_line, bad_byte

    def _is_binary(self, raw: bytes) -> bool:
        head = raw[:8192]
        # Windows tools (PowerShell's ">", Notepad's "Unicode") write UTF-16; ASCII text in
        # UTF-16 has a zero byte after (little-endian) or before (big-endian) each character.
        little = len(head) > 3 and head[1::2].count(0) > len(head) // 4
        big = len(head) > 3 and head[0::2].count(0) > len(head) // 4
        if head[:2] in (b"\xff\xfe", b"\xfe\xff") or little or big:
            if head[:2] == b"\xfe\xff" or (big and not little and head[:2] != b"\xff\xfe"):
                kind = "big-endian" + ("" if head[:2] == b"\xfe\xff" else ", without a byte-order mark")
            else:
                kind = "little-endian" + ("" if head[:2] == b"\xff\xfe" else ", without a byte-order mark")
            self.error(
                "not-utf8", 0, 0, f"the file is UTF-16 text ({kind}), not UTF-8",
                "save it as UTF-8 or ANSI/ASCII (in PowerShell: | Out-File -Encoding utf8; "
                f"on Linux: iconv -f UTF-16{'BE' if kind.startswith('big') else 'LE'} -t UTF-8 FILE > NEW)",
            )
            return True
        nul = raw.find(b"\x00")
        controls = sum(head.count(bytes([b])) for b in range(32) if b not in (9, 10, 13, 12))
        if nul < 0 and controls <= len(head) // 10:
            return False
        where = nul if nul >= 0 else 0
        line = raw.count(b"\n", 0, where) + 1
        if raw.startswith(b"PK\x03\x04"):
            hint = "this looks like an Excel workbook or a zip archive: open it and save or export it as CSV"
        else:
            hint = "signal files are plain text (numbers and one separator); export the data as .csv or .txt"
        what = f"byte 0x00 at line {line}" if nul >= 0 else "many control bytes"
        self.error("binary-file", line if nul >= 0 else 0, 0, f"the file is binary, not text ({what})", hint)
        return True

    def _decode(self, raw: bytes) -> tuple[str, int, int]:
        try:
            return raw.decode("utf-8"), 0, 0
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            return raw.decode("utf-8", errors="replace"), line, raw[exc.start]

    def _report_utf8(self, line: int, byte: int, data_lines: list[str], line_nos: list[int]) -> None:
        column = 0
        if line in line_nos:
            prefix = data_lines[line_nos.index(line)].split("\ufffd", 1)[0]
            column = len(self._split(prefix)) if prefix else 1
        self.error(
            "not-utf8", line, column,
            f"byte 0x{byte:02X} is not UTF-8 text",
            "save the file as UTF-8 or plain ASCII; signal files hold only digits, '.', '-', 'e' and the separator",
        )

    def _prepare(self, lines: list[str]) -> tuple[list[str], list[int]]:
        """Strip each line, drop blank ones, apply the tolerated fixes and count them."""
        sep = self.sep
        strip = " \r" if sep == "\t" else " \t\r"
        data: list[str] = []
        numbers: list[int] = []
        blank_between = 0
        first_blank_between = 0
        pending_blank = 0
        first_pending = 0
        trailing = 0
        first_trailing = 0
        runs = 0
        first_run = 0
        max_chars = self.max_line_chars
        max_lines = self.max_lines
        for index, raw in enumerate(lines):
            if not raw.strip(" \t\r"):
                if data:  # blank lines before the first data line are silent
                    if not pending_blank:
                        first_pending = index + 1
                    pending_blank += 1
                continue  # and so are those after the last one (pending, never flushed)
            stripped = raw.strip(strip)
            lineno = index + 1
            if pending_blank:
                blank_between += pending_blank
                first_blank_between = first_blank_between or first_pending
                pending_blank = 0
            if max_lines is not None and len(data) >= max_lines:
                self.error(
                    "too-many-lines", lineno, 0,
                    f"the file has more than {max_lines} data lines",
                    f"split it into several files of at most {max_lines} lines, or keep a representative part",
                )
                data.append(stripped)
                numbers.append(lineno)
                return data, numbers
            if max_chars is not None and len(raw) > max_chars:
                self.error(
                    "line-too-long", lineno, 0,
                    f"the line is {len(raw)} characters long; the limit is {max_chars}",
                    "a line holds one signal of fewer than 16384 values; "
                    "check that every signal ends with a line break",
                )
                data.append("")  # placeholder: counted as a bad line
                numbers.append(lineno)
                continue
            if "\r" in stripped:
                column = len(self._split(stripped.split("\r", 1)[0])) if stripped[0] != "\r" else 1
                self.error(
                    "bad-line-ending", lineno, column,
                    "a carriage return (CR) inside the line: old Mac line endings join several lines into one",
                    "convert the line endings to LF or CRLF (e.g. with dos2unix, or your editor's "
                    "line-ending setting)",
                )
                data.append("")
                numbers.append(lineno)
                continue
            if sep != " " and stripped.endswith(sep) and stripped[:-1].strip(strip):
                stripped = stripped[:-1].rstrip(strip)
                trailing += 1
                first_trailing = first_trailing or lineno
            if sep == " " and "  " in stripped:
                stripped = re.sub(" {2,}", " ", stripped)
                runs += 1
                first_run = first_run or lineno
            data.append(stripped)
            numbers.append(lineno)
        if blank_between:
            self.warn(
                "blank-lines", first_blank_between, 0,
                f"{blank_between} blank line(s) between data lines (first: line {first_blank_between}); "
                "they were skipped",
                "check that two recordings were not pasted together by mistake; "
                "remove the blank lines to silence this",
            )
        if trailing:
            self.warn(
                "trailing-separator", first_trailing, 0,
                f"{trailing} line(s) end with a separator (first: line {first_trailing}); it was ignored",
                "nothing to do; to follow the Studio's format, make the logger stop writing a "
                "separator after the last value",
            )
        if runs:
            self.warn(
                "separator-runs", first_run, 0,
                f"{runs} line(s) separate values with several spaces (first: line {first_run}); "
                "each run was read as one separator",
                "nothing to do; the Studio's format uses a single space",
            )
        return data, numbers

    def _split(self, line: str) -> list[str]:
        if self.sep == " ":
            return line.split(" ")
        return [f.strip(" \t") for f in line.split(self.sep)]

    def _check_header(self, line: str, lineno: int) -> bool:
        """A first data line made mostly of words is a header: one problem for the line.

        "Mostly" (at least half of the values) keeps a data line with one typo from
        being called a header; that one gets a not-a-number error instead.
        """
        if not line:
            return False
        words = [
            column
            for column, value in enumerate(self._split(line), 1)
            if not _NUMBER.fullmatch(value)  # 1e-3: the e of an exponent is no word
            and _LETTER.search(value)
            and not _NON_FINITE.fullmatch(value)
            and not _DATE_OR_TIME.search(value)
        ]
        if not words or 2 * len(words) < len(self._split(line)):
            return False
        self.error(
            "header-row", lineno, words[0],
            f"line {lineno} looks like a header row ('{_shorten(line)}'), not numbers",
            "header row: remove it; signal files hold numbers only, without column names (a recording "
            "with a header, a timestamp or labels: `neai tools reshape FILE --buffer N --out OUT` keeps the "
            "signal columns)",
        )
        return True

    # -- values --------------------------------------------------------------------------
    def _parse(self, data_lines, line_nos, header, bad_utf8_line):
        """Parse every data line. Returns per-line values (chunks), counts and bad flags."""
        n = len(data_lines)
        counts = np.zeros(n, dtype=np.int64)
        bad = np.zeros(n, dtype=bool)
        chunks: list[tuple[int, np.ndarray | list]] = []
        allowed = self.allowed = _number_bytes(self.sep)
        start = 1 if header else 0
        if header:
            bad[0] = True
            counts[0] = -1
        delimiter = self.sep
        for lo in range(start, n, _CHUNK_LINES):
            hi = min(n, lo + _CHUNK_LINES)
            chunk = data_lines[lo:hi]
            if all(chunk) and _only_number_bytes("\n".join(chunk), allowed):
                try:
                    block = np.loadtxt(chunk, delimiter=delimiter, comments=None, dtype=np.float64, ndmin=2)
                except ValueError:
                    block = None
                if block is not None and not (np.abs(block) <= FLOAT32_LIMIT).all():
                    block = None  # overflow (1e400 reads as Inf) or beyond float32: located line by line
                if block is not None and block.shape[0] == len(chunk):
                    counts[lo:hi] = block.shape[1]
                    chunks.append((lo, block))
                    continue
            rows: list[np.ndarray | None] = []
            for i in range(lo, hi):
                row, count, ok = self._scan_line(data_lines[i], line_nos[i], line_nos[i] == bad_utf8_line)
                rows.append(row)
                counts[i] = count
                bad[i] = not ok
            chunks.append((lo, rows))
        return chunks, counts, bad

    def _scan_line(self, line: str, lineno: int, encoding_reported: bool):
        """Precise scan of one line: its values, its value count, whether it is sound."""
        if not line:  # placeholder of a line already reported
            return None, -1, False
        fields = self._split(line)
        try:
            if _only_number_bytes(line, self.allowed):
                return self._in_range(np.array(fields, dtype=np.float64), fields, lineno)
        except ValueError:
            pass
        first = None
        extra = 0
        for column, value in enumerate(fields, 1):
            if _NUMBER.fullmatch(value):
                continue
            if first is None:
                first = (column, value)
            else:
                extra += 1
        if first is None:  # pragma: no cover - numbers only, yet not parsed
            return self._in_range(np.array(fields, dtype=np.float64), fields, lineno)
        if encoding_reported:
            return None, len(fields), False
        column, value = first
        code, message, hint = self._classify(value, column, lineno)
        if self.layout == "target-first" and column == 1:
            message += " (column 1 holds the target value)"
        if extra:
            message += f" ({extra} more bad value(s) on this line)"
        self.error(code, lineno, column, message, hint)
        return None, len(fields), False

    def _in_range(self, row: np.ndarray, fields: list[str], lineno: int):
        """(row, count, True), or an out-of-range error at the first value beyond float32."""
        bad = ~(np.abs(row) <= FLOAT32_LIMIT)
        if not bad.any():
            return row, len(fields), True
        index = int(np.argmax(bad))
        code, message, hint = out_of_range(fields[index])
        extra = int(bad.sum()) - 1
        if extra:
            message += f" ({extra} more on this line)"
        self.error(code, lineno, index + 1, message, hint)
        return None, len(fields), False

    def _classify(self, value: str, column: int, lineno: int) -> tuple[str, str, str]:
        sep = self.sep
        shown = _shorten(value, 40)
        if value == "":
            where = "the line starts with a separator: the first value is empty" if column == 1 else (
                "empty value between two separators"
            )
            return ("empty-field", where,
                    "every position needs a number: fill in the missing value or remove the extra separator")
        if _NON_FINITE.fullmatch(value):
            return ("not-finite", f"value '{shown}' is not a finite number",
                    "replace missing or invalid samples (NaN, Inf) by measurements, or remove the line; "
                    "a library cannot learn from them")
        odd = unusual_characters(value)
        if odd is not None:
            return odd
        if sep != "," and _DECIMAL_COMMA.fullmatch(value):
            return ("decimal-comma", f"value '{shown}' uses ',' as decimal mark",
                    f"use '.' as the decimal mark ({value.replace(',', '.')}, not {value}); change the export "
                    "settings or locale of your logger, or replace ',' by '.' in the file")
        for other in (",", ";", "\t", " "):
            if other != sep and other in value:
                parts = [p.strip(" \t") for p in value.split(other)]
                if len(parts) > 1 and all(_NUMBER.fullmatch(p) or _DECIMAL_COMMA.fullmatch(p) for p in parts):
                    if self.given_sep is not None:
                        hint = (f"the separator given is {_sep_label(sep)}; use --sep auto or "
                                f"--sep {SEPARATOR_NAMES[other]}, or use one separator in the whole file")
                    else:
                        hint = (f"use one separator in the whole file: most lines use {_sep_label(sep)}, "
                                f"replace {_sep_label(other)} by it")
                    return ("mixed-separators",
                            f"values separated by {_sep_label(other)} but the file's separator is {_sep_label(sep)}",
                            hint)
        if _DATE_OR_TIME.search(value):
            return ("not-a-number", f"value '{shown}' is not a number (it looks like a date or time)",
                    "signal files hold sensor values only: remove the timestamp column")
        if value[:1] in "\"'" or value[-1:] in "\"'":
            return ("not-a-number", f"value '{shown}' is not a number (it is quoted)",
                    "remove the quotes: write 1.5, not \"1.5\"")
        if value.count(".") > 1 and not _LETTER.search(value):
            return ("not-a-number", f"value '{shown}' is not a number (more than one decimal point)",
                    "fix the value: a number has at most one decimal point '.'")
        if "\ufffd" in value:
            return ("not-a-number", f"value '{shown}' is not a number (bytes that are not UTF-8 text)",
                    "save the file as UTF-8 or plain ASCII, with numbers only")
        hint = "signal files hold numbers only; remove text such as labels, units, comments or timestamps"
        if lineno == self.first_data_line:
            hint += f" (line {lineno} looks like a header: remove it)"
        return ("not-a-number", f"value '{shown}' is not a number", hint)

    # -- structure -------------------------------------------------------------------------
    def _structure(self, chunks, counts, bad, line_nos) -> SignalData:
        # The expected count comes from lines that parsed; only if none did, from all.
        candidates = counts[(counts > 0) & ~bad]
        if candidates.size == 0:
            candidates = counts[(counts > 0)]
        if candidates.size == 0:
            if not self.errors:  # pragma: no cover - every line is reported by now
                self.error("empty-file", 0, 0, "the file holds no data lines",
                           "export the recording again; each line must hold one signal of numbers")
            return self.result()
        uniq, freq = np.unique(candidates, return_counts=True)
        best = freq.max()
        if (freq == best).sum() > 1:
            first_counts = [int(c) for c in candidates if freq[np.searchsorted(uniq, c)] == best]
            expected = first_counts[0]
        else:
            expected = int(uniq[np.argmax(freq)])
        for i in np.nonzero((counts != expected) & (counts > 0) & ~bad)[0]:
            found = int(counts[i])
            self.error(
                "inconsistent-count", line_nos[i], (expected + 1) if found > expected else (found + 1),
                f"the line holds {found} values, expected {expected} like the other lines",
                "every line must hold the same number of values; fix or remove this line "
                "(a short last line often comes from a logger stopped in mid-write)",
            )
        good = (counts == expected) & ~bad
        if good.any():  # with no good line, the value errors already say what is wrong
            self._layout_checks(expected, line_nos[int(np.argmax(good))], int(good.sum()))

        rows: list[np.ndarray] = []
        for lo, block in chunks:
            if isinstance(block, np.ndarray):
                if block.shape[1] == expected:
                    rows.append(block)
            else:
                picked = [r for k, r in enumerate(block) if r is not None and good[lo + k]]
                if picked:
                    rows.append(np.vstack(picked))
        values = np.vstack(rows) if rows else np.empty((0, expected), dtype=np.float64)
        numbers = np.asarray(line_nos, dtype=np.int64)[good]
        return self.result(values, numbers)

    def _layout_checks(self, n: int, line: int, n_lines: int) -> None:
        axes = self.axes
        if n > MAX_VALUES_PER_LINE:
            self.error(
                "too-many-values", line, 0,
                f"lines hold {n} values; the limit is {MAX_VALUES_PER_LINE} values per line",
                "use a smaller buffer size per axis (e.g. 512, 1024 or 2048 samples)",
            )
        if self.layout == "multisensor":
            if n != axes:
                self.error(
                    "wrong-variable-count", line, 0,
                    f"lines hold {n} values but the project has {axes} variable(s)",
                    "in a Multi-sensor project each line is one sample of every variable; "
                    f"create the project with --variables {n}, or export {axes} columns",
                )
            elif n_lines and n_lines < MIN_LINES_PER_AXIS * axes:
                minimum = MIN_LINES_PER_AXIS * axes
                self.warn(
                    "few-lines", 0, 0,
                    f"only {n_lines} samples for {axes} variable(s); the bare minimum is {minimum}",
                    "record longer: at least a few hundred samples covering every operating condition",
                )
            return
        buffer_values = n
        if self.layout == "target-first":
            if n < 1 + axes:
                self.error(
                    "missing-buffer", line, 0,
                    f"lines hold {n} value(s): the target and no signal after it",
                    f"each line is the target value, then {axes} × buffer size signal values",
                )
                return
            buffer_values = n - 1
        if buffer_values % axes:
            what = "after the target, lines hold" if self.layout == "target-first" else "lines hold"
            self.error(
                "not-multiple-of-axes", line, 0,
                f"{what} {buffer_values} values, which is not a multiple of the {axes} axes",
                "a line is axes × buffer size values, interleaved x0 y0 z0 x1 y1 z1 …; check the "
                "project's number of axes and the logger",
            )
            return
        size = buffer_values // axes
        if size & (size - 1):
            lower = 1 << (size.bit_length() - 1)
            self.warn(
                "not-power-of-two", line, 0,
                f"the buffer size ({size} samples per axis) is not a power of two",
                f"a power of two is recommended (FFT-based preprocessing needs one): record {lower} "
                f"or {lower * 2} samples per axis",
            )
        if n_lines and n_lines < MIN_LINES_PER_AXIS * axes:
            minimum = MIN_LINES_PER_AXIS * axes
            self.warn(
                "few-lines", 0, 0,
                f"only {n_lines} line(s) (signals) for {axes} axis/axes; the bare minimum is {minimum}",
                f"collect more signals: at least {minimum}, ideally a few hundred, covering every "
                "condition the device will meet",
            )


# -- optional checks ----------------------------------------------------------------------

_OUTLIER_Z = 5.0  # robust z-score; 3.5 (the textbook value) flags dozens of lines in plain noise
_RATE_SAMPLE_LINES = 2000


def _infer_layout(values: np.ndarray, axes: int) -> str:
    width = values.shape[1]
    if width == axes:
        return "multisensor"
    if axes > 1 and width % axes and (width - 1) % axes == 0:
        return "target-first"
    return "buffers"


def optional_checks(
    values: np.ndarray,
    axes: int,
    path: Path | str,
    *,
    layout: str | None = None,
    line_numbers: np.ndarray | None = None,
) -> list[Problem]:
    """The Studio's optional checks on parsed values: advice, never blocking.

    ``layout`` is inferred when not given (a line of exactly ``axes`` values is a
    multi-sensor sample; for target-first files with one axis pass it explicitly).
    ``line_numbers`` maps rows to source lines (default: row + 1).
    """
    values = np.asarray(values, dtype=np.float64)
    name = str(path)
    if values.ndim != 2 or values.shape[0] == 0 or values.shape[1] == 0:
        return []
    if layout is None:
        layout = _infer_layout(values, axes)
    n = values.shape[0]
    lines = np.arange(1, n + 1) if line_numbers is None else np.asarray(line_numbers)
    out: list[Problem] = []

    def add(severity: str, code: str, line: int, message: str, hint: str) -> None:
        out.append(Problem(severity, code, name, int(line), 0, message, hint))

    if layout == "multisensor":
        _multisensor_checks(values, lines, add)
        return out
    data = values[:, 1:] if layout == "target-first" else values
    if data.shape[1] % axes or data.shape[1] == 0:
        return out
    size = data.shape[1] // axes
    cube = data.reshape(n, size, axes)
    axis_word = "axis" if axes > 1 else "signal"

    flat = np.ptp(data, axis=1) == 0
    if flat.any():
        first = int(np.argmax(flat))
        add("warning", "constant-lines", lines[first],
            f"{int(flat.sum())} line(s) are constant, all values equal (first: line {lines[first]})",
            "a constant signal carries no information: check that the sensor was running and "
            "connected, or remove these lines")
    for a in range(axes):
        column = cube[:, :, a]
        if axes > 1 and np.ptp(column) == 0:
            add("warning", "constant-axis", lines[0],
                f"axis {a + 1} is constant in the whole file (always {column.flat[0]:g})",
                "check that this sensor axis is wired and enabled; a dead axis adds nothing")

    dup_first, dup_of, dup_count = _duplicates(data)
    if dup_count:
        add("warning", "duplicate-lines", lines[dup_first],
            f"{dup_count} line(s) repeat an earlier line exactly (first: line {lines[dup_first]} "
            f"repeats line {lines[dup_of]})",
            "duplicates often come from logging the same buffer twice; remove them so they do not "
            "bias the benchmark")

    for a in range(axes):
        label = f"axis {a + 1}" if axes > 1 else "the signal"
        found = _clipping(cube[:, :, a])
        if found:
            where, level, share = found
            add("warning", "clipping", lines[0],
                f"{label}: {share:.1%} of the values sit exactly at the {where} ({level:g}); "
                "the sensor may be saturating (clipping)",
                "lower the sensor gain or raise its full-scale range, so peaks are recorded, not cut")
        column = cube[:, :, a]
        within = float(np.sqrt(np.mean(np.var(column, axis=1))))
        mean = float(np.mean(column))
        if within > 0 and abs(mean) > 10 * within:
            add("info", "dc-offset", lines[0],
                f"{label} has a large DC offset ({mean:g}) compared with its amplitude ({within:g})",
                "usually harmless (preprocessing can remove it), but check it is not a calibration "
                "error, e.g. gravity on an accelerometer axis or an unzeroed sensor")

    if n >= 2:
        total = float(np.var(data))
        between = float(np.mean(np.var(data, axis=0)))
        if total > 0 and between < 1e-4 * total and dup_count < n - 1:
            add("warning", "low-variance", lines[0],
                "the lines are nearly identical to each other (very low variance between lines)",
                f"record signals in varied conditions; a library learns little from copies of one "
                f"{axis_word}")

    found = _outlier_lines(data)
    if found:
        worst, z, count = found
        add("warning", "outlier-lines", lines[worst],
            f"{count} line(s) have an unusual energy (robust z-score above {_OUTLIER_Z:g}); "
            f"the most unusual is line {lines[worst]} (z = {z:.1f})",
            "check these lines for glitches, disconnections or a different operating condition; "
            "remove them if they are recording errors")

    found = _mixed_rates(cube)
    if found:
        ratio, low_line, high_line, n_low, n_high = found
        add("info", "mixed-sampling-rates", lines[high_line],
            f"the lines fall into two groups whose frequency content differs by ×{ratio:.1f} "
            f"({n_low} and {n_high} lines, e.g. line {lines[low_line]} and line {lines[high_line]})",
            "were they recorded at different sampling rates? Use one rate for every file of a "
            "project; if the machine simply ran at two speeds, nothing to do")
    return out


def _multisensor_checks(values: np.ndarray, lines: np.ndarray, add) -> None:
    n, width = values.shape
    for v in range(width):
        column = values[:, v]
        if n > 1 and np.ptp(column) == 0:
            add("warning", "constant-axis", lines[0],
                f"variable {v + 1} is constant in the whole file (always {column[0]:g})",
                "check that this sensor is connected; a constant variable adds nothing")
            continue
        found = _clipping(column[:, None])
        if found:
            where, level, share = found
            add("warning", "clipping", lines[0],
                f"variable {v + 1}: {share:.1%} of the samples sit exactly at the {where} ({level:g}); "
                "the sensor may be saturating (clipping)",
                "lower the sensor gain or raise its full-scale range")
    if n > 2:
        repeated = np.all(values[1:] == values[:-1], axis=1)
        if repeated.mean() > 0.5:
            first = int(np.argmax(repeated)) + 1
            add("info", "repeated-samples", lines[first],
                f"{int(repeated.sum())} sample(s) repeat the previous one exactly (first: line {lines[first]})",
                "the logger may sample faster than the sensors update; lower the logging rate or "
                "check the sensor readout")


def _duplicates(data: np.ndarray) -> tuple[int, int, int]:
    """(first duplicate row, the row it repeats, number of duplicate rows)."""
    rows = np.ascontiguousarray(data + 0.0)  # +0.0 turns -0.0 into 0.0
    keys = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
    _, first_index, inverse = np.unique(keys, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    origin = first_index[inverse]
    is_dup = origin != np.arange(len(keys))
    count = int(is_dup.sum())
    if not count:
        return 0, 0, 0
    first = int(np.argmax(is_dup))
    return first, int(origin[first]), count


def _clipping(column: np.ndarray) -> tuple[str, float, float] | None:
    """A plateau at the extreme value: many exact hits, far more than the values next to it."""
    flat = column.ravel()
    if flat.size > 2_000_000:
        flat = flat[:: flat.size // 2_000_000 + 1]
    levels, counts = np.unique(flat, return_counts=True)
    if levels.size <= 16:
        return None  # a few discrete levels (square wave, states): extremes are naturally frequent
    for where, end, neighbours in (("maximum", -1, slice(-4, -1)), ("minimum", 0, slice(1, 4))):
        hits = int(counts[end])
        near = float(np.mean(counts[neighbours]))
        if hits >= max(5, 0.002 * flat.size) and hits > 3 * near:
            return where, float(levels[end]), hits / flat.size
    return None


def _robust_z(x: np.ndarray) -> np.ndarray | None:
    median = np.median(x)
    mad = np.median(np.abs(x - median))
    scale = mad / 0.6745 if mad > 0 else np.mean(np.abs(x - median)) * 1.2533
    if not scale > 0:
        return None
    return (x - median) / scale


def _outlier_lines(data: np.ndarray) -> tuple[int, float, int] | None:
    if data.shape[0] < 10:
        return None
    energy = np.log(np.mean(data * data, axis=1) + 1e-300)
    z = _robust_z(energy)
    if z is None:
        return None
    flagged = np.abs(z) > _OUTLIER_Z
    if not flagged.any():
        return None
    worst = int(np.argmax(np.abs(z)))
    return worst, float(z[worst]), int(flagged.sum())


def _mixed_rates(cube: np.ndarray) -> tuple[float, int, int, int, int] | None:
    """Two well separated groups of lines by spectral centroid, a factor ≥ 1.8 apart."""
    n, size, _ = cube.shape
    if n < 10 or size < 16:
        return None
    rows = np.arange(n)
    if n > _RATE_SAMPLE_LINES:
        rows = np.linspace(0, n - 1, _RATE_SAMPLE_LINES).astype(np.int64)
    sub = cube[rows] - cube[rows].mean(axis=1, keepdims=True)
    power = (np.abs(np.fft.rfft(sub, axis=1)) ** 2).sum(axis=2)[:, 1:]
    total = power.sum(axis=1)
    keep = total > 0
    if keep.sum() < 10:
        return None
    freqs = np.arange(1, power.shape[1] + 1)
    centroid = np.log((power[keep] * freqs).sum(axis=1) / total[keep])
    rows = rows[keep]
    order = np.argsort(centroid)
    sorted_c = centroid[order]
    m = len(sorted_c)
    min_group = max(3, int(math.ceil(0.1 * m)))
    if m < 2 * min_group:
        return None
    gaps = np.diff(sorted_c)[min_group - 1: m - min_group]
    if gaps.size == 0:
        return None
    cut = int(np.argmax(gaps)) + min_group  # first index of the high group
    low, high = sorted_c[:cut], sorted_c[cut:]
    ratio = math.exp(float(np.median(high) - np.median(low)))
    spread = max(float(np.median(np.abs(low - np.median(low)))), float(np.median(np.abs(high - np.median(high)))))
    gap = float(sorted_c[cut] - sorted_c[cut - 1])
    if ratio < 1.8 or gap < 4 * max(spread, 1e-3):
        return None
    return ratio, int(rows[order[0]]), int(rows[order[-1]]), cut, m - cut
