"""What each generation of a benchmark evaluates.

The real search ("tpe") runs in three stages:

1. **Probe screen**: every preprocessing with the task's probe model (one fast
   family whose ranking of the preprocessings follows the best family's: on the
   trained samples, Spearman 0.87-0.98 against the best of every family's
   default), taking the preprocessing families (kind, segments, pass band,
   window) in turns, in slices growing from 8 to `task.screen_slice`.
2. **Family screen**: the task's other screening models, on the best quarter of
   the preprocessings by their probe score. Screening every family on every
   preprocessing cost 2 328 evaluations on the n-class sample (30 s on 2
   cores); the two stages cost 388 + 485 cheaper ones.
   Each screen generation adds a quarter more local moves (below) around the
   best so far, so a good preprocessing found early is tuned early.
3. **Search**: each generation mixes proposals from Optuna's TPE (see
   optimiser.py; computed one generation ahead, in a thread, while the
   workers evaluate: see search.py), local moves around the 10 best (a model
   hyperparameter moved one step, another model of the same family on the
   same preprocessing, or the preprocessing moved one step: one of its
   settings changed) and random draws over the whole space.

"random" is plain random search over the same space: the baseline.

A generation depends only on the seed, its number and what earlier
generations found (the TPE part: what the generations before the previous one
found), never on timing or on the number of workers.
"""
from __future__ import annotations

import json
import math
from collections import defaultdict

import numpy as np

from .optimiser import SpaceCodec, tpe_proposals

TOP_N = 10
GENERATION_SIZE = 64
KEEP_FRACTION = 0.25  # of the preprocessings, by probe score, screened with every fast family
MIN_KEEP = 8
LOCAL_SHARE = 0.6  # of a search generation's draws (after TPE's): moves around the best
# Of the local moves: a model hyperparameter one step, another model of the
# family, the preprocessing one step.
MOVE_SHARES = (0.45, 0.2, 0.35)
PARENT_PRES = 16
FIRST_SLICE = 8
SCREEN_LOCAL = 0.25  # a screen generation adds this share of local moves around the best so far
STRATEGIES = ("tpe", "random")


def _canon(item: dict) -> str:
    """A pipeline's (or one of its parts') key: its JSON with sorted keys."""
    return json.dumps(item, sort_keys=True)


pipeline_key = _canon


def interleaved(pres: list[dict]) -> list[dict]:
    """The preprocessings in turns over their families (kind, segments, pass
    band, window), each family in space order: every slice of the screen
    samples every part of the space."""
    families: dict[tuple, list[dict]] = defaultdict(list)
    for pre in pres:
        families[tuple(_canon(pre.get(k)) for k in ("kind", "segments", "low", "high", "window", "lookback"))].append(pre)
    lists = list(families.values())
    return [lst[i] for i in range(max(map(len, lists), default=0)) for lst in lists if i < len(lst)]


class Proposer:
    """The candidates of each generation, for one task's space."""

    def __init__(self, task, data, pres: list[dict], models: list[dict], seed: int, strategy: str = "tpe"):
        self.task = task
        self.pres = pres
        self.models = models
        self.seed = int(seed)
        self.strategy = strategy
        self.codec = SpaceCodec(pres, models)
        self.slice = max(1, int(task.screen_slice))
        self.tpe_every = max(1, int(task.tpe_every))
        self.tpe_size = int(task.tpe_size)
        screening = task.screening_models(data)
        self.probes = [dict(m) for m in task.probe_models(data)]
        self.rest = [m for m in screening if m not in self.probes]
        self.stage1 = [{"pre": pre, "model": m} for pre in interleaved(pres) for m in self.probes]
        # Stage 1 in slices growing to screen_slice (8, 16, 32, ...): a library is
        # kept when its generation ends, so the first ones come early.
        self._s1_bounds = [0]
        while self._s1_bounds[-1] < len(self.stage1):
            size = min(self.slice, FIRST_SLICE << (len(self._s1_bounds) - 1))
            self._s1_bounds.append(min(len(self.stage1), self._s1_bounds[-1] + size))
        self.n1 = len(self._s1_bounds) - 1
        self.keep = min(len(pres), max(MIN_KEEP, math.ceil(len(pres) * KEEP_FRACTION)))
        self.n2 = -(-self.keep * len(self.rest) // self.slice)
        self._stage2: list[dict] | None = None
        self._pre_index = {_canon(p): i for i, p in enumerate(pres)}
        self._adjacent: list[list[int]] | None = None
        self._best_by_pre: dict[str, tuple[float, int, dict]] = {}  # pre -> (score, order, pipeline)
        self._consumed = 0  # history entries folded into _best_by_pre
        self._by_kind: dict[str, list[dict]] = defaultdict(list)
        for m in models:
            self._by_kind[m["kind"]].append(m)

    # ---------------------------------------------------------------- stages
    @property
    def search_starts(self) -> int:
        """The first generation of the search stage."""
        return 0 if self.strategy == "random" else self.n1 + self.n2

    def stage(self, gen: int) -> str:
        if self.strategy == "random":
            return "random"
        if gen < self.n1:
            return "probe screen"
        if gen < self.search_starts:
            return "family screen"
        return "search"

    def tpe_due(self, gen: int) -> bool:
        """Does generation `gen` take TPE proposals?"""
        return self.strategy != "random" and self.tpe_size > 0 and gen >= self.search_starts \
            and (gen - self.search_starts) % self.tpe_every == 0

    def tpe(self, gen: int, history: list[tuple[dict, float]], exclude) -> list[dict]:
        """TPE's proposals for generation `gen` from `history` ((pipeline, score)
        pairs, in evaluation order); none in `exclude` (a container of keys)."""
        if not history:
            return []
        return tpe_proposals(self.tpe_size, self.seed, gen, self.codec, history, exclude, pipeline_key)

    # ------------------------------------------------------------ generations
    def generation(self, gen: int, top: list[dict], seen: set[str], history: list[tuple[dict, float]],
                   tpe: list[dict] = ()) -> list[dict]:
        """The new pipelines of generation `gen` (none already in `seen`). An
        empty list means the space is exhausted."""
        rng = np.random.default_rng([self.seed, gen, 11])
        out: list[dict] = []
        added: set[str] = set()  # seen is large: not copied, only read

        def add(pipeline: dict) -> None:
            key = pipeline_key(pipeline)
            if key not in seen and key not in added:
                added.add(key)
                out.append(pipeline)

        stage = self.stage(gen)
        if stage == "probe screen":
            for pipeline in self.stage1[self._s1_bounds[gen] : self._s1_bounds[gen + 1]]:
                add(pipeline)
        elif stage == "family screen":
            g = gen - self.n1
            for pipeline in self.stage2(history)[g * self.slice : (g + 1) * self.slice]:
                add(pipeline)
        local = 0.0 if self.strategy == "random" else LOCAL_SHARE
        size = GENERATION_SIZE
        if out:
            if not top:
                return out
            # Moves around the best so far in the screen's generations too.
            size, local = len(out) + math.ceil(len(out) * SCREEN_LOCAL), 1.0
        # The search (or a screen slice evaluated already, e.g. by a resumed run's random draws).
        for pipeline in tpe:
            add(pipeline)
        parents = [r["pipeline"] for r in top[:TOP_N]]
        if local:
            parents += self.best_per_preprocessing(history)
        attempts = 0
        while len(out) < size and attempts < 50 * GENERATION_SIZE:
            attempts += 1
            if parents and rng.random() < local:
                moved = self.local_move(parents[int(rng.integers(len(parents)))], rng)
                if moved is not None and self.codec.contains(moved):
                    add(moved)
            else:
                add(self.random_pipeline(rng))
        if not out and len(seen) + len(added) < len(self.pres) * len(self.models):
            # Draws keep landing on evaluated ones (or a screen slice was all
            # seen): sweep for the rest in order.
            for pre in self.pres:
                for model in self.models:
                    add({"pre": pre, "model": model})
                    if len(out) >= GENERATION_SIZE:
                        return out
        return out

    def stage2(self, history: list[tuple[dict, float]]) -> list[dict]:
        """The family screen: the best `keep` preprocessings by probe score
        (ties and unscored ones in space order) with every other screening model."""
        if self._stage2 is None:
            probes = {_canon(m) for m in self.probes}
            score: dict[str, float] = {}
            for pipeline, s in history:
                if _canon(pipeline["model"]) in probes:
                    key = _canon(pipeline["pre"])
                    score[key] = max(score.get(key, -np.inf), s)
            order = sorted(range(len(self.pres)), key=lambda i: (-score.get(_canon(self.pres[i]), -np.inf), i))
            self._stage2 = [{"pre": self.pres[i], "model": m} for i in order[: self.keep] for m in self.rest]
        return self._stage2

    def best_per_preprocessing(self, history: list[tuple[dict, float]]) -> list[dict]:
        """The best pipeline of each of the PARENT_PRES best preprocessings: local
        moves around them as well as around the 10 best pipelines, which often
        share one preprocessing."""
        for i in range(self._consumed, len(history)):
            pipeline, score = history[i]
            key = _canon(pipeline["pre"])
            if key not in self._best_by_pre or score > self._best_by_pre[key][0]:
                self._best_by_pre[key] = (score, i, pipeline)
        self._consumed = len(history)
        ranked = sorted(self._best_by_pre.values(), key=lambda t: (-t[0], t[1]))
        return [pipeline for _, _, pipeline in ranked[:PARENT_PRES]]

    def random_pipeline(self, rng: np.random.Generator) -> dict:
        return {"pre": self.pres[int(rng.integers(len(self.pres)))],
                "model": self.models[int(rng.integers(len(self.models)))]}

    def local_move(self, parent: dict, rng: np.random.Generator) -> dict | None:
        r = rng.random()
        if r < MOVE_SHARES[0]:
            return {"pre": parent["pre"], "model": self.task.neighbour(parent["model"], rng)}
        if r < MOVE_SHARES[0] + MOVE_SHARES[1]:
            family = self._by_kind.get(parent["model"]["kind"]) or self.models
            return {"pre": parent["pre"], "model": family[int(rng.integers(len(family)))]}
        index = self._pre_index.get(_canon(parent["pre"]))
        if index is None:
            return None
        near = self.adjacent()[index]
        if not near:
            return None
        return {"pre": self.pres[near[int(rng.integers(len(near)))]], "model": parent["model"]}

    def adjacent(self) -> list[list[int]]:
        """For each preprocessing, the ones of its kind that differ in exactly one setting."""
        if self._adjacent is None:
            groups: dict[tuple, list[int]] = defaultdict(list)
            items = [sorted((k, _canon(v)) for k, v in p.items()) for p in self.pres]
            for i, pairs in enumerate(items):
                for j in range(len(pairs)):
                    if pairs[j][0] != "kind":
                        groups[(pairs[j][0], tuple(pairs[:j] + pairs[j + 1 :]))].append(i)
            self._adjacent = [[] for _ in self.pres]
            for members in groups.values():
                for i in members:
                    self._adjacent[i].extend(j for j in members if j != i)
        return self._adjacent
