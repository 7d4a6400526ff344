"""Extrapolation (regression): the task the benchmark runs for `--type extrapolation` projects.

Each training line is the target value (column 1), then the buffer; the library
predicts the target from the buffer alone. A candidate is fitted on 70 % of the
lines and predicts the other 30 %, over 5 random splits (see trained_common.py).

Metrics of one split (test lines, y the targets, ŷ the predictions):

* ``r2``: 1 - Σ(y - ŷ)² / Σ(y - mean y)², 1 is perfect, 0 is no better than
  always predicting the mean, negative is worse (0 if the test targets are all
  equal);
* ``smape``: symmetric mean absolute percentage error, in percent, 0..200:
  100 · mean(2|y - ŷ| / (|y| + |ŷ|)), a line with y = ŷ = 0 counting 0;
* ``rmse``: root mean squared error, in the target's unit.

Split score = 100 × (0.8 · clip(r2, 0, 1) + 0.1 · (1 - smape / 200) + 0.1 · resource):
r2 decides (it is scale-free and comparable across projects), the relative
error separates candidates of similar r2 in favour of the one that is right in
proportion on small targets too, and resource favours small libraries. A
candidate's score is its worst split's; reported metrics are the worst split's
(lowest r2, highest smape and rmse), with the mean and 95 % interval of r2.
"""
from __future__ import annotations

import numpy as np

from ..scoring import ci95
from .trained_common import RESOURCE_WEIGHT, TrainedData, TrainedEvaluator, TrainedTask, worst

MAIN_WEIGHT = 0.8
SMAPE_WEIGHT = 0.1


def regression_metrics(y: np.ndarray, pred: np.ndarray) -> dict:
    y = np.asarray(y, dtype=np.float64)
    pred = np.asarray(pred, dtype=np.float64).reshape(-1)
    err = y - pred
    ss_res = float(err @ err)
    centred = y - y.mean()
    ss_tot = float(centred @ centred)
    scale = np.abs(y) + np.abs(pred)
    ratio = np.divide(2 * np.abs(err), scale, out=np.zeros_like(scale), where=scale > 0)
    return {
        "r2": 1.0 - ss_res / ss_tot if ss_tot > 0 else 0.0,
        "smape": 100.0 * float(ratio.mean()),
        "rmse": float(np.sqrt(ss_res / len(y))),
    }


class ExtrapolationEvaluator(TrainedEvaluator):
    def split_result(self, fitted, feats, split, extra) -> dict | None:
        pred = fitted.predict(feats[split.test])["value"]
        if not np.isfinite(np.asarray(pred, dtype=np.float64)).all():
            return None  # the candidate is invalid
        return regression_metrics(self.data.y[split.test], pred)

    def score(self, row: dict, resource: float) -> float:
        return 100.0 * (
            MAIN_WEIGHT * float(np.clip(row["r2"], 0.0, 1.0))
            + SMAPE_WEIGHT * (1.0 - row["smape"] / 200.0)
            + RESOURCE_WEIGHT * resource
        )

    def aggregate(self, rows: list[dict]) -> dict:
        r2 = np.array([r["r2"] for r in rows])
        return {
            "r2": worst(r2),
            "smape": worst([r["smape"] for r in rows], highest_is_worst=True),
            "rmse": worst([r["rmse"] for r in rows], highest_is_worst=True),
            "r2_mean": round(float(r2.mean()), 4),
            "r2_ci95": ci95(r2),
        }


class ExtrapolationTask(TrainedTask):
    name = "extrapolation"
    evaluator_class = ExtrapolationEvaluator

    def summary(self, data: TrainedData) -> dict:
        out = super().summary(data)
        out["target"] = {
            "min": float(data.y.min()), "max": float(data.y.max()), "mean": round(float(data.y.mean()), 6),
        }
        return out
