"""Model-based proposals for the benchmark: Optuna's TPE over the task's space.

The space a task gives is a list of preprocessing dicts and a list of model
dicts; `SpaceCodec` turns it into Optuna's define-by-run form (a categorical
`kind`, then that kind's parameters, conditional on it) and back.

TPE's cost per proposal grows with the number of trials it is shown, while one
evaluation here takes a few milliseconds. So each generation rebuilds a study
from a bounded window of history (the best trials and the latest ones) with a
sampler seeded from (seed, generation): the cost stays flat however long the
run, and the proposals depend only on the seed and on what earlier generations
found, never on timing or core count.
"""
from __future__ import annotations

import json
import warnings
from collections import defaultdict

import numpy as np

WINDOW_BEST = 64
WINDOW_RECENT = 192


def _canon(value):
    return json.dumps(value, sort_keys=True)


class SpaceCodec:
    """Pipelines <-> Optuna parameters, for the space of one task."""

    def __init__(self, pres: list[dict], models: list[dict]):
        self.parts = {"pre": self._group(pres), "model": self._group(models)}
        self.valid = {"pre": {_canon(p) for p in pres}, "model": {_canon(m) for m in models}}

    @staticmethod
    def _group(items: list[dict]) -> dict[str, dict[str, list]]:
        kinds: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
        for item in items:
            for key, value in item.items():
                if key != "kind" and value not in kinds[item["kind"]][key]:
                    kinds[item["kind"]][key].append(value)
            kinds[item["kind"]]  # a kind without parameters (e.g. stats)
        # A key some items of a kind leave out (e.g. {"kind": "stats"} next to
        # {"kind": "stats", "cross": True}) takes the value None for them.
        for item in items:
            for key, values in kinds[item["kind"]].items():
                if key not in item and None not in values:
                    values.append(None)
        return {k: dict(v) for k, v in kinds.items()}

    def contains(self, pipeline: dict) -> bool:
        return all(_canon(pipeline[part]) in self.valid[part] for part in ("pre", "model"))

    def distributions(self, pipeline: dict) -> tuple[dict, dict]:
        from optuna.distributions import CategoricalDistribution

        params, dists = {}, {}
        for part in ("pre", "model"):
            item = pipeline[part]
            kinds = self.parts[part]
            params[f"{part}.kind"] = item["kind"]
            dists[f"{part}.kind"] = CategoricalDistribution(sorted(kinds))
            for key, values in kinds[item["kind"]].items():
                name = f"{part}.{item['kind']}.{key}"
                params[name] = item.get(key)
                dists[name] = CategoricalDistribution(values)
        return params, dists

    def suggest(self, trial) -> dict | None:
        """A pipeline from a trial, or None if the combination is not in the space."""
        pipeline = {}
        for part in ("pre", "model"):
            kinds = self.parts[part]
            kind = trial.suggest_categorical(f"{part}.kind", sorted(kinds))
            item = {"kind": kind}
            for key, values in kinds[kind].items():
                value = trial.suggest_categorical(f"{part}.{kind}.{key}", values)
                if value is not None:
                    item[key] = value
            if _canon(item) not in self.valid[part]:
                return None
            pipeline[part] = item
        return pipeline


def tpe_proposals(
    n: int, seed: int, gen: int, codec: SpaceCodec, history: list[tuple[dict, float]], exclude: set[str], key
) -> list[dict]:
    """Up to n new pipelines proposed by TPE from a bounded window of history
    ((pipeline, score) pairs in evaluation order)."""
    import optuna
    from optuna.trial import create_trial

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    best = sorted(range(len(history)), key=lambda i: (-history[i][1], i))[:WINDOW_BEST]
    recent = range(max(0, len(history) - WINDOW_RECENT), len(history))
    window = [history[i] for i in sorted(set(best) | set(recent))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # multivariate/group are flagged experimental
        sampler = optuna.samplers.TPESampler(
            seed=int(np.random.SeedSequence([seed, gen, 13]).generate_state(1)[0]),
            # Grouped multivariate TPE: the space is conditional (parameters per kind);
            # univariate TPE proposed mostly duplicates and invalid combinations.
            multivariate=True, group=True, constant_liar=True, n_startup_trials=16,
        )
        study = optuna.create_study(direction="maximize", sampler=sampler)
        trials = []
        for pipeline, score in window:
            if not codec.contains(pipeline):  # e.g. from a resumed run with another space
                continue
            params, dists = codec.distributions(pipeline)
            trials.append(create_trial(params=params, distributions=dists, value=float(score)))
        study.add_trials(trials)
        out: list[dict] = []
        keys: set[str] = set()
        for _ in range(3 * n):
            if len(out) >= n:
                break
            trial = study.ask()
            pipeline = codec.suggest(trial)
            k = key(pipeline) if pipeline else None
            if pipeline is None or k in exclude or k in keys:
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                continue
            keys.add(k)
            out.append(pipeline)
    return out
