"""Anomaly detection: the task the benchmark runs for `--type anomaly` projects.

How a candidate is judged, the way the library will be used: for each split,
the library learns the split's nominal lines one at a time, as on the device,
then detects the held-out nominal lines and the abnormal lines; at the 90 %
similarity threshold this gives a balanced accuracy, and the two similarity
populations give a functional margin. Each split learns its lines in several
orders (orders.py: the file's, reversed, run after run, regime after regime
both ways, shuffled), because a device learns them in whatever order they
come. Held-out lines are contiguous blocks of the file, away from the learned
lines by the windows they share samples with (overlap.py), so a split tests on
stretches of recording the library did not learn. Each signal couple is a
separate dataset; a candidate's score is its worst (split, order, couple) score.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from .. import csearch
from ..errors import InputError, UsageError
from ..filtering import FilterDesign, filter_lines
from ..filtering import design as design_filter
from ..filtering import memory as filter_memory
from ..overlap import file_runs
from ..pipeline import (COV_MAX_DIM, MIN_SEGMENT, estimate_memory, guard_bounds, is_power_of_two, model_blocks,
                        nb_features, pass_band, pre_signature)
from ..project import Project
from ..cost import anomaly_terms
from ..scoring import Limits, ci95
from . import Task
from .orders import ORDER_NAMES, learning_orders, regime_labels, worst_curve

N_SPLITS = 5
FIRST_SPLITS = 2  # splits run (in every order) before a candidate may be rejected
LEARN_FRACTION = 0.6
MAX_LEARN = 600
MAX_DETECT = 1500
THRESHOLD = 90
BLOCKS = 20  # a couple's nominal lines are held out in blocks of about 1/20 of them
# The fast screening model of each family (calib near each family's usual best).
SCREEN_MODELS = (
    {"kind": "gauss", "reg": 0.01, "calib": 1.5},
    {"kind": "proto", "k": 8, "reg": 0.1, "calib": 2.0},
    {"kind": "cov", "reg": 0.1, "calib": 1.5},
    {"kind": "hst", "trees": 8, "depth": 6, "calib": 2.0},
    {"kind": "knn", "k": 16, "reg": 0.01, "shift": 0, "calib": 2.0},
)


@dataclass
class AnomalyData:
    axes: int
    buffer_size: int
    couples: list[tuple[int, np.ndarray, np.ndarray]]  # (couple, nominal, abnormal)
    filter: FilterDesign | None = None  # the project's frequency filter, already applied to the lines
    # Per couple: each nominal line's continuous run (files, or where overlapping windows break),
    # the lines each side of a line sharing samples with it, each line's regime (orders.py).
    runs: dict[int, np.ndarray] = field(default_factory=dict)
    gaps: dict[int, int] = field(default_factory=dict)
    regimes: dict[int, np.ndarray] = field(default_factory=dict)
    # The library's input guard (pipeline.guard_bounds) from every nominal line, unfiltered.
    guard: tuple | None = None


def filter_design(project: Project) -> FilterDesign | None:
    """The project's frequency filter, or None when it filters nothing."""
    return design_filter(project.settings.frequency_filter)


def load_anomaly_data(project: Project) -> AnomalyData:
    s = project.settings
    if s.type != "anomaly":
        raise UsageError(
            f"this project is {s.type}; the benchmark for it is not available yet",
            "Anomaly detection projects can be benchmarked today.",
        )
    if s.multisensor:
        raise UsageError(
            "Multi-sensor benchmarks are not available yet", "Use a generic n-axis project for now."
        )
    blocking = [p for p in project.check() if p.severity == "error"]
    if blocking:
        p = blocking[0]
        raise InputError(f"{p.location()}: {p.message}", f"Fix: {p.hint} (run `neai check DIR` for all findings)")
    couples = []
    design = filter_design(project)
    runs, gaps, regimes, raw_nominal = {}, {}, {}, []

    def files(role: str, couple: int) -> list[np.ndarray]:
        return [project.load_values(e) for e in project.signals_with(role, couple)]

    for couple in project.couples():
        nominal_files = files("nominal", couple)
        raw_nominal += nominal_files
        nominal = filter_lines(design, np.vstack(nominal_files), s.axes, project.buffer_size)
        abnormal = filter_lines(design, np.vstack(files("abnormal", couple)), s.axes, project.buffer_size)
        if len(nominal) < 6:
            raise InputError(
                f"couple {couple} has only {len(nominal)} nominal lines: too few to learn on some and test on others",
                "Import at least 20 nominal lines per axis (the Studio's bare minimum).",
            )
        couples.append((couple, nominal, abnormal))
        gaps[couple], runs[couple] = file_runs(nominal_files, s.axes, project.buffer_size)
        regimes[couple] = line_regimes(nominal, s.axes, project.buffer_size, couple)
    guard = guard_bounds(np.vstack(raw_nominal), s.axes)
    return AnomalyData(s.axes, project.buffer_size, couples, design, runs, gaps, regimes, guard)


def line_regimes(lines: np.ndarray, axes: int, buffer_size: int, seed: int) -> np.ndarray:
    """Each line's regime for the regime-grouped orders, from a description
    that does not depend on the candidate: per axis the level, spread and
    zero-crossing rate (the C statistics)."""
    stats = csearch.features({"kind": "stats"}, lines, axes, buffer_size)
    return regime_labels(stats.reshape(len(lines), axes, -1)[:, :, [0, 1, 9]].reshape(len(lines), -1), seed)


@dataclass
class Split:
    learn: np.ndarray  # indices into nominal, in file order
    test_nominal: np.ndarray
    test_abnormal: np.ndarray
    orders: list = field(default_factory=list)  # (name, learn indices in that order)


def line_blocks(n: int, runs: np.ndarray | None, gap: int) -> list[np.ndarray]:
    """Contiguous blocks of about n / BLOCKS lines (at least 2 gap + 1), never
    across two runs."""
    runs = np.zeros(n, dtype=np.int64) if runs is None or len(runs) != n else runs
    size = max(2 * gap + 1, -(-n // BLOCKS))
    blocks = []
    for r in np.unique(runs):
        members = np.flatnonzero(runs == r)
        blocks += [members[i : i + size] for i in range(0, len(members), size)]
    return blocks


def make_splits(n_nominal: int, n_abnormal: int, seed: int, couple: int, runs: np.ndarray | None = None,
                gap: int = 0, regimes: np.ndarray | None = None) -> list[Split]:
    """N_SPLITS splits of a couple's nominal lines: each holds out about
    1 - LEARN_FRACTION of them as whole contiguous blocks (line_blocks, a seeded
    choice per split; whole runs, in turns, when the lines are overlapping windows
    of several recordings) and learns the rest but the `gap` lines either side of
    a held-out block, which share samples with it; every order of learning_orders."""
    rng = np.random.default_rng([seed, couple, 7])
    run_of = np.zeros(n_nominal, dtype=np.int64) if runs is None or len(runs) != n_nominal else runs
    if gap > 0 and len(np.unique(run_of)) > 1:
        # Windows cut with overlap from continuous recordings: a block of a recording
        # still shares its recording's particulars with the learned blocks around it,
        # so whole recordings (runs) are held out, in turns, as a device meets new ones.
        blocks = [np.flatnonzero(run_of == r) for r in rng.permutation(np.unique(run_of))]
    else:
        blocks = line_blocks(n_nominal, runs, gap)
    whole_runs = gap > 0 and len(np.unique(run_of)) > 1
    splits = []
    for k in range(N_SPLITS):
        held: list[int] = []
        for b in np.roll(np.arange(len(blocks)), -k) if whole_runs else rng.permutation(len(blocks)):
            size = sum(len(blocks[i]) for i in held)
            if size >= (1.0 - LEARN_FRACTION) * n_nominal or (
                    whole_runs and held and size + len(blocks[b]) > 0.5 * n_nominal):
                break  # (whole runs: no more than half the lines held out, but at least one run)
            held.append(int(b))
        if len(held) == len(blocks):  # too few blocks: keep one to learn
            held.pop()
        test = np.sort(np.concatenate([blocks[i] for i in held]))
        near = np.zeros(n_nominal, dtype=bool)
        near[test] = True
        for offset in range(1, gap + 1):  # neighbours sharing samples, inside the same run
            for shifted in (test - offset, test + offset):
                ok = (shifted >= 0) & (shifted < n_nominal)
                same = ok.copy()
                same[ok] = run_of[shifted[ok]] == run_of[test[ok]]
                near[shifted[same]] = True
        learn = np.flatnonzero(~near)
        if not len(learn):
            learn = np.setdiff1d(np.arange(n_nominal), test)
        if len(learn) > MAX_LEARN:
            learn = np.sort(rng.choice(learn, MAX_LEARN, replace=False))
        test = test[:MAX_DETECT] if len(test) <= MAX_DETECT else np.sort(rng.choice(test, MAX_DETECT, replace=False))
        abn = np.sort(rng.permutation(n_abnormal)[:MAX_DETECT])
        splits.append(Split(learn, test, abn, learning_orders(learn, runs, regimes, rng)))
    return splits


# ---------------------------------------------------------------------- the space
FFT_BANDS = (4, 8, 16, 32, 64)
RAW_DECIM = (1, 2, 4, 8)
PROTO_K = (2, 4, 8, 16, 32)
# Spectrum kinds (FFT bands, spectral statistics): segmentations (S: the mean
# power spectrum of S segments of buffer/S samples, see pipeline.py; with the
# Hann window only: short segments leak badly without a taper) and pass bands
# (fractions of Nyquist: all, lower half, upper half).
SEGMENTS = (1, 2, 4)
PASS_BANDS = ((0.0, 1.0), (0.0, 0.5), (0.5, 1.0))
SPECTRAL_BANDS = (0, 4, 8)  # band-energy ratios of the spectral statistics


def spectrum_blocks(buffer_size: int, segments=SEGMENTS) -> list[tuple[int, float, float, int]]:
    """(segments, low, high, bins in the pass band) of every segmentation and
    pass band a spectrum kind can take on this buffer, whole-buffer first."""
    if not is_power_of_two(buffer_size) or buffer_size < MIN_SEGMENT:
        return []
    out = []
    for s in segments:
        seg_len = buffer_size // s
        if seg_len >= MIN_SEGMENT:
            for low, high in PASS_BANDS:
                first, end = pass_band({"low": low, "high": high}, seg_len)
                out.append((s, low, high, end - first))
    return out


def spectrum_windows(segments: int, windows=("none", "hann")) -> tuple[str, ...]:
    return windows if segments == 1 else tuple(w for w in windows if w == "hann")


def fft_space(buffer_size: int, bands_grid=FFT_BANDS, spacings=("linear", "log"), windows=("none", "hann"),
              segments=SEGMENTS) -> list[dict]:
    """FFT band powers, block by block: the whole-buffer, full-band spectrum
    first (the FFT space of earlier versions, in its order)."""
    space = []
    for s, low, high, bins in spectrum_blocks(buffer_size, segments):
        for bands in bands_grid:
            if bands <= bins:
                for spacing in spacings:
                    for window in spectrum_windows(s, windows):
                        for log in (False, True):
                            for norm in ("none", "relative"):
                                space.append({"kind": "fft", "bands": bands, "spacing": spacing, "window": window,
                                              "log": log, "norm": norm, "segments": s, "low": low, "high": high})
    return space


def spectral_space(buffer_size: int, windows=("none", "hann"), segments=SEGMENTS) -> list[dict]:
    """Spectral statistics, alone or followed by the time statistics."""
    space = []
    for s, low, high, bins in spectrum_blocks(buffer_size, segments):
        for bands in SPECTRAL_BANDS:
            if bands <= bins and bins >= 2:
                for window in spectrum_windows(s, windows):
                    for time_stats in (False, True):
                        space.append({"kind": "spectral", "bands": bands, "window": window, "segments": s,
                                      "low": low, "high": high, "time_stats": time_stats})
    return space


def distinct(space: list[dict], axes: int, buffer_size: int) -> list[dict]:
    """The space without the preprocessings whose C configuration repeats an
    earlier one's (e.g. linear and log spacing when every band is one bin)."""
    seen, out = set(), []
    for pre in space:
        signature = pre_signature(pre, axes, buffer_size)
        if signature not in seen:
            seen.add(signature)
            out.append(pre)
    return out


def preprocessing_space(axes: int, buffer_size: int) -> list[dict]:
    """Statistics, raw buffers, FFT band powers, spectral statistics. Ordered so
    that the first generation (which --evals may cut short) screens the
    preprocessings of earlier versions first."""
    space: list[dict] = [{"kind": "stats"}]
    for decim in RAW_DECIM:
        if buffer_size // decim >= 4:
            for norm in ("none", "zscore", "maxabs", "center"):
                space.append({"kind": "raw", "decim": decim, "norm": norm})
    fft = fft_space(buffer_size)
    plain = [p for p in fft if p["segments"] == 1 and (p["low"], p["high"]) == (0.0, 1.0)]
    space += plain + spectral_space(buffer_size) + fft[len(plain):]
    if axes > 1:
        space += [dict(pre) for pre in AXIS_RELATIONS]
    return distinct(space, axes, buffer_size)


# How the axes move together, which per-axis features miss (e.g. the phase
# relationship of a 3-phase motor's currents); only with several axes.
AXIS_RELATIONS = ({"kind": "cov", "correlation": False}, {"kind": "cov", "correlation": True},
                  {"kind": "stats", "cross": True})


# Model hyperparameters (c_lib/neai_models.c). calib: the decision distance in
# units of each model's reference distance (similarity 90 there).
CALIBS = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 6.0)
REGS = (0.0, 0.001, 0.01, 0.1, 1.0)  # variance floor, a fraction of the mean variance
SHRINKAGES = (0.01, 0.05, 0.1, 0.3, 0.6)  # COV: weight of the mean variance in the covariance
HST_TREES = (4, 8, 16)
HST_DEPTHS = (4, 6, 8)
KNN_K = (8, 16, 32)
KNN_REGS = (0.001, 0.01, 0.1)
KNN_SHIFTS = (0, 2, 8)  # positions a memory may slide within each axis (raw buffers, FFT bands)
# Per family: the hyperparameters a local move may change, with their grids.
MODEL_GRIDS = {
    "gauss": {"reg": REGS, "calib": CALIBS},
    "proto": {"k": PROTO_K, "reg": REGS, "calib": CALIBS},
    "cov": {"reg": SHRINKAGES, "calib": CALIBS},
    "hst": {"trees": HST_TREES, "depth": HST_DEPTHS, "calib": CALIBS},
    "knn": {"k": KNN_K, "reg": KNN_REGS, "shift": KNN_SHIFTS, "calib": CALIBS},
}


def model_space() -> list[dict]:
    """Every model of every family: the grids' product, in a fixed order."""
    import itertools

    space = []
    for kind, grid in MODEL_GRIDS.items():
        names = list(grid)
        for values in itertools.product(*(grid[n] for n in names)):
            space.append({"kind": kind, **dict(zip(names, values))})
    return space


def space_size(axes: int, buffer_size: int) -> int:
    return len(preprocessing_space(axes, buffer_size)) * len(model_space())


def neighbour(model: dict, rng: np.random.Generator) -> dict:
    """A model close to `model`: one hyperparameter moved to an adjacent value."""
    m = dict(model)
    grid = MODEL_GRIDS.get(m["kind"], {})
    if not grid:
        return m
    options = list(grid.items())
    name, values = options[int(rng.integers(len(options)))]
    i = values.index(m[name]) if m.get(name) in values else 0
    m[name] = values[int(np.clip(i + rng.choice([-1, 1]), 0, len(values) - 1))]
    return m


def fits(model: dict, dim: int) -> bool:
    """Can the model work on `dim` features at all (the covariance model keeps dim^2/2)?"""
    return model["kind"] != "cov" or dim <= COV_MAX_DIM


def _balanced_accuracy(sim_nom: np.ndarray, sim_abn: np.ndarray) -> float:
    parts = []
    if len(sim_nom):
        parts.append(float(np.mean(sim_nom >= THRESHOLD)))
    if len(sim_abn):
        parts.append(float(np.mean(sim_abn < THRESHOLD)))
    return float(np.mean(parts)) if parts else 0.0


def _margin(sim_nom: np.ndarray, sim_abn: np.ndarray) -> float:
    """How far apart the populations sit, -1..1: 5th percentile of the nominal
    similarities minus 95th percentile of the abnormal ones, over 100."""
    if not len(sim_nom) or not len(sim_abn):
        return 0.0
    return float(np.percentile(sim_nom, 5) - np.percentile(sim_abn, 95)) / 100.0


def split_score(ba: float, margin: float, resource: float) -> float:
    return 100.0 * (0.7 * ba + 0.2 * (margin + 1.0) / 2.0 + 0.1 * resource)


def score_split(model: dict, feats: np.ndarray, learn, detect, n_nominal: int, resource: float, blocks: int = 0):
    """Learn rows `learn` of feats one by one (in that order), detect rows
    `detect` (the first n_nominal of them nominal): (split score, balanced
    accuracy, margin)."""
    _, sims = csearch.run(model, feats, learn, detect, blocks=blocks)
    ba = _balanced_accuracy(sims[:n_nominal], sims[n_nominal:])
    margin = _margin(sims[:n_nominal], sims[n_nominal:])
    return split_score(ba, margin, resource), ba, margin


def worst_split_result(rows: list, ram: int, flash: int, orders: list[str] | None = None) -> dict:
    """The evaluation result of a candidate from its (score, ba, margin) rows
    (one per split, order and couple; `orders`: each row's order): worst first."""
    scores = np.array(rows)
    worst = int(np.argmin(scores[:, 0]))
    ba_all = scores[:, 1]
    metrics = {
        "balanced_accuracy": round(float(ba_all.min()), 4),
        "functional_margin": round(float(scores[:, 2].min()), 4),
        "balanced_accuracy_mean": round(float(ba_all.mean()), 4),
        "balanced_accuracy_ci95": ci95(ba_all),
    }
    if orders:
        names = list(dict.fromkeys(orders))
        metrics["worst_order"] = orders[worst]
        # per order, its worst split's balanced accuracy: [[order, ba], ...]
        metrics["balanced_accuracy_by_order"] = [
            [name, round(float(min(r[1] for r, o in zip(rows, orders) if o == name)), 4)] for name in names]
    return {"status": "ok", "score": round(float(scores[worst, 0]), 4), "metrics": metrics,
            "ram_bytes": ram, "flash_bytes": flash}


def counts_grid(n_learn: int) -> list[int]:
    """The learned-line counts a learning curve is measured at."""
    spread = np.unique(np.geomspace(20, max(n_learn, 20), 24).astype(int))
    return sorted({int(c) for c in [*range(1, 21), *spread] if c <= n_learn})


def recommended_minimum(counts: list[int], curve: list[float]) -> int:
    """The first count from which the curve stays within 0.02 of its end."""
    curve_a = np.asarray(curve)
    ok = curve_a >= curve_a[-1] - 0.02
    return next((counts[i] for i in range(len(counts)) if ok[i:].all()), counts[-1])


class AnomalyEvaluator:
    """Evaluates pipelines on fixed splits, each in every learning order;
    caches features per preprocessing."""

    def __init__(self, data: AnomalyData, seed: int, max_ram: float | None = None, max_flash: float | None = None,
                 *, limits: Limits | None = None):
        self.data = data
        self.limits = limits or Limits(max_ram, max_flash)
        self.max_ram = self.limits.max_ram
        self.max_flash = self.limits.max_flash
        self.splits = {
            couple: make_splits(len(nom), len(abn), seed, couple, data.runs.get(couple), data.gaps.get(couple, 0),
                                data.regimes.get(couple))
            for couple, nom, abn in data.couples
        }
        self._cache: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}

    def _features(self, pre: dict):
        key = json.dumps(pre, sort_keys=True)
        if key not in self._cache:
            if len(self._cache) > 64:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = [
                (
                    csearch.features(pre, nom, self.data.axes, self.data.buffer_size),
                    csearch.features(pre, abn, self.data.axes, self.data.buffer_size),
                )
                for _, nom, abn in self.data.couples
            ]
        return self._cache[key]

    def runs(self, pipeline: dict):
        """Yield (split, couple, order name, features, learn rows in order, detect
        rows, nominal rows among them): every order of split 0 of every couple, then split 1..."""
        feats = self._features(pipeline["pre"])
        for split_i in range(N_SPLITS):
            for (couple, _, _), (f_nom, f_abn) in zip(self.data.couples, feats):
                split = self.splits[couple][split_i]
                both = np.vstack([f_nom, f_abn[split.test_abnormal]])
                detect = np.concatenate([split.test_nominal, len(f_nom) + np.arange(len(split.test_abnormal))])
                for name, order in split.orders:
                    yield split_i, couple, name, both, order, detect, len(split.test_nominal)

    def evaluate(self, pipeline: dict, prune_below: float | None = None) -> dict:
        ram, flash = estimate_memory(pipeline, self.data.axes, self.data.buffer_size)
        filter_ram, filter_flash = filter_memory(self.data.filter, self.data.axes, self.data.buffer_size)
        ram, flash = ram + filter_ram, flash + filter_flash
        d = self.data
        instructions = self.limits.instructions(
            anomaly_terms(pipeline, d.axes, d.buffer_size, d.filter.sections if d.filter is not None else 0))
        too_big = self.limits.over(ram, flash, instructions)
        if too_big:
            return too_big
        if not fits(pipeline["model"], nb_features(pipeline["pre"], d.axes, d.buffer_size)):
            return {"status": "too-big", "ram_bytes": ram, "flash_bytes": flash}
        resource = self.limits.resource(ram, flash, instructions)
        blocks = model_blocks(pipeline["pre"], d.axes)
        rows, names = [], []  # (score, ba, margin) per (split, order, couple)
        for split_i, _, name, both, order, detect, n_nom in self.runs(pipeline):
            if prune_below is not None and split_i == FIRST_SPLITS and rows:
                partial = min(r[0] for r in rows)
                if partial <= prune_below:
                    return {"status": "rejected", "partial_score": round(partial, 4), "ram_bytes": ram,
                            "flash_bytes": flash}
                prune_below = None
            rows.append(score_split(pipeline["model"], both, order, detect, n_nom, resource, blocks))
            names.append(name)
        return {**worst_split_result(rows, ram, flash, names), "instructions": instructions}

    def learning_curve(self, pipeline: dict) -> dict:
        """Balanced accuracy against the number of learned lines, in the worst
        order at each count (mean over splits and couples), and the recommended
        minimum: the first count from which that stays within 0.02 of what
        the full learning set reaches."""
        model = pipeline["model"]
        blocks = model_blocks(pipeline["pre"], self.data.axes)
        n_min = min(len(s.learn) for splits in self.splits.values() for s in splits)
        counts = counts_grid(n_min)
        by_split: dict[tuple, list[list[float]]] = {}
        for split_i, couple, _, both, order, detect, n_nom in self.runs(pipeline):
            sims = csearch.curve(model, both, order, detect, counts, blocks=blocks)
            by_split.setdefault((split_i, couple), []).append(
                [_balanced_accuracy(row[:n_nom], row[n_nom:]) for row in sims])
        mean_curve = np.mean([worst_curve(curves) for curves in by_split.values()], axis=0)
        return {
            "counts": [int(c) for c in counts],
            "balanced_accuracy": [round(float(v), 4) for v in mean_curve],
            "min_learning_iterations": int(max(recommended_minimum(counts, list(mean_curve)), 2)),
        }


class AnomalyTask(Task):
    name = "anomaly"

    def load(self, project: Project) -> AnomalyData:
        return load_anomaly_data(project)

    def preprocessing_space(self, data: AnomalyData) -> list[dict]:
        return preprocessing_space(data.axes, data.buffer_size)

    def model_space(self, data: AnomalyData) -> list[dict]:
        return model_space()

    def screening_models(self, data: AnomalyData) -> list[dict]:
        return [dict(m) for m in SCREEN_MODELS]

    def probe_models(self, data: AnomalyData) -> list[dict]:
        # Prototypes rank the fan's preprocessings closer to their best models than one Gaussian does.
        return [m for m in self.screening_models(data) if m["kind"] == "proto"]

    def neighbour(self, model: dict, rng: np.random.Generator) -> dict:
        return neighbour(model, rng)

    def evaluator(self, data: AnomalyData, seed: int, max_ram=None, max_flash=None, *, limits=None) -> AnomalyEvaluator:
        return AnomalyEvaluator(data, seed, max_ram, max_flash, limits=limits)

    def finalise(self, evaluator: AnomalyEvaluator, record: dict) -> dict:
        return evaluator.learning_curve(record["pipeline"])

    def summary(self, data: AnomalyData) -> dict:
        return {
            "axes": data.axes,
            "buffer_size": data.buffer_size,
            "couples": {str(c): {"nominal": len(n), "abnormal": len(a)} for c, n, a in data.couples},
            "splits": N_SPLITS,
            "split_kind": "contiguous blocks, every learning order",
            "orders": sorted({name for splits in [make_splits(len(n), len(a), 0, c, data.runs.get(c),
                                                               data.gaps.get(c, 0), data.regimes.get(c))
                                                   for c, n, a in data.couples] for s in splits
                              for name, _ in s.orders}, key=ORDER_NAMES.index),
            "runs": {str(c): int(len(np.unique(r))) for c, r in data.runs.items()},
        }
