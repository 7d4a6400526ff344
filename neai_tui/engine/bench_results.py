"""What a candidate library does on the project's own signals, for the benchmark's
results plot (the Studio's "similarity per signal" view for anomaly detection).

Computed by the same C as the benchmark (csearch): the library learns the
learning lines of the benchmark's first split, then detects its held-out
nominal lines and the abnormal lines, exactly as the benchmark scored it.
Other project types answer through their task's `results_view(project, record)`
when the task has one.
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

    Anomaly detection: {"type": "anomaly", "library": ID, "threshold": 90, "couples": [
    {"couple": K, "learned": N, "nominal": [...], "abnormal": [...], "nominal_lines": [...],
    "abnormal_lines": [...]}], "balanced_accuracy": BA} with similarities 0..100 and the
    1-based line numbers (within the couple's concatenated files) they belong to.
    """
    record = find_library(project, lib_id)
    if project.settings.type == "anomaly" and not project.settings.multisensor:
        return _anomaly_results(project, record)
    from .tasks import task_for

    task = task_for(project.settings.type, project.settings.multisensor)
    view = getattr(task, "results_view", None)
    if view is None:
        raise UsageError(
            f"the results view for {TYPE_TITLES.get(project.settings.type, project.settings.type)} "
            f"{'(Multi-sensor) ' if project.settings.multisensor else ''}is not available yet",
            "The candidate list and the performance plot still show every library's figures.",
        )
    return view(project, record)


def _anomaly_results(project: Project, record: dict) -> dict:
    from .tasks.anomaly import load_anomaly_data, make_splits

    data = load_anomaly_data(project)
    seed = Benchmark.load(project, record["benchmark"]).state["seed"]
    pipeline = record["pipeline"]
    couples = []
    hits = []
    for couple, nominal, abnormal in data.couples:
        split = make_splits(len(nominal), len(abnormal), seed, couple)[0]
        f_nom = csearch.features(pipeline["pre"], nominal, data.axes, data.buffer_size)
        f_abn = csearch.features(pipeline["pre"], abnormal, data.axes, data.buffer_size)
        both = np.vstack([f_nom, f_abn[split.test_abnormal]])
        detect = np.concatenate([split.test_nominal, len(f_nom) + np.arange(len(split.test_abnormal))])
        _, sims = csearch.run(pipeline["model"], both, split.learn, detect)
        n_nom = len(split.test_nominal)
        sim_nom, sim_abn = sims[:n_nom].astype(int), sims[n_nom:].astype(int)
        if len(sim_nom):
            hits.append(float(np.mean(sim_nom >= THRESHOLD)))
        if len(sim_abn):
            hits.append(float(np.mean(sim_abn < THRESHOLD)))
        couples.append({
            "couple": couple,
            "learned": int(len(split.learn)),
            "nominal": sim_nom.tolist(),
            "abnormal": sim_abn.tolist(),
            "nominal_lines": (split.test_nominal + 1).tolist(),
            "abnormal_lines": (split.test_abnormal + 1).tolist(),
        })
    return {
        "type": "anomaly",
        "library": record["id"],
        "threshold": THRESHOLD,
        "couples": couples,
        "balanced_accuracy": round(float(np.mean(hits)), 4) if hits else None,
    }


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
