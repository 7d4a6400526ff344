"""n-class classification: the task the benchmark runs for `--type n-class` projects.

Each imported file is one class; class ids follow the import order (0..C-1
here, 1..C in the deployed library, whose id 0 is "unknown"). A candidate is
fitted on 70 % of each class's lines and classifies the other 30 %, over 5
random stratified splits (see trained_common.py).

Metrics of one split (test lines only), from the confusion matrix:

* ``balanced_accuracy``: mean over classes of the share of the class's lines
  given their class (recall per class), so a big class cannot hide a small one;
* ``accuracy``: share of lines given their class;
* ``f1``: macro F1, the mean over classes of 2·precision·recall/(precision+recall)
  (a class never predicted has precision 0);
* ``mcc``: multiclass Matthews correlation (Gorodkin's R_K), -1..1, 0 for chance;
* ``certainty``: the mean probability the model gives to the *true* class of a
  test line. 1 means always sure and right; a right but hesitant classifier
  (true class at 0.5) scores 0.5, and a confidently wrong one lowers it most.

Split score = 100 × (0.8 · balanced_accuracy + 0.1 · certainty + 0.1 · resource):
balanced accuracy decides, certainty separates equally accurate candidates in
favour of the one that classifies with a margin (as the functional margin does
for anomaly detection: a margin holds up better on unseen variations), and
resource (scoring.resource_term) favours the smaller library. A candidate's
score is its worst split's; every reported metric is its worst split's value
(lowest; each metric on its own), with the mean and 95 % interval of the
balanced accuracy over the splits.
"""
from __future__ import annotations

import numpy as np

from ..scoring import ci95
from .trained_common import RESOURCE_WEIGHT, Split, TrainedData, TrainedEvaluator, TrainedTask, worst

MAIN_WEIGHT = 0.8
CERTAINTY_WEIGHT = 0.1


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts, rows = true class, columns = predicted class."""
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    return cm


def classification_metrics(cm: np.ndarray, proba: np.ndarray, y_true: np.ndarray) -> dict:
    cm = cm.astype(np.float64)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    diag = np.diag(cm)
    present = support > 0
    recall = np.divide(diag, support, out=np.zeros_like(diag), where=support > 0)
    precision = np.divide(diag, predicted, out=np.zeros_like(diag), where=predicted > 0)
    pr = precision + recall
    f1 = np.divide(2 * precision * recall, pr, out=np.zeros_like(diag), where=pr > 0)
    total = cm.sum()
    correct = diag.sum()
    cov_pt = correct * total - float(predicted @ support)
    denom = np.sqrt((total**2 - float(predicted @ predicted)) * (total**2 - float(support @ support)))
    proba = np.asarray(proba, dtype=np.float64)
    certainty = float(np.mean(proba[np.arange(len(y_true)), y_true])) if len(y_true) else 0.0
    return {
        "balanced_accuracy": float(recall[present].mean()) if present.any() else 0.0,
        "accuracy": float(correct / total) if total else 0.0,
        "f1": float(f1[present].mean()) if present.any() else 0.0,
        "mcc": float(cov_pt / denom) if denom > 0 else 0.0,
        "certainty": certainty,
    }


class NClassEvaluator(TrainedEvaluator):
    def predict_split(self, fitted, feats: np.ndarray, split: Split):
        out = fitted.predict(feats[split.test])
        y_true = self.data.y[split.test]
        return y_true, np.asarray(out["label"], dtype=np.int64), np.asarray(out["proba"])

    def split_result(self, fitted, feats, split, extra) -> dict:
        y_true, label, proba = self.predict_split(fitted, feats, split)
        cm = confusion(y_true, label, len(self.data.class_names))
        return classification_metrics(cm, proba, y_true)

    def score(self, row: dict, resource: float) -> float:
        return 100.0 * (
            MAIN_WEIGHT * row["balanced_accuracy"] + CERTAINTY_WEIGHT * row["certainty"] + RESOURCE_WEIGHT * resource
        )

    def aggregate(self, rows: list[dict]) -> dict:
        ba = np.array([r["balanced_accuracy"] for r in rows])
        return {
            "balanced_accuracy": worst(ba),
            "accuracy": worst([r["accuracy"] for r in rows]),
            "f1": worst([r["f1"] for r in rows]),
            "mcc": worst([r["mcc"] for r in rows]),
            "certainty": worst([r["certainty"] for r in rows]),
            "balanced_accuracy_mean": round(float(ba.mean()), 4),
            "balanced_accuracy_ci95": ci95(ba),
        }

    def confusion_over_splits(self, pipeline: dict) -> np.ndarray:
        """The confusion matrix of the test lines of every split, summed."""
        feats, _ = self.features(pipeline["pre"])
        total = np.zeros((len(self.data.class_names),) * 2, dtype=np.int64)
        for split_i, split in enumerate(self.splits):
            fitted = self.fit(pipeline["model"], feats, split, split_i)
            y_true, label, _ = self.predict_split(fitted, feats, split)
            total += confusion(y_true, label, len(self.data.class_names))
        return total


class NClassTask(TrainedTask):
    name = "n-class"
    evaluator_class = NClassEvaluator

    def finalise(self, evaluator: NClassEvaluator, record: dict) -> dict:
        """Class names (library id = position + 1) and the summed test confusion matrix."""
        return {
            "class_names": list(evaluator.data.class_names),
            "confusion": evaluator.confusion_over_splits(record["pipeline"]).tolist(),
        }

    def summary(self, data: TrainedData) -> dict:
        out = super().summary(data)
        out["classes"] = {name: int(np.sum(data.y == i)) for i, name in enumerate(data.class_names)}
        return out
