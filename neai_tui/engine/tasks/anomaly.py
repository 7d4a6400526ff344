"""Anomaly detection: the task the benchmark runs for `--type anomaly` projects.

How a candidate is judged, the way the library will be used: for each random
split, the library learns a random subset of the nominal lines (in random order,
one at a time, as on the device), then detects the held-out nominal lines and
every abnormal line; at the 90 % similarity threshold this gives a balanced
accuracy, and the two similarity populations give a functional margin. Each
signal couple is a separate dataset; a candidate's score is its worst (split,
couple) score.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from .. import csearch
from ..errors import InputError, UsageError
from ..filtering import FilterDesign, filter_lines
from ..filtering import design as design_filter
from ..filtering import memory as filter_memory
from ..pipeline import MIN_SEGMENT, estimate_memory, is_power_of_two, pass_band, pre_signature
from ..project import Project
from ..cost import anomaly_terms
from ..scoring import Limits, ci95
from . import Task

N_SPLITS = 5
FIRST_SPLITS = 2  # splits run before a candidate may be rejected
LEARN_FRACTION = 0.6
MAX_LEARN = 600
MAX_DETECT = 1500
THRESHOLD = 90
SCREEN_MODELS = (
    {"kind": "gauss", "reg": 0.01, "calib": 3.0, "warmup": 5},
    {"kind": "proto", "k": 8, "reg": 0.01, "calib": 3.0, "warmup": 5},
)


@dataclass
class AnomalyData:
    axes: int
    buffer_size: int
    couples: list[tuple[int, np.ndarray, np.ndarray]]  # (couple, nominal, abnormal)
    filter: FilterDesign | None = None  # the project's frequency filter, already applied to the lines


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

    def lines(role: str, couple: int) -> np.ndarray:
        values = np.vstack([project.load_values(e) for e in project.signals_with(role, couple)])
        return filter_lines(design, values, s.axes, project.buffer_size)

    for couple in project.couples():
        nominal, abnormal = lines("nominal", couple), lines("abnormal", couple)
        if len(nominal) < 6:
            raise InputError(
                f"couple {couple} has only {len(nominal)} nominal lines: too few to learn on some and test on others",
                "Import at least 20 nominal lines per axis (the Studio's bare minimum).",
            )
        couples.append((couple, nominal, abnormal))
    return AnomalyData(s.axes, project.buffer_size, couples, design)


@dataclass
class Split:
    learn: np.ndarray  # indices into nominal, in learning order
    test_nominal: np.ndarray
    test_abnormal: np.ndarray


def make_splits(n_nominal: int, n_abnormal: int, seed: int, couple: int) -> list[Split]:
    rng = np.random.default_rng([seed, couple, 7])
    splits = []
    n_learn = min(MAX_LEARN, max(2, int(round(n_nominal * LEARN_FRACTION))))
    n_learn = min(n_learn, n_nominal - 1)
    for _ in range(N_SPLITS):
        perm = rng.permutation(n_nominal)
        test = perm[n_learn:][:MAX_DETECT]
        abn = rng.permutation(n_abnormal)[:MAX_DETECT]
        splits.append(Split(perm[:n_learn], np.sort(test), np.sort(abn)))
    return splits


# ---------------------------------------------------------------------- the space
FFT_BANDS = (4, 8, 16, 32, 64)
RAW_DECIM = (1, 2, 4, 8)
REGS = (0.0, 0.001, 0.01, 0.1, 1.0)
CALIBS = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0)
WARMUPS = (2, 5, 10)
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


def model_space() -> list[dict]:
    space = []
    for reg in REGS:
        for calib in CALIBS:
            for warmup in WARMUPS:
                space.append({"kind": "gauss", "reg": reg, "calib": calib, "warmup": warmup})
                for k in PROTO_K:
                    space.append({"kind": "proto", "k": k, "reg": reg, "calib": calib, "warmup": warmup})
    return space


def space_size(axes: int, buffer_size: int) -> int:
    return len(preprocessing_space(axes, buffer_size)) * len(model_space())


def neighbour(model: dict, rng: np.random.Generator) -> dict:
    """A model close to `model`: one hyperparameter moved to an adjacent value."""
    m = dict(model)
    options = [("reg", REGS), ("calib", CALIBS), ("warmup", WARMUPS)]
    if m["kind"] == "proto":
        options.append(("k", PROTO_K))
    name, values = options[int(rng.integers(len(options)))]
    i = values.index(m[name]) if m[name] in values else 0
    m[name] = values[int(np.clip(i + rng.choice([-1, 1]), 0, len(values) - 1))]
    return m


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


def score_split(model: dict, feats: np.ndarray, learn, detect, n_nominal: int, resource: float):
    """Learn rows `learn` of feats one by one, detect rows `detect` (the first
    n_nominal of them nominal): (split score, balanced accuracy, margin)."""
    _, sims = csearch.run(model, feats, learn, detect)
    ba = _balanced_accuracy(sims[:n_nominal], sims[n_nominal:])
    margin = _margin(sims[:n_nominal], sims[n_nominal:])
    return split_score(ba, margin, resource), ba, margin


def worst_split_result(rows: list, ram: int, flash: int) -> dict:
    """The evaluation result of a candidate from its (score, ba, margin) rows: worst split first."""
    scores = np.array(rows)
    worst = int(np.argmin(scores[:, 0]))
    ba_all = scores[:, 1]
    return {
        "status": "ok",
        "score": round(float(scores[worst, 0]), 4),
        "metrics": {
            "balanced_accuracy": round(float(ba_all.min()), 4),
            "functional_margin": round(float(scores[:, 2].min()), 4),
            "balanced_accuracy_mean": round(float(ba_all.mean()), 4),
            "balanced_accuracy_ci95": ci95(ba_all),
        },
        "ram_bytes": ram,
        "flash_bytes": flash,
    }


class AnomalyEvaluator:
    """Evaluates pipelines on fixed splits; caches features per preprocessing."""

    def __init__(self, data: AnomalyData, seed: int, max_ram: float | None = None, max_flash: float | None = None,
                 *, limits: Limits | None = None):
        self.data = data
        self.limits = limits or Limits(max_ram, max_flash)
        self.max_ram = self.limits.max_ram
        self.max_flash = self.limits.max_flash
        self.splits = {
            couple: make_splits(len(nom), len(abn), seed, couple) for couple, nom, abn in data.couples
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
        resource = self.limits.resource(ram, flash, instructions)
        feats = self._features(pipeline["pre"])
        rows = []  # (score, ba, margin) per (split, couple)
        for split_i in range(N_SPLITS):
            for (couple, _, _), (f_nom, f_abn) in zip(self.data.couples, feats):
                split = self.splits[couple][split_i]
                rows.append(self._run_split(pipeline["model"], f_nom, f_abn, split, resource))
            if prune_below is not None and split_i + 1 == FIRST_SPLITS:
                partial = min(r[0] for r in rows)
                if partial <= prune_below:
                    return {"status": "rejected", "partial_score": round(partial, 4), "ram_bytes": ram, "flash_bytes": flash}
        return {**worst_split_result(rows, ram, flash), "instructions": instructions}

    def _run_split(self, model, f_nom, f_abn, split: Split, resource: float):
        both = np.vstack([f_nom, f_abn[split.test_abnormal]])
        detect = np.concatenate([split.test_nominal, len(f_nom) + np.arange(len(split.test_abnormal))])
        return score_split(model, both, split.learn, detect, len(split.test_nominal), resource)

    def learning_curve(self, pipeline: dict) -> dict:
        """Balanced accuracy against the number of learned lines, and the
        recommended minimum: the first count from which the balanced accuracy
        stays within 0.02 of what the full learning set reaches."""
        model = pipeline["model"]
        feats = self._features(pipeline["pre"])
        counts = None
        curves = []
        for split_i in range(N_SPLITS):
            for (couple, _, _), (f_nom, f_abn) in zip(self.data.couples, feats):
                split = self.splits[couple][split_i]
                n_learn = len(split.learn)
                if counts is None:
                    counts = sorted({c for c in list(range(1, 21)) + list(np.unique(np.geomspace(20, n_learn, 24).astype(int))) if c <= n_learn})
                both = np.vstack([f_nom, f_abn[split.test_abnormal]])
                detect = np.concatenate([split.test_nominal, len(f_nom) + np.arange(len(split.test_abnormal))])
                sims = csearch.curve(model, both, split.learn, detect, counts)
                n_nom = len(split.test_nominal)
                curves.append([_balanced_accuracy(row[:n_nom], row[n_nom:]) for row in sims])
        mean_curve = np.mean(np.array(curves), axis=0)
        final = mean_curve[-1]
        ok = mean_curve >= final - 0.02
        recommended = counts[-1]
        for i in range(len(counts)):
            if ok[i:].all():
                recommended = counts[i]
                break
        return {
            "counts": [int(c) for c in counts],
            "balanced_accuracy": [round(float(v), 4) for v in mean_curve],
            "min_learning_iterations": int(max(recommended, model.get("warmup", 2) + 2)),
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
        }
