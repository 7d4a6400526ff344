"""Data manipulation: continuous recordings -> a signal file in the Studio's format.

A recording has one sample per line (``recordings.py`` reads it). A project wants
one signal example per line: ``BUFFER_SIZE`` consecutive samples of every axis,
interleaved ``x0 y0 z0 x1 y1 z1 …`` (SPEC §1), or, for Multi-sensor, the samples
themselves with the header, timestamps and labels gone. The steps, in order:

1. read the chosen columns of every input (each file is its own recording);
2. keep the rows whose label column holds a value (``where="anomaly=0"``); a
   kept stretch of consecutive rows is a *run*, and so is each file: nothing is
   ever cut across two runs, so no buffer mixes two files or two labels;
3. decimate each run by an integer factor with scipy's polyphase anti-alias
   filter (``resample_poly``), dropping the filter's reach at both ends of the run
   (its first and last ``EDGE_SAMPLES`` output samples are computed from padding,
   not data);
4. cut each run into buffers of ``buffer`` samples starting every ``hop`` samples
   (``hop < buffer`` overlaps; the default is back to back); a run's tail shorter
   than a buffer is left out, and counted;
5. write the lines: single spaces, ``.`` decimals, ``%.7g``, no header, LF. The file
   is written atomically, never over an existing file without ``force``, never over
   an input.

Extrapolation lines start with a target: ``target="Flow"`` puts the mean of that
column over each buffer's samples first.
"""
from __future__ import annotations

import io
import math
import os
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..errors import Cancelled, InputError, Problem, UsageError
from ..signals import MAX_LINES, MAX_VALUES_PER_LINE, MIN_LINES_PER_AXIS
from ..storage import atomic_write_bytes
from .recordings import Recording, column_name, expand_inputs, read_recording

__all__ = ["EDGE_SAMPLES", "ReshapeOptions", "ReshapeResult", "decimate_run", "cut_buffers", "reshape",
           "parse_where", "check_output"]

LAYOUTS = ("buffers", "multisensor")
EDGE_SAMPLES = 10  # resample_poly's default filter reaches 10 output samples beyond each end
VALUE_FORMAT = "%.7g"


@dataclass
class ReshapeOptions:
    columns: str | Sequence[str | int] | None = None  # names / 1-based numbers; None: every numeric signal
    sep: str = "auto"
    header: str = "auto"  # auto | yes | no
    buffer: int | None = None  # samples per axis per line (layout "buffers")
    hop: int | None = None  # samples between buffer starts; None: = buffer (no overlap)
    decimate: int = 1  # keep one sample in q, after the anti-alias filter
    where: str | None = None  # "COLUMN=VALUE": keep the rows whose COLUMN holds VALUE
    target: str | None = None  # a column whose mean over each buffer starts the line (extrapolation)
    layout: str = "buffers"  # "buffers" or "multisensor" (one sample per line)
    rate_hz: float | None = None  # the recordings' sampling rate, for the report only


@dataclass
class InputSummary:
    path: str
    samples: int  # rows read
    kept: int  # rows matching `where` (all rows without it)
    runs: int  # runs that gave at least one line
    short_runs: int  # runs too short for one buffer
    lines: int  # lines written from this file
    unused: int  # samples of kept rows in no line (run tails, short runs, filter edges)
    longest_run: int = 0  # samples, before decimation


@dataclass
class ReshapeResult:
    out: Path
    layout: str
    axes: int
    buffer: int | None
    hop: int | None
    decimation: int
    lines: int
    values_per_line: int
    columns: list[str]
    dropped: list[str]
    target: str | None
    where: str | None
    rate_hz: float | None  # the output's sampling rate, when the input's was given
    inputs: list[InputSummary] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def buffer_seconds(self) -> float | None:
        if self.rate_hz and self.buffer:
            return self.buffer / self.rate_hz
        return None

    def to_json(self) -> dict:
        doc = asdict(self)
        doc["out"] = str(self.out)
        doc["buffer_seconds"] = self.buffer_seconds
        doc["warnings"] = [
            {"code": p.code, "file": p.file, "line": p.line, "message": p.message, "hint": p.hint}
            for p in self.warnings
        ]
        return doc


# -- pieces ------------------------------------------------------------------------------


def parse_where(text: str | None) -> tuple[str, str] | None:
    """'anomaly=0' -> ('anomaly', '0')."""
    if text is None or not str(text).strip():
        return None
    column, sep, value = str(text).partition("=")
    if not sep or not column.strip() or not value.strip():
        raise UsageError(f"cannot read the row filter '{text}'",
                         "Write COLUMN=VALUE, e.g. anomaly=0 (a column name or 1-based number).")
    return column.strip(), value.strip()


def _matches(texts: np.ndarray, value: str) -> np.ndarray:
    """Rows whose label equals `value`: as numbers when both are numbers (0 == 0.0), else as text."""
    try:
        wanted = float(value)
    except ValueError:
        wanted = None
    out = np.zeros(len(texts), dtype=bool)
    for i, raw in enumerate(texts):
        raw = str(raw).strip().strip('"')
        if wanted is not None:
            try:
                out[i] = float(raw) == wanted
                continue
            except ValueError:
                pass
        out[i] = raw == value
    return out


def runs_of(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each stretch of consecutive True values."""
    if not len(mask):
        return []
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


def decimate_run(run: np.ndarray, factor: int) -> np.ndarray:
    """One run (samples, columns) at 1/factor of its rate, anti-aliased, edges dropped."""
    if factor == 1:
        return run
    from scipy.signal import resample_poly

    if len(run) < 2:
        return run[:0]
    out = resample_poly(run, 1, factor, axis=0, padtype="line")
    if len(out) <= 2 * EDGE_SAMPLES:
        return out[:0]
    return out[EDGE_SAMPLES: len(out) - EDGE_SAMPLES]


def cut_buffers(run: np.ndarray, size: int, hop: int) -> np.ndarray:
    """(samples, axes) -> (n, size, axes): windows of `size` starting every `hop` samples."""
    axes = run.shape[1]
    if len(run) < size:
        return np.empty((0, size, axes))
    view = np.lib.stride_tricks.sliding_window_view(run, size, axis=0)  # (samples-size+1, axes, size)
    return np.ascontiguousarray(view[::hop].transpose(0, 2, 1))


def check_output(out: Path, inputs: Sequence[Path], force: bool) -> None:
    """Refuse to replace an input, a folder or (without force) an existing file."""
    if out.is_dir():
        raise UsageError(f"{out} is a folder", "Give the path of the file to write, e.g. --out nominal.csv.")
    for source in inputs:
        try:
            same = source.exists() and out.exists() and os.path.samefile(source, out)
        except OSError:
            same = False
        if same or source.resolve() == out.resolve():
            raise UsageError(f"{out} is one of the inputs", "Write the result to another file: inputs are never modified.")
    if out.exists() and not force:
        raise UsageError(f"{out} already exists", "Choose another output file, or add --force to replace it.")
    if not out.parent.exists():
        raise UsageError(f"{out.parent}: the output folder does not exist", "Create it first, or write elsewhere.")


def _validate(options: ReshapeOptions) -> None:
    if options.layout not in LAYOUTS:
        raise UsageError(f"unknown layout {options.layout!r}", "Use buffers or multisensor.")
    if isinstance(options.decimate, bool) or not isinstance(options.decimate, int) or options.decimate < 1:
        raise UsageError(f"the decimation factor must be a whole number of 1 or more, not {options.decimate!r}",
                         "e.g. --decimate 4 keeps one sample in 4 (1 kHz -> 250 Hz).")
    if options.layout == "multisensor":
        if options.buffer is not None or options.hop is not None:
            raise UsageError("--buffer and --hop cut buffers; a Multi-sensor file holds one sample per line",
                             "Drop --buffer/--hop, or drop --multisensor.")
        if options.target is not None:
            raise UsageError("--target is for extrapolation buffers, not Multi-sensor files", "Drop --target.")
        return
    if options.buffer is None:
        raise UsageError("the buffer size is missing",
                         "Give --buffer N, the samples per axis in one line (a power of two, e.g. 128 or 256); "
                         "or --multisensor to keep one sample per line.")
    for name, value in (("buffer size", options.buffer), ("hop", options.hop)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise UsageError(f"the {name} must be a whole number of 1 or more, not {value!r}",
                             "--buffer N samples per axis; --hop H samples between buffer starts.")
    if options.rate_hz is not None and not options.rate_hz > 0:
        raise UsageError(f"the sampling rate must be positive, not {options.rate_hz!r}", "Give --rate in Hz.")


# -- the tool ------------------------------------------------------------------------------


def reshape(
    inputs: Sequence[Path | str],
    out: Path | str,
    options: ReshapeOptions,
    *,
    force: bool = False,
    progress: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
) -> ReshapeResult:
    """Read the recordings, cut them and write one Studio-format file at `out`."""
    _validate(options)
    paths = expand_inputs(inputs)
    out = Path(out).expanduser()
    check_output(out, paths, force)
    where = parse_where(options.where)
    buffers = options.layout == "buffers"
    size = options.buffer or 1
    hop = options.hop or size
    q = options.decimate

    pieces: list[np.ndarray] = []
    summaries: list[InputSummary] = []
    warnings: list[Problem] = []
    names: list[str] | None = None
    first_path: Path | None = None
    dropped: list[str] = []
    label_values: set[str] = set()
    axes = 0
    for i, path in enumerate(paths, start=1):
        if cancel is not None and cancel.is_set():
            raise Cancelled("stopped; nothing was written")
        if progress:
            progress(f"reading {path.name} ({i}/{len(paths)})")
        rec = read_recording(
            path, columns=options.columns, sep=options.sep, header=options.header,
            extra=[options.target] if options.target else [],
            text_extra=[where[0]] if where else [],
        )
        warnings.extend(rec.problems)
        if names is None:
            names, first_path, axes = rec.column_names, path, len(rec.columns)
            roles = {"read apart": "target", "read apart as text": "row filter"}
            dropped = [f"{rec.name(c)} ({roles.get(why, why)})" for c, why in rec.dropped]
            _check_width(axes, size, options, path)
        elif len(rec.columns) != axes:
            raise InputError(
                f"{path}: {len(rec.columns)} signal column(s) ({', '.join(rec.column_names)}) but {first_path} "
                f"gave {axes} ({', '.join(names)})",
                "Every input must give the same columns, in the same order: choose them with --columns.",
            )
        elif rec.header and rec.column_names != names and options.columns is not None:
            warnings.append(Problem(
                "warning", "column-names-differ", str(path), 0, 0,
                f"its columns are {', '.join(rec.column_names)}, the first file's {', '.join(names)}",
                "check that the same sensors are in the same order in every file",
            ))
        if where:
            label_values.update(str(v).strip() for v in np.unique(_extra(rec, text=True).astype(str)))
        piece, summary = _cut(rec, where, options, size, hop, q)
        if len(piece):
            pieces.append(piece)
        summaries.append(summary)
        if summary.short_runs:
            warnings.append(Problem(
                "warning", "short-runs", str(path), 0, 0,
                f"{summary.short_runs} run(s) of kept rows were too short for one buffer and were left out",
                "use a smaller buffer, or record longer stretches of this state",
            ))

    lines = np.vstack(pieces) if pieces else np.empty((0, 0))
    if not len(lines):
        longest = max((s.longest_run for s in summaries), default=0)
        what = f"where {where[0]}={where[1]}" if where else "in the inputs"
        if where and longest == 0:
            seen = ", ".join(sorted(label_values)[:10]) + (", …" if len(label_values) > 10 else "")
            raise InputError(
                f"no row matches {where[0]}={where[1]} in {len(paths)} file(s); the column holds {seen}",
                "Give one of the values it holds (e.g. anomaly=0 for normal rows, anomaly=1 for faults).",
            )
        raise InputError(
            f"no buffer could be cut: the longest run {what} has {longest} samples"
            + (f" before decimation by {q}" if q > 1 else "") + f", a buffer needs {size}",
            "Use a smaller --buffer (or --decimate), or longer recordings.",
        )
    values_per_line = lines.shape[1]
    n_lines = lines.shape[0]
    if buffers and size & (size - 1):
        lower = 1 << (size.bit_length() - 1)
        warnings.append(Problem(
            "warning", "not-power-of-two", str(out), 0, 0,
            f"the buffer size ({size} samples per axis) is not a power of two",
            f"FFT-based preprocessing needs one: use {lower} or {lower * 2}",
        ))
    warnings += line_count_warnings(out, n_lines, axes if buffers else 0,
                                    "add recordings, or overlap the buffers (a --hop smaller than --buffer)",
                                    "use a larger --hop, or fewer recordings per file")
    if progress:
        progress(f"writing {n_lines} lines to {out.name}")
    _write(out, lines)
    rate = options.rate_hz / q if options.rate_hz else None
    return ReshapeResult(
        out=out, layout=options.layout, axes=axes, buffer=size if buffers else None,
        hop=hop if buffers else None, decimation=q, lines=n_lines, values_per_line=values_per_line,
        columns=names or [], dropped=dropped, target=options.target, where=options.where, rate_hz=rate,
        inputs=summaries, warnings=warnings,
    )


def line_count_warnings(out: Path, n_lines: int, axes: int, few_hint: str, many_hint: str) -> list[Problem]:
    """A file about to be written with too few lines for its axes (axes 0: no minimum, e.g.
    Multi-sensor) or more than a project imports."""
    found = []
    minimum = MIN_LINES_PER_AXIS * axes
    if n_lines < minimum:
        found.append(Problem("warning", "few-lines", str(out), 0, 0,
                             f"only {n_lines} line(s) for {axes} axis/axes; the Studio's bare minimum is {minimum}",
                             few_hint))
    if n_lines > MAX_LINES:
        found.append(Problem("warning", "too-many-lines", str(out), 0, 0,
                             f"{n_lines} lines: a project imports at most {MAX_LINES} per file", many_hint))
    return found


def _check_width(axes: int, size: int, options: ReshapeOptions, path: Path) -> None:
    if options.layout != "buffers":
        return
    width = axes * size + (1 if options.target else 0)
    if width > MAX_VALUES_PER_LINE:
        largest = 1 << int(math.log2(max(1, (MAX_VALUES_PER_LINE - 1) // axes)))
        hint = f"Use --buffer {largest} or less (or fewer columns, from {path.name})."
        if axes > 16:  # one buffer per line already: a signal file, not a recording
            hint = (f"{path.name} looks like a signal file (one buffer of {axes} values per line), not a recording: "
                    f"re-cut its buffers with `neai data recut {path.name} --axes A --buffer {size} --out FILE` "
                    "(the Tools screen's data manipulation, action Re-cut). Otherwise: " + hint)
        raise UsageError(
            f"{axes} axes × {size} samples = {width} values per line; the Studio's limit is {MAX_VALUES_PER_LINE}",
            hint,
        )


def _extra(rec: Recording, text: bool) -> np.ndarray | None:
    """The label (text) or target (number) column read with the signals, if asked."""
    for values in rec.extra.values():
        if (values.dtype == object) == text:
            return values
    return None


def _cut(rec: Recording, where, options: ReshapeOptions, size: int, hop: int, q: int):
    """The lines of one recording and what became of its samples."""
    data = rec.values
    target = _extra(rec, text=False) if options.target else None
    if target is not None:
        data = np.column_stack([data, target])
    mask = _matches(_extra(rec, text=True), where[1]) if where else np.ones(rec.samples, dtype=bool)
    kept = int(mask.sum())
    rows: list[np.ndarray] = []
    used = short = lines = covered = 0
    runs = runs_of(mask)
    for start, stop in runs:
        run = decimate_run(data[start:stop], q)
        if options.layout == "multisensor":
            if len(run):
                rows.append(run)
                used += 1
                lines += len(run)
                covered += len(run)
            continue
        windows = cut_buffers(run, size, hop)
        if not len(windows):
            short += 1
            continue
        used += 1
        lines += len(windows)
        covered += (len(windows) - 1) * min(hop, size) + size if hop <= size else len(windows) * size
        if target is not None:
            rows.append(np.column_stack([windows[:, :, -1].mean(axis=1), windows[:, :, :-1].reshape(len(windows), -1)]))
        else:
            rows.append(windows.reshape(len(windows), -1))
    summary = InputSummary(str(rec.path), rec.samples, kept, used, short, lines, max(0, kept - covered * q),
                           max((stop - start for start, stop in runs), default=0))
    return (np.vstack(rows) if rows else np.empty((0, 0))), summary


def _write(out: Path, lines: np.ndarray) -> None:
    buffer = io.StringIO()
    np.savetxt(buffer, lines, fmt=VALUE_FORMAT, delimiter=" ", newline="\n")
    atomic_write_bytes(out, buffer.getvalue().encode("ascii"))


def describe(result: ReshapeResult) -> list[str]:
    """The report, a few lines of text (CLI and TUI)."""
    what = (f"{result.lines} lines × {result.values_per_line} values "
            + (f"({result.axes} {'axis' if result.axes == 1 else 'axes'} × {result.buffer} samples" + (", target first" if result.target else "") + ")"
               if result.layout == "buffers" else f"(one sample of {result.axes} variable(s) per line)"))
    out = [f"wrote {result.out}: {what}"]
    out.append(f"  columns: {', '.join(result.columns)}"
               + (f"; left out: {', '.join(result.dropped)}" if result.dropped else ""))
    details = []
    if result.layout == "buffers":
        overlap = result.buffer - result.hop if result.buffer and result.hop and result.hop < result.buffer else 0
        details.append(f"hop {result.hop}" + (f" ({overlap} samples overlap)" if overlap else " (no overlap)"))
    if result.decimation > 1:
        details.append(f"decimated by {result.decimation}")
    if result.rate_hz:
        details.append(f"{result.rate_hz:g} Hz")
        if result.buffer_seconds:
            details.append(f"{result.buffer_seconds * 1000:.4g} ms per buffer")
    if result.where:
        details.append(f"rows where {result.where}")
    if details:
        out.append("  " + ", ".join(details))
    runs = sum(s.runs for s in result.inputs)
    unused = sum(s.unused for s in result.inputs)
    if result.layout == "buffers":
        out.append(f"  {len(result.inputs)} file(s), {runs} run(s) cut separately (no buffer spans two); "
                   f"{unused} sample(s) in no line (run tails" + (", filter edges)" if result.decimation > 1 else ")"))
    else:
        out.append(f"  {len(result.inputs)} file(s), {runs} run(s) written one after the other"
                   + (f"; {unused} sample(s) left out (filter edges)" if unused else ""))
    return out


__all__ += ["describe", "InputSummary", "runs_of", "column_name"]
