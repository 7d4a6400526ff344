"""Sampling finder: which sampling rate and buffer size should a project use?

Input: continuous recordings at a known rate, one *state* each (a machine state,
a class: a file, or a folder of files, or the values of a label column). Every
candidate is a decimation ``d`` (rate = base / d, d = 1, 2, 4, …, with the same
anti-alias filter as ``reshape --decimate``) and a buffer of ``2^k`` samples.

What is measured, per candidate:

* **energy kept**: the share of the signal's power (variance) that survives the
  anti-alias filter at that rate, for the worst axis of the worst state. What is
  lost is what a device sampling at that rate without a filter would alias.
* **resolution** (rate / buffer) and **duration** of a buffer.
* with two states or more, **separability**: the cross-validated balanced accuracy
  of a linear discriminant (scikit-learn, standardised, shrinkage) on simple
  features of non-overlapping buffers: per axis the mean, log standard deviation
  and log energies of the FFT in up to 16 equal bands. Folds hold out contiguous
  blocks of time (``StratifiedGroupKFold``), never a neighbour of a training
  buffer, so a state must be recognised in stretches it was not fitted on.

The recommendation, with several states: among the candidates within
``tolerance`` of the best accuracy that keep at least ``min_energy`` of the
power, the smallest buffer, then the lowest rate (less RAM, less CPU per
second). With one state: the lowest rate keeping ``min_energy``, and the smallest
buffer holding ``MIN_PERIODS`` periods of the main frequency (the strongest peak
of the spectrum).
"""
from __future__ import annotations

import math
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..errors import Cancelled, InputError, UsageError
from ..signals import MAX_VALUES_PER_LINE
from .recordings import expand_inputs, read_recording
from .reshape import _matches, decimate_run, parse_where, runs_of

__all__ = ["State", "Candidate", "SamplingReport", "load_states", "find_sampling", "describe"]

MIN_PERIODS = 8  # periods of the main frequency a buffer should hold (resolution = main / 8)
MIN_BUFFERS_PER_STATE = 10  # fewer and a cross-validated accuracy means little
MAX_BUFFERS_PER_STATE = 400  # a seeded subsample beyond this keeps the finder fast
MAX_BANDS = 16
BLOCKS_PER_RUN = 5
FOLDS = 5


@dataclass
class State:
    name: str
    runs: list[np.ndarray]  # each (samples, axes) at the base rate, contiguous in time
    sources: list[str] = field(default_factory=list)

    @property
    def samples(self) -> int:
        return sum(len(r) for r in self.runs)


@dataclass
class Candidate:
    decimation: int
    rate_hz: float
    buffer: int
    duration_s: float
    resolution_hz: float
    energy_kept: float  # worst axis of the worst state, 0..1
    buffers_per_state: int  # fewest non-overlapping buffers a state gives
    ram_bytes: int  # one float buffer of every axis
    accuracy: float | None = None  # cross-validated balanced accuracy (several states)
    accuracy_std: float | None = None
    folds: int = 0
    note: str = ""  # why it was not evaluated, or what to know


@dataclass
class SamplingReport:
    base_rate_hz: float
    axes: int
    states: list[dict]  # name, samples, runs, sources
    mode: str  # "separability" (several states) or "spectrum" (one)
    main_frequency_hz: float | None
    candidates: list[Candidate]  # ranked, best first
    recommended: Candidate | None
    reason: str
    tolerance: float
    min_energy: float
    seed: int

    def to_json(self) -> dict:
        doc = asdict(self)
        doc["recommended"] = asdict(self.recommended) if self.recommended else None
        return doc


# -- inputs ----------------------------------------------------------------------------------


def load_states(
    items: Sequence[str | Path],
    *,
    columns=None,
    sep: str = "auto",
    header: str = "auto",
    state_column: str | None = None,
) -> list[State]:
    """States from the command line's inputs.

    Without ``state_column`` each item is one state: ``PATH`` (a file, a folder of
    recordings or a glob; the state is named after it) or ``NAME=PATH``. With it,
    the items are recordings whose rows are grouped by that column's values (each
    stretch of equal values is one run of the state ``COLUMN=VALUE``).
    """
    if not items:
        raise UsageError("no recording given", "Give one recording (file or folder) per machine state.")
    states: list[State] = []
    if state_column is not None:
        by_value: dict[str, State] = {}
        for path in expand_inputs(items):
            rec = read_recording(path, columns=columns, sep=sep, header=header, text_extra=[state_column])
            labels = next(iter(rec.extra.values()))
            for value in dict.fromkeys(str(v).strip() for v in labels):
                mask = _matches(labels, value)
                key = _canonical(value)
                state = by_value.setdefault(key, State(f"{state_column}={key}", []))
                state.runs.extend(rec.values[a:b] for a, b in runs_of(mask))
                if str(path) not in state.sources:
                    state.sources.append(str(path))
        states = [by_value[k] for k in sorted(by_value)]
    else:
        seen: set[str] = set()
        for item in items:
            name, target = _named(str(item))
            paths = expand_inputs([target])
            state = State(name, [], [str(p) for p in paths])
            for path in paths:
                rec = read_recording(path, columns=columns, sep=sep, header=header)
                state.runs.append(rec.values)
            if state.name in seen:
                raise UsageError(f"two states are named '{state.name}'", "Name them: NAME=PATH.")
            seen.add(state.name)
            states.append(state)
    axes = {r.shape[1] for s in states for r in s.runs}
    if len(axes) > 1:
        raise InputError(
            f"the recordings do not have the same number of signal columns ({', '.join(map(str, sorted(axes)))})",
            "Choose the same columns in every file with --columns.",
        )
    return states


def _canonical(value: str) -> str:
    try:
        number = float(value)
    except ValueError:
        return value
    return f"{number:g}"


def _named(item: str) -> tuple[str, str]:
    if "=" in item and not Path(item).expanduser().exists():
        name, _, path = item.partition("=")
        if name.strip() and path.strip():
            return name.strip(), path.strip()
    path = Path(item.rstrip("/\\")).expanduser()
    return (path.stem if path.suffix else path.name) or item, item


# -- measures --------------------------------------------------------------------------------


def _energy_kept(original: np.ndarray, decimated: np.ndarray) -> np.ndarray:
    """Per axis: variance after the filter / variance before (1 when the axis is flat)."""
    before = original.var(axis=0)
    after = decimated.var(axis=0) if len(decimated) > 1 else np.zeros_like(before)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(before > 0, after / np.where(before > 0, before, 1.0), 1.0)
    return np.clip(share, 0.0, 1.0)


def main_frequency(states: Sequence[State], rate_hz: float) -> float | None:
    """The strongest spectral peak (DC excluded), every axis weighing the same."""
    from scipy.signal import welch

    total = None
    freqs = None
    for state in states:
        for run in state.runs:
            if len(run) < 16:
                continue
            f, p = welch(run, fs=rate_hz, nperseg=min(1024, len(run)), axis=0)
            norm = p / np.where(p.sum(axis=0) > 0, p.sum(axis=0), 1.0)
            spectrum = norm.sum(axis=1)
            if total is None or len(spectrum) != len(total):
                if total is not None and len(spectrum) < len(total):
                    continue
                total, freqs = spectrum.copy(), f
            else:
                total += spectrum
    if total is None or len(total) < 3 or not total[1:].any():
        return None
    return float(freqs[1 + int(np.argmax(total[1:]))])


def buffer_features(windows: np.ndarray) -> np.ndarray:
    """(n, size, axes) -> (n, features): per axis the mean, log std, log FFT band energies."""
    n, size, axes = windows.shape
    mean = windows.mean(axis=1)
    centred = windows - mean[:, None, :]
    std = centred.std(axis=1)
    spectrum = np.abs(np.fft.rfft(centred * np.hanning(size)[None, :, None], axis=1)) ** 2
    spectrum = spectrum[:, 1:]  # DC is the mean
    bins = spectrum.shape[1]
    bands = min(MAX_BANDS, bins)
    edges = np.linspace(0, bins, bands + 1).astype(int)
    energy = np.add.reduceat(spectrum, edges[:-1], axis=1)  # (n, bands, axes)
    floor = 1e-12 * max(float(spectrum.mean()), 1e-300)
    return np.concatenate([mean, np.log(std + math.sqrt(floor)), np.log(energy + floor).reshape(n, -1)], axis=1)


def _windows(run: np.ndarray, size: int) -> np.ndarray:
    count = len(run) // size
    return run[: count * size].reshape(count, size, run.shape[1])


def _separability(per_state: list[list[np.ndarray]], size: int, seed: int) -> tuple[float, float, int, str]:
    """(balanced accuracy, std over folds, folds, note) of non-overlapping buffers."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.model_selection import StratifiedGroupKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(seed)
    features, labels, groups = [], [], []
    group = 0
    fewest_groups = None
    for label, runs in enumerate(per_state):
        state_feats, state_groups = [], []
        for run in runs:
            windows = _windows(run, size)
            if not len(windows):
                continue
            blocks = min(BLOCKS_PER_RUN, len(windows))
            block = (np.arange(len(windows)) * blocks) // len(windows)
            state_feats.append(buffer_features(windows))
            state_groups.append(group + block)
            group += blocks
        feats = np.vstack(state_feats)
        grp = np.concatenate(state_groups)
        if len(feats) > MAX_BUFFERS_PER_STATE:
            keep = np.sort(rng.choice(len(feats), MAX_BUFFERS_PER_STATE, replace=False))
            feats, grp = feats[keep], grp[keep]
        n_groups = len(np.unique(grp))
        fewest_groups = n_groups if fewest_groups is None else min(fewest_groups, n_groups)
        features.append(feats)
        labels.append(np.full(len(feats), label))
        groups.append(grp)
    folds = min(FOLDS, fewest_groups or 0)
    if folds < 2:
        return float("nan"), float("nan"), 0, "too few stretches of time to cross-validate"
    x = np.vstack(features)
    y = np.concatenate(labels)
    g = np.concatenate(groups)
    model = make_pipeline(StandardScaler(), LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto"))
    cv = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    with np.errstate(all="ignore"):
        scores = cross_val_score(model, x, y, groups=g, cv=cv, scoring="balanced_accuracy")
    return float(np.mean(scores)), float(np.std(scores)), folds, ""


# -- the tool --------------------------------------------------------------------------------


def find_sampling(
    states: Sequence[State],
    rate_hz: float,
    *,
    max_decimation: int = 32,
    min_buffer: int = 16,
    max_buffer: int = 2048,
    tolerance: float = 0.02,
    min_energy: float = 0.95,
    seed: int = 0,
    progress: Callable[[int, int, str], None] | None = None,
    cancel: threading.Event | None = None,
) -> SamplingReport:
    """Measure every (decimation, buffer) candidate and recommend one."""
    if not rate_hz or not rate_hz > 0 or not math.isfinite(rate_hz):
        raise UsageError(f"the sampling rate must be a positive number of Hz, not {rate_hz!r}",
                         "Give the rate the recordings were made at, e.g. --rate 1000.")
    for name, value in (("smallest buffer", min_buffer), ("largest buffer", max_buffer),
                        ("largest decimation", max_decimation)):
        if value < 1 or value & (value - 1):
            raise UsageError(f"the {name} must be a power of two, not {value}", "e.g. 16, 256, 2048.")
    if min_buffer > max_buffer or min_buffer < 4:
        raise UsageError(f"buffer sizes from {min_buffer} to {max_buffer} make no range",
                         "The smallest buffer must be 4 or more and at most the largest.")
    if not 0 <= tolerance < 1 or not 0 < min_energy <= 1:
        raise UsageError("the tolerance must be in [0, 1) and the energy share in (0, 1]",
                         "e.g. --tolerance 0.02 --min-energy 0.95.")
    states = [s for s in states if s.runs]
    if not states:
        raise InputError("no recording holds any sample", "Give non-empty recordings.")
    axes = states[0].runs[0].shape[1]
    several = len(states) > 1
    decimations = [1 << k for k in range(int(math.log2(max_decimation)) + 1)]
    sizes = [1 << k for k in range(int(math.log2(min_buffer)), int(math.log2(max_buffer)) + 1)
             if axes * (1 << k) <= MAX_VALUES_PER_LINE]
    if not sizes:
        raise UsageError(f"{axes} axes leave no buffer size under the Studio's {MAX_VALUES_PER_LINE} values "
                         "per line", "Choose fewer columns.")
    total = len(decimations) * len(sizes)
    done = 0
    candidates: list[Candidate] = []
    for d in decimations:
        if cancel is not None and cancel.is_set():
            raise Cancelled("sampling finder stopped")
        per_state = [[decimate_run(run, d) for run in s.runs] for s in states]
        if max((len(r) for runs in per_state for r in runs), default=0) < min_buffer:
            done += len(sizes)
            continue
        kept = min(
            float(np.min(_weighted_share(s.runs, runs)))
            for s, runs in zip(states, per_state)
        )
        rate = rate_hz / d
        for size in sizes:
            done += 1
            if progress:
                progress(done, total, f"{rate:g} Hz, buffer {size}")
            if cancel is not None and cancel.is_set():
                raise Cancelled("sampling finder stopped")
            counts = [sum(len(r) // size for r in runs) for runs in per_state]
            fewest = min(counts)
            if fewest < 1:
                continue
            candidate = Candidate(
                decimation=d, rate_hz=rate, buffer=size, duration_s=size / rate, resolution_hz=rate / size,
                energy_kept=kept, buffers_per_state=fewest, ram_bytes=4 * axes * size,
            )
            if several:
                if fewest < MIN_BUFFERS_PER_STATE:
                    weakest = states[counts.index(fewest)].name
                    candidate.note = f"only {fewest} buffer(s) of state {weakest}"
                else:
                    acc, std, folds, note = _separability(per_state, size, seed)
                    if folds:
                        candidate.accuracy, candidate.accuracy_std, candidate.folds = acc, std, folds
                    candidate.note = note
            candidates.append(candidate)
    if not candidates:
        shortest = min(len(r) for s in states for r in s.runs)
        raise InputError(
            f"the recordings are too short: the longest gives no buffer of {min_buffer} samples "
            f"(shortest recording: {shortest} samples)",
            "Record longer, or lower --min-buffer.",
        )
    main = main_frequency(states, rate_hz)
    ranked, recommended, reason = (_rank_separability if several else _rank_spectrum)(
        candidates, main, tolerance, min_energy)
    return SamplingReport(
        base_rate_hz=rate_hz, axes=axes,
        states=[{"name": s.name, "samples": s.samples, "runs": len(s.runs), "sources": s.sources} for s in states],
        mode="separability" if several else "spectrum", main_frequency_hz=main, candidates=ranked,
        recommended=recommended, reason=reason, tolerance=tolerance, min_energy=min_energy, seed=seed,
    )


def _weighted_share(originals: list[np.ndarray], decimated: list[np.ndarray]) -> np.ndarray:
    """Per axis, the energy kept over the runs of one state (long runs weigh more)."""
    shares, weights = [], []
    for original, after in zip(originals, decimated):
        if len(original) < 2:
            continue
        shares.append(_energy_kept(original, after))
        weights.append(len(original))
    if not shares:
        return np.ones(1)
    return np.average(np.vstack(shares), axis=0, weights=weights)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.4g} ms" if seconds < 10 else f"{seconds:.4g} s"


def _rank_separability(candidates: list[Candidate], main, tolerance: float, min_energy: float):
    scored = [c for c in candidates if c.accuracy is not None]
    if not scored:
        ranked = sorted(candidates, key=lambda c: (c.buffer, c.decimation))
        return ranked, None, ("no candidate gave enough buffers of every state to cross-validate: record longer, "
                              "or lower --min-buffer")
    best = max(c.accuracy for c in scored)
    top = max(scored, key=lambda c: (c.accuracy, -c.buffer, c.decimation))
    good = [c for c in scored if c.accuracy >= best - tolerance and c.energy_kept >= min_energy]
    energy_note = ""
    if not good:
        good = [c for c in scored if c.accuracy >= best - tolerance]
        energy_note = (f" No candidate that close keeps {min_energy:.0%} of the signal power: sample at this rate "
                       "behind an anti-alias filter.")
    good.sort(key=lambda c: (c.buffer, -c.decimation))
    chosen = good[0]
    rest = sorted((c for c in scored if c not in good), key=lambda c: (-c.accuracy, c.buffer, -c.decimation))
    unscored = sorted((c for c in candidates if c.accuracy is None), key=lambda c: (c.decimation, c.buffer))
    ranked = good + rest + unscored
    standing = "the best" if chosen is top else f"best {best:.3f} at {top.rate_hz:g} Hz × {top.buffer}"
    among = (f"; of the {len(good)} candidates within {tolerance:g} of the best, the smallest buffer "
             f"({chosen.ram_bytes} B of RAM), then the lowest rate" if len(good) > 1 else "")
    reason = (
        f"{chosen.rate_hz:g} Hz, buffers of {chosen.buffer} samples ({_ms(chosen.duration_s)}): balanced "
        f"accuracy {chosen.accuracy:.3f} on held-out stretches of time ({standing}){among}. "
        f"{chosen.energy_kept:.1%} of the signal power lies below its Nyquist frequency "
        f"({chosen.rate_hz / 2:g} Hz)." + energy_note
    )
    return ranked, chosen, reason


def _rank_spectrum(candidates: list[Candidate], main, tolerance: float, min_energy: float):
    need = MIN_PERIODS / main if main else 0.0

    def key(c: Candidate):
        return (c.energy_kept < min_energy, c.duration_s + 1e-12 < need, -c.decimation, c.buffer)

    for c in candidates:
        if main:
            c.note = f"{c.duration_s * main:.1f} periods of {main:g} Hz"
    ranked = sorted(candidates, key=key)
    chosen = ranked[0]
    if chosen.energy_kept < min_energy:
        # nothing keeps enough: say so rather than recommend a lossy rate silently
        chosen = max(candidates, key=lambda c: (c.energy_kept, -c.buffer))
    periods = f"{chosen.duration_s * main:.1f} periods of the main frequency ({main:g} Hz)" if main else "its samples"
    short = chosen.duration_s + 1e-12 < need
    reason = (
        f"{chosen.rate_hz:g} Hz, buffers of {chosen.buffer} samples ({_ms(chosen.duration_s)}): the lowest "
        f"rate keeping {chosen.energy_kept:.1%} of the signal power (worst axis) below its Nyquist frequency "
        f"({chosen.rate_hz / 2:g} Hz), and the smallest buffer holding {periods} (resolution "
        f"{chosen.resolution_hz:.3g} Hz)."
        + (f" No buffer is long enough for {MIN_PERIODS} periods: record longer or allow larger buffers."
           if short else "")
        + " One state: no separability to measure (give one recording per state for that)."
    )
    return ranked, chosen, reason


def describe(report: SamplingReport, limit: int | None = 12) -> list[str]:
    """The ranked table and the recommendation as text lines (CLI)."""
    several = report.mode == "separability"
    out = [
        f"{len(report.states)} state(s), {report.axes} axis/axes at {report.base_rate_hz:g} Hz: "
        + ", ".join(f"{s['name']} ({s['samples']} samples, {s['runs']} run(s))" for s in report.states),
    ]
    if report.main_frequency_hz:
        out.append(f"main frequency {report.main_frequency_hz:g} Hz")
    head = f"{'':2}{'rate Hz':>9} {'buffer':>6} {'duration':>10} {'resol. Hz':>9} {'energy':>7}"
    head += f" {'accuracy':>13} {'buffers':>7}" if several else f" {'':>13} {'buffers':>7}"
    out.append(head)
    shown = report.candidates if limit is None else report.candidates[:limit]
    for c in shown:
        mark = "* " if c is report.recommended else "  "
        acc = (f"{c.accuracy:.3f} ±{c.accuracy_std:.3f}" if c.accuracy is not None else "–") if several else ""
        line = (f"{mark}{c.rate_hz:>9.4g} {c.buffer:>6} {_ms(c.duration_s):>10} {c.resolution_hz:>9.3g} "
                f"{c.energy_kept:>7.1%} {acc:>13} {c.buffers_per_state:>7}")
        if c.note and c.accuracy is None and several:
            line += f"  {c.note}"
        out.append(line)
    if limit is not None and len(report.candidates) > limit:
        out.append(f"  … {len(report.candidates) - limit} more (--all shows them, --json gives every figure)")
    out.append("energy: share of the signal power below the rate's Nyquist frequency (worst axis); "
               + ("accuracy: cross-validated balanced accuracy of the states; " if several else "")
               + "buffers: non-overlapping buffers of the smallest state")
    if report.recommended is not None:
        c = report.recommended
        out.append(f"recommended: {c.rate_hz:g} Hz (decimation {c.decimation}), buffer {c.buffer}")
    out.append(report.reason)
    return out
