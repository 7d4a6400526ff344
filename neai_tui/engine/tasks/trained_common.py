"""What the three trained project types (n-class, 1-class, extrapolation) share.

Unlike anomaly detection, these libraries are trained in the Studio and ship
their knowledge as constants, so a candidate is judged the way a trained model
is: fit on part of the project's lines, predict the rest. The task modules
(nclass.py, oneclass.py, extrapolation.py) only say how one split's
predictions become a score and metrics; everything else is here:

* **Data** (`load_trained_data`): every imported line, as raw buffers
  (lines × axes·buffer, interleaved as in the files) plus its label: the class
  id 0..C-1 in the order the classes were imported (n-class; the deployed
  library reports id + 1, since its id 0 is "unknown"), nothing (1-class), or
  the target, column 1 of the file (extrapolation).
* **Space**: every preprocessing of anomaly detection (the same C front end)
  × every grid combination of every model family of `trained.FAMILIES[task]`.
  A PCA asking for as many components as there are features (or fitted
  lines), or more, is pointless for that preprocessing: the candidate is
  "invalid" (not scored), and so is one whose fit fails (ValueError: a
  degenerate fit, non-finite learned values).
* **Splits**: 5 random splits, 70 % fit / 30 % test (stratified by class for
  n-class: every class is in both parts; 1-class always holds out a contiguous
  block of each file, as below for a file of one run), drawn from the benchmark seed, so
  every candidate sees the same ones. Fitting is seeded by (seed, split).
  When a file's lines are windows cut with overlap from a continuous
  recording (overlap.line_hop finds consecutive lines repeating samples), a
  random split would test on near-copies of fitted lines and every candidate
  would look perfect. Consecutive lines that overlap form a run (a
  recording; a file concatenating recordings has one run each, found where
  the overlap breaks). Each split then holds out whole runs of every file
  (each class's lines for n-class), in turn along a seeded order, so the
  worst split tells how a library does on a recording it never saw; a file of
  one run gets a contiguous block at a seeded position that moves from split
  to split, the lines sharing samples with the block left out of the fit
  ("blocks" in the benchmark's data summary).
* **Judging**: a candidate's score is its worst split's score; after the first
  2 splits a candidate already at or below the current 10th best is rejected
  without the rest (exact successive halving, as for anomaly detection). Size
  comes from `trained.estimate_memory` on the fitted model and the
  instructions per inference from `cost.trained_terms` (each the largest over
  the splits); past the project's RAM, flash or time limit the candidate is
  "too-big".
  Each split score is 100 × (w_main·main + w_second·secondary + 0.1·resource),
  the weights and measures being set per task (see each task module).
* Features come from the C front end (csearch.features, float32), computed once
  per preprocessing and cached; a preprocessing whose features are not finite
  on some line is "invalid".
"""
from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field, replace

import numpy as np

from .. import csearch
from ..filtering import FilterDesign, filter_lines
from ..filtering import design as design_filter
from ..filtering import memory as filter_memory
from ..overlap import file_runs
from ..errors import InputError, UsageError
from ..project import TYPE_TITLES, Project
from ..cost import trained_terms
from ..scoring import Limits
from . import Task
from .anomaly import AXIS_RELATIONS, filter_design
from .anomaly import preprocessing_space as _anomaly_preprocessing_space

N_SPLITS = 5
FIRST_SPLITS = 2  # splits run before a candidate may be rejected
TEST_FRACTION = 0.3
MAX_FIT = 3000  # lines fitted per split at most (kept fast on big projects)
MAX_TEST = 3000
MIN_LINES = 6  # 1-class / extrapolation: fewer cannot be split into fit and test
MIN_LINES_PER_CLASS = 2  # n-class: one to fit, one to test
RESOURCE_WEIGHT = 0.1
TRANSFORM_CACHE_PRES = 8  # preprocessings whose fitted scalings/PCAs are kept per evaluator
ROW_CACHE_PIPELINES = 10000  # pipelines whose per-split measures are kept (a few hundred bytes each)


def _trained():
    # Imported late: the catalogue is a sibling module that may be absent in
    # partial checkouts, and the anomaly task must not depend on it.
    from .. import trained

    return trained


@dataclass
class TrainedData:
    task: str
    axes: int
    buffer_size: int
    lines: np.ndarray  # float32, lines × (axes·buffer_size): the buffers only
    y: np.ndarray | None  # n-class: int64 ids 0..C-1; extrapolation: float64 targets; 1-class: None
    class_names: list[str] = field(default_factory=list)  # n-class, in id order
    # Per line, the index of the imported file it comes from (None: one file).
    sources: np.ndarray | None = None
    # Lines on each side of a line that share samples with it (0: none; see overlap.py).
    gap: int = 0
    # Per line, its continuous run (recording), numbered across files; None: unknown.
    runs: np.ndarray | None = None
    # The project's frequency filter, already applied to `lines` (None: none).
    filter: FilterDesign | None = None

    @property
    def blocked(self) -> bool:
        """Splits hold out contiguous blocks (the lines overlap their neighbours)."""
        return self.gap > 0


def _overlap(parts: list[np.ndarray], axes: int, buffer_size: int) -> tuple[int, np.ndarray]:
    """(the largest number of neighbours sharing samples over the files, the
    continuous run of every line, numbered across the files)."""
    return file_runs(parts, axes, buffer_size)


PROJECT_FILTER = "project"


def load_trained_data(project: Project, task: str, frequency_filter: dict | None | str = PROJECT_FILTER) -> TrainedData:
    """The lines (through the project's frequency filter, or the one given: a
    library's is the one its benchmark used) and labels of a trained project, or
    an error saying what is missing."""
    data = _load_lines(project, task)
    design = filter_design(project) if frequency_filter == PROJECT_FILTER else design_filter(frequency_filter)
    if design is None:
        return data
    return replace(data, lines=filter_lines(design, data.lines, data.axes, data.buffer_size), filter=design)


def _load_lines(project: Project, task: str) -> TrainedData:
    s = project.settings
    if s.type != task:
        raise UsageError(
            f"this project is {TYPE_TITLES.get(s.type, s.type)}, not {TYPE_TITLES[task]}",
            "Benchmark it with the task of its own type.",
        )
    blocking = [p for p in project.check() if p.severity == "error"]
    if blocking:
        p = blocking[0]
        raise InputError(f"{p.location()}: {p.message}", f"Fix: {p.hint} (run `neai check DIR` for all findings)")
    axes, buffer_size = s.axes, project.buffer_size
    if task == "n-class":
        parts, ids, names = [], [], []
        for class_id, entry in enumerate(project.signals):
            values = project.load_values(entry)
            if len(values) < MIN_LINES_PER_CLASS:
                raise InputError(
                    f"class '{entry.class_name}' has only {len(values)} line(s): too few to fit on some and test on others",
                    f"Import at least {MIN_LINES_PER_CLASS} lines per class; the Studio's bare minimum is "
                    f"20 lines per axis ({20 * axes}).",
                )
            parts.append(values)
            ids.append(np.full(len(values), class_id, dtype=np.int64))
            names.append(entry.class_name or entry.id)
        gap, runs = _overlap(parts, axes, buffer_size)
        return TrainedData(
            task, axes, buffer_size, np.vstack(parts).astype(np.float32), np.concatenate(ids), names,
            sources=np.concatenate(ids), gap=gap, runs=runs,
        )
    parts = [project.load_values(e) for e in project.signals]
    values = np.vstack(parts)
    sources = np.concatenate([np.full(len(v), i, dtype=np.int64) for i, v in enumerate(parts)])
    buffers = [v[:, 1:] for v in parts] if task == "extrapolation" else parts
    gap, runs = _overlap(buffers, axes, buffer_size)
    if len(values) < MIN_LINES:
        raise InputError(
            f"the project has only {len(values)} line(s): too few to fit on some and test on others",
            f"Import at least {MIN_LINES} lines; the Studio's bare minimum is 20 lines per axis ({20 * axes}).",
        )
    if task == "extrapolation":
        targets = values[:, 0].astype(np.float64)
        if np.ptp(targets) == 0:
            raise InputError(
                f"the target (column 1) is {targets[0]:g} on every line: there is nothing to extrapolate",
                "Record signals over the range of target values the library must predict.",
            )
        return TrainedData(task, axes, buffer_size, values[:, 1:].astype(np.float32), targets,
                           sources=sources, gap=gap, runs=runs)
    return TrainedData(task, axes, buffer_size, values.astype(np.float32), None, sources=sources, gap=gap, runs=runs)


# ---------------------------------------------------------------------- splits
@dataclass
class Split:
    fit: np.ndarray  # sorted indices into the lines
    test: np.ndarray


def block_split(members: np.ndarray, k: int, rng: np.random.Generator, gap: int) -> tuple[np.ndarray, np.ndarray]:
    """(fit, test) of one stratum's lines (indices in file order) for split k:
    test is a contiguous block of TEST_FRACTION of them (wrapping past the end),
    its position spread over the file from split to split; fit is the rest but
    the `gap` lines either side of the block, which share samples with it."""
    n = len(members)
    n_test = min(max(1, int(round(n * TEST_FRACTION))), max(1, n - 1 - 2 * gap))
    start = int((k + rng.random()) * n / N_SPLITS) % n
    test_pos = (start + np.arange(n_test)) % n
    near = np.zeros(n, dtype=bool)
    for offset in range(-gap, gap + 1):
        near[np.clip(test_pos + offset, 0, n - 1)] = True
    fit_pos = np.flatnonzero(~near)
    if not len(fit_pos):  # too few lines for a gap: keep the fit part non-empty
        fit_pos = np.setdiff1d(np.arange(n), test_pos)
    return members[fit_pos], members[test_pos]


def run_split(members: np.ndarray, runs: np.ndarray, k: int, order: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """(fit, test) of one stratum made of several continuous runs (recordings):
    whole runs are held out, taken in turn along `order` (a seeded shuffle of
    the stratum's runs, so a file sorted by target or class does not lose a
    whole range of it), split k starting where split k-1 stopped, until
    TEST_FRACTION of the lines is reached, always leaving one run to fit on."""
    m = len(order)
    start = k * max(1, int(round(m * TEST_FRACTION)))
    held: list[int] = []
    for j in range(m - 1):
        held.append(order[(start + j) % m])
        if np.isin(runs, held).sum() >= TEST_FRACTION * len(members):
            break
    test = np.isin(runs, held)
    return members[~test], members[test]


def _capped(indices: np.ndarray, cap: int, rng: np.random.Generator) -> np.ndarray:
    return indices if len(indices) <= cap else rng.choice(indices, cap, replace=False)


def make_splits(data: TrainedData, seed: int) -> list[Split]:
    """N_SPLITS fit/test splits: random, or contiguous blocks when lines overlap
    (data.blocked); stratified by class for n-class."""
    rng = np.random.default_rng([seed, 17])
    if data.blocked or data.task == "one-class":
        # 1-class always holds out contiguous blocks of each file: its recall must
        # tell how the boundary does on lines recorded later, not on neighbours of
        # fitted lines (a drift, a new recording), and it is the measure that ranks.
        return _block_splits(data, rng)
    n = len(data.lines)
    splits = []
    for _ in range(N_SPLITS):
        if data.task == "n-class":
            fit_parts, test_parts = [], []
            n_classes = len(data.class_names)
            cap_fit = max(1, MAX_FIT // n_classes)
            cap_test = max(1, MAX_TEST // n_classes)
            for c in range(n_classes):
                members = rng.permutation(np.flatnonzero(data.y == c))
                n_test = min(len(members) - 1, max(1, int(round(len(members) * TEST_FRACTION))))
                test_parts.append(members[:n_test][:cap_test])
                fit_parts.append(members[n_test:][:cap_fit])
            fit, test = np.concatenate(fit_parts), np.concatenate(test_parts)
        else:
            perm = rng.permutation(n)
            n_test = min(n - 2, max(2, int(round(n * TEST_FRACTION))))
            test, fit = perm[:n_test][:MAX_TEST], perm[n_test:][:MAX_FIT]
        splits.append(Split(np.sort(fit), np.sort(test)))
    return splits


def _block_splits(data: TrainedData, rng: np.random.Generator) -> list[Split]:
    if data.task == "n-class":
        strata = [np.flatnonzero(data.y == c) for c in range(len(data.class_names))]
    else:
        sources = data.sources if data.sources is not None else np.zeros(len(data.lines), dtype=np.int64)
        strata = [np.flatnonzero(sources == s) for s in np.unique(sources)]
        strata = [m for m in strata if len(m) >= 2] or [np.arange(len(data.lines))]
    cap_fit = max(1, MAX_FIT // len(strata))
    cap_test = max(1, MAX_TEST // len(strata))
    runs = data.runs if data.runs is not None else np.zeros(len(data.lines), dtype=np.int64)
    orders = [rng.permutation(np.unique(runs[m])).tolist() for m in strata]
    splits = []
    for k in range(N_SPLITS):
        fit_parts, test_parts = [], []
        for members, order in zip(strata, orders):
            if len(order) > 1:
                fit, test = run_split(members, runs[members], k, order)
            else:
                fit, test = block_split(members, k, rng, data.gap)
            fit_parts.append(_capped(fit, cap_fit, rng))
            test_parts.append(test[:cap_test])
        splits.append(Split(np.sort(np.concatenate(fit_parts)), np.sort(np.concatenate(test_parts))))
    return splits


# ---------------------------------------------------------------------- the space
def model_space(task: str) -> list[dict]:
    """Every grid combination of every model family of the task, in catalogue order."""
    space = []
    for kind, family in _trained().FAMILIES[task].items():
        names = list(family.grid)
        for combo in itertools.product(*(tuple(family.grid[name]) for name in names)):
            space.append({"kind": kind, **dict(zip(names, combo))})
    return space


# Families whose fit costs 10-100x the others (iterative solvers, kernels): left
# out of the first generation's screen of every preprocessing, which would
# otherwise spend minutes on them; later generations still draw them.
SLOW_TO_SCREEN = {"mlp", "svr", "ocsvm"}


def screening_models(task: str) -> list[dict]:
    """Each fast family's default model."""
    return [
        {"kind": kind, **dict(family.default)}
        for kind, family in _trained().FAMILIES[task].items()
        if kind not in SLOW_TO_SCREEN
    ]


# The families every preprocessing is screened with first: fast, and their
# ranking of the preprocessings follows the best of every family's default
# (Spearman over the 388 preprocessings of the samples: n-class logreg 0.98, gnb
# 0.80; 1-class prototypes 0.89, Mahalanobis 0.15; extrapolation ridge 0.87, SVR
# 0.41). n-class: the nearest neighbour (16 lines per class) ranks like logreg
# for a third of its cost (Spearman 0.95 on ITSC's 13 classes, logreg 0.90; 0.88
# on the sample, logreg 0.97; both keep 85-100 % of the 20 best preprocessings
# in the quarter the family screen goes on with).
PROBE = {"n-class": ("nn",), "one-class": ("proto", "nn"), "extrapolation": ("ridge",)}


def probe_models(task: str) -> list[dict]:
    return [m for m in screening_models(task) if m["kind"] in PROBE[task]]


def neighbour(task: str, model: dict, rng: np.random.Generator) -> dict:
    """A model close to `model`: one hyperparameter moved to an adjacent grid value."""
    family = _trained().FAMILIES[task][model["kind"]]
    options = [(name, tuple(values)) for name, values in family.grid.items() if len(tuple(values)) > 1]
    m = dict(model)
    if not options:
        return m
    name, values = options[int(rng.integers(len(options)))]
    i = values.index(m[name]) if m.get(name) in values else 0
    m[name] = values[int(np.clip(i + rng.choice([-1, 1]), 0, len(values) - 1))]
    return m


def pca_components(model: dict) -> int:
    """Components the model's PCA keeps; 0 when it has none."""
    return int(model.get("pca") or 0)


# ---------------------------------------------------------------------- judging
class TrainedEvaluator:
    """Fits and tests pipelines on fixed splits; caches features per preprocessing.

    Subclasses give `split_result(fitted, feats, split, extra_feats)` -> one
    split's measures (None: the candidate is invalid), `score(measures,
    resource)` -> that split's score, and `aggregate(rows)` -> the metrics.
    """

    def __init__(self, data: TrainedData, seed: int, max_ram: float | None = None, max_flash: float | None = None,
                 *, limits: Limits | None = None):
        self.data = data
        self.seed = int(seed)
        self.limits = limits or Limits(max_ram, max_flash)
        self.max_ram = self.limits.max_ram
        self.max_flash = self.limits.max_flash
        self.splits = make_splits(data, self.seed)
        self.min_fit_lines = min(len(s.fit) for s in self.splits)
        self.extra_inputs: list[np.ndarray] = []  # other raw lines to featurise with each preprocessing
        self._cache: dict[str, tuple[np.ndarray, list[np.ndarray]] | None] = {}
        self._fitted_transforms: dict[str, list[dict]] = {}
        self._rows: dict[str, dict[int, tuple]] = {}

    def features(self, pre: dict) -> tuple[np.ndarray, list[np.ndarray]] | None:
        """(features of the project's lines, features of each extra input set), or
        None when the preprocessing gives non-finite features on some project line.
        Extra rows that are not finite are dropped."""
        key = json.dumps(pre, sort_keys=True)
        if key not in self._cache:
            if len(self._cache) > 64:
                self._cache.pop(next(iter(self._cache)))
            d = self.data
            feats = csearch.features(pre, d.lines, d.axes, d.buffer_size)
            if not np.isfinite(feats).all():
                self._cache[key] = None
            else:
                extra = []
                for inputs in self.extra_inputs:
                    f = csearch.features(pre, inputs, d.axes, d.buffer_size)
                    extra.append(f[np.isfinite(f).all(axis=1)])
                self._cache[key] = (feats, extra)
        return self._cache[key]

    def fit_seed(self, split_i: int) -> int:
        return int(np.random.SeedSequence([self.seed, split_i, 23]).generate_state(1)[0] % (2**31))

    def fit(self, model: dict, feats: np.ndarray, split: Split, split_i: int, transforms: dict | None = None):
        y = None if self.data.y is None else self.data.y[split.fit]
        return _trained().fit(self.data.task, model, feats[split.fit], y, self.fit_seed(split_i), transforms)

    def _transforms(self, pre_key: str, split_i: int) -> dict:
        """The fitted scalings and PCAs of one preprocessing's features on one
        split's fitted lines (trained.fit fills it): every candidate on the same
        preprocessing and split shares them. Kept for the last few preprocessings
        (the engine sends a worker its candidates grouped by preprocessing)."""
        if pre_key not in self._fitted_transforms:
            if len(self._fitted_transforms) >= TRANSFORM_CACHE_PRES:
                self._fitted_transforms.pop(next(iter(self._fitted_transforms)))
            self._fitted_transforms[pre_key] = [{} for _ in self.splits]
        return self._fitted_transforms[pre_key][split_i]

    def split_outcome(self, pre_key: str, model: dict, feats, extra, split_i: int, sections: int = 0) -> tuple:
        """(measures or None, RAM, flash, instructions per inference on the
        project's core) of one split, or ("invalid", reason):
        computed once per effective pipeline and split (trained.effective_model:
        two models fitted the same way share it), whatever the pruning
        threshold, so a candidate's outcome never depends on what was cached."""
        try:
            effective = _trained().effective_model(self.data.task, model)
        except ValueError as exc:  # not a model of the catalogue
            return ("invalid", f"the model cannot be fitted: {exc}")
        key = pre_key + json.dumps(effective, sort_keys=True)
        rows = self._rows.get(key)
        if rows is None:
            if len(self._rows) >= ROW_CACHE_PIPELINES:
                self._rows.pop(next(iter(self._rows)))
            rows = self._rows[key] = {}
        if split_i not in rows:
            split = self.splits[split_i]
            try:
                fitted = self.fit(model, feats, split, split_i, self._transforms(pre_key, split_i))
            except ValueError as exc:  # numpy's LinAlgError included: a degenerate fit
                rows[split_i] = ("invalid", f"the model cannot be fitted: {exc}")
            else:
                pre = json.loads(pre_key)
                r, f = _trained().estimate_memory(fitted, pre, self.data.axes, self.data.buffer_size)
                cost = self.limits.instructions(trained_terms(fitted, pre, self.data.axes, self.data.buffer_size,
                                                              sections))
                rows[split_i] = (self.split_result(fitted, feats, split, extra), int(r), int(f), int(cost))
        return rows[split_i]

    def evaluate(self, pipeline: dict, prune_below: float | None = None) -> dict:
        pre, model = pipeline["pre"], pipeline["model"]
        cached = self.features(pre)
        if cached is None:
            return {"status": "invalid", "reason": "the preprocessing gives non-finite features"}
        feats, extra = cached
        components = pca_components(model)
        if components and components >= min(feats.shape[1], self.min_fit_lines):
            return {"status": "invalid", "reason": f"PCA {components} on {feats.shape[1]} features"}
        pre_key = json.dumps(pre, sort_keys=True)
        ram, flash = filter_memory(self.data.filter, self.data.axes, self.data.buffer_size)
        extra_ram, extra_flash = ram, flash
        instructions = 0
        sections = self.data.filter.sections if self.data.filter is not None else 0
        rows: list[dict] = []
        for split_i in range(len(self.splits)):
            outcome = self.split_outcome(pre_key, model, feats, extra, split_i, sections)
            if outcome[0] == "invalid":
                return {"status": "invalid", "reason": outcome[1]}
            row, r, f, cost = outcome
            ram, flash = max(ram, r + extra_ram), max(flash, f + extra_flash)
            instructions = max(instructions, cost)
            too_big = self.limits.over(ram, flash, instructions)
            if too_big:
                return too_big
            if row is None:
                return {"status": "invalid", "reason": "the model's outputs are not finite"}
            rows.append(row)
            if prune_below is not None and split_i + 1 == FIRST_SPLITS:
                # The resource term uses the size and cost so far; they only grow, so this bound is safe.
                resource = self.limits.resource(ram, flash, instructions)
                partial = min(self.score(row, resource) for row in rows)
                if partial <= prune_below:
                    return {"status": "rejected", "partial_score": round(partial, 4), "ram_bytes": ram,
                            "flash_bytes": flash}
        resource = self.limits.resource(ram, flash, instructions)
        scores = [self.score(row, resource) for row in rows]
        metrics = self.aggregate(rows)
        return {
            "status": "ok",
            "score": round(float(min(scores)), 4),
            "metrics": metrics,
            "ram_bytes": ram,
            "flash_bytes": flash,
            "instructions": instructions,
        }

    # -- per task ------------------------------------------------------------------
    def split_result(self, fitted, feats: np.ndarray, split: Split, extra: list[np.ndarray]) -> dict | None:
        raise NotImplementedError

    def score(self, row: dict, resource: float) -> float:
        raise NotImplementedError

    def aggregate(self, rows: list[dict]) -> dict:
        raise NotImplementedError


class TrainedTask(Task):
    """A trained project type; subclasses set `name` and `evaluator_class`."""

    evaluator_class = TrainedEvaluator
    screen_slice = 16  # a fit takes 10-100 ms, some seconds on big projects
    tpe_every = 1  # next to such evaluations TPE's proposals cost little
    tpe_size = 16

    def load(self, project: Project) -> TrainedData:
        return load_trained_data(project, self.name)

    def preprocessing_space(self, data: TrainedData) -> list[dict]:
        space = _anomaly_preprocessing_space(data.axes, data.buffer_size)
        # Screened early: on ITSC's 13 short-circuit classes (held-out recordings)
        # 1-NN and extra trees reach ~0.91 balanced accuracy on the 6 covariances
        # of the 3 currents, ~0.85 on per-axis statistics.
        relations = [pre for pre in space if pre in AXIS_RELATIONS]
        return space[:1] + relations + [pre for pre in space[1:] if pre not in relations]

    def model_space(self, data: TrainedData) -> list[dict]:
        return model_space(self.name)

    def screening_models(self, data: TrainedData) -> list[dict]:
        return screening_models(self.name)

    def probe_models(self, data: TrainedData) -> list[dict]:
        return probe_models(self.name)

    def neighbour(self, model: dict, rng: np.random.Generator) -> dict:
        return neighbour(self.name, model, rng)

    def evaluator(self, data: TrainedData, seed: int, max_ram=None, max_flash=None, *, limits=None) -> TrainedEvaluator:
        return self.evaluator_class(data, seed, max_ram, max_flash, limits=limits)

    def summary(self, data: TrainedData) -> dict:
        return {
            "axes": data.axes,
            "buffer_size": data.buffer_size,
            "lines": int(len(data.lines)),
            "splits": N_SPLITS,
            "test_fraction": TEST_FRACTION,
            "split_kind": "blocks" if data.blocked else ("file blocks" if data.task == "one-class" else "random"),
            "overlap_gap": int(data.gap),
            "runs": int(len(np.unique(data.runs))) if data.blocked and data.runs is not None else None,
        }


def worst(values, highest_is_worst: bool = False) -> float:
    values = np.asarray(values, dtype=float)
    return round(float(values.max() if highest_is_worst else values.min()), 4)
