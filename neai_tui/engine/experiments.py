"""Validation experiments: libraries run on new data, each run kept with an id.

An experiment (the Studio's validation step, `neai validate`) runs one or more
libraries on test files whose expected answer is given, after (anomaly
detection) learning the learning files, through each library's host build
(validation.py: the zip's C, loaded with ctypes; a benchmark candidate without
a zip is built first, as `neai deploy --lib ID` would). Test data come from
files or from a live serial port (captured into the project's captures/ folder
first, then read like any file).

Kept in the project, one folder per experiment:

    experiments/e<N>/experiment.json   id, date, data (paths, content hashes, lines,
                                       expected answers), libraries, results
    experiments/e<N>/outputs.json      every library's answer for every test line

The id is taken by creating the folder (exclusive, so two processes never share
one); outputs.json is written before experiment.json and both atomically, so an
experiment is listed only once it is whole.

Results per library type, from the answers and the expected labels:

* anomaly detection (expected nominal / abnormal): balanced accuracy at the 90 %
  similarity threshold, the share of nominal lines accepted and of abnormal
  lines flagged, the functional margin and the ROC AUC of the similarity;
* 1-class (normal / outlier): balanced accuracy, recall (normal lines kept),
  outlier rejection;
* n-class (a class name per file): the confusion matrix over the library's
  classes, balanced accuracy, accuracy, macro F1, MCC, certainty, per-class
  precision and recall (the benchmark's own measures, tasks/nclass.py);
* extrapolation (files with the target first on each line): r2, SMAPE, RMSE
  (tasks/extrapolation.py).
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .errors import InputError, UsageError
from .project import Project
from .storage import atomic_write_json, read_json
from .validation import THRESHOLD, LibraryReport, ValidationFile

EXPERIMENTS = "experiments"
NORMAL_WORDS = {"normal", "inlier", "nominal"}
OUTLIER_WORDS = {"outlier", "abnormal"}
HEADLINE = {"anomaly": "balanced_accuracy", "one-class": "balanced_accuracy", "n-class": "balanced_accuracy",
            "extrapolation": "r2"}
EXPECTED_WORDS = {"anomaly": "nominal or abnormal", "one-class": "normal or outlier", "n-class": "a class name",
                  "extrapolation": "nothing (the target is the first value of each line)"}


@dataclass
class PortTest:
    """Test lines read from a live serial port (captured before the libraries run)."""

    port: str
    expected: str | None = None
    lines: int = 100
    baud: int = 115200
    idle_timeout: float | None = 10.0


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def experiments_dir(project: Project) -> Path:
    return project.path / EXPERIMENTS


def write_lock(project: Project, action: str):
    """The project's writer lock (`Project.writer`, where the project has one): a
    second process changing the same project is refused, naming the holder."""
    writer = getattr(project, "writer", None)
    return writer(action) if writer is not None else contextlib.nullcontext()


# --------------------------------------------------------------------------- labels
def normalise_expected(kind: str, expected: str | None, classes: list[str] | None = None,
                       where: str = "") -> str | None:
    """The expected answer in the words the results use, or a UsageError naming the file."""
    if expected is None or not str(expected).strip():
        return None
    text = str(expected).strip()
    low = text.lower()
    if kind == "anomaly":
        if low in ("nominal", "normal"):
            return "nominal"
        if low in ("abnormal", "anomaly", "outlier"):
            return "abnormal"
    elif kind == "one-class":
        if low in NORMAL_WORDS:
            return "normal"
        if low in OUTLIER_WORDS:
            return "outlier"
    elif kind == "n-class":
        if classes is None:
            return text
        for name in classes:
            if name.lower() == low:
                return name
        raise UsageError(f"{where}: '{text}' is not a class of the library",
                         f"Its classes: {', '.join(classes)}.")
    elif kind == "extrapolation":
        raise UsageError(f"{where}: an extrapolation test file takes no expected answer ('{text}')",
                         "Give files whose lines start with the true target value, then the buffer.")
    raise UsageError(f"{where}: '{text}' is not an expected answer for this project",
                     f"Give {EXPECTED_WORDS.get(kind, 'a label')}.")


def parse_test_spec(spec: str, kind: str) -> ValidationFile:
    """FILE[:ROLE_OR_CLASS][@LINES] from the command line. An existing file is taken
    whole even when its name holds a colon; otherwise the label is after the last
    colon (so C:\\data\\a.csv:nominal works)."""
    text = str(spec)
    line_range = ""
    path_part, label = text, None
    if not Path(text).expanduser().exists() and ":" in text:
        path_part, label = text.rsplit(":", 1)
    if "@" in path_part and not Path(path_part).expanduser().exists():
        path_part, line_range = path_part.rsplit("@", 1)
    path = Path(path_part).expanduser()
    if not path.is_file():
        raise InputError(f"{path}: no such test file", "Give --test FILE:ROLE_OR_CLASS with an existing file.")
    return ValidationFile(path, label, line_range)


def parse_port_spec(spec: str, kind: str, lines: int, baud: int) -> PortTest:
    """PORT:ROLE_OR_CLASS (the label after the last colon; extrapolation: PORT alone)."""
    if kind == "extrapolation":
        return PortTest(spec, None, lines, baud)
    if ":" not in spec:
        raise UsageError(f"--test-port {spec}: no expected answer",
                         f"Write PORT:LABEL, e.g. /dev/ttyACM0:{'nominal' if kind == 'anomaly' else 'normal'}.")
    port, label = spec.rsplit(":", 1)
    return PortTest(port, label, lines, baud)


# --------------------------------------------------------------------------- data
def file_record(item: ValidationFile, role: str, source: str = "file", port: str | None = None) -> dict:
    path = Path(item.path)
    data = path.read_bytes()
    lines = sum(1 for line in data.splitlines() if line.strip())
    record = {"path": str(path.resolve()), "name": path.name, "sha256": hashlib.sha256(data).hexdigest(),
              "bytes": len(data), "lines": lines, "line_range": item.line_range or "", "use": role,
              "expected": item.expected, "source": source}
    if port:
        record["port"] = port
    return record


def capture_tests(project: Project, ports: list[PortTest], *, progress=None,
                  cancel: threading.Event | None = None) -> list[tuple[ValidationFile, str]]:
    """Capture each port's lines into the project's captures/ folder: (test file, port)."""
    from .serial_capture import capture, capture_path

    say = progress or (lambda _m: None)
    out = []
    for item in ports:
        say(f"reading {item.lines} lines from {item.port}")
        result = capture(item.port, capture_path(project.path, item.port), baud=item.baud, max_lines=item.lines,
                         cancel=cancel, idle_timeout=item.idle_timeout)
        out.append((ValidationFile(result.path, item.expected), item.port))
    return out


# --------------------------------------------------------------------------- results
def _auc(negative: np.ndarray, positive: np.ndarray) -> float | None:
    """P(a positive scores above a negative), ties counted half (Mann-Whitney)."""
    if not len(negative) or not len(positive):
        return None
    from scipy.stats import rankdata

    ranks = rankdata(np.concatenate([negative, positive]))
    n_pos, n_neg = len(positive), len(negative)
    return float((ranks[n_neg:].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def library_metrics(kind: str, report: LibraryReport, expected: list[str | None]) -> dict:
    """The experiment's figures for one library (see the module docstring)."""
    if kind == "anomaly":
        from .tasks.anomaly import _margin

        nominal = np.array([r["similarity"] for out, e in zip(report.outputs, expected) if e == "nominal"
                            for r in out], dtype=float)
        abnormal = np.array([r["similarity"] for out, e in zip(report.outputs, expected) if e == "abnormal"
                             for r in out], dtype=float)
        m: dict = {"balanced_accuracy": report.balanced_accuracy,
                   "nominal_accepted": round(float(np.mean(nominal >= THRESHOLD)), 4) if len(nominal) else None,
                   "abnormal_detected": round(float(np.mean(abnormal < THRESHOLD)), 4) if len(abnormal) else None}
        if len(nominal) and len(abnormal):
            m["functional_margin"] = round(_margin(nominal, abnormal), 4)
            m["auc"] = round(_auc(-nominal, -abnormal), 4)  # abnormal = low similarity
        return m
    if kind == "one-class":
        flags = {label: np.array([bool(r.get("outlier")) for out, e in zip(report.outputs, expected) if e == label
                                  for r in out]) for label in ("normal", "outlier")}
        return {"balanced_accuracy": report.balanced_accuracy,
                "recall": round(float(np.mean(~flags["normal"])), 4) if len(flags["normal"]) else None,
                "outlier_rejection": round(float(np.mean(flags["outlier"])), 4) if len(flags["outlier"]) else None}
    if kind == "n-class":
        from .tasks.nclass import classification_metrics, confusion

        classes = list(report.meta.get("classes") or [])
        y_true, y_pred, proba = [], [], []
        unknown = 0
        for out, e in zip(report.outputs, expected):
            if e is None or e not in classes:
                continue
            for r in out:
                if not r.get("id"):
                    unknown += 1
                    continue
                y_true.append(classes.index(e))
                y_pred.append(int(r["id"]) - 1)
                proba.append(r.get("probabilities") or [0.0] * len(classes))
        if not y_true:
            return {"balanced_accuracy": None, "classes": classes}
        y_true_a = np.array(y_true)
        cm = confusion(y_true_a, np.array(y_pred), len(classes))
        m = {k: round(v, 4) for k, v in classification_metrics(cm, np.array(proba), y_true_a).items()}
        support, predicted = cm.sum(axis=1), cm.sum(axis=0)
        m["classes"] = classes
        m["confusion"] = cm.tolist()
        m["recall_per_class"] = [round(float(cm[i, i] / support[i]), 4) if support[i] else None
                                 for i in range(len(classes))]
        m["precision_per_class"] = [round(float(cm[i, i] / predicted[i]), 4) if predicted[i] else None
                                    for i in range(len(classes))]
        m["unknown"] = unknown
        return m
    from .tasks.extrapolation import regression_metrics

    pairs = np.array([(r["real"], r["value"]) for out in report.outputs for r in out
                      if r.get("real") is not None and r.get("value") is not None], dtype=float)
    if not len(pairs):
        return {"r2": None}
    return {k: round(v, 6) for k, v in regression_metrics(pairs[:, 0], pairs[:, 1]).items()}


# --------------------------------------------------------------------------- running
def _resolve_libraries(project: Project, libraries: list[str | Path]) -> tuple[list[Path], list[str], list[str]]:
    """(zips, candidate ids, the references in the order given) from ids or zip paths."""
    from .search import find_library

    zips: list[Path] = []
    candidates: list[str] = []
    order: list[str] = []
    for ref in libraries:
        text = str(ref)
        path = Path(text).expanduser()
        if text.lower().endswith(".zip") or path.is_file():
            if not path.is_file():
                raise UsageError(f"{path}: no such library zip", "Give a zip made by `neai deploy`, or a library id.")
            zips.append(path)
        else:
            find_library(project, text)  # a clear error for an unknown id
            candidates.append(text)
        order.append(text)
    if not order:
        raise UsageError("no library to validate", "Give --lib ID (see `neai libs`) or --lib FILE.zip, once or more.")
    return zips, candidates, order


def run_experiment(
    project: Project,
    *,
    libraries: list[str | Path],
    learn: list[ValidationFile] = (),
    tests: list[ValidationFile] = (),
    ports: list[PortTest] = (),
    sensitivity: float | None = None,
    note: str = "",
    progress: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
) -> dict:
    """Run the libraries on the test data, store the experiment, return it (with its outputs)."""
    from .validation import validate_project_libraries

    kind = project.settings.type
    say = progress or (lambda _m: None)
    zips, candidates, order = _resolve_libraries(project, libraries)
    if kind != "anomaly" and learn:
        raise UsageError(f"{kind} libraries are trained when they are built: they learn nothing on the device",
                         "Drop --learn (anomaly-detection libraries only).")
    for item in [*learn, *tests]:
        if not Path(item.path).is_file():
            raise InputError(f"{item.path}: no such file", "Check the paths of the learning and test files.")
    if not tests and not ports:
        raise UsageError("no test data", "Give --test FILE:ROLE_OR_CLASS (or a live port), once or more.")
    classes = [s.class_name for s in project.signals if s.class_name] if kind == "n-class" else None
    for item in tests:
        item.expected = normalise_expected(kind, item.expected, classes or None, str(item.path))
    if kind in ("anomaly", "one-class", "n-class") and not any(t.expected for t in tests) and not any(
            p.expected for p in ports):
        say("no expected answer given: the figures are per file only")
    sources: list[tuple[ValidationFile, str, str | None]] = [(t, "file", None) for t in tests]
    for port in ports:
        port.expected = normalise_expected(kind, port.expected, classes or None, port.port)
    for captured, port in capture_tests(project, list(ports), progress=say, cancel=cancel):
        sources.append((captured, "serial", port))
    test_files = [t for t, _, _ in sources]
    reports = validate_project_libraries(project, zips=zips, candidates=candidates, learn=list(learn),
                                         tests=test_files, sensitivity=sensitivity, progress=say, cancel=cancel)
    # reports come as the zips then the candidates: back to the order given
    by_ref = dict(zip([str(z) for z in zips] + candidates, reports))
    ordered = [by_ref[ref if ref in by_ref else str(Path(ref).expanduser())] for ref in order]
    expected = [t.expected for t in test_files]
    doc = {
        "id": None,
        "created": _now(),
        "project": project.settings.name,
        "type": kind,
        "note": note,
        "sensitivity": sensitivity,
        "learn": [file_record(item, "learn") for item in learn],
        "tests": [file_record(t, "test", source, port) for t, source, port in sources],
        "libraries": [],
        "results": [],
    }
    outputs = {}
    for ref, report in zip(order, ordered):
        meta = report.meta or {}
        zip_path = Path(report.zip_path)
        doc["libraries"].append({
            "ref": ref, "id": report.library_id, "zip": str(zip_path) if zip_path.suffix == ".zip" else None,
            "zip_sha256": hashlib.sha256(zip_path.read_bytes()).hexdigest() if zip_path.is_file() else None,
            "type": report.type, "target": meta.get("target"), "core": meta.get("core"),
            "pipeline": meta.get("pipeline"), "benchmark": meta.get("benchmark"), "built": report.built,
            "error": report.error})
        result = {"library": report.library_id, "error": report.error, "learned": report.learned,
                  "files": report.files}
        if not report.error:
            result["metrics"] = library_metrics(kind, report, expected)
        doc["results"].append(result)
        outputs[report.library_id] = report.outputs
    return store_experiment(project, doc, outputs)


def store_experiment(project: Project, doc: dict, outputs: dict) -> dict:
    """Give the experiment the next id and write it (outputs first, then the document)."""
    root = experiments_dir(project)
    root.mkdir(parents=True, exist_ok=True)
    with write_lock(project, "store a validation experiment"):
        n = 1 + max((int(p.name[1:]) for p in root.iterdir() if p.name[:1] == "e" and p.name[1:].isdigit()),
                    default=0)
        while True:
            folder = root / f"e{n}"
            try:
                folder.mkdir()
                break
            except FileExistsError:  # another process took it
                n += 1
        doc["id"] = folder.name
        atomic_write_json(folder / "outputs.json", outputs)
        atomic_write_json(folder / "experiment.json", doc)
    return doc


# --------------------------------------------------------------------------- reading
def load_experiment(project: Project, experiment_id: str, with_outputs: bool = False) -> dict:
    folder = experiments_dir(project) / str(experiment_id)
    if not (folder / "experiment.json").is_file() or "/" in str(experiment_id) or str(experiment_id).startswith("."):
        raise UsageError(f"no experiment '{experiment_id}' in this project",
                         "`neai experiments PROJECT` lists them.")
    try:
        doc = read_json(folder / "experiment.json")
        if with_outputs:
            doc["outputs"] = read_json(folder / "outputs.json")
    except (OSError, ValueError) as exc:
        raise InputError(f"{folder}: the experiment is damaged ({exc})", "Run the validation again.") from None
    return doc


def list_experiments(project: Project, filter_text: str = "") -> list[dict]:
    """Every stored experiment (oldest first), as a summary; with `filter_text`, those
    whose id, date, note, libraries, files or labels hold every word of it."""
    root = experiments_dir(project)
    docs = []
    if root.is_dir():
        for folder in sorted((p for p in root.iterdir() if p.name[1:].isdigit()), key=lambda p: int(p.name[1:])):
            if (folder / "experiment.json").is_file():
                try:
                    docs.append(read_json(folder / "experiment.json"))
                except (OSError, ValueError):
                    continue
    words = [w.lower() for w in filter_text.split()]
    out = []
    for doc in docs:
        summary = summarise(doc)
        haystack = " ".join([summary["id"], summary["created"], doc.get("note", ""), *summary["libraries"],
                             *summary["files"], *(str(t.get("expected") or "") for t in doc.get("tests", [])),
                             *(str(lib.get("pipeline") or "") for lib in doc.get("libraries", []))]).lower()
        if all(w in haystack for w in words):
            out.append(summary)
    return out


def summarise(doc: dict) -> dict:
    headline = HEADLINE.get(doc.get("type"), "balanced_accuracy")
    return {
        "id": doc["id"], "created": doc.get("created", ""), "note": doc.get("note", ""),
        "libraries": [lib["id"] for lib in doc.get("libraries", [])],
        "files": [t["name"] for t in doc.get("tests", [])],
        "lines": sum(t.get("lines", 0) for t in doc.get("tests", [])),
        "headline": headline,
        "figures": {r["library"]: (r.get("metrics") or {}).get(headline) for r in doc.get("results", [])},
    }


def compare_experiments(project: Project, first: str, second: str) -> dict:
    """Two experiments side by side: their data (same files? same content?) and, per
    library and figure, the two values and the difference."""
    a, b = load_experiment(project, first), load_experiment(project, second)
    data = []
    names = list(dict.fromkeys([t["name"] for t in a["tests"]] + [t["name"] for t in b["tests"]]))
    for name in names:
        ta = next((t for t in a["tests"] if t["name"] == name), None)
        tb = next((t for t in b["tests"] if t["name"] == name), None)
        same = ta is not None and tb is not None and ta["sha256"] == tb["sha256"]
        data.append({"file": name, "a": ta and {"lines": ta["lines"], "expected": ta.get("expected")},
                     "b": tb and {"lines": tb["lines"], "expected": tb.get("expected")},
                     "same_content": same})
    rows = []
    libs = list(dict.fromkeys([r["library"] for r in a["results"]] + [r["library"] for r in b["results"]]))
    for lib in libs:
        ma = next((r.get("metrics") or {} for r in a["results"] if r["library"] == lib), {})
        mb = next((r.get("metrics") or {} for r in b["results"] if r["library"] == lib), {})
        for key in dict.fromkeys([*ma, *mb]):
            va, vb = ma.get(key), mb.get(key)
            if isinstance(va, (list, dict)) or isinstance(vb, (list, dict)):
                continue
            diff = round(vb - va, 4) if isinstance(va, (int, float)) and isinstance(vb, (int, float)) else None
            rows.append({"library": lib, "figure": key, "a": va, "b": vb, "difference": diff})
    return {"a": summarise(a), "b": summarise(b), "data": data, "figures": rows}
