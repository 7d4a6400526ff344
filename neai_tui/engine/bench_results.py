"""What a candidate library does on the project's own signals, for the benchmark's
results plot (the Studio's results view of each project type).

Computed by the same C as the benchmark, on the benchmark's first split, exactly
as the benchmark scored the candidate; nothing is re-implemented in Python:

* anomaly detection: the library (csearch, the C search build) learns the
  learning lines of the split, then detects its held-out nominal lines and the
  abnormal lines: a similarity per line;
* Multi-sensor: the same on the first time-ordered fold: a similarity per
  held-out window;
* n-class, 1-class, extrapolation: the candidate is fitted on the split's fit
  lines by the task's own evaluator (features from the C front end), and its
  knowledge runs through the C inference (trained.predict_c, the host build of
  the deployed code) on the held-out lines: the probabilities, outlier scores or
  predicted values the C gives. 1-class also runs the C on the task's synthetic
  outliers and on a grid of a 2-D plane through the features (the model's
  decision boundary in that plane).
"""
from __future__ import annotations

import numpy as np

from . import csearch
from .errors import UsageError
from .project import TYPE_TITLES, Project
from .search import Benchmark, find_library

THRESHOLD = 90


def library_results(project: Project, lib_id: str | None = None) -> dict:
    """Per-line results of a library (default: the selected one, else the latest best).

    Anomaly detection: {"type": "anomaly", "library": ID, "threshold": 90, "unit": "signal",
    "couples": [{"couple": K, "learned": N, "nominal": [...], "abnormal": [...],
    "nominal_lines": [...], "abnormal_lines": [...]}], "balanced_accuracy": BA} with
    similarities 0..100 and the 1-based line numbers (within the couple's concatenated
    files) they belong to. Multi-sensor: the same with "unit": "window" and the line of
    each window's last sample.

    n-class: {"type": "n-class", "classes": [names], "lines", "true", "predicted" (class
    ids 0..C-1), "probabilities" (one list per line), "balanced_accuracy"}.
    1-class: {"type": "one-class", "threshold", "normal": {"lines", "score", "outlier", "x",
    "y"}, "synthetic": {"kind", "score", "outlier", "x", "y"}, "grid": {"xs", "ys",
    "outlier" (rows of flags, ys × xs)}, "recall", "rejection"}: x, y are the points'
    coordinates on the plane of the two principal directions of the held-out lines' features.
    extrapolation: {"type": "extrapolation", "lines", "real", "predicted", "r2", "rmse"}.
    Every trained document also has "library", "fitted" and "tested" (line counts).
    """
    from .bench_history import benchmark_project

    record = find_library(project, lib_id)
    project = benchmark_project(project, record["benchmark"])  # the files its benchmark used
    kind = project.settings.type
    if kind == "anomaly":
        return _multisensor_results(project, record) if project.settings.multisensor else _anomaly_results(project, record)
    if kind in ("n-class", "one-class", "extrapolation"):
        return _trained_results(project, record)
    raise UsageError(
        f"the results view for {TYPE_TITLES.get(kind, kind)} projects is not available",
        "The candidate list and the performance plot still show every library's figures.",
    )


def _anomaly_results(project: Project, record: dict) -> dict:
    """The first split of each couple, learned in the file's order."""
    from .pipeline import model_blocks
    from .tasks.anomaly import AnomalyEvaluator, load_anomaly_data

    data = load_anomaly_data(project)
    seed = Benchmark.load(project, record["benchmark"]).state["seed"]
    evaluator = AnomalyEvaluator(data, seed, None, None)
    pipeline = record["pipeline"]
    blocks = model_blocks(pipeline["pre"], data.axes)
    couples = []
    for couple, nominal, abnormal in data.couples:
        split = evaluator.splits[couple][0]
        f_nom = csearch.features(pipeline["pre"], nominal, data.axes, data.buffer_size)
        f_abn = csearch.features(pipeline["pre"], abnormal, data.axes, data.buffer_size)
        both = np.vstack([f_nom, f_abn[split.test_abnormal]])
        detect = np.concatenate([split.test_nominal, len(f_nom) + np.arange(len(split.test_abnormal))])
        _, sims = csearch.run(pipeline["model"], both, split.learn, detect, blocks=blocks)
        couples.append(_couple_view(couple, len(split.learn), sims, len(split.test_nominal),
                                    split.test_nominal + 1, split.test_abnormal + 1))
    return _anomaly_document(record, "signal", couples)


def _couple_view(couple: int, learned: int, sims: np.ndarray, n_nominal: int, nominal_lines, abnormal_lines) -> dict:
    """One couple's similarities: its held-out nominal lines, then the abnormal ones."""
    sims = np.asarray(sims).astype(int)
    nominal, abnormal = sims[:n_nominal], sims[n_nominal:]
    return {
        "couple": couple,
        "learned": int(learned),
        "nominal": nominal.tolist(),
        "abnormal": abnormal.tolist(),
        "nominal_lines": np.asarray(nominal_lines).tolist()[: len(nominal)],
        "abnormal_lines": np.asarray(abnormal_lines).tolist()[: len(abnormal)],
    }


def _anomaly_document(record: dict, unit: str, couples: list[dict]) -> dict:
    """The anomaly results of a library; the balanced accuracy at 90 % over every couple."""
    hits = []
    for c in couples:
        if c["nominal"]:
            hits.append(float(np.mean(np.array(c["nominal"]) >= THRESHOLD)))
        if c["abnormal"]:
            hits.append(float(np.mean(np.array(c["abnormal"]) < THRESHOLD)))
    return {
        "type": "anomaly",
        "library": record["id"],
        "threshold": THRESHOLD,
        "unit": unit,
        "couples": couples,
        "balanced_accuracy": round(float(np.mean(hits)), 4) if hits else None,
    }


def _multisensor_results(project: Project, record: dict) -> dict:
    """The anomaly view of a Multi-sensor library on the first time-ordered fold of
    each couple: its held-out nominal windows, then the abnormal ones."""
    from .pipeline import model_blocks
    from .tasks.multisensor import LOOKBACK, MultiSensorEvaluator, abnormal_subset, load_multisensor_data

    data = load_multisensor_data(project)
    evaluator = MultiSensorEvaluator(data, 0, None, None)  # the folds follow time, not a seed
    pipeline = record["pipeline"]
    window = int(pipeline["pre"].get(LOOKBACK, 1))
    series = {couple: (nominal, abnormal) for couple, nominal, abnormal in data.couples}
    couples = []
    blocks = model_blocks({k: v for k, v in pipeline["pre"].items() if k != LOOKBACK}, data.axes)
    for fold, couple, order, both, learn, detect, n_nominal in evaluator.folds(pipeline):
        if fold > 0:
            break  # the first fold of every couple comes first
        if order != "time":
            continue  # in time order, as the device learns
        nominal, abnormal = series[couple]
        starts = nominal.window_starts(window)
        abnormal_starts = abnormal.window_starts(window)
        abnormal_starts = abnormal_starts[abnormal_subset(len(abnormal_starts))]
        sims = csearch.run(pipeline["model"], both, learn, detect, blocks=blocks)[1] if len(learn) else np.zeros(0, int)
        # Lines: each window's last sample, 1-based.
        couples.append(_couple_view(couple, len(learn), sims, n_nominal, starts[detect[:n_nominal]] + window,
                                    abnormal_starts + window))
    return _anomaly_document(record, "window", couples)


GRID_COLUMNS, GRID_ROWS = 48, 24  # the 1-class boundary grid (C inferences: columns x rows)
MAX_SYNTHETIC_SHOWN = 150


def _trained_results(project: Project, record: dict) -> dict:
    """Fit the candidate on the first split's fit lines (the task's evaluator, C
    features) and run the C inference on its held-out lines."""
    from .tasks import task_for
    from .trained import predict_c

    kind = project.settings.type
    task = task_for(kind)
    data = task.load(project)
    seed = Benchmark.load(project, record["benchmark"]).state["seed"]
    evaluator = task.evaluator(data, seed, None, None)
    pipeline = record["pipeline"]
    cached = evaluator.features(pipeline["pre"])
    if cached is None:
        raise UsageError(
            f"library {record['id']}'s preprocessing gives non-finite features on this project's lines",
            "The project's signals changed since the benchmark: run a new one (b).",
        )
    feats, extra = cached
    split = evaluator.splits[0]
    try:
        fitted = evaluator.fit(pipeline["model"], feats, split, 0)
    except ValueError as exc:
        raise UsageError(f"library {record['id']} cannot be fitted again on this project ({exc})",
                         "The project's signals changed since the benchmark: run a new one (b).") from None
    tested = feats[split.test]
    out = predict_c(fitted, tested)
    doc = {"type": kind, "library": record["id"], "fitted": int(len(split.fit)), "tested": int(len(split.test)),
           "lines": (split.test + 1).tolist()}
    if kind == "n-class":
        from .tasks.nclass import classification_metrics, confusion

        y_true = data.y[split.test]
        label = np.asarray(out["label"], dtype=np.int64)
        proba = np.asarray(out["proba"], dtype=np.float64)
        metrics = classification_metrics(confusion(y_true, label, len(data.class_names)), proba, y_true)
        doc.update(classes=list(data.class_names), true=y_true.tolist(), predicted=label.tolist(),
                   probabilities=np.round(proba, 4).tolist(),
                   balanced_accuracy=round(metrics["balanced_accuracy"], 4))
    elif kind == "extrapolation":
        from .tasks.extrapolation import regression_metrics

        real = data.y[split.test]
        predicted = np.asarray(out["value"], dtype=np.float64)
        metrics = regression_metrics(real, predicted)
        doc.update(real=real.tolist(), predicted=predicted.tolist(), r2=round(metrics["r2"], 4),
                   rmse=round(metrics["rmse"], 6))
    else:
        # The synthetic outliers of every family, each line with its family's name.
        kinds = [k for k, lines in zip(getattr(evaluator, "families", []), extra) for _ in range(len(lines))]
        synthetic = np.vstack(extra) if extra else None
        doc.update(_oneclass_view(fitted, feats[split.fit], tested, out, synthetic, predict_c, kinds))
    return doc


def _oneclass_view(fitted, fit_feats: np.ndarray, tested: np.ndarray, out: dict, synthetic, predict_c,
                   kinds: list[str]) -> dict:
    """Held-out lines and synthetic outliers (kinds: each one's family) on the
    plane of the two principal directions of the held-out features (standardised
    by the fit lines), and the C's outlier flag on a grid of that plane."""
    centre = tested.astype(np.float64).mean(axis=0)
    scale = fit_feats.astype(np.float64).std(axis=0)
    scale[scale == 0] = 1.0
    z = (tested - centre) / scale
    _, _, vt = np.linalg.svd(z, full_matrices=False)
    axes2 = np.zeros((2, tested.shape[1]))
    axes2[: min(2, len(vt))] = vt[:2]
    if len(vt) < 2:  # one feature: the second direction is flat
        axes2[1] = 0.0

    def project(x: np.ndarray) -> np.ndarray:
        return ((x - centre) / scale) @ axes2.T

    normal_xy = project(tested)
    doc: dict = {
        "threshold": float(fitted.threshold),
        "normal": {"score": np.round(out["score"].astype(np.float64), 5).tolist(),
                   "outlier": out["outlier"].astype(bool).tolist(),
                   "x": normal_xy[:, 0].tolist(), "y": normal_xy[:, 1].tolist()},
        "recall": round(float(np.mean(~out["outlier"])), 4) if len(tested) else None,
    }
    points = [normal_xy]
    if synthetic is not None and len(synthetic):
        shown = np.unique(np.linspace(0, len(synthetic) - 1, min(MAX_SYNTHETIC_SHOWN, len(synthetic))).astype(int))
        syn = synthetic[shown]
        syn_out = predict_c(fitted, syn)
        syn_xy = project(syn)
        points.append(syn_xy)
        doc["synthetic"] = {
            "kind": [kinds[i] for i in shown],
            "score": np.round(syn_out["score"].astype(np.float64), 5).tolist(),
            "outlier": syn_out["outlier"].astype(bool).tolist(),
            "x": syn_xy[:, 0].tolist(), "y": syn_xy[:, 1].tolist(),
        }
        # As the benchmark measures it: the mean over the families of each one's share flagged.
        flagged = np.asarray(predict_c(fitted, synthetic)["outlier"], dtype=bool)
        names = np.array(kinds)
        doc["rejection"] = round(float(np.mean([flagged[names == k].mean() for k in dict.fromkeys(kinds)])), 4)
    # The view: the held-out lines with a margin, and most synthetic outliers (a few
    # far-away ones would squash the rest into a corner).
    every = np.vstack(points)
    lo = np.minimum(np.percentile(every, 2, axis=0), normal_xy.min(axis=0))
    hi = np.maximum(np.percentile(every, 98, axis=0), normal_xy.max(axis=0))
    pad = np.maximum((hi - lo) * 0.1, 1e-6)
    lo, hi = lo - pad, hi + pad
    gx = np.linspace(lo[0], hi[0], GRID_COLUMNS)
    gy = np.linspace(lo[1], hi[1], GRID_ROWS)
    plane = np.array([[x, y] for y in gy for x in gx])
    grid_feats = (centre + (plane @ axes2) * scale).astype(np.float32)
    flags = np.asarray(predict_c(fitted, grid_feats)["outlier"], dtype=bool).reshape(GRID_ROWS, GRID_COLUMNS)
    doc["grid"] = {"xs": gx.tolist(), "ys": gy.tolist(), "outlier": flags.tolist()}
    return doc


def learning_curve(project: Project, lib_id: str | None = None) -> dict | None:
    """The learning curve stored with a best library ({"counts", "balanced_accuracy",
    "min_learning_iterations"}), or None when the library has none (not a best, or not anomaly)."""
    record = find_library(project, lib_id)
    if "counts" in record and "balanced_accuracy" in record:
        return {
            "library": record["id"],
            "counts": record["counts"],
            "balanced_accuracy": record["balanced_accuracy"],
            "min_learning_iterations": record.get("min_learning_iterations"),
        }
    return None
