"""1-class classification: the task the benchmark runs for `--type one-class` projects.

The project holds normal signals only; the library must say whether a new
signal is an outlier. A candidate is fitted on 70 % of the lines and judged
over 5 random splits (see trained_common.py) by two measures:

* ``recall``: the share of held-out normal lines the fitted model calls normal
  (the Studio's measure). Alone it is won by a model that accepts everything,
  so a second measure says how tight the accepted region is:
* ``outlier_rejection``: the share of *synthetic outliers* the model flags. With
  normal data only, outliers are made from the project's own lines, changed
  the way a real fault changes a signal (`synthetic_outliers`): vibration 3×
  stronger, 3× weaker (each axis around its mean, the DC level kept), the time
  axis 1.8× faster or slower (the tone moves up or down in frequency; linear
  interpolation, circular), and every axis's samples shuffled in time (same
  values, flat spectrum). Made in signal space, they pass through each
  candidate's own preprocessing, so the measure compares preprocessings
  fairly; a model accepting everything scores 0, one drawing a tight boundary
  around the normal lines scores near 1.

Split score = 100 × (0.7 · recall + 0.2 · outlier_rejection + 0.1 · resource):
recall decides (a library that raises false alarms on normal signals is not
usable), rejection keeps the boundary tight, resource favours small libraries.
The synthetic outliers are a fixed set (seeded by the benchmark seed) made from
all lines; a synthetic line with non-finite features is dropped (none left:
rejection 0). Metrics are the
worst split's values, with the mean and 95 % interval of the recall.
"""
from __future__ import annotations

import numpy as np

from ..scoring import ci95
from .trained_common import RESOURCE_WEIGHT, TrainedData, TrainedEvaluator, TrainedTask, worst

RECALL_WEIGHT = 0.7
REJECTION_WEIGHT = 0.2
SYNTHETIC_PER_KIND = 100
GAIN_UP, GAIN_DOWN = 3.0, 1.0 / 3.0
TIME_UP, TIME_DOWN = 1.8, 1.0 / 1.8
SYNTHETIC_KINDS = ("louder", "quieter", "faster", "slower", "shuffled")


def synthetic_outliers(lines: np.ndarray, axes: int, buffer_size: int, seed: int) -> np.ndarray:
    """Abnormal-looking lines made from normal ones (see the module docstring),
    SYNTHETIC_PER_KIND (at most the line count) per kind, float32."""
    rng = np.random.default_rng([seed, 29])
    n = len(lines)
    cube = lines.astype(np.float64).reshape(n, buffer_size, axes)
    per_kind = min(SYNTHETIC_PER_KIND, n)
    out = []
    t = np.arange(buffer_size, dtype=np.float64)
    for kind in SYNTHETIC_KINDS:
        src = cube[rng.choice(n, per_kind, replace=False)]
        mean = src.mean(axis=1, keepdims=True)
        if kind == "louder":
            made = mean + GAIN_UP * (src - mean)
        elif kind == "quieter":
            made = mean + GAIN_DOWN * (src - mean)
        elif kind in ("faster", "slower"):
            factor = TIME_UP if kind == "faster" else TIME_DOWN
            pos = (t * factor + rng.uniform(0, buffer_size)) % buffer_size
            lo = np.floor(pos).astype(np.int64)
            hi = (lo + 1) % buffer_size
            frac = (pos - lo)[None, :, None]
            made = src[:, lo, :] * (1 - frac) + src[:, hi, :] * frac
        else:  # shuffled
            made = np.empty_like(src)
            for i in range(per_kind):
                for a in range(axes):
                    made[i, :, a] = src[i, rng.permutation(buffer_size), a]
        out.append(made.reshape(per_kind, buffer_size * axes))
    return np.vstack(out).astype(np.float32)


class OneClassEvaluator(TrainedEvaluator):
    def __init__(self, data: TrainedData, seed: int, max_ram=None, max_flash=None, *, limits=None):
        super().__init__(data, seed, max_ram, max_flash, limits=limits)
        self.extra_inputs = [synthetic_outliers(data.lines, data.axes, data.buffer_size, self.seed)]

    def split_result(self, fitted, feats, split, extra) -> dict:
        normal = np.asarray(fitted.predict(feats[split.test])["outlier"], dtype=bool)
        synthetic = extra[0]
        rejection = float(np.mean(fitted.predict(synthetic)["outlier"])) if len(synthetic) else 0.0
        return {"recall": float(np.mean(~normal)), "outlier_rejection": rejection}

    def score(self, row: dict, resource: float) -> float:
        return 100.0 * (
            RECALL_WEIGHT * row["recall"] + REJECTION_WEIGHT * row["outlier_rejection"] + RESOURCE_WEIGHT * resource
        )

    def aggregate(self, rows: list[dict]) -> dict:
        recall = np.array([r["recall"] for r in rows])
        return {
            "recall": worst(recall),
            "outlier_rejection": worst([r["outlier_rejection"] for r in rows]),
            "recall_mean": round(float(recall.mean()), 4),
            "recall_ci95": ci95(recall),
        }


class OneClassTask(TrainedTask):
    name = "one-class"
    evaluator_class = OneClassEvaluator
