"""Benchmark history: which files a benchmark used, how its splits use them, its
budget and log, and the list of every benchmark of a project.

* **Files.** A benchmark uses every imported file, or the subset chosen with
  `neai bench --files` (or the benchmark dialog). The subset is kept in
  bench.json ("files": id, name, label, lines, content hash of each), so a
  resumed run, the results view, deployment and the report all use the same
  lines (`benchmark_project`), whatever was imported since.
* **Splits.** bench.json's "splits" names, for each split, the files its
  learning (or fitted) lines and its test lines come from, with line counts.
* **Budget.** Each run of a benchmark (a resume is another run) records its
  limit (seconds, evaluations, or convergence), so the history can say how far
  it got; `--evals` is a total across runs, `--time` a limit per run.
* **Log.** What the benchmark reported (start, new bests, stops, messages) is
  appended to benchmarks/<id>/log.jsonl (fsynced line by line), so reopening a
  benchmark shows its log.
"""
from __future__ import annotations

import datetime as _dt
from pathlib import Path

import numpy as np

from .errors import UsageError
from .project import Project, ProjectView, SignalEntry
from .storage import append_jsonl, read_json, read_jsonl

LOG_FILE = "log.jsonl"


# --------------------------------------------------------------------------- files
def signal_label(entry: SignalEntry) -> str:
    if entry.role:
        return f"{entry.role}, couple {entry.couple}"
    if entry.class_name:
        return f"class {entry.class_name}"
    return "signals"


def file_name(entry: SignalEntry) -> str:
    return Path(entry.file).name


def describe_files(signals: list[SignalEntry]) -> list[dict]:
    return [{"id": s.id, "name": file_name(s), "original": Path(s.original).name if s.original else "",
             "label": signal_label(s), "role": s.role, "couple": s.couple if s.role else None,
             "class_name": s.class_name, "lines": s.lines, "sha256": s.sha256} for s in signals]


def choose_files(project: Project, tokens: list[str] | None) -> list[SignalEntry]:
    """The signal entries named by `tokens` (ids such as s2, file names with or
    without their extension, original file names, class names, or couple:K for
    every file of a signal couple), in the project's order; every file without tokens."""
    if not tokens:
        return list(project.signals)
    wanted: list[str] = [t.strip() for token in tokens for t in str(token).split(",") if t.strip()]
    chosen: set[str] = set()
    for token in wanted:
        low = token.lower()
        if low.startswith(("couple:", "couple=")):
            try:
                couple = int(low.split(":", 1)[-1].split("=", 1)[-1])
            except ValueError:
                raise UsageError(f"'{token}' is not a signal couple", "Write couple:K, e.g. couple:2.") from None
            found = [s for s in project.signals if s.role and s.couple == couple]
            if not found:
                raise UsageError(f"this project has no signal couple {couple}",
                                 f"Its couples: {', '.join(map(str, project.couples())) or 'none'}.")
        else:
            found = [s for s in project.signals if low in _names(s)]
            if len(found) > 1:
                raise UsageError(f"'{token}' names several files: {', '.join(s.id for s in found)}",
                                 "Give their ids (s1, s2 …) instead.")
            if not found:
                listing = ", ".join(f"{s.id} ({file_name(s)})" for s in project.signals)
                raise UsageError(f"no signal file '{token}' in this project",
                                 f"Give ids or file names: {listing or 'none imported yet'}.")
        chosen.update(s.id for s in found)
    return [s for s in project.signals if s.id in chosen]


def _names(entry: SignalEntry) -> set[str]:
    names = {entry.id.lower(), file_name(entry).lower(), Path(entry.file).stem.lower()}
    if entry.original:
        names |= {Path(entry.original).name.lower(), Path(entry.original).stem.lower()}
    if entry.class_name:
        names.add(entry.class_name.lower())
    return names


def restricted_project(project: Project, signals: list[SignalEntry]) -> Project:
    """The project as the benchmark sees it: a read-only view when it uses a subset."""
    if [s.id for s in signals] == [s.id for s in project.signals]:
        return project
    view = project.restricted([s.id for s in signals])
    problems = view.readiness_problems()
    if problems:
        p = problems[0]
        raise UsageError(f"with only {', '.join(s.id for s in signals)}: {p.message}",
                         "Choose files that make a complete project (every couple needs a nominal and an "
                         "abnormal file; n-class needs two classes or more).")
    return view


def benchmark_files(project: Project, tokens: list[str] | None, stored: list[dict] | None) -> Project:
    """The project view a benchmark uses: the files given (a new benchmark), or the
    files stored by the benchmark being resumed (given files must be the same)."""
    if stored is None:
        return restricted_project(project, choose_files(project, tokens))
    ids = [f["id"] for f in stored]
    missing = [i for i in ids if not any(s.id == i for s in project.signals)]
    if missing:
        raise UsageError(f"the benchmark's file(s) {', '.join(missing)} were removed from the project",
                         "Start a new benchmark (`neai bench DIR --new`).")
    if tokens and [s.id for s in choose_files(project, tokens)] != ids:
        raise UsageError(f"the benchmark being resumed uses {', '.join(ids)}",
                         "Add --new to start another benchmark with the files given.")
    return restricted_project(project, [s for s in project.signals if s.id in ids])


def benchmark_project(project: Project, bench_id: str | None) -> Project:
    """The project restricted to the files benchmark `bench_id` used (itself when all)."""
    if not bench_id:
        return project
    path = project.path / "benchmarks" / bench_id / "bench.json"
    try:
        state = read_json(path)
    except (OSError, ValueError):
        return project
    if not state.get("files_restricted"):
        return project
    ids = {f["id"] for f in state.get("files", [])}
    signals = [s for s in project.signals if s.id in ids]
    return project.restricted([s.id for s in signals]) if signals else project


# --------------------------------------------------------------------------- splits
def _file_counts(indices, owners: np.ndarray, names: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for owner in owners[np.asarray(indices, dtype=np.int64)]:
        counts[names[int(owner)]] = counts.get(names[int(owner)], 0) + 1
    return {name: counts[name] for name in names if name in counts}


def describe_splits(project: Project, data, evaluator) -> list[dict] | None:
    """Per split, the files its learning/fitted lines and its test lines come from
    (line counts), or None for a task whose splits are not line subsets (Multi-sensor)."""
    splits = getattr(evaluator, "splits", None)
    if splits is None:
        return None
    if isinstance(splits, dict):  # anomaly detection: per couple
        out = []
        for couple, couple_splits in splits.items():
            nominal = project.signals_with("nominal", couple)
            abnormal = project.signals_with("abnormal", couple)
            nom_owner = np.repeat(np.arange(len(nominal)), [s.lines for s in nominal])
            abn_owner = np.repeat(np.arange(len(abnormal)), [s.lines for s in abnormal])
            nom_names = [file_name(s) for s in nominal]
            abn_names = [file_name(s) for s in abnormal]
            for k, split in enumerate(couple_splits, start=1):
                if hasattr(split, "learn_end"):  # Multi-sensor: time-ordered folds of the samples
                    learn_idx, test_idx = np.arange(split.learn_end), np.arange(split.test_start, split.test_end)
                    abn_idx = np.arange(len(abn_owner))
                else:
                    learn_idx, test_idx, abn_idx = split.learn, split.test_nominal, split.test_abnormal
                test = _file_counts(test_idx, nom_owner, nom_names)
                for name, n in _file_counts(abn_idx, abn_owner, abn_names).items():
                    test[name] = test.get(name, 0) + n
                out.append({"split": k, "couple": couple, "learn": _file_counts(learn_idx, nom_owner, nom_names),
                            "test": test})
        return out
    sources = getattr(data, "sources", None)
    if sources is None:
        return None
    names = [file_name(s) for s in project.signals]
    if len(names) <= int(np.max(sources, initial=0)):
        return None
    return [{"split": k, "fit": _file_counts(split.fit, sources, names), "test": _file_counts(split.test, sources, names)}
            for k, split in enumerate(splits, start=1)]


def splits_text(split: dict) -> str:
    """'1: learn s1_nominal.csv 36 | test s1_nominal.csv 24, s2_abnormal.csv 30'."""
    first = "learn" if "learn" in split else "fit"

    def part(counts: dict) -> str:
        return ", ".join(f"{name} {n}" for name, n in counts.items()) or "–"

    couple = f" (couple {split['couple']})" if split.get("couple") is not None else ""
    return f"{split['split']}{couple}: {first} {part(split[first])} | test {part(split['test'])}"


# --------------------------------------------------------------------------- budget
def budget_text(budget: dict | None) -> str:
    if not budget:
        return "–"
    if budget.get("time_s") is not None:
        return f"{budget['time_s']:g} s"
    if budget.get("evals") is not None:
        return f"{budget['evals']} evals"
    return "convergence"


def percent_done(state: dict) -> float | None:
    """How far the latest run got through its budget (100 when it ended on its own
    limit or converged), or None when it cannot be said."""
    budget = state.get("budget") or {}
    status = state.get("status")
    if budget.get("evals"):
        return round(min(100.0, 100.0 * state.get("evals_done", 0) / budget["evals"]), 1)
    if budget.get("time_s"):
        used = float(state.get("elapsed_s", 0.0)) - float(budget.get("from_elapsed_s", 0.0))
        if status == "done" or used >= budget["time_s"] * 0.99:
            return 100.0
        return round(max(0.0, min(100.0, 100.0 * used / budget["time_s"])), 1)
    return 100.0 if status == "done" else None


# --------------------------------------------------------------------------- log
def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def append_log(bench_dir: Path, elapsed_s: float, text: str, kind: str = "info") -> None:
    append_jsonl(Path(bench_dir) / LOG_FILE, {"t": round(float(elapsed_s), 2), "at": _now(), "kind": kind, "text": text})


def read_log(bench_dir: Path) -> list[dict]:
    return list(read_jsonl(Path(bench_dir) / LOG_FILE))


# --------------------------------------------------------------------------- history
def benchmark_history(project: Project) -> list[dict]:
    """Every benchmark of the project, oldest first: id, created, status, budget,
    percent done, evaluations, best (id, score, main metric), duration, files."""
    from .search import Benchmark, list_benchmarks

    out = []
    for info in list_benchmarks(project):
        bench = Benchmark.load(project, info["id"])
        best = bench.best() or {}
        metrics = best.get("metrics") or {}
        main = next(((k, v) for k, v in metrics.items() if not isinstance(v, (list, dict))), (None, None))
        files = info.get("files") or []
        out.append({
            "id": info["id"],
            "created": info.get("created", ""),
            "status": info.get("status", ""),
            "budget": info.get("budget"),
            "budget_text": budget_text(info.get("budget")),
            "percent_done": percent_done(info),
            "evals": int(info.get("evals_done", 0)),
            "elapsed_s": float(info.get("elapsed_s", 0.0)),
            "seed": info.get("seed"),
            "best": {"id": best.get("id"), "score": best.get("score"), "metric": main[0], "value": main[1],
                     "ram_bytes": best.get("ram_bytes"), "flash_bytes": best.get("flash_bytes"),
                     "pipeline": best.get("pipeline_text")} if best else None,
            "files": [f["name"] for f in files],
            "file_ids": [f["id"] for f in files],
            "restricted": bool(info.get("files_restricted")),
            "splits": info.get("splits"),
        })
    return out


def evolution(project: Project, bench_id: str) -> list[dict]:
    """The benchmark's best libraries over time (history.jsonl): t, evals, score,
    metrics, ram_bytes, flash_bytes, and what improved at each step."""
    from .search import Benchmark, what_improved

    points = []
    before = None
    for h in Benchmark.load(project, bench_id).history():
        point = dict(h)
        point["improved"] = what_improved(before, h) if before is not None else {}
        points.append(point)
        before = h
    return points
