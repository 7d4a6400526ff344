"""Do a file's lines share samples with their neighbours?

Signal files are often cut from continuous recordings with overlap: each line
is a window that starts `hop` samples after the previous one, so consecutive
lines repeat `buffer - hop` samples. Judging a model on random splits of such
lines tests it on near-copies of what it was fitted on, and every candidate
looks perfect. `line_hop` finds the hop from the values themselves (exact
equality, as the samples come from the same text), so the benchmark can hold
out contiguous blocks instead, with a gap of the lines that share samples with
the block (see tasks/trained_common.make_splits).
"""
from __future__ import annotations

import numpy as np

PAIRS_CHECKED = 24  # consecutive pairs looked at, spread over the file
AGREEING_SHARE = 0.75  # share of those pairs that must overlap by the same hop


def pair_hop(a: np.ndarray, b: np.ndarray) -> int | None:
    """The smallest hop s (1 ≤ s < samples) with a[s:] == b[:-s] sample for
    sample (a, b: samples × axes), or None when b does not continue a."""
    n = len(a)
    starts = np.flatnonzero((a == b[0]).all(axis=1))
    for s in starts[starts > 0]:
        if np.array_equal(a[s:], b[: n - s]):
            return int(s)
    return None


def line_hop(lines: np.ndarray, axes: int) -> int | None:
    """The hop between consecutive lines of one file (lines × axes·buffer,
    interleaved) when most of them overlap by the same number of samples,
    else None. Constant lines are no evidence either way and are skipped."""
    n = len(lines)
    if n < 2 or lines.shape[1] % axes:
        return None
    samples = lines.reshape(n, -1, axes)
    firsts = np.unique(np.linspace(0, n - 2, min(PAIRS_CHECKED, n - 1)).astype(int))
    hops = []
    for i in firsts:
        a, b = samples[i], samples[i + 1]
        if np.ptp(a) == 0 and np.ptp(b) == 0:
            continue
        hops.append(pair_hop(a, b))
    if not hops:
        return None
    values, counts = np.unique([h if h is not None else 0 for h in hops], return_counts=True)
    best = int(values[np.argmax(counts)])
    if best == 0 or counts.max() < AGREEING_SHARE * len(hops):
        return None
    return best


def segments(lines: np.ndarray, axes: int, hop: int | None) -> np.ndarray:
    """Per line, the number of the continuous run it belongs to: consecutive
    lines that overlap by `hop` samples share a run, a line that does not
    continue the previous one starts a new run (e.g. the next recording of a
    file concatenating several). All zeros without a hop."""
    n = len(lines)
    if not hop or n < 2:
        return np.zeros(n, dtype=np.int64)
    samples = lines.reshape(n, -1, axes)
    cont = (samples[:-1, hop:] == samples[1:, :-hop]).reshape(n - 1, -1).all(axis=1)
    return np.concatenate([[0], np.cumsum(~cont)]).astype(np.int64)


def shared_neighbours(hop: int | None, samples: int) -> int:
    """How many lines on each side of a line share samples with it."""
    if not hop:
        return 0
    return -(-samples // hop) - 1


def file_runs(files: list[np.ndarray], axes: int, buffer_size: int) -> tuple[int, np.ndarray]:
    """(the largest number of neighbours sharing samples with a line over the
    files, the continuous run of every line, numbered across the files)."""
    gap, runs, first = 0, [], 0
    for values in files:
        hop = line_hop(values, axes)
        gap = max(gap, shared_neighbours(hop, buffer_size))
        r = segments(values, axes, hop) + first
        runs.append(r)
        first = int(r.max()) + 1 if len(r) else first
    return gap, (np.concatenate(runs) if runs else np.zeros(0, dtype=np.int64))
