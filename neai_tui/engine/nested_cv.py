"""Nested cross-validation: how optimistic is the benchmark's figure?

The benchmark picks, among hundreds of thousands of candidates, the one whose
worst split scores best, and reports that split's figure. Choosing the maximum
of many noisy estimates favours candidates that were lucky on these splits, so
the figure is biased upwards. To measure by how much, the whole selection is
repeated inside outer folds:

1. the project's lines are cut into K outer folds, whole recordings at a time
   where the files hold several (consecutive lines overlapping in samples form a
   recording, overlap.segments), else K contiguous blocks of every file; each
   role (anomaly detection) or class (n-class) is spread over the folds;
2. for each fold, a real benchmark (search.run_benchmark, the same search, C
   and splits) runs on a temporary project holding the other folds' lines, with
   an evaluation budget; it reports its best library's figure (worst split and
   mean over its splits);
3. that library is then judged on the held-out fold by the same C: anomaly
   detection learns every inner nominal line in file order (as on the device)
   and detects the held-out nominal and abnormal lines (balanced accuracy at the
   90 % similarity threshold); the trained types are fitted on every inner line
   and their C inference runs on the held-out lines (balanced accuracy, recall,
   r2);
4. beside it, a plain baseline on raw values fitted on the same inner lines and
   judged on the same held-out lines: IsolationForest (anomaly detection,
   1-class), a random forest (n-class, extrapolation).

The optimism is the inner figure minus the held-out one, averaged over folds.
Results are kept in the project (nested_cv/<key>.json), keyed by the data's
content hashes and the settings, so a report reuses them.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import threading
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

from .errors import Cancelled, NeaiError
from .project import Project
from .storage import atomic_write_json, read_json

VERSION = 1
DEFAULT_EVALS = {"anomaly": 600, "n-class": 150, "one-class": 150, "extrapolation": 150}
MAIN_METRIC = {"anomaly": "balanced_accuracy", "n-class": "balanced_accuracy", "one-class": "recall",
               "extrapolation": "r2"}
BASELINES = {"anomaly": "IsolationForest on raw values", "one-class": "IsolationForest on raw values",
             "n-class": "random forest (100 trees) on raw values",
             "extrapolation": "random forest (100 trees) on raw values"}
THRESHOLD = 90


@dataclass
class NestedOptions:
    folds: int = 5
    evals: int | None = None  # per fold; None: DEFAULT_EVALS of the project type
    cores: int = 1
    seed: int = 0


@dataclass
class _Stratum:
    """The lines of one file, their outer fold, and what the file is."""

    entry: object  # SignalEntry
    values: np.ndarray  # as read (extrapolation: target first)
    folds: np.ndarray  # outer fold of each line
    grouping: str  # "recordings" or "blocks"


def _buffers(project: Project, values: np.ndarray) -> np.ndarray:
    return values[:, 1:] if project.settings.type == "extrapolation" else values


def _assign_folds(project: Project, values: np.ndarray, k: int, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """Each line's fold: whole recordings (runs of overlapping lines) spread over the
    folds when there are at least k of them, else k contiguous blocks."""
    from .overlap import line_hop, segments

    axes = project.settings.axes
    buffers = _buffers(project, values)
    runs = segments(buffers, axes, line_hop(buffers, axes))
    n_runs = int(runs.max()) + 1 if len(runs) else 0
    if n_runs >= k:
        order = rng.permutation(n_runs)
        fold_of_run = np.empty(n_runs, dtype=np.int64)
        fold_of_run[order] = np.arange(n_runs) % k
        return fold_of_run[runs], "recordings"
    return (np.arange(len(values)) * k) // max(1, len(values)), "blocks"


def _strata(project: Project, k: int, seed: int) -> list[_Stratum]:
    rng = np.random.default_rng([seed, 41])
    out = []
    for entry in project.signals:
        values = project.load_values(entry)
        folds, grouping = _assign_folds(project, values, k, rng)
        out.append(_Stratum(entry, values, folds, grouping))
    return out


def cache_key(project: Project, options: NestedOptions, evals: int) -> str:
    s = project.settings
    payload = {"v": VERSION, "type": s.type, "axes": s.axes, "multisensor": s.multisensor,
               "filter": s.frequency_filter, "max_ram": s.max_ram_kb, "max_flash": s.max_flash_kb,
               "files": [(e.sha256, e.role, e.couple, e.class_name) for e in project.signals],
               "folds": options.folds, "evals": evals, "seed": options.seed}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def cached(project: Project, options: NestedOptions) -> dict | None:
    evals = options.evals or DEFAULT_EVALS.get(project.settings.type, 150)
    path = project.path / "nested_cv" / f"{cache_key(project, options, evals)}.json"
    if path.is_file():
        try:
            return read_json(path)
        except (OSError, ValueError):
            return None
    return None


def nested_cv(
    project: Project,
    options: NestedOptions | None = None,
    *,
    progress: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
    use_cache: bool = True,
) -> dict:
    """Run (or read back) the nested cross-validation of the project's benchmark (see the module docstring)."""
    options = options or NestedOptions()
    kind = project.settings.type
    say = progress or (lambda _m: None)
    if project.settings.multisensor:
        return {"skipped": "Multi-sensor libraries are judged on time-ordered folds of one series; "
                           "the nested cross-validation is not available for them yet"}
    evals = options.evals or DEFAULT_EVALS.get(kind, 150)
    key = cache_key(project, options, evals)
    path = project.path / "nested_cv" / f"{key}.json"
    if use_cache and path.is_file():
        try:
            return read_json(path)
        except (OSError, ValueError):
            pass
    k = options.folds
    strata = _strata(project, k, options.seed)
    folds = []
    tmp_root = Path(tempfile.mkdtemp(prefix="neai-nested-"))
    try:
        for fold in range(k):
            if cancel is not None and cancel.is_set():
                raise Cancelled("the nested cross-validation was stopped", "Run the report again to compute it.")
            say(f"nested cross-validation: fold {fold + 1} of {k}, searching {evals} candidates on the other folds")
            try:
                folds.append(_run_fold(project, strata, fold, evals, options, tmp_root, cancel))
            except Cancelled:
                raise
            except NeaiError as exc:
                folds.append({"fold": fold + 1, "error": exc.user_text()})
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)
    doc = _summary(project, strata, folds, evals, options)
    from .experiments import write_lock

    with write_lock(getattr(project, "full", project), "store a nested cross-validation"):
        atomic_write_json(path, doc)
    return doc


def _fold_project(project: Project, strata: list[_Stratum], fold: int, root: Path) -> Project:
    """A temporary project with every line outside `fold`, file by file."""
    s = project.settings
    inner = Project.create(root / f"fold{fold + 1}", replace(s, name=f"{s.name} (nested fold {fold + 1})"))
    for st in strata:
        keep = st.values[st.folds != fold]
        if not len(keep):
            continue
        path = root / f"fold{fold + 1}-{Path(st.entry.file).name}"
        path.write_text("".join(" ".join(repr(float(v)) for v in row) + "\n" for row in keep))
        inner.import_signal(path, role=st.entry.role, class_name=st.entry.class_name,
                            couple=st.entry.couple if st.entry.role else 1, sep="space")
    return inner


def _run_fold(project, strata, fold, evals, options, root, cancel) -> dict:
    from .search import run_benchmark

    kind = project.settings.type
    inner = _fold_project(project, strata, fold, root)
    result = run_benchmark(inner, max_evals=evals, cores=options.cores, seed=options.seed + fold, cancel=cancel)
    if cancel is not None and cancel.is_set():
        raise Cancelled("the nested cross-validation was stopped", "Run the report again to compute it.")
    best = result.best
    if best is None:
        return {"fold": fold + 1, "error": "the inner search found no library within the project's limits"}
    main = MAIN_METRIC[kind]
    held = {Path(st.entry.file).name: int(np.sum(st.folds == fold)) for st in strata if np.any(st.folds == fold)}
    outer, baseline = _judge(project, strata, fold, best, options.seed + fold)
    return {
        "fold": fold + 1,
        "held_out": held,
        "held_out_lines": int(sum(held.values())),
        "inner_lines": int(sum(int(np.sum(st.folds != fold)) for st in strata)),
        "pipeline": best["pipeline_text"],
        "inner_score": best["score"],
        "inner_worst": best["metrics"].get(main),
        "inner_mean": best["metrics"].get(f"{main}_mean", best["metrics"].get(main)),
        "outer": outer,
        "baseline": baseline,
        "evals": result.evals_done,
    }


def _filtered(record: dict, lines: np.ndarray, axes: int, buffer_size: int) -> np.ndarray:
    from .filtering import design, filter_lines

    return filter_lines(design(record.get("frequency_filter")), lines, axes, buffer_size)


def _judge(project: Project, strata, fold: int, best: dict, seed: int) -> tuple[dict, dict]:
    """(the chosen library's figures on the held-out fold, the baseline's)."""
    kind = project.settings.type
    axes = project.settings.axes
    buffer_size = project.buffer_size
    if kind == "anomaly":
        return _judge_anomaly(project, strata, fold, best, seed, axes, buffer_size)
    return _judge_trained(project, strata, fold, best, seed, axes, buffer_size)


def _judge_anomaly(project, strata, fold, best, seed, axes, buffer_size):
    from sklearn.ensemble import IsolationForest

    from . import csearch
    from .tasks.anomaly import _balanced_accuracy

    pre, model = best["pipeline"]["pre"], best["pipeline"]["model"]
    bas, base_bas = [], []
    for couple in project.couples():
        def part(role: str, inside: bool) -> np.ndarray:
            rows = [st.values[(st.folds != fold) if inside else (st.folds == fold)] for st in strata
                    if st.entry.role == role and st.entry.couple == couple]
            rows = [r for r in rows if len(r)]
            return np.vstack(rows) if rows else np.zeros((0, axes * buffer_size))

        learn, test_nom, test_abn = part("nominal", True), part("nominal", False), part("abnormal", False)
        if not len(learn) or not (len(test_nom) or len(test_abn)):
            continue
        lines = _filtered(best, np.vstack([learn, test_nom, test_abn]), axes, buffer_size)
        feats = csearch.features(pre, lines, axes, buffer_size)
        n_learn, n_nom = len(learn), len(test_nom)
        _, sims = csearch.run(model, feats, np.arange(n_learn), np.arange(n_learn, len(lines)))
        sims = np.asarray(sims, dtype=float)
        bas.append(_balanced_accuracy(sims[:n_nom], sims[n_nom:]))
        forest = IsolationForest(random_state=seed).fit(lines[:n_learn])
        flagged = forest.predict(lines[n_learn:]) == -1
        parts = [float(np.mean(~flagged[:n_nom]))] if n_nom else []
        parts += [float(np.mean(flagged[n_nom:]))] if len(test_abn) else []
        base_bas.append(float(np.mean(parts)))
    outer = {"balanced_accuracy": round(min(bas), 4) if bas else None}
    return outer, {"balanced_accuracy": round(min(base_bas), 4) if base_bas else None}


def _judge_trained(project, strata, fold, best, seed, axes, buffer_size):
    from . import csearch, trained

    kind = project.settings.type
    pre, model = best["pipeline"]["pre"], best["pipeline"]["model"]
    inner_rows, held_rows, inner_y, held_y = [], [], [], []
    classes = [st.entry.class_name for st in strata]
    for index, st in enumerate(strata):
        for rows, ys, inside in ((inner_rows, inner_y, True), (held_rows, held_y, False)):
            chosen = st.values[(st.folds != fold) if inside else (st.folds == fold)]
            rows.append(chosen)
            if kind == "n-class":
                ys.append(np.full(len(chosen), index, dtype=np.int64))
            elif kind == "extrapolation":
                ys.append(chosen[:, 0].astype(np.float64))
    inner_v, held_v = np.vstack(inner_rows), np.vstack(held_rows)
    if not len(held_v):
        return {}, {}
    y_in = np.concatenate(inner_y) if inner_y else None
    y_out = np.concatenate(held_y) if held_y else None
    if kind == "extrapolation":
        inner_v, held_v = inner_v[:, 1:], held_v[:, 1:]
    inner_l = _filtered(best, inner_v, axes, buffer_size).astype(np.float32)
    held_l = _filtered(best, held_v, axes, buffer_size).astype(np.float32)
    f_in = csearch.features(pre, inner_l, axes, buffer_size)
    f_out = csearch.features(pre, held_l, axes, buffer_size)
    fitted = trained.fit(kind, model, f_in, y_in, seed)
    out = trained.predict_c(fitted, f_out)
    if kind == "n-class":
        from sklearn.ensemble import RandomForestClassifier

        from .tasks.nclass import classification_metrics, confusion

        def ba(pred, proba) -> float:
            cm = confusion(y_out, pred, len(classes))
            return round(classification_metrics(cm, proba, y_out)["balanced_accuracy"], 4)

        forest = RandomForestClassifier(n_estimators=100, random_state=seed, n_jobs=1).fit(inner_l, y_in)
        base_proba = np.zeros((len(held_l), len(classes)))
        base_proba[:, forest.classes_] = forest.predict_proba(held_l)
        return ({"balanced_accuracy": ba(np.asarray(out["label"]), np.asarray(out["proba"]))},
                {"balanced_accuracy": ba(base_proba.argmax(axis=1), base_proba)})
    if kind == "one-class":
        from sklearn.ensemble import IsolationForest

        from .tasks.oneclass import synthetic_outliers

        synthetic = synthetic_outliers(held_l, axes, buffer_size, seed)
        f_syn = csearch.features(pre, synthetic, axes, buffer_size)
        f_syn = f_syn[np.isfinite(f_syn).all(axis=1)]
        rejection = float(np.mean(trained.predict_c(fitted, f_syn)["outlier"])) if len(f_syn) else None
        forest = IsolationForest(random_state=seed).fit(inner_l)
        return ({"recall": round(float(np.mean(~np.asarray(out["outlier"], dtype=bool))), 4),
                 "outlier_rejection": None if rejection is None else round(rejection, 4)},
                {"recall": round(float(np.mean(forest.predict(held_l) == 1)), 4),
                 "outlier_rejection": round(float(np.mean(forest.predict(synthetic) == -1)), 4)})
    from sklearn.ensemble import RandomForestRegressor

    from .tasks.extrapolation import regression_metrics

    forest = RandomForestRegressor(n_estimators=100, random_state=seed, n_jobs=1).fit(inner_l, y_in)
    return ({"r2": round(regression_metrics(y_out, np.asarray(out["value"]))["r2"], 4)},
            {"r2": round(regression_metrics(y_out, forest.predict(held_l))["r2"], 4)})


def _summary(project: Project, strata, folds: list[dict], evals: int, options: NestedOptions) -> dict:
    kind = project.settings.type
    main = MAIN_METRIC[kind]
    ok = [f for f in folds if "error" not in f and f.get("outer", {}).get(main) is not None]

    def mean(values) -> float | None:
        values = [v for v in values if v is not None]
        return round(float(np.mean(values)), 4) if values else None

    outer = [f["outer"][main] for f in ok]
    summary = {
        "inner_worst": mean(f["inner_worst"] for f in ok),
        "inner_mean": mean(f["inner_mean"] for f in ok),
        "outer": mean(outer),
        "outer_std": round(float(np.std(outer)), 4) if len(outer) > 1 else None,
        "baseline": mean(f["baseline"].get(main) for f in ok),
        "optimism_mean": mean(f["inner_mean"] - f["outer"][main] for f in ok if f["inner_mean"] is not None),
        "optimism_worst": mean(f["inner_worst"] - f["outer"][main] for f in ok if f["inner_worst"] is not None),
    }
    groupings = sorted({st.grouping for st in strata})
    return {
        "version": VERSION,
        "metric": main,
        "folds": folds,
        "summary": summary,
        "options": {**asdict(options), "evals": evals},
        "grouping": groupings[0] if len(groupings) == 1 else "mixed",
        "files": {Path(st.entry.file).name: st.grouping for st in strata},
        "baseline_name": BASELINES[kind],
    }
