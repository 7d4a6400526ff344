"""Data manipulation on signal files (the Studio's "data manipulation" on project files).

Where ``reshape.py`` turns recordings (one sample per line) into a signal file,
these actions work on signal files themselves (one buffer per line, SPEC §1):

``extract``         keep some lines: ranges (``1-100,250-``), every k-th line, N
                    random lines (seeded; file order is kept)
``shuffle``         the same lines in a seeded random order
``recut``           change the buffer size (the values per line), axis-aware: each
                    line's samples are cut again into buffers of N samples per axis,
                    starting every H samples (H < N overlaps). ``continuous`` treats
                    the lines as consecutive stretches of one recording, so buffers may
                    span lines (needed to make longer buffers; a file whose lines overlap
                    is put back together first, each run of overlapping lines on its own)
``remove-columns``  drop value columns (1-based ranges) or whole axes
``concat``          several files with the same values per line, one after the other
``preview``         what a file holds: lines, shape, per-axis statistics, a few lines

Every input goes through the strict signal reader (``signals.read_signals``), so a
bad value is reported with its file, line and column, and nothing is guessed. Every
action that writes does so to a new file, atomically: never over an input, never
over an existing file without ``force``. Values are written back exactly as read
(shortest text that reads back to the same number), single spaces, LF, no header.
"""
from __future__ import annotations

import io
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import InputError, Problem, UsageError
from ..overlap import line_hop, segments
from ..signals import LAYOUTS, MAX_VALUES_PER_LINE, SignalData, read_signals
from ..storage import atomic_write_bytes
from .reshape import check_output, cut_buffers, line_count_warnings

__all__ = ["ACTIONS", "DataResult", "Preview", "extract", "shuffle", "recut", "remove_columns", "concat",
           "preview", "parse_ranges", "describe", "describe_preview", "run_action"]

ACTIONS = ("extract", "shuffle", "recut", "remove-columns", "concat", "preview")
ACTION_TITLES = {
    "extract": "Extract lines",
    "shuffle": "Shuffle lines",
    "recut": "Re-cut buffers",
    "remove-columns": "Remove columns or axes",
    "concat": "Concatenate files",
    "preview": "Preview",
}
PREVIEW_LINES = 5


@dataclass
class DataResult:
    """What an action wrote."""

    action: str
    out: Path
    inputs: list[str]
    lines: int
    values_per_line: int
    axes: int
    layout: str  # of the output
    input_lines: int
    details: dict = field(default_factory=dict)  # the action's own figures (kept lines, seed, hop…)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def buffer(self) -> int | None:
        if self.layout == "multisensor":
            return None
        signal = self.values_per_line - (1 if self.layout == "target-first" else 0)
        return signal // self.axes if self.axes else None

    def to_json(self) -> dict:
        doc = asdict(self)
        doc["out"] = str(self.out)
        doc["buffer"] = self.buffer
        doc["warnings"] = [_problem_json(p) for p in self.warnings]
        return doc


@dataclass
class Preview:
    path: Path
    sep: str
    lines: int
    values_per_line: int
    axes: int
    layout: str
    buffer: int | None
    axis_stats: list[dict]  # per axis: min, max, mean, std
    target_stats: dict | None
    first_lines: list[list[float]]
    line_numbers: list[int]
    hop: int | None  # samples between consecutive lines' starts when they overlap
    warnings: list[Problem] = field(default_factory=list)

    def to_json(self) -> dict:
        doc = asdict(self)
        doc["path"] = str(self.path)
        doc["warnings"] = [_problem_json(p) for p in self.warnings]
        return doc


def _problem_json(p: Problem) -> dict:
    return {"code": p.code, "file": p.file, "line": p.line, "message": p.message, "hint": p.hint}


# -- reading and writing ----------------------------------------------------------------------


def _read(path: Path | str, axes: int, sep: str, layout: str) -> SignalData:
    if layout not in LAYOUTS:
        raise UsageError(f"unknown layout {layout!r}", f"Use one of: {', '.join(LAYOUTS)}.")
    path = Path(path).expanduser()
    return read_signals(path, axes=axes, sep=sep, layout=layout)


def _number_text(value: float) -> str:
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def format_lines(values: np.ndarray) -> bytes:
    """Lines of values, single spaces: each value the shortest text that reads back to it."""
    if not len(values):
        return b""
    buffer = io.StringIO()
    if np.all(np.abs(values) < 2 ** 53) and np.array_equal(values, np.round(values)):
        np.savetxt(buffer, values, fmt="%d", delimiter=" ", newline="\n")
    else:
        for row in values.tolist():
            buffer.write(" ".join(map(_number_text, row)))
            buffer.write("\n")
    return buffer.getvalue().encode("ascii")


def _write(out: Path, values: np.ndarray) -> None:
    atomic_write_bytes(out, format_lines(values))


def _prepare_out(out: Path | str, inputs: Sequence[Path | str], force: bool) -> Path:
    out = Path(out).expanduser()
    check_output(out, [Path(p).expanduser() for p in inputs], force)
    return out


def _output_warnings(out: Path, values: np.ndarray, axes: int, layout: str) -> list[Problem]:
    return line_count_warnings(out, len(values), 0 if layout == "multisensor" else axes,
                               "keep more lines, or collect more signals",
                               "extract fewer lines (every k-th, or N random ones) before importing")


def _check_values_per_line(n: int, hint: str) -> None:
    if n > MAX_VALUES_PER_LINE:
        raise UsageError(f"{n} values per line; the Studio's limit is {MAX_VALUES_PER_LINE}", hint)
    if n < 1:
        raise UsageError("no value would be left on a line", hint)


# -- extract and shuffle ----------------------------------------------------------------------


def parse_ranges(text: str | None, n: int, what: str = "line") -> np.ndarray:
    """'1-100,250-,7' -> 0-based indices (sorted, unique) among n; 1-based and inclusive."""
    if text is None or not str(text).strip():
        return np.arange(n)
    chosen = np.zeros(n, dtype=bool)
    for part in str(text).replace(" ", "").split(","):
        if not part:
            continue
        match = re.fullmatch(r"(\d*)(-?)(\d*)", part.replace("..", "-").replace(":", "-"))
        if not match or not (match.group(1) or match.group(3)):
            raise UsageError(f"'{part}' is not a {what} range",
                             f"Write {what} numbers and ranges separated by commas, e.g. 1-100,250- or 3,5,9 "
                             "(1-based, ends included).")
        first_text, dash, last_text = match.groups()
        first = int(first_text) if first_text else 1
        last = int(last_text) if last_text else (n if dash else first)
        if first < 1 or first > last:
            raise UsageError(f"{what} range {part} is empty", f"The first {what} must be 1 or more and not after the last.")
        if first > n:
            raise UsageError(f"{what} {first} is past the end ({n} {what}s)", f"Use {what}s within 1-{n}.")
        chosen[first - 1: min(last, n)] = True
    return np.flatnonzero(chosen)


def extract(
    path: Path | str, out: Path | str, *, lines: str | None = None, every: int | None = None, start: int = 1,
    random: int | None = None, seed: int = 0, axes: int = 1, sep: str = "auto", layout: str = "buffers",
    force: bool = False,
) -> DataResult:
    """Keep the lines in `lines` (ranges), then every `every`-th of them from the `start`-th, then
    `random` of those drawn with `seed` (in file order)."""
    for name, value in (("--every", every), ("--random", random), ("--start", start)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise UsageError(f"{name} must be a whole number of 1 or more, not {value!r}",
                             "e.g. --every 4 keeps one line in 4; --random 100 keeps 100 lines.")
    if lines is None and every is None and random is None:
        raise UsageError("say which lines to keep",
                         "Give --lines RANGES (e.g. 1-100,250-), --every K or --random N (with --seed S); "
                         "they combine in that order.")
    out = _prepare_out(out, [path], force)
    data = _read(path, axes, sep, layout)
    index = parse_ranges(lines, data.n_lines)
    if every is not None:
        if start > len(index):
            raise UsageError(f"--start {start} is past the {len(index)} line(s) selected", "Use a smaller --start.")
        index = index[start - 1:: every]
    if random is not None:
        if random > len(index):
            raise UsageError(f"--random {random}: only {len(index)} line(s) to draw from",
                             f"Ask for {len(index)} or fewer.")
        rng = np.random.default_rng(seed)
        index = np.sort(rng.choice(index, size=random, replace=False))
    if not len(index):
        raise UsageError("no line is left", "Choose a wider range or a smaller --every.")
    values = data.values[index]
    _write(out, values)
    details = {"kept_lines": [int(i) + 1 for i in index[:1000]], "lines": lines, "every": every, "start": start,
               "random": random, "seed": seed if random is not None else None}
    return DataResult("extract", out, [str(data.path)], len(values), values.shape[1], axes, layout, data.n_lines,
                      details, _output_warnings(out, values, axes, layout))


def shuffle(path: Path | str, out: Path | str, *, seed: int = 0, axes: int = 1, sep: str = "auto",
            layout: str = "buffers", force: bool = False) -> DataResult:
    """The same lines in a random order drawn with `seed` (the same seed, the same order)."""
    out = _prepare_out(out, [path], force)
    data = _read(path, axes, sep, layout)
    if layout == "multisensor":
        raise UsageError("a Multi-sensor file's lines are consecutive samples: shuffling them destroys the signal",
                         "Shuffle buffer files only (one signal example per line).")
    order = np.random.default_rng(seed).permutation(data.n_lines)
    values = data.values[order]
    _write(out, values)
    details = {"seed": seed, "order": [int(i) + 1 for i in order[:1000]]}
    return DataResult("shuffle", out, [str(data.path)], len(values), values.shape[1], axes, layout, data.n_lines,
                      details, _output_warnings(out, values, axes, layout))


# -- recut ---------------------------------------------------------------------------------------


def _runs(data: SignalData, axes: int, layout: str, continuous: bool) -> tuple[list[np.ndarray], int | None]:
    """The stretches of consecutive samples (samples × axes) to cut buffers from, and the hop
    found between overlapping lines (None if they do not overlap)."""
    signal = data.buffers
    if layout == "multisensor":
        return [signal], None  # a line is one sample: the file is one recording
    n = data.n_lines
    samples = signal.reshape(n, -1, axes)
    if not continuous:
        return list(samples), None
    hop = line_hop(signal, axes)
    if hop is None:
        return [samples.reshape(-1, axes)], None
    runs = []
    seg = segments(signal, axes, hop)
    for k in np.unique(seg):
        member = samples[seg == k]
        runs.append(np.concatenate([member[0], member[1:, -hop:].reshape(-1, axes)]) if len(member) > 1
                    else member[0])
    return runs, hop


def recut(
    path: Path | str, out: Path | str, *, buffer: int, hop: int | None = None, continuous: bool = False,
    axes: int = 1, sep: str = "auto", layout: str = "buffers", force: bool = False,
) -> DataResult:
    """Cut the samples again into buffers of `buffer` samples per axis, every `hop` samples.

    Without `continuous`, each line is cut on its own (no buffer spans two lines): 1 × 4096 gives
    4 × 1024, or 7 × 1024 with a hop of 512. With it, the lines are one recording (a Multi-sensor
    file always is) and buffers may span lines. Target-first lines keep their target on each piece.
    """
    for name, value in (("the buffer size", buffer), ("the hop", hop)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise UsageError(f"{name} must be a whole number of 1 or more, not {value!r}",
                             "--buffer N samples per axis in a new line; --hop H samples between starts.")
    hop = hop or buffer
    if continuous and layout == "target-first":
        raise UsageError("--continuous joins lines, and each extrapolation line has its own target",
                         "Re-cut each line on its own (drop --continuous): every piece keeps its line's target.")
    target_values = 1 if layout == "target-first" else 0
    _check_values_per_line(axes * buffer + target_values, f"Use --buffer {(MAX_VALUES_PER_LINE - target_values) // axes} "
                                                         "or less.")
    out = _prepare_out(out, [path], force)
    data = _read(path, axes, sep, layout)
    runs, found_hop = _runs(data, axes, layout, continuous or layout == "multisensor")
    old = None if layout == "multisensor" else data.buffers.shape[1] // axes
    if not continuous and old is not None and buffer > old:
        raise UsageError(
            f"a buffer of {buffer} samples does not fit in a line of {old} samples per axis",
            "Add --continuous if the lines follow each other in time (buffers may then span lines), "
            f"or choose --buffer {old} or less.")
    pieces: list[np.ndarray] = []
    unused = 0
    for i, run in enumerate(runs):
        windows = cut_buffers(run, buffer, hop)
        used = (len(windows) - 1) * hop + buffer if len(windows) else 0
        unused += max(0, len(run) - used) if hop <= buffer else len(run) - len(windows) * buffer
        if not len(windows):
            continue
        flat = windows.reshape(len(windows), -1)
        if target_values:
            flat = np.column_stack([np.full(len(windows), data.values[i, 0]), flat])
        pieces.append(flat)
    if not pieces:
        longest = max((len(r) for r in runs), default=0)
        raise InputError(f"{data.path}: no buffer of {buffer} samples fits: the longest stretch has {longest}",
                         "Use a smaller --buffer" + ("" if continuous else ", or --continuous") + ".")
    values = np.vstack(pieces)
    warnings = _output_warnings(out, values, axes, "buffers" if layout == "multisensor" else layout)
    if buffer & (buffer - 1):
        lower = 1 << (buffer.bit_length() - 1)
        warnings.append(Problem("warning", "not-power-of-two", str(out), 0, 0,
                                f"the buffer size ({buffer} samples per axis) is not a power of two",
                                f"FFT-based preprocessing needs one: use {lower} or {lower * 2}"))
    if target_values and len(values) > data.n_lines:
        warnings.append(Problem("warning", "target-copied", str(out), 0, 0,
                                "each piece keeps the target of the line it was cut from",
                                "check that the target holds over a shorter buffer (a mean over the line may not)"))
    _write(out, values)
    details = {"old_buffer": old, "buffer": buffer, "hop": hop, "overlap": max(0, buffer - hop),
               "continuous": bool(continuous or layout == "multisensor"), "runs": len(runs),
               "line_hop": found_hop, "unused_samples": int(unused)}
    out_layout = "buffers" if layout == "multisensor" else layout
    return DataResult("recut", out, [str(data.path)], len(values), values.shape[1], axes, out_layout, data.n_lines,
                      details, warnings)


# -- remove columns ------------------------------------------------------------------------------


def remove_columns(
    path: Path | str, out: Path | str, *, columns: str | None = None, remove_axes: str | None = None,
    axes: int = 1, sep: str = "auto", layout: str = "buffers", force: bool = False,
) -> DataResult:
    """Drop value columns (1-based ranges, as on the line; a target-first line's target is column 1)
    or whole axes (1-based: with 3 axes, '2' keeps x and z of every sample)."""
    if (columns is None) == (remove_axes is None):
        raise UsageError("give either --columns or --remove-axes",
                         "--columns 1-10,20 drops value columns; --remove-axes 2 drops the 2nd axis of every sample.")
    out = _prepare_out(out, [path], force)
    data = _read(path, axes, sep, layout)
    n_values = data.values_per_line
    keep = np.ones(n_values, dtype=bool)
    new_axes = axes
    if columns is not None:
        keep[parse_ranges(columns, n_values, "column")] = False
        if layout == "buffers" and axes > 1 and keep.sum() % axes:
            raise UsageError(f"{int(keep.sum())} values per line would be left, not a multiple of the {axes} axes",
                             "Drop whole samples (a multiple of the axes), or remove axes with --remove-axes.")
        if layout == "target-first" and not keep[0]:
            raise UsageError("column 1 is the target of an extrapolation line",
                             "Keep it: remove signal columns only (2 and up).")
    else:
        dropped = parse_ranges(remove_axes, axes, "axis")
        new_axes = axes - len(dropped)
        if new_axes < 1:
            raise UsageError("every axis would be removed", "Keep at least one axis.")
        offset = 1 if layout == "target-first" else 0
        axis_of = (np.arange(n_values) - offset) % axes
        for a in dropped:
            keep[offset:] &= axis_of[offset:] != a
    _check_values_per_line(int(keep.sum()), "Keep at least one value per line.")
    values = data.values[:, keep]
    _write(out, values)
    details = {"columns": columns, "removed_axes": remove_axes, "removed_values": int((~keep).sum()),
               "old_values_per_line": n_values, "old_axes": axes}
    return DataResult("remove-columns", out, [str(data.path)], len(values), values.shape[1], new_axes, layout,
                      data.n_lines, details, _output_warnings(out, values, new_axes, layout))


# -- concat ---------------------------------------------------------------------------------------


def concat(paths: Sequence[Path | str], out: Path | str, *, axes: int = 1, sep: str = "auto",
           layout: str = "buffers", force: bool = False) -> DataResult:
    """The files' lines one after the other; every file must have the same values per line."""
    if len(paths) < 2:
        raise UsageError("concatenating needs two files or more", "Give every file to join, in order.")
    out = _prepare_out(out, paths, force)
    parts = []
    first = None
    for p in paths:
        data = _read(p, axes, sep, layout)
        if first is not None and data.values_per_line != first.values_per_line:
            raise InputError(
                f"{data.path}: lines hold {data.values_per_line} values, {first.path} {first.values_per_line}",
                "Every file must have the same values per line: re-cut (or remove columns from) one of them first.")
        first = first or data
        parts.append(data)
    values = np.vstack([d.values for d in parts])
    _write(out, values)
    details = {"lines_per_input": [d.n_lines for d in parts]}
    return DataResult("concat", out, [str(d.path) for d in parts], len(values), values.shape[1], axes, layout,
                      sum(d.n_lines for d in parts), details, _output_warnings(out, values, axes, layout))


# -- preview --------------------------------------------------------------------------------------


def _stats(column: np.ndarray) -> dict:
    return {"min": float(column.min()), "max": float(column.max()), "mean": float(column.mean()),
            "std": float(column.std())}


def preview(path: Path | str, *, axes: int = 1, sep: str = "auto", layout: str = "buffers",
            lines: int = PREVIEW_LINES) -> Preview:
    """What a signal file holds, read with the strict reader (nothing is written)."""
    data = _read(path, axes, sep, layout)
    signal = data.buffers
    if layout == "multisensor":
        per_axis = signal
        buffer = None
        hop = None
    else:
        per_axis = signal.reshape(-1, axes)
        buffer = signal.shape[1] // axes
        hop = line_hop(signal, axes)
    stats = [_stats(per_axis[:, a]) for a in range(axes)]
    target = _stats(data.values[:, 0]) if layout == "target-first" else None
    shown = max(0, int(lines))
    return Preview(data.path, data.sep, data.n_lines, data.values_per_line, axes, layout, buffer, stats, target,
                   data.values[:shown].tolist(), [int(n) for n in data.line_numbers[:shown]], hop,
                   [p for p in data.problems if p.severity != "error"])


# -- one entry point and the report -----------------------------------------------------------------


def run_action(action: str, inputs: Sequence[Path | str], out: Path | str | None, options: dict,
               *, force: bool = False) -> DataResult | Preview:
    """Run one action by name (CLI and TUI). `options` holds the action's keywords plus the shared
    ones (axes, sep, layout)."""
    if action not in ACTIONS:
        raise UsageError(f"unknown action '{action}'", f"Use one of: {', '.join(ACTIONS)}.")
    inputs = list(inputs)
    if not inputs:
        raise UsageError("no input file given", "Give the signal file to work on.")
    common = {k: options[k] for k in ("axes", "sep", "layout") if options.get(k) is not None}
    if action == "preview":
        if len(inputs) != 1:
            raise UsageError("preview takes one file", "Give one signal file.")
        return preview(inputs[0], lines=options.get("lines") or PREVIEW_LINES, **common)
    if out is None or not str(out).strip():
        raise UsageError("no output file given", "Give --out FILE: a new file (the input is never modified).")
    if action == "concat":
        return concat(inputs, out, force=force, **common)
    if len(inputs) != 1:
        raise UsageError(f"{action} takes one file", "Use concat to join several files first.")
    own = {k: v for k, v in options.items() if k not in ("axes", "sep", "layout", "lines_shown") and v is not None}
    functions = {"extract": extract, "shuffle": shuffle, "recut": recut, "remove-columns": remove_columns}
    allowed = {
        "extract": ("lines", "every", "start", "random", "seed"),
        "shuffle": ("seed",),
        "recut": ("buffer", "hop", "continuous"),
        "remove-columns": ("columns", "remove_axes"),
    }[action]
    stray = [k for k in own if k not in allowed and own[k] is not False]
    if stray:
        raise UsageError(f"{action} does not take {', '.join('--' + k.replace('_', '-') for k in stray)}",
                         f"Run `neai data {action} --help` for its options.")
    kwargs = {k: own[k] for k in allowed if k in own}
    if action == "recut" and "buffer" not in kwargs:
        raise UsageError("the new buffer size is missing", "Give --buffer N, the samples per axis in a new line.")
    return functions[action](inputs[0], out, force=force, **kwargs, **common)


def shape_text(layout: str, values: int, axes: int) -> str:
    if layout == "multisensor":
        return f"one sample of {axes} variable(s) per line"
    signal = values - (1 if layout == "target-first" else 0)
    what = f"{axes} {'axis' if axes == 1 else 'axes'} × {signal // axes} samples"
    return what + (", target first" if layout == "target-first" else "")


def describe(result: DataResult) -> list[str]:
    """The report of an action that wrote a file (CLI and TUI)."""
    d = result.details
    out = [f"wrote {result.out}: {result.lines} lines × {result.values_per_line} values "
           f"({shape_text(result.layout, result.values_per_line, result.axes)})"]
    if result.action == "extract":
        how = []
        if d.get("lines"):
            how.append(f"lines {d['lines']}")
        if d.get("every"):
            how.append(f"every {d['every']}{_ordinal(d['every'])} line from line {d.get('start', 1)}")
        if d.get("random"):
            how.append(f"{d['random']} random lines (seed {d['seed']}, file order kept)")
        out.append(f"  kept {result.lines} of {result.input_lines} lines: {'; then '.join(how)}")
    elif result.action == "shuffle":
        out.append(f"  {result.input_lines} lines in a random order (seed {d['seed']}; the same seed gives the same order)")
    elif result.action == "recut":
        old = f"{d['old_buffer']} samples per axis" if d.get("old_buffer") else "one sample per line"
        overlap = f", {d['overlap']} samples overlap" if d.get("overlap") else ", no overlap"
        out.append(f"  {result.input_lines} lines of {old} -> {result.lines} buffers of {d['buffer']} "
                   f"(hop {d['hop']}{overlap})")
        if d.get("continuous"):
            joined = (f"overlapping lines (hop {d['line_hop']}) put back together, {d['runs']} run(s)"
                      if d.get("line_hop") else "the lines taken as one recording")
            out.append(f"  {joined}; buffers may span lines")
        else:
            out.append("  each line cut on its own: no buffer spans two lines")
        if d.get("unused_samples"):
            out.append(f"  {d['unused_samples']} sample(s) per axis in no buffer (the tails)")
    elif result.action == "remove-columns":
        what = f"axes {d['removed_axes']}" if d.get("removed_axes") else f"columns {d['columns']}"
        out.append(f"  removed {what}: {d['old_values_per_line']} -> {result.values_per_line} values per line"
                   + (f", {d['old_axes']} -> {result.axes} axes" if d['old_axes'] != result.axes else ""))
    elif result.action == "concat":
        parts = ", ".join(f"{Path(p).name} ({n})" for p, n in zip(result.inputs, d["lines_per_input"]))
        out.append(f"  joined in this order: {parts}")
    out.append("  the input is unchanged")
    return out


def _ordinal(n: int) -> str:
    return "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def describe_preview(p: Preview, width: int = 8) -> list[str]:
    out = [f"{p.path}: {p.lines} lines × {p.values_per_line} values ({shape_text(p.layout, p.values_per_line, p.axes)}),"
           f" {'space' if p.sep == ' ' else repr(p.sep)} separated"]
    if p.hop:
        out.append(f"  consecutive lines overlap: each starts {p.hop} samples after the previous one")
    if p.target_stats:
        t = p.target_stats
        out.append(f"  target: min {t['min']:.6g}, max {t['max']:.6g}, mean {t['mean']:.6g}")
    for a, s in enumerate(p.axis_stats, start=1):
        out.append(f"  axis {a}: min {s['min']:.6g}, max {s['max']:.6g}, mean {s['mean']:.6g}, std {s['std']:.6g}")
    for number, row in zip(p.line_numbers, p.first_lines):
        shown = " ".join(_number_text(float(v)) for v in row[:width])
        out.append(f"  line {number}: {shown}" + (f" … ({len(row)} values)" if len(row) > width else ""))
    return out
