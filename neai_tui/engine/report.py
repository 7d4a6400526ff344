"""A library's report (the Studio's validation report), as one plain document.

`build_report` gathers every figure into a JSON-able dict; `write_report`
(report_render.py) turns it into PDF, HTML or Markdown, and the TUI's report
screen draws the same dict with terminal plots. Sections:

* project and data: settings, files (lines, content hashes, whether the
  library's benchmark used them), repartition per role / class / target;
* benchmark: its id, budget, evaluations, splits (naming their files); the
  library's score and metrics, worst split and mean with the 95 % interval;
* flowchart: input → frequency filter → preprocessing → model → output, each
  with its parameters;
* measured on the core: flash, RAM (static + stack), instructions and cycles
  per call from the library zip's metadata (built now when there is none,
  exactly as `neai deploy --lib ID` would, without selecting it), and the time
  per call at the target's clock;
* results of the library's type: on the benchmark's first split (held-out
  lines, the library's own C: bench_results.py), or on an experiment's files
  (the zip's host build: experiments.py). Anomaly detection and 1-class: ROC
  and AUC with the operating points; n-class: confusion matrix, per-class
  precision and recall; extrapolation: predicted against true, residuals;
  anomaly detection also the learning curve and the minimum learning count;
* nested cross-validation (nested_cv.py): the benchmark's optimism.

Nothing here imports a UI; matplotlib is imported by the renderers only.
"""
from __future__ import annotations

import datetime as _dt
import threading
from pathlib import Path
from typing import Callable

import numpy as np

from .. import __version__
from .errors import UsageError
from .nested_cv import NestedOptions
from .project import TYPE_TITLES, Project

__all__ = ["NestedOptions", "build_report", "write_report", "clock_mhz"]

# A bare core has no clock of its own: a typical one, said to be assumed (the catalogue
# gives boards and MCUs their maximum clock).
CORE_CLOCK_MHZ = {"cortex-m0": 48, "cortex-m0plus": 48, "cortex-m3": 72, "cortex-m4": 80, "cortex-m4f": 80,
                  "cortex-m7": 216, "cortex-m33": 160, "cortex-m55": 400}
OUTPUTS = {"anomaly": "similarity 0-100 (abnormal below 90)", "one-class": "outlier flag (1 = outlier)",
           "n-class": "class id and one probability per class", "extrapolation": "the estimated value"}


def clock_mhz(target_name: str) -> tuple[float | None, bool]:
    """(clock in MHz, assumed) of a target: its MCU's maximum clock, or a core's typical one."""
    from .targets import resolve_target

    try:
        target = resolve_target(target_name)
    except UsageError:
        return None, True
    own = getattr(target, "clock_mhz", None)
    if own:
        return float(own), False
    clock = CORE_CLOCK_MHZ.get(target.core)
    return (float(clock), True) if clock else (None, True)


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


# --------------------------------------------------------------------------- sections
def project_section(project: Project) -> dict:
    s = project.settings
    rate = (s.frequency_filter or {}).get("sampling_rate_hz")
    return {"name": s.name, "description": s.description, "type": s.type, "type_title": TYPE_TITLES.get(s.type, s.type),
            "multisensor": s.multisensor, "axes": s.axes, "buffer_size": project.buffer_size,
            "values_per_line": project.values_per_line, "sampling_rate_hz": rate,
            "buffer_ms": round(1000.0 * project.buffer_size / rate, 2) if rate and project.buffer_size else None,
            "target": s.target, "core": s.core, "max_ram_kb": s.max_ram_kb, "max_flash_kb": s.max_flash_kb,
            "created": project.created}


def data_section(project: Project, used: Project) -> dict:
    from .bench_history import file_name, signal_label

    used_ids = {s.id for s in used.signals}
    files = [{"id": s.id, "name": file_name(s), "original": Path(s.original).name if s.original else "",
              "label": signal_label(s), "lines": s.lines, "values_per_line": s.values_per_line,
              "sha256": s.sha256, "used": s.id in used_ids} for s in project.signals]
    repartition: dict[str, int] = {}
    for s in used.signals:
        key = (f"{s.role} (couple {s.couple})" if len(used.couples()) > 1 else s.role) if s.role else (
            s.class_name or "signals")
        repartition[key] = repartition.get(key, 0) + s.lines
    doc = {"files": files, "repartition": repartition, "lines": sum(repartition.values())}
    if project.settings.type == "extrapolation" and used.signals:
        targets = np.concatenate([used.load_values(s)[:, 0] for s in used.signals])
        doc["target"] = {"min": float(targets.min()), "max": float(targets.max()), "mean": float(targets.mean()),
                         "histogram": [int(c) for c in np.histogram(targets, bins=10)[0]],
                         "edges": [float(e) for e in np.histogram(targets, bins=10)[1]]}
    return doc


def benchmark_section(project: Project, record: dict) -> dict:
    from .bench_history import budget_text, percent_done
    from .search import Benchmark

    state = Benchmark.load(project, record["benchmark"]).state
    data = state.get("data") or {}
    return {"id": state["id"], "created": state.get("created"), "status": state.get("status"),
            "evals": state.get("evals_done"), "elapsed_s": state.get("elapsed_s"), "seed": state.get("seed"),
            "space_size": state.get("space_size"), "budget": budget_text(state.get("budget")),
            "percent_done": percent_done(state), "splits": state.get("splits"), "n_splits": data.get("splits"),
            "split_kind": data.get("split_kind", "random"),
            "files": [f["name"] for f in state.get("files", [])], "restricted": bool(state.get("files_restricted"))}


MAIN_METRIC = {"anomaly": "balanced_accuracy", "n-class": "balanced_accuracy", "one-class": "recall",
               "extrapolation": "r2"}


def library_section(project: Project, record: dict) -> dict:
    metrics = record.get("metrics") or {}
    main = MAIN_METRIC.get(project.settings.type, "balanced_accuracy")
    return {"id": record["id"], "benchmark": record["benchmark"], "pipeline": record.get("pipeline_text", ""),
            "pipeline_config": record.get("pipeline"), "score": record.get("score"),
            "metrics": {k: v for k, v in metrics.items() if not isinstance(v, (list, dict))},
            "main_metric": main, "worst": metrics.get(main), "mean": metrics.get(f"{main}_mean"),
            "ci95": metrics.get(f"{main}_ci95"), "estimated_ram_bytes": record.get("ram_bytes"),
            "estimated_flash_bytes": record.get("flash_bytes"), "found_after_s": record.get("found_after_s"),
            "min_learning_iterations": record.get("min_learning_iterations")}


def _params(d: dict, skip=("kind",)) -> dict:
    return {k: v for k, v in d.items() if k not in skip}


def flowchart(project: Project, record: dict) -> list[dict]:
    """The library's stages, input to output, each with a title and its parameters."""
    from .filtering import design
    from .tasks import task_for

    s = project.settings
    pipeline = record["pipeline"]
    text = task_for(s.type, s.multisensor).describe(pipeline)
    pre_text, _, model_text = text.partition(" -> ")
    rate = (s.frequency_filter or {}).get("sampling_rate_hz")
    if s.multisensor:
        shape = f"{s.axes} variables, one sample per call"
    else:
        shape = f"{s.axes} axis × {project.buffer_size} samples" if s.axes == 1 else \
            f"{s.axes} axes × {project.buffer_size} samples"
    stages = [{"stage": "Input", "title": shape, "params": {"rate_hz": rate} if rate else {}}]
    filt = design(record.get("frequency_filter"))
    if filt is not None:
        stages.append({"stage": "Filter", "title": filt.describe(),
                       "params": {"order": 2, "kind": "Butterworth", **{k: v for k, v in filt.settings.items() if v}}})
    stages.append({"stage": "Preprocessing", "title": pre_text, "params": _params(pipeline["pre"])})
    stages.append({"stage": "Model", "title": model_text or pipeline["model"].get("kind", ""),
                   "params": _params(pipeline["model"])})
    stages.append({"stage": "Output", "title": OUTPUTS.get(s.type, ""), "params": {}})
    return stages


def measured_section(project: Project, record: dict, build: bool, say: Callable[[str], None]) -> dict:
    """The figures measured on the core, from the library's zip (built if needed and allowed)."""
    from .validation import candidate_zip

    zip_path = candidate_zip(project, record["id"])
    meta = None
    if zip_path is not None:
        from .emulator_session import library_zip_info

        meta = library_zip_info(zip_path)["metadata"]
    elif build:
        from .deploy import deploy

        say(f"building {record['id']} to measure it on the core")
        result = deploy(project, lib_id=record["id"], select=False, progress=lambda m: say(f"  {m}"))
        zip_path, meta = result.zip_path, result.metadata
    if meta is None:
        return {"missing": f"no zip of {record['id']} yet: `neai deploy PROJECT --lib {record['id']}` builds and "
                           "measures it"}
    m = meta.get("measured") or {}
    per_call = "inference" if meta.get("type") not in ("anomaly", None) else "detect"
    instructions = m.get(f"instructions_per_{per_call}", m.get("instructions_per_detect"))
    cycles = m.get(f"cycles_per_{per_call}", m.get("cycles_per_detect"))
    clock, assumed = clock_mhz(meta.get("target") or project.settings.target)
    return {"zip": str(zip_path), "target": meta.get("target"), "core": meta.get("core"),
            "float_abi": meta.get("float_abi"), "optimize": meta.get("optimize"),
            "flash_bytes": m.get("flash_bytes"), "ram_bytes": m.get("ram_bytes"),
            "static_ram_bytes": m.get("static_ram_bytes"), "stack_bytes": m.get("stack_bytes"),
            "knowledge_bytes": meta.get("knowledge_bytes"), "call": per_call,
            "instructions": instructions, "instructions_per_learn": m.get("instructions_per_learn") or None,
            "cycles": cycles, "clock_mhz": clock, "clock_assumed": assumed,
            "us": round(cycles / clock, 1) if cycles and clock else None,
            "identical": m.get("identical"), "lines_compared": m.get("lines_compared"),
            "measured_on": m.get("core")}


# --------------------------------------------------------------------------- results
def roc(negative, positive) -> dict:
    """ROC of scores where positives should score higher: fpr, tpr, auc."""
    from sklearn.metrics import roc_auc_score, roc_curve

    negative, positive = np.asarray(negative, dtype=float), np.asarray(positive, dtype=float)
    if not len(negative) or not len(positive):
        return {"fpr": [], "tpr": [], "auc": None}
    y = np.concatenate([np.zeros(len(negative)), np.ones(len(positive))])
    score = np.concatenate([negative, positive])
    fpr, tpr, _ = roc_curve(y, score)
    return {"fpr": [round(float(v), 4) for v in fpr], "tpr": [round(float(v), 4) for v in tpr],
            "auc": round(float(roc_auc_score(y, score)), 4)}


def anomaly_results(nominal, abnormal, source: str) -> dict:
    nominal, abnormal = np.asarray(nominal, dtype=float), np.asarray(abnormal, dtype=float)
    curve = roc(100 - nominal, 100 - abnormal)  # abnormal = low similarity
    point = {"label": "90 % similarity threshold",
             "fpr": round(float(np.mean(nominal < 90)), 4) if len(nominal) else None,
             "tpr": round(float(np.mean(abnormal < 90)), 4) if len(abnormal) else None}
    parts = [v for v in (1 - point["fpr"] if point["fpr"] is not None else None, point["tpr"]) if v is not None]
    return {"kind": "anomaly", "source": source, "nominal": nominal.astype(int).tolist(),
            "abnormal": abnormal.astype(int).tolist(), "roc": curve, "operating_points": [point],
            "balanced_accuracy": round(float(np.mean(parts)), 4) if parts else None}


def oneclass_results(bench: dict, source: str) -> dict:
    normal = np.asarray(bench["normal"]["score"], dtype=float)
    synthetic = np.asarray((bench.get("synthetic") or {}).get("score", []), dtype=float)
    threshold = float(bench["threshold"])
    curve = roc(normal, synthetic)
    points = [{"label": "the library's threshold", "fpr": round(float(np.mean(normal > threshold)), 4),
               "tpr": round(float(np.mean(synthetic > threshold)), 4) if len(synthetic) else None}]
    if len(normal):
        t90 = float(np.quantile(normal, 0.9))
        points.append({"label": "90 % of normal lines kept", "fpr": round(float(np.mean(normal > t90)), 4),
                       "tpr": round(float(np.mean(synthetic > t90)), 4) if len(synthetic) else None})
    return {"kind": "one-class", "source": source, "threshold": threshold, "normal": normal.tolist(),
            "outliers": synthetic.tolist(), "outliers_are": "synthetic outliers made from the project's lines",
            "roc": curve, "operating_points": points, "recall": bench.get("recall"),
            "outlier_rejection": bench.get("rejection")}


def nclass_results(classes: list[str], cm, source: str) -> dict:
    cm = np.asarray(cm, dtype=np.int64)
    support, predicted = cm.sum(axis=1), cm.sum(axis=0)
    recall = [round(float(cm[i, i] / support[i]), 4) if support[i] else None for i in range(len(classes))]
    precision = [round(float(cm[i, i] / predicted[i]), 4) if predicted[i] else None for i in range(len(classes))]
    present = [r for r in recall if r is not None]
    return {"kind": "n-class", "source": source, "classes": list(classes), "confusion": cm.tolist(),
            "recall": recall, "precision": precision, "support": support.tolist(),
            "balanced_accuracy": round(float(np.mean(present)), 4) if present else None,
            "accuracy": round(float(np.trace(cm) / cm.sum()), 4) if cm.sum() else None}


def extrapolation_results(real, predicted, source: str) -> dict:
    from .tasks.extrapolation import regression_metrics

    real, predicted = np.asarray(real, dtype=float), np.asarray(predicted, dtype=float)
    metrics = regression_metrics(real, predicted) if len(real) else {}
    return {"kind": "extrapolation", "source": source, "real": real.tolist(), "predicted": predicted.tolist(),
            "residuals": (predicted - real).tolist(), **{k: round(v, 6) for k, v in metrics.items()}}


def benchmark_results(project: Project, record: dict) -> dict:
    """The library's answers on its benchmark's first split (held-out lines), by its own C."""
    from .bench_results import library_results

    kind = project.settings.type
    res = library_results(project, record["id"])
    source = f"benchmark {record['benchmark']}, split 1: held-out lines of the project, run by the library's C"
    if kind == "anomaly":
        nominal = [s for c in res["couples"] for s in c["nominal"]]
        abnormal = [s for c in res["couples"] for s in c["abnormal"]]
        return anomaly_results(nominal, abnormal, source)
    if kind == "one-class":
        return oneclass_results(res, source)
    if kind == "n-class":
        from .tasks.nclass import confusion

        cm = confusion(np.array(res["true"]), np.array(res["predicted"]), len(res["classes"]))
        return nclass_results(res["classes"], cm, source)
    return extrapolation_results(res["real"], res["predicted"], source)


def experiment_results(project: Project, experiment: dict, lib_id: str) -> dict | None:
    """The library's results on an experiment's files (None when they carry no expected answers)."""
    kind = experiment["type"]
    outputs = experiment.get("outputs", {}).get(lib_id) or []
    tests = experiment["tests"]
    source = f"experiment {experiment['id']}: " + ", ".join(t["name"] for t in tests) + " (the zip's host build)"
    if kind == "anomaly":
        by = {"nominal": [], "abnormal": []}
        for t, out in zip(tests, outputs):
            if t.get("expected") in by:
                by[t["expected"]] += [r["similarity"] for r in out]
        if not by["nominal"] and not by["abnormal"]:
            return None
        return anomaly_results(by["nominal"], by["abnormal"], source)
    result = next((r for r in experiment["results"] if r["library"] == lib_id), {})
    metrics = result.get("metrics") or {}
    if kind == "n-class":
        if not metrics.get("confusion"):
            return None
        return nclass_results(metrics["classes"], metrics["confusion"], source)
    if kind == "extrapolation":
        pairs = [(r["real"], r["value"]) for out in outputs for r in out
                 if r.get("real") is not None and r.get("value") is not None]
        if not pairs:
            return None
        real, predicted = zip(*pairs)
        return extrapolation_results(real, predicted, source)
    if metrics.get("recall") is None and metrics.get("outlier_rejection") is None:
        return None
    return {"kind": "one-class-flags", "source": source, "recall": metrics.get("recall"),
            "outlier_rejection": metrics.get("outlier_rejection"),
            "balanced_accuracy": metrics.get("balanced_accuracy")}


def learning_section(project: Project, record: dict) -> dict | None:
    if project.settings.type != "anomaly":
        return None
    if "counts" not in record:
        from .bench_history import benchmark_project
        from .search import Benchmark
        from .tasks import task_for

        view = benchmark_project(project, record["benchmark"])
        task = task_for("anomaly", project.settings.multisensor)
        evaluator = task.evaluator(task.load(view), Benchmark.load(project, record["benchmark"]).state["seed"],
                                   None, None)
        record = {**record, **evaluator.learning_curve(record["pipeline"])}
    return {"counts": record["counts"], "balanced_accuracy": record["balanced_accuracy"],
            "min_learning_iterations": record.get("min_learning_iterations")}


def experiment_section(experiment: dict, lib_id: str) -> dict:
    result = next((r for r in experiment["results"] if r["library"] == lib_id), {})
    return {"id": experiment["id"], "created": experiment["created"], "note": experiment.get("note", ""),
            "learn": [{k: f.get(k) for k in ("name", "lines", "line_range", "sha256")} for f in experiment["learn"]],
            "tests": [{k: f.get(k) for k in ("name", "lines", "line_range", "expected", "sha256", "source", "port")}
                      for f in experiment["tests"]],
            "libraries": [lib["id"] for lib in experiment["libraries"]],
            "files": result.get("files", []), "learned": result.get("learned"),
            "metrics": {k: v for k, v in (result.get("metrics") or {}).items() if not isinstance(v, (list, dict))},
            "error": result.get("error", "")}


# --------------------------------------------------------------------------- the report
def build_report(
    project: Project,
    *,
    lib_id: str | None = None,
    experiment_id: str | None = None,
    nested: NestedOptions | None = None,
    build: bool = True,
    progress: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
) -> dict:
    """Every figure of a library's report (see the module docstring)."""
    from .bench_history import benchmark_project
    from .experiments import load_experiment
    from .search import find_library

    say = progress or (lambda _m: None)
    experiment = load_experiment(project, experiment_id, with_outputs=True) if experiment_id else None
    if experiment is not None and lib_id is None:
        lib_id = next((lib["id"] for lib in experiment["libraries"] if not lib.get("error")), None)
    record = find_library(project, lib_id)
    if experiment is not None and not any(r["library"] == record["id"] for r in experiment["results"]):
        raise UsageError(f"experiment {experiment['id']} did not run library {record['id']}",
                         f"It ran {', '.join(lib['id'] for lib in experiment['libraries'])}: give --lib one of them.")
    used = benchmark_project(project, record["benchmark"])
    say(f"report of {record['id']}: project, benchmark and pipeline")
    doc = {
        "title": f"{project.settings.name}: library {record['id']}",
        "generated": _now(),
        "tool": f"neai-tui {__version__}",
        "project": project_section(project),
        "data": data_section(project, used),
        "benchmark": benchmark_section(project, record),
        "library": library_section(project, record),
        "flowchart": flowchart(project, record),
    }
    doc["measured"] = measured_section(project, record, build, say)
    say("running the library on the benchmark's held-out lines")
    doc["results"] = benchmark_results(project, record)
    if experiment is not None:
        doc["experiment"] = experiment_section(experiment, record["id"])
        doc["experiment_results"] = experiment_results(project, experiment, record["id"])
    doc["learning_curve"] = learning_section(project, record)
    if nested is None:
        doc["nested_cv"] = {"skipped": "this report was written without it (`neai report` computes it unless "
                                       "--no-nested is given)"}
    else:
        from .nested_cv import nested_cv

        doc["nested_cv"] = nested_cv(used, nested, progress=say, cancel=cancel)
        doc["nested_cv"]["benchmark_figure"] = {"worst": doc["library"]["worst"], "mean": doc["library"]["mean"]}
    return doc


def write_report(doc: dict, out: Path | str) -> Path:
    """Write the report as .pdf, .html or .md (from the extension); returns the path."""
    from .report_render import write

    return write(doc, Path(out))
