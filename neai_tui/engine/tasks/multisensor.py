"""Multi-sensor anomaly detection: time series of n variables, one sample per line.

The library (c_lib/neai_multisensor.c) takes one sample per call and keeps the
last W samples itself; W, the window it looks back over, is part of the search.
A window of W samples is laid out exactly like a generic buffer of W samples x n
axes, so every anomaly-detection preprocessing and model applies as is:

    pipeline = {"pre": {<anomaly preprocessing>, "lookback": W}, "model": <anomaly model>}

("lookback", not "window": FFT preprocessings already name their taper "window".)

How a candidate is judged, the way the library will be used: on the device it
learns windows in time order, then detects later ones. So the splits are
forward-chaining folds on each couple's nominal series, never shuffled:

    learn: every window inside samples [0, t_k), in time order (the most recent
           MAX_LEARN of them, as if the device had been initialised there);
    gap:   `gap` samples (the largest window of the grid) left out, so no test
           window shares a sample with a learned one, whatever W;
    test:  every nominal window inside [t_k + gap, t_k + gap + h), and the
           windows of the abnormal series (all, or MAX_DETECT evenly spaced).

The sample-space boundaries do not depend on W, so candidates with different
windows are judged on the same stretches of time. Windows never straddle two
imported files (each file is its own recording). Scoring is the anomaly task's:
balanced accuracy at similarity 90, functional margin, resources; a
candidate's score is its worst (fold, couple).

Counts given to users are samples (learn() calls): the minimum learning
iterations include the W - 1 samples that fill the window.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from .. import csearch
from ..errors import InputError, UsageError
from ..pipeline import describe as describe_pipeline
from ..pipeline import estimate_memory as estimate_pipeline_memory
from ..project import Project
from ..cost import multisensor_terms
from ..scoring import Limits
from . import Task
from ..pipeline import guard_bounds, model_blocks, nb_features
from .anomaly import (_balanced_accuracy, counts_grid, distinct, fft_space, fits, recommended_minimum, score_split,
                      spectral_space, worst_split_result)
from .anomaly import model_space as anomaly_model_space
from .anomaly import neighbour as anomaly_neighbour
from .orders import learning_orders, regime_labels, worst_curve

WINDOWS = (1, 4, 8, 16, 32, 64)
N_SPLITS = 5
FIRST_SPLITS = 2  # folds run before a candidate may be rejected
FIRST_LEARN_FRACTION = 0.4  # the first fold learns on the first 40 % of the nominal series
TEST_FRACTION = 0.12  # length of each fold's nominal test block
MAX_LEARN = 4000  # windows learned per fold at most (the most recent ones)
MAX_DETECT = 1500  # abnormal windows detected per couple at most
MIN_NOMINAL = 60  # nominal samples per couple, below which no fold fits
WINDOW_SHARE = 10  # a window spans at most 1/10 of the shortest nominal series
RAW_DECIM = (1, 2, 4, 8)
FFT_BANDS = (4, 8, 16)
# Key of the window length in a pipeline's "pre" dict. Not "window": FFT
# preprocessings already use that key for their taper (none / hann).
LOOKBACK = "lookback"
# Bytes of code the window handling adds to an anomaly library (push + shift).
WINDOW_CODE_BYTES = 160


@dataclass
class Series:
    """A time series: samples x variables, made of one or more recordings."""

    values: np.ndarray  # float64, samples x variables, time order
    bounds: list[tuple[int, int]] = field(default_factory=list)  # [start, end) of each recording

    def __len__(self) -> int:
        return len(self.values)

    def window_starts(self, window: int) -> np.ndarray:
        """First sample of every window of `window` samples inside one recording."""
        parts = [np.arange(a, b - window + 1) for a, b in self.bounds if b - a >= window]
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)

    def longest_recording(self) -> int:
        return max((b - a for a, b in self.bounds), default=0)


def make_series(parts: list[np.ndarray]) -> Series:
    bounds, start = [], 0
    for p in parts:
        bounds.append((start, start + len(p)))
        start += len(p)
    return Series(np.vstack(parts) if parts else np.zeros((0, 0)), bounds)


@dataclass
class MultiSensorData:
    axes: int  # variables per sample
    windows: tuple[int, ...]  # the window grid this data allows
    gap: int  # samples left out between learning and testing (= the largest window)
    couples: list[tuple[int, Series, Series]]  # (couple, nominal, abnormal)
    guard: tuple | None = None  # the library's input guard per sample (pipeline.guard_bounds)
    # Per couple: each nominal sample's regime, for the regime-grouped learning orders.
    regimes: dict[int, np.ndarray] = field(default_factory=dict)


def allowed_windows(couples: list[tuple[int, Series, Series]]) -> tuple[int, ...]:
    shortest_nominal = min(len(nom) for _, nom, _ in couples)
    shortest_abnormal = min(abn.longest_recording() for _, _, abn in couples)
    limit = min(max(1, shortest_nominal // WINDOW_SHARE), shortest_abnormal)
    return tuple(w for w in WINDOWS if w <= limit) or (1,)


def load_multisensor_data(project: Project) -> MultiSensorData:
    s = project.settings
    if s.type != "anomaly" or not s.multisensor:
        raise UsageError(
            "this is not a Multi-sensor anomaly-detection project",
            "Create one with `neai new DIR --type anomaly --variables N`.",
        )
    blocking = [p for p in project.check() if p.severity == "error"]
    if blocking:
        p = blocking[0]
        raise InputError(f"{p.location()}: {p.message}", f"Fix: {p.hint} (run `neai check DIR` for all findings)")
    couples = []
    for couple in project.couples():
        nominal = make_series([project.load_values(e) for e in project.signals_with("nominal", couple)])
        abnormal = make_series([project.load_values(e) for e in project.signals_with("abnormal", couple)])
        if len(nominal) < MIN_NOMINAL:
            raise InputError(
                f"couple {couple} has only {len(nominal)} nominal samples: too few to learn on the first ones "
                "and test on later ones",
                f"Import a longer nominal recording (at least {MIN_NOMINAL} samples; a few hundred covering every "
                "operating condition is better).",
            )
        couples.append((couple, nominal, abnormal))
    windows = allowed_windows(couples)
    guard = guard_bounds(np.vstack([nom.values for _, nom, _ in couples]), s.axes)
    regimes = {couple: regime_labels(nom.values, couple) for couple, nom, _ in couples}
    return MultiSensorData(s.axes, windows, max(windows), couples, guard, regimes)


# ---------------------------------------------------------------------- splits
@dataclass
class TimeSplit:
    learn_end: int  # learn on the samples [0, learn_end)
    test_start: int  # detect the nominal samples [test_start, test_end)
    test_end: int


def make_time_splits(n_samples: int, gap: int) -> list[TimeSplit]:
    """Forward-chaining folds over a nominal series of `n_samples` samples."""
    h = max(int(round(TEST_FRACTION * n_samples)), gap + 8)
    first = max(int(round(FIRST_LEARN_FRACTION * n_samples)), 2 * gap, 8)
    last = n_samples - gap - h
    if last < first:
        raise InputError(
            f"a nominal series of {n_samples} samples is too short for time-ordered folds with a {gap}-sample gap",
            "Import a longer nominal recording (a few hundred samples at least).",
        )
    ends = sorted({int(e) for e in np.linspace(first, last, N_SPLITS).round()})
    while len(ends) < N_SPLITS:  # very short series: repeat the last fold (a minimum is unchanged)
        ends.append(ends[-1])
    return [TimeSplit(e, e + gap, e + gap + h) for e in ends]


def split_windows(split: TimeSplit, starts: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """(learn, test) positions in `starts` (window start samples, sorted) for one fold:
    learn = the windows entirely before learn_end, in time order (the last
    MAX_LEARN); test = the windows entirely inside the test block."""
    learn = np.flatnonzero(starts + window <= split.learn_end)[-MAX_LEARN:]
    test = np.flatnonzero((starts >= split.test_start) & (starts + window <= split.test_end))
    return learn, test


def abnormal_subset(n_windows: int) -> np.ndarray:
    if n_windows <= MAX_DETECT:
        return np.arange(n_windows)
    return np.unique(np.linspace(0, n_windows - 1, MAX_DETECT).round().astype(np.int64))


# ---------------------------------------------------------------------- windows
def window_buffers(values: np.ndarray, starts: np.ndarray, window: int) -> np.ndarray:
    """The windows starting at `starts`, each as one interleaved buffer
    (x0 y0 z0 x1 y1 z1 ..., oldest sample first): windows x (window * variables)."""
    x = np.ascontiguousarray(values, dtype=np.float32)
    if not len(starts):
        return np.zeros((0, window * x.shape[1]), dtype=np.float32)
    view = np.lib.stride_tricks.sliding_window_view(x, window, axis=0)  # (N-W+1, n, W)
    return np.ascontiguousarray(view[starts].transpose(0, 2, 1)).reshape(len(starts), window * x.shape[1])


def strip_window(pipeline: dict) -> tuple[dict, int]:
    """(the anomaly pipeline, W): what the generic catalogue functions take."""
    pre = dict(pipeline["pre"])
    window = int(pre.pop(LOOKBACK, 1))
    return {"pre": pre, "model": pipeline["model"]}, window


def describe(pipeline: dict) -> str:
    inner, window = strip_window(pipeline)
    return f"window of {window} sample{'s' if window > 1 else ''}: {describe_pipeline(inner)}"


def estimate_memory(pipeline: dict, variables: int) -> tuple[int, int]:
    """(RAM, flash) bytes: the anomaly library for a W x n buffer, plus the window."""
    inner, window = strip_window(pipeline)
    ram, flash = estimate_pipeline_memory(inner, variables, window)
    return ram + 4 * window * variables + 4, flash + WINDOW_CODE_BYTES


# ---------------------------------------------------------------------- the space
def preprocessing_space(windows: tuple[int, ...]) -> list[dict]:
    """Every preprocessing for every window length. Ordered so that the first
    generation (which --evals may cut short) screens first the families that
    suit slow process variables: levels, then statistics, then shapes, then
    spectra (FFT bands, then spectral statistics, each with the pass bands and
    segmentations of the anomaly task; Hann taper, linear bands: windows are
    short)."""
    levels, stats, shapes, spectra = [], [], [], []
    for w in windows:
        if w == 1:  # the instantaneous sample itself
            levels.append({"kind": "raw", "decim": 1, "norm": "none", LOOKBACK: 1})
            continue
        stats.append({"kind": "stats", LOOKBACK: w})
        for decim in RAW_DECIM:
            if w // decim >= 2:
                levels.append({"kind": "raw", "decim": decim, "norm": "none", LOOKBACK: w})
                for norm in ("center", "zscore", "maxabs"):
                    shapes.append({"kind": "raw", "decim": decim, "norm": norm, LOOKBACK: w})
        spectrum = fft_space(w, FFT_BANDS, ("linear",), ("hann",)) + spectral_space(w, ("hann",))
        spectra += [{**pre, LOOKBACK: w} for pre in distinct(spectrum, 1, w)]  # the same for any variables
    return levels[:1] + stats + levels[1:] + shapes + spectra


def model_space() -> list[dict]:
    """The anomaly task's models (tasks/anomaly.py)."""
    return anomaly_model_space()


def screening_models() -> list[dict]:
    return [
        {"kind": "gauss", "reg": 0.01, "calib": 1.5},
        {"kind": "proto", "k": 16, "reg": 0.1, "calib": 1.5},
        {"kind": "cov", "reg": 0.1, "calib": 1.5},
        {"kind": "hst", "trees": 8, "depth": 6, "calib": 2.0},
        {"kind": "knn", "k": 16, "reg": 0.01, "shift": 0, "calib": 2.0},
    ]


def neighbour(model: dict, rng: np.random.Generator) -> dict:
    return anomaly_neighbour(model, rng)


class MultiSensorEvaluator:
    """Evaluates pipelines on the fixed time-ordered folds; caches features."""

    CACHE_BYTES = 256 << 20  # features kept across candidates (per process)

    def __init__(self, data: MultiSensorData, seed: int, max_ram: float | None = None,
                 max_flash: float | None = None, *, limits: Limits | None = None):
        self.data = data
        self.limits = limits or Limits(max_ram, max_flash)
        self.max_ram = self.limits.max_ram
        self.max_flash = self.limits.max_flash
        self.seed = seed  # the folds follow time, they draw nothing at random
        self.splits = {couple: make_time_splits(len(nom), data.gap) for couple, nom, _ in data.couples}
        self._cache: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}

    def _features(self, pre: dict) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per couple: (features of every nominal window then of the abnormal
        windows detected, start sample of each nominal window)."""
        key = json.dumps(pre, sort_keys=True)
        if key not in self._cache:
            inner = {k: v for k, v in pre.items() if k != LOOKBACK}
            w = int(pre.get(LOOKBACK, 1))
            out = []
            for _, nom, abn in self.data.couples:
                starts = nom.window_starts(w)
                abn_starts = abn.window_starts(w)
                abn_starts = abn_starts[abnormal_subset(len(abn_starts))]
                both = np.vstack([window_buffers(nom.values, starts, w), window_buffers(abn.values, abn_starts, w)])
                out.append((csearch.features(inner, both, self.data.axes, w), starts))
            size = sum(f.nbytes for f, _ in out)
            while self._cache and sum(f.nbytes for v in self._cache.values() for f, _ in v) + size > self.CACHE_BYTES:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = out
        return self._cache[key]

    def folds(self, pipeline: dict):
        """Yield (fold, couple, order name, features, learn rows in that order,
        detect rows, nominal rows among the detect rows) for every order of every
        fold of every couple, folds first. Orders (orders.py): time order (as
        the device learns a stream), recordings last first, regime after regime
        both ways (each window's regime: its first sample's), each forward in time."""
        w = int(pipeline["pre"].get(LOOKBACK, 1))
        feats = self._features(pipeline["pre"])
        for split_i in range(N_SPLITS):
            for (couple, nom, _), (both, starts) in zip(self.data.couples, feats):
                learn, test = split_windows(self.splits[couple][split_i], starts, w)
                detect = np.concatenate([test, np.arange(len(starts), len(both))])
                if not len(learn):
                    yield split_i, couple, "time", both, learn, detect, len(test)
                    continue
                runs = np.searchsorted([b for _, b in nom.bounds], starts, side="right")
                regimes = self.data.regimes.get(couple)
                rng = np.random.default_rng([self.seed, couple, split_i, 5])
                for name, order in learning_orders(learn, runs, regimes[starts] if regimes is not None else None,
                                                   rng, stream=True):
                    yield split_i, couple, "time" if name == "file" else name, both, order, detect, len(test)

    def evaluate(self, pipeline: dict, prune_below: float | None = None) -> dict:
        ram, flash = estimate_memory(pipeline, self.data.axes)
        instructions = self.limits.instructions(multisensor_terms(pipeline, self.data.axes))
        too_big = self.limits.over(ram, flash, instructions)
        if too_big:
            return too_big
        inner, w = strip_window(pipeline)
        if not fits(inner["model"], nb_features(inner["pre"], self.data.axes, w)):
            return {"status": "too-big", "ram_bytes": ram, "flash_bytes": flash}
        resource = self.limits.resource(ram, flash, instructions)
        blocks = model_blocks(inner["pre"], self.data.axes)
        rows, names = [], []  # (score, ba, margin) per (fold, order, couple)
        for fold, _, name, both, learn, detect, n_nom in self.folds(pipeline):
            if prune_below is not None and fold == FIRST_SPLITS and rows:
                if min(r[0] for r in rows) <= prune_below:
                    return {"status": "rejected", "partial_score": round(min(r[0] for r in rows), 4),
                            "ram_bytes": ram, "flash_bytes": flash}
                prune_below = None
            rows.append(self._run_split(pipeline["model"], both, learn, detect, n_nom, resource, blocks))
            names.append(name)
        return {**worst_split_result(rows, ram, flash, names), "instructions": instructions}

    @staticmethod
    def _run_split(model, both, learn, detect, n_nom: int, resource: float, blocks: int = 0):
        if not len(learn):
            return 0.0, 0.0, -1.0
        return score_split(model, both, learn, detect, n_nom, resource, blocks)

    def learning_curve(self, pipeline: dict) -> dict:
        """Balanced accuracy against the number of learned windows, in the worst
        order at each count, and the recommended minimum number of learn() calls
        (samples): the first window count from which that stays within 0.02 of
        what the whole learning stretch reaches, plus the W - 1 samples that
        fill the window."""
        model = pipeline["model"]
        inner, w = strip_window(pipeline)
        blocks = model_blocks(inner["pre"], self.data.axes)
        n_min = max(1, min(len(learn) for _, _, _, _, learn, _, _ in self.folds(pipeline)))
        counts = counts_grid(n_min)
        by_fold: dict[tuple, list[list[float]]] = {}
        for fold, couple, _, both, learn, detect, n_nom in self.folds(pipeline):
            if len(learn):
                sims = csearch.curve(model, both, learn, detect, counts, blocks=blocks)
                by_fold.setdefault((fold, couple), []).append(
                    [_balanced_accuracy(row[:n_nom], row[n_nom:]) for row in sims])
        mean_curve = np.mean([worst_curve(c) for c in by_fold.values()], axis=0)
        windows = int(max(recommended_minimum(counts, list(mean_curve)), 2))
        return {
            "counts": [c + w - 1 for c in counts],  # in samples (learn() calls)
            "balanced_accuracy": [round(float(v), 4) for v in mean_curve],
            "min_learning_iterations": windows + w - 1,
        }


class MultiSensorTask(Task):
    name = "multisensor"

    def load(self, project: Project) -> MultiSensorData:
        return load_multisensor_data(project)

    def preprocessing_space(self, data: MultiSensorData) -> list[dict]:
        return preprocessing_space(data.windows)

    def model_space(self, data: MultiSensorData) -> list[dict]:
        return model_space()

    def screening_models(self, data: MultiSensorData) -> list[dict]:
        return screening_models()

    def probe_models(self, data: MultiSensorData) -> list[dict]:
        return [m for m in self.screening_models(data) if m["kind"] == "proto"]

    def neighbour(self, model: dict, rng: np.random.Generator) -> dict:
        return neighbour(model, rng)

    def evaluator(self, data: MultiSensorData, seed: int, max_ram=None, max_flash=None, *,
                  limits=None) -> MultiSensorEvaluator:
        return MultiSensorEvaluator(data, seed, max_ram, max_flash, limits=limits)

    def describe(self, pipeline: dict) -> str:
        return describe(pipeline)

    def finalise(self, evaluator: MultiSensorEvaluator, record: dict) -> dict:
        # The engine's generic describe() does not know the look-back length.
        return {**evaluator.learning_curve(record["pipeline"]), "pipeline_text": describe(record["pipeline"])}

    def summary(self, data: MultiSensorData) -> dict:
        return {
            "variables": data.axes,
            "windows": list(data.windows),
            "gap": data.gap,
            "couples": {str(c): {"nominal_samples": len(n), "abnormal_samples": len(a)} for c, n, a in data.couples},
            "splits": N_SPLITS,
            "split_kind": "time-ordered forward chaining, every learning order",
        }
