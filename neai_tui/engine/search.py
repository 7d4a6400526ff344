"""The benchmark: search preprocessing x model x hyperparameters for the library
that holds up best in its worst case.

This module is the engine, the same for every project type; a task (tasks/)
says what the data are, what the space holds and how a candidate is judged.
A candidate's score is its *worst* split's score, so more splits can only lower
it: a task rejects a candidate whose first splits already score below the
current N-th best without running the others (exact successive halving).

Determinism: candidates come in generations drawn from (seed, generation) and
the top list as it stood after the previous generation, and ties break by
candidate index, so with --evals and --seed the result does not depend on the
number of cores.

Persistence (benchmarks/<id>/): bench.json (atomic), results.jsonl and
history.jsonl (append-only, fsynced): a killed run keeps its best library and
resumes where it stopped.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import re
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Callable

import numpy as np

from .errors import Cancelled, UsageError
from .fingerprint import changes as data_changes
from .fingerprint import data_fingerprint
from .project import Project
from .scoring import Limits
from .schema import BENCH_ID, InvalidProjectData, check_bench_state, check_library, check_selected
from .storage import append_jsonl, append_jsonl_many, atomic_write_json, read_json, read_jsonl
from .strategy import GENERATION_SIZE, STRATEGIES, TOP_N, Proposer, pipeline_key
from .cost import core_space
from .tasks import Task, task_for

__all__ = ["GENERATION_SIZE", "TOP_N", "run_benchmark", "pipeline_key"]


@dataclass
class BenchProgress:
    evals_done: int
    evals_per_s: float
    elapsed_s: float
    best_score: float | None
    best: dict | None
    new_best: bool
    message: str = ""
    workers: int = 1
    improved: dict | None = None  # on a new best: {name: [before, after]} of what changed

    @property
    def evals_per_s_per_worker(self) -> float:
        return self.evals_per_s / max(1, self.workers)


def what_improved(before: dict | None, after: dict) -> dict:
    """Score, metrics, RAM and flash that changed between two best libraries."""
    out = {}
    old = before or {}
    for name in ("score", "ram_bytes", "flash_bytes"):
        if old.get(name) != after.get(name):
            out[name] = [old.get(name), after.get(name)]
    for name, value in after.get("metrics", {}).items():
        previous = old.get("metrics", {}).get(name)
        if not isinstance(value, list) and previous != value:
            out[name] = [previous, value]
    return out


@dataclass
class BenchResult:
    benchmark: str
    best: dict | None
    evals_done: int
    elapsed_s: float
    status: str
    # Candidates left out for their size: {"ram": n, "flash": n, "both": n,
    # "min_ram": bytes, "min_flash": bytes} over the benchmark (see limits.py).
    excluded: dict | None = None
    note: str = ""  # why an unfinished benchmark was not resumed, if it was not


# ----------------------------------------------------------- worker processes
_WORKER = None


def _init_worker(task: Task, data, seed: int, limits: Limits) -> None:
    global _WORKER
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _WORKER = task.evaluator(data, seed, limits=limits)


def _work(batch: list[tuple[int, dict]], prune_below: float | None) -> list[tuple[int, dict]]:
    assert _WORKER is not None
    return [(index, _WORKER.evaluate(p, prune_below)) for index, p in batch]


_DASK_EVALUATORS: dict[str, object] = {}


def _dask_work(key: str, task: Task, data, seed: int, limits: Limits, batch, prune_below):
    """Runs on a Dask worker: one evaluator (and feature cache) per benchmark per worker."""
    evaluator = _DASK_EVALUATORS.get(key)
    if evaluator is None:
        _DASK_EVALUATORS.clear()
        evaluator = _DASK_EVALUATORS[key] = task.evaluator(data, seed, limits=limits)
    return [(index, evaluator.evaluate(p, prune_below)) for index, p in batch]


class _DaskPool:
    """The slice of a process pool the engine uses, on an existing Dask cluster."""

    def __init__(self, address: str, key: str, task: Task, data, seed: int, limits: Limits):
        try:
            from distributed import Client
        except ImportError:
            raise UsageError(
                "--scheduler needs Dask's distributed package", "Install it with `pip install 'neai-tui[cluster]'`."
            ) from None
        try:
            self.client = Client(address, timeout=10)
        except (OSError, TimeoutError) as exc:
            raise UsageError(f"cannot reach the Dask scheduler at {address} ({exc})",
                             "Check the address (tcp://HOST:PORT) and that the scheduler runs.") from None
        self.args = (key, task, self.client.scatter(data, broadcast=True), seed, limits)

    @property
    def workers(self) -> int:
        return max(1, len(self.client.scheduler_info().get("workers", {})))

    def submit(self, fn, batch, threshold):
        return self.client.submit(_dask_work, *self.args, batch, threshold, pure=False)

    def shutdown(self, wait: bool = False, cancel_futures: bool = True) -> None:
        self.client.close()


# ---------------------------------------------------------------- benchmarks
def benchmarks_dir(project: Project) -> Path:
    return project.path / "benchmarks"


def list_benchmarks(project: Project) -> list[dict]:
    """The state of every benchmark (bench.json), validated (schema.py); folders
    whose name is not a benchmark id are not benchmarks and are left alone."""
    out = []
    root = benchmarks_dir(project)
    if root.is_dir():
        for folder in sorted(root.iterdir(), key=lambda p: (len(p.name), p.name)):
            if re.fullmatch(BENCH_ID, folder.name) and not folder.is_symlink() and (folder / "bench.json").is_file():
                try:
                    state = read_json(folder / "bench.json")
                except (OSError, ValueError):
                    continue
                out.append(check_bench_state(state, str(folder / "bench.json"), folder.name))
    return out


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


class Benchmark:
    """One benchmark run of a project, with its persisted state."""

    def __init__(self, project: Project, bench_id: str):
        self.project = project
        self.id = bench_id
        self.dir = benchmarks_dir(project) / bench_id
        self.state: dict = {}

    @classmethod
    def create(cls, project: Project, seed: int | None, cores: int, keep_selection: bool = False) -> "Benchmark":
        existing = {b["id"] for b in list_benchmarks(project)}
        n = 1
        while f"b{n}" in existing or (benchmarks_dir(project) / f"b{n}").exists():
            n += 1
        bench = cls(project, f"b{n}")
        bench.dir.mkdir(parents=True)
        # A new benchmark's best becomes the default library again, unless the
        # user asked to keep the chosen one.
        if not keep_selection:
            (project.path / "selected.json").unlink(missing_ok=True)
        bench.state = {
            "id": bench.id,
            "created": _now(),
            "status": "running",
            "seed": int(seed if seed is not None else np.random.SeedSequence().entropy % (2**31)),
            "cores": cores,
            "generation": 0,
            "evals_done": 0,
            "elapsed_s": 0.0,
            "best_id": None,
            "space_size": None,
            "data": {},
        }
        bench.save()
        return bench

    @classmethod
    def load(cls, project: Project, bench_id: str) -> "Benchmark":
        if not isinstance(bench_id, str) or not re.fullmatch(BENCH_ID, bench_id):
            raise InvalidProjectData(f"'{bench_id!s:.40}' is not a benchmark id", "Benchmark ids are b1, b2, …")
        bench = cls(project, bench_id)
        if not (bench.dir / "bench.json").is_file() or bench.dir.is_symlink():
            raise UsageError(f"no benchmark '{bench_id}' in {project.path}", "See `neai libs DIR`.")
        bench.state = check_bench_state(read_json(bench.dir / "bench.json"), str(bench.dir / "bench.json"), bench_id)
        return bench

    def save(self) -> None:
        atomic_write_json(self.dir / "bench.json", self.state)

    def results(self) -> list[dict]:
        """Results of the completed generations (a generation cut short by a
        crash is evaluated again on resume, so its partial records are ignored)."""
        done = int(self.state.get("next_index", 0))
        partial = set(self.state.get("partial", []))
        by_index = {
            r["index"]: r for r in _validated_results(self.dir / "results.jsonl", self.id)
            if r["index"] < done or r["index"] in partial
        }
        return [by_index[i] for i in sorted(by_index)]

    def history(self) -> list[dict]:
        return list(read_jsonl(self.dir / "history.jsonl"))

    def top(self, n: int = TOP_N) -> list[dict]:
        ranked = sorted(self.results(), key=lambda r: (-r["score"], r["index"]))
        return ranked[:n]

    def best(self) -> dict | None:
        if (self.dir / "best.json").is_file():
            record = check_library(read_json(self.dir / "best.json"), str(self.dir / "best.json"))
            if record["benchmark"] != self.id:
                raise InvalidProjectData(f"{self.dir / 'best.json'}: field benchmark: '{record['benchmark']}' is not "
                                         f"this folder's benchmark '{self.id}'", "Restore the file or remove it.")
            return record
        return None

    def data_changes(self, project: Project | None = None, fingerprint: dict | None = None) -> list[str]:
        """How the project's data and settings differ from what this benchmark ran on
        (fingerprint.py; empty: the same)."""
        project = project or self.project
        return data_changes(self.state.get("fingerprint"), fingerprint or data_fingerprint(project), self.state, project)


_results_cache: dict[str, tuple[tuple, list[dict]]] = {}


def _validated_results(path: Path, bench_id: str) -> list[dict]:
    """The records of a results.jsonl, each validated (schema.py); cached while the
    file is unchanged, so listing libraries again costs nothing."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return []
    stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
    key = str(path.resolve())
    known = _results_cache.get(key)
    if known is not None and known[0] == stamp:
        return known[1]
    records = []
    for number, record in enumerate(read_jsonl(path), start=1):
        check_library(record, f"{path}: record {number}")
        if record["benchmark"] != bench_id:
            raise InvalidProjectData(f"{path}: record {number}: field benchmark: '{record['benchmark']}' is not this "
                                     f"folder's benchmark '{bench_id}'", "Restore the file or remove it.")
        records.append(record)
    _results_cache[key] = (stamp, records)
    return list(records)


def pareto_front(results: list[dict]) -> list[dict]:
    """Libraries no other beats on score, RAM, flash and instructions per inference
    at once (best score first), so a user can trade a little score for a smaller or
    faster library. Results of benchmarks older than the cost model count as 0
    instructions."""
    ranked = sorted(results, key=lambda r: (-r["score"], r["ram_bytes"], r["flash_bytes"],
                                            r.get("instructions", 0), r["index"]))
    front: list[dict] = []
    for r in ranked:  # every earlier one has a score >= r's
        if not any(f["ram_bytes"] <= r["ram_bytes"] and f["flash_bytes"] <= r["flash_bytes"]
                   and f.get("instructions", 0) <= r.get("instructions", 0) for f in front):
            front.append(r)
    return front


def latest_unfinished(project: Project) -> str | None:
    for b in reversed(list_benchmarks(project)):
        if b.get("status") in ("running", "stopped", "interrupted"):
            return b["id"]
    return None


def run_benchmark(
    project: Project,
    *,
    time_limit: float | None = None,
    max_evals: int | None = None,
    cores: int = 1,
    seed: int | None = None,
    new: bool = False,
    progress: Callable[[BenchProgress], None] | None = None,
    cancel: threading.Event | None = None,
    strategy: str = "tpe",
    scheduler: str | None = None,
    keep_selection: bool = False,
) -> BenchResult:
    """Run (or resume) a benchmark until the time or evaluation budget, the
    cancel event, or convergence. The best library so far is always on disk.

    The project's writer lock is held throughout (a second writer gets
    ProjectBusy). An unfinished benchmark is resumed only if it ran on the same
    data and settings (fingerprint.py); otherwise a new one starts and the first
    progress message says why."""
    if cores < 1:
        raise UsageError(f"--cores must be 1 or more, not {cores}", "Use --cores N with N >= 1.")
    with project.writer("run a benchmark"):
        return _run_benchmark(project, time_limit=time_limit, max_evals=max_evals, cores=cores, seed=seed, new=new,
                              progress=progress, cancel=cancel, strategy=strategy, scheduler=scheduler,
                              keep_selection=keep_selection)


def _run_benchmark(project, *, time_limit, max_evals, cores, seed, new, progress, cancel, strategy, scheduler,
                   keep_selection):
    task = task_for(project.settings.type, project.settings.multisensor)
    data = task.load(project)
    footprint = _check_space_fits(project, task, data)
    fingerprint = data_fingerprint(project)
    resume_id = None if new else latest_unfinished(project)
    not_resumed = ""
    if resume_id:
        earlier = Benchmark.load(project, resume_id)
        why = earlier.data_changes(project, fingerprint)
        if why:
            not_resumed = (f"benchmark {resume_id} ran on other data ({'; '.join(why)}): starting a new benchmark "
                           f"instead of resuming it; its candidates stay listed, marked as computed on other data")
            resume_id = None
    bench = (Benchmark.load(project, resume_id) if resume_id
             else Benchmark.create(project, seed, cores, keep_selection=keep_selection))
    state = bench.state
    state["fingerprint"] = fingerprint
    seed = state["seed"]
    strategy = state.setdefault("strategy", strategy)
    if strategy not in STRATEGIES:
        raise UsageError(f"unknown search strategy '{strategy}'", f"Use one of: {', '.join(STRATEGIES)}.")
    limits = Limits.of(project.settings)
    pres = core_space(task.preprocessing_space(data), limits.core)
    models = task.model_space(data)
    frequency_filter = task.frequency_filter(data)
    state["frequency_filter"] = frequency_filter
    if footprint is not None:  # what the space holds under the project's limits
        state["space_fit"] = {"fit": footprint.fit, "exact": footprint.exact, "min_ram": footprint.min_ram,
                              "min_flash": footprint.min_flash}
    else:
        state.pop("space_fit", None)
    state["core"] = limits.core  # a changed target (so core) starts a new benchmark: fingerprint.py
    state["max_time_ms"] = limits.max_time_ms
    state["space_size"] = len(pres) * len(models)
    state["task"] = task.name
    state["data"] = task.summary(data)
    state["status"] = "running"
    bench.save()

    evaluator = task.evaluator(data, seed, limits=limits)
    # The 10 best of the completed generations: a generation cut short (time, stop,
    # budget, crash) is run again from the state it started from, so that the run
    # continues exactly where it stopped.
    top = sorted((r for r in bench.results() if r["index"] < int(state.get("next_index", 0))),
                 key=lambda r: (-r["score"], r["index"]))[:TOP_N]
    proposer = Proposer(task, data, pres, models, seed, strategy)
    # What the optimiser learns from: every judged pipeline with its (worst-split)
    # score; a rejected one with the score that got it rejected, a too-big one 0.
    seen, history, history_ends = _load_evaluated(bench)
    ahead: _Ahead | None = None  # TPE's proposals for the next generation, being computed
    design = getattr(data, "filter", None)

    def describe(pipeline: dict) -> str:
        text = task.describe(pipeline)
        return f"{design.describe()} -> {text}" if design is not None else text
    best = bench.best()
    started = time.monotonic()
    elapsed_before = float(state.get("elapsed_s", 0.0))
    evals_at_start = int(state["evals_done"])
    last_improvement = int(state.get("last_improvement_evals", 0))
    cancel = cancel or threading.Event()

    pool = None
    if scheduler:
        data_key = f"{project.path.resolve()}:{bench.id}:{seed}:{time.time_ns()}"
        pool = _DaskPool(scheduler, data_key, task, data, seed, limits)
        cores = pool.workers
    elif cores > 1:
        pool = ProcessPoolExecutor(
            max_workers=cores, mp_context=get_context("spawn"), initializer=_init_worker,
            initargs=(task, data, seed, limits),
        )

    def elapsed() -> float:
        return elapsed_before + time.monotonic() - started

    def report(message: str, new_best: bool = False, improved: dict | None = None) -> None:
        if progress:
            run_time = max(1e-9, time.monotonic() - started)
            progress(
                BenchProgress(
                    evals_done=state["evals_done"],
                    evals_per_s=(state["evals_done"] - evals_at_start) / run_time,
                    elapsed_s=elapsed(),
                    best_score=best["score"] if best else None,
                    best=best,
                    new_best=new_best,
                    message=message,
                    workers=cores,
                    improved=improved,
                )
            )

    def budget_left() -> int | None:
        return None if max_evals is None else max_evals - state["evals_done"]

    status = "done"
    if not_resumed:
        report(not_resumed)
    report(f"benchmark {bench.id}: {state['space_size']} candidates in the space, seed {seed}, {cores} core(s)")
    if state["data"].get("split_kind") == "blocks":
        report(
            "the lines overlap their neighbours (windows cut with overlap from continuous recordings): "
            f"each split holds out whole recordings ({state['data'].get('runs')} found where the overlap breaks) "
            "or a contiguous block of a file of one recording, so no tested line shares samples with a fitted one"
        )
    try:
        while True:
            if cancel.is_set():
                status = "stopped"
                break
            if time_limit is not None and time.monotonic() - started >= time_limit:
                status = "stopped"
                break
            left = budget_left()
            if left is not None and left <= 0:
                break
            if max_evals is None and time_limit is None and state["generation"] > 1:
                stale = state["evals_done"] - last_improvement
                if stale >= max(5000, state["evals_done"] // 2):
                    report("converged: no better library in the last evaluations")
                    break
            gen = state["generation"]
            tpe: list[dict] = []
            if proposer.tpe_due(gen):
                if ahead is not None and ahead.gen == gen:
                    tpe = ahead.wait(lambda: cancel.is_set() or (
                        time_limit is not None and time.monotonic() - started >= time_limit))
                    if tpe is None:
                        status = "stopped"
                        break
                else:  # a resumed run: what the run ahead would have computed
                    known = history_ends.get(gen - 2, 0) if gen >= 2 else 0
                    tpe = proposer.tpe(gen, history[:known], seen)
            ahead = None
            candidates = proposer.generation(gen, top, seen, history, tpe)
            if not candidates:
                report("the whole space has been evaluated")
                break
            # Evaluations of this generation counted already (it was cut short before) are
            # done again, not counted twice.
            redone = int(state.get("partial_evals", 0))
            cut = left is not None and left + redone < len(candidates)
            if cut:
                candidates = candidates[: left + redone]
            if proposer.tpe_due(gen + 1):
                # Computed while the workers evaluate this generation, from what the
                # earlier ones found; it must not propose this generation's candidates.
                in_flight = {pipeline_key(p) for p in candidates}
                ahead = _Ahead(gen + 1, proposer.tpe, history[:], _Either(seen, in_flight))
            # Within a generation every candidate is judged against the top list
            # as it stood before the generation: same result on any core count.
            threshold = top[TOP_N - 1]["score"] if len(top) >= TOP_N else None
            base_index = int(state.get("next_index", 0))
            todo = list(enumerate(candidates, start=base_index))
            outcomes, complete = _evaluate_all(todo, evaluator, pool, threshold, cancel, time_limit, started)
            complete = complete and not cut  # a generation cut by --evals goes on in a later run
            improved = None
            best_before_generation = best
            records = []
            learned: list[float | None] = []  # per candidate, what the optimiser learns (None: nothing)
            for index, pipeline in todo:
                if index not in outcomes:  # stopped before this one finished
                    continue
                result = outcomes[index]
                seen.add(pipeline_key(pipeline))
                learned.append(_learned_score(result))
                if learned[-1] is not None:
                    history.append((pipeline, learned[-1]))
                if result["status"] == "too-big":
                    _count_excluded(state, index, result, limits)
                if result["status"] != "ok":
                    continue
                record = {
                    "id": f"{bench.id}-c{index}",
                    "index": index,
                    "benchmark": bench.id,
                    "pipeline": pipeline,
                    "pipeline_text": describe(pipeline),
                    **({"frequency_filter": frequency_filter} if frequency_filter else {}),
                    **{k: result[k] for k in ("score", "metrics", "ram_bytes", "flash_bytes")},
                    **({"instructions": result["instructions"]} if "instructions" in result else {}),
                    "found_after_s": round(elapsed(), 2),
                }
                records.append(record)
                top.append(record)
                if best is None or (record["score"], -record["index"]) > (best["score"], -best["index"]):
                    best = record
                    improved = record
            append_jsonl_many(bench.dir / "results.jsonl", records)
            top = sorted(top, key=lambda r: (-r["score"], r["index"]))[:TOP_N]
            if complete:
                history_ends[gen] = len(history)
                state["evals_done"] += len(candidates) - state.pop("partial_evals", 0)
                state["generation"] = gen + 1
                state["next_index"] = base_index + len(candidates)
                state["partial"] = []
            else:
                # Stopped (time, cancel, --evals) mid-generation: keep what finished, so
                # even a run shorter than one generation keeps its best library. The
                # generation is redone on resume; results are keyed by index, so its
                # candidates count once.
                state["evals_done"] += len(outcomes) - state.get("partial_evals", 0)
                state["partial_evals"] = len(outcomes)
                state["partial"] = sorted(set(state.get("partial", [])) | {r["index"] for r in records})
            state["elapsed_s"] = round(elapsed(), 2)
            changes = None
            if improved is not None:
                changes = what_improved(best_before_generation, improved)
                best = dict(improved)
                best.update(task.finalise(evaluator, best))
                atomic_write_json(bench.dir / "best.json", best)
                state["best_id"] = best["id"]
                last_improvement = state["evals_done"]
                state["last_improvement_evals"] = last_improvement
                append_jsonl(
                    bench.dir / "history.jsonl",
                    {
                        "t": best["found_after_s"],
                        "evals": state["evals_done"],
                        "id": best["id"],
                        "score": best["score"],
                        "metrics": best["metrics"],
                        "ram_bytes": best["ram_bytes"],
                        "flash_bytes": best["flash_bytes"],
                        **({"instructions": best["instructions"]} if "instructions" in best else {}),
                    },
                )
            bench.save()
            if not complete:
                # All of a generation cut by --evals finished: the budget is spent.
                status = "done" if cut and len(outcomes) == len(candidates) else "stopped"
                break
            report(
                f"generation {gen} ({proposer.stage(gen)}): {len(candidates)} evaluated"
                + (f"; new best {best['score']:.2f}: {best['pipeline_text']}" if improved else ""),
                new_best=improved is not None,
                improved=changes,
            )
            # Every evaluated pipeline (kept, rejected or too big) is logged with what
            # the optimiser learnt from it, so a resumed run neither repeats it nor
            # draws other generations than the run it continues.
            append_jsonl(bench.dir / "evaluated.jsonl", {"generation": gen, "keys": [pipeline_key(p) for p in candidates],
                                                         "scores": learned})
    except KeyboardInterrupt:
        status = "stopped"
    finally:
        if pool is not None:
            # Batches still running would hold the process until they finish: a
            # stopped benchmark stops now (their results were not going to be kept).
            # Workers go first, then the pool: the pool marks what was left as broken
            # (nobody waits for it) instead of racing with cancelled futures.
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                process.terminate()
            pool.shutdown(wait=False, cancel_futures=False)
        state["status"] = status
        state["elapsed_s"] = round(elapsed(), 2)
        bench.save()
    if status == "stopped" and best is None and cancel.is_set():
        raise Cancelled("the benchmark was stopped before any library was found", "Run `neai bench DIR` to resume.")
    excluded = dict(state["excluded"]) if state.get("excluded") else None
    if excluded is not None and state.get("space_fit"):
        excluded["space_fit"] = state["space_fit"]
        excluded["space_size"] = state["space_size"]
    return BenchResult(bench.id, best, state["evals_done"], state["elapsed_s"], status, excluded,
                       not_resumed)


def _check_space_fits(project: Project, task: Task, data):
    """The blocking "check for RAM/flash": a LimitError (exit 2) naming the limit
    when no candidate of the space can fit the project's limits; else the
    space's footprint (None without limits)."""
    from .limits import LimitError, limit_bytes, limit_problems, space_footprint

    if limit_bytes(project.settings) == (None, None):
        return None
    footprint = space_footprint(project, task, data)
    problems = limit_problems(project, footprint)
    if problems:
        raise LimitError(problems[0].message, problems[0].hint)
    return footprint


def _count_excluded(state: dict, index: int, result: dict, limits: Limits) -> None:
    """Count a candidate left out for its size or time, by the limit(s) it exceeds
    (once: a generation cut short is evaluated again when the benchmark resumes)."""
    excluded = state.setdefault("excluded", {"ram": 0, "flash": 0, "both": 0})
    if index < state.get("excluded_next_index", 0):
        return
    state["excluded_next_index"] = index + 1
    ram, flash = result.get("ram_bytes"), result.get("flash_bytes")
    if result.get("limit") == "time":  # within RAM and flash, too slow on the core
        excluded["time"] = excluded.get("time", 0) + 1
    else:
        over_ram = limits.max_ram is not None and ram is not None and ram > limits.max_ram
        over_flash = limits.max_flash is not None and flash is not None and flash > limits.max_flash
        key = "both" if over_ram and over_flash else "ram" if over_ram else "flash"
        excluded[key] += 1
    for name, value in (("min_ram", ram), ("min_flash", flash)):
        if value is not None and (excluded.get(name) is None or value < excluded[name]):
            excluded[name] = value


def describe_excluded(excluded: dict | None, settings) -> str:
    """'1200 candidates were over the limits (800 over max RAM 1.00 KB only, ...);
    the smallest needed 1.30 KB RAM and 1.53 KB flash' ('' when none was)."""
    from .limits import kb, limit_bytes

    if not excluded:
        return ""
    total = sum(excluded.get(k, 0) for k in ("ram", "flash", "both", "time"))
    if not total:
        return ""
    max_ram, max_flash = limit_bytes(settings)
    parts = []
    if excluded.get("ram"):
        parts.append(f"{excluded['ram']} over max RAM {kb(max_ram)} only")
    if excluded.get("flash"):
        parts.append(f"{excluded['flash']} over max flash {kb(max_flash)} only")
    if excluded.get("both"):
        parts.append(f"{excluded['both']} over both")
    if excluded.get("time"):
        parts.append(f"{excluded['time']} over max time {settings.max_time_ms:g} ms per inference")
    smallest = (f"; the least RAM among them {kb(excluded.get('min_ram'))}, the least flash "
                f"{kb(excluded.get('min_flash'))}" if excluded.get("min_ram") is not None else "")
    text = f"{total} candidate(s) were over the limits ({', '.join(parts)}){smallest}"
    space = excluded.get("space_fit")
    if space and space.get("fit"):
        text += (f"; {'' if space.get('exact') else 'at most '}{space['fit']} of the space's "
                 f"{excluded.get('space_size')} candidates fit (the smallest: {kb(space['min_ram'])} RAM, "
                 f"{kb(space['min_flash'])} flash)")
    return text


def _evaluate_all(todo, evaluator, pool, threshold, cancel, time_limit, started):
    """({index: result}, complete): every candidate's result, or those finished
    before a stop (time limit, cancel) with complete False."""
    out: dict[int, dict] = {}
    if pool is None:
        for index, pipeline in todo:
            if cancel.is_set() or (time_limit is not None and time.monotonic() - started >= time_limit):
                return out, False
            out[index] = evaluator.evaluate(pipeline, threshold)
        return out, True
    # Group by preprocessing so each worker reuses its cached features.
    groups: dict[str, list] = {}
    for index, pipeline in todo:
        groups.setdefault(json.dumps(pipeline["pre"], sort_keys=True), []).append((index, pipeline))
    batches = []
    for items in groups.values():
        for i in range(0, len(items), 8):
            batches.append(items[i : i + 8])
    futures = [pool.submit(_work, batch, threshold) for batch in batches]
    for future in futures:
        while True:
            if cancel.is_set() or (time_limit is not None and time.monotonic() - started >= time_limit):
                # The futures left are dropped with the pool (run_benchmark's finally):
                # cancelling them here races with the process pool's own clean-up
                # (CPython gh-107219: a traceback from its manager thread on 3.11).
                return out, False
            try:
                for index, result in future.result(timeout=0.2):
                    out[index] = result
                break
            except TimeoutError:
                continue
    return out, True


def _learned_score(result: dict) -> float | None:
    """What the optimiser learns from an evaluation: the (worst-split) score, the
    score that got a candidate rejected, 0 for one too big; nothing from an invalid one."""
    if result["status"] == "ok":
        return float(result["score"])
    if result["status"] in ("rejected", "too-big"):
        return float(result.get("partial_score", 0.0))
    return None


def _load_evaluated(bench: "Benchmark") -> tuple[set[str], list[tuple[dict, float]], dict[int, int]]:
    """(keys of every evaluated pipeline, the optimiser's history, the history's
    length after each generation) of the benchmark's completed generations."""
    seen: set[str] = set()
    history: list[tuple[dict, float]] = []
    ends: dict[int, int] = {}
    records = [r for r in read_jsonl(bench.dir / "evaluated.jsonl") if r["generation"] < bench.state["generation"]]
    for record in records:
        seen.update(record["keys"])
    if all("scores" in r for r in records):
        for record in records:
            history.extend((json.loads(k), s) for k, s in zip(record["keys"], record["scores"]) if s is not None)
            ends[record["generation"]] = len(history)
    else:  # written by an earlier version: the kept libraries only
        history = [(r["pipeline"], r["score"]) for r in bench.results()]
    return seen, history, ends


class _Either:
    """Membership in either of two key sets, without copying the large one."""

    def __init__(self, seen: set[str], extra: set[str]):
        self.seen, self.extra = seen, extra

    def __contains__(self, key: str) -> bool:
        return key in self.extra or key in self.seen


class _Ahead:
    """A generation's TPE proposals, computed in a thread while the workers
    evaluate the generation before it."""

    def __init__(self, gen: int, fn: Callable, *args):
        self.gen = gen
        self._done = threading.Event()
        self._value: list[dict] = []
        self._error: BaseException | None = None
        threading.Thread(target=self._run, args=(fn, args), name=f"neai-tpe-{gen}", daemon=True).start()

    def _run(self, fn: Callable, args: tuple) -> None:
        try:
            self._value = fn(self.gen, *args)
        except BaseException as exc:  # re-raised in the engine's thread by wait()
            self._error = exc
        finally:
            self._done.set()

    def wait(self, stop: Callable[[], bool]) -> list[dict] | None:
        """The proposals, or None if `stop()` became true first."""
        while not self._done.wait(0.05):
            if stop():
                return None
        if self._error is not None:
            raise self._error
        return self._value


def list_libraries(project: Project) -> list[dict]:
    """The candidate libraries of every benchmark: its 10 best, then the rest of
    its Pareto set over score, RAM, flash and instructions (`"pareto": true` marks
    members). `instructions` is the search's estimate per inference on the core the
    benchmark ran for (`core`), `time_ms` the same at the project's target clock."""
    from .cost import milliseconds

    selected = selected_library_id(project)
    limits = Limits.of(project.settings)
    out = []
    fingerprint = data_fingerprint(project)
    for info in list_benchmarks(project):
        bench = Benchmark.load(project, info["id"])
        other = bench.data_changes(project, fingerprint)
        best = bench.best()
        core = bench.state.get("core")
        results = bench.results()
        top = sorted(results, key=lambda r: (-r["score"], r["index"]))[:TOP_N]
        front = pareto_front(results)
        front_ids = {r["id"] for r in front}
        top_ids = {r["id"] for r in top}
        for record in top + [r for r in front if r["id"] not in top_ids]:
            lib = {
                "id": record["id"],
                "benchmark": record["benchmark"],
                "score": record["score"],
                "metrics": record["metrics"],
                "ram_bytes": record["ram_bytes"],
                "flash_bytes": record["flash_bytes"],
                "pipeline": record["pipeline_text"],
                "selected": record["id"] == selected,
                "pareto": record["id"] in front_ids,
                # computed on other data or settings than the project's now (fingerprint.py)
                "other_data": bool(other),
                "other_data_reason": "; ".join(other) if other else None,
            }
            if "instructions" in record and core:
                lib["instructions"] = record["instructions"]
                lib["core"] = core
                clock = limits.clock_mhz if core == limits.core else None
                lib["time_ms"] = round(milliseconds(record["instructions"], core, clock), 3) if clock else None
            if best and best["id"] == record["id"]:
                lib["min_learning_iterations"] = best.get("min_learning_iterations")
            out.append(lib)
    return out


def find_library(project: Project, lib_id: str | None) -> dict:
    """The full record of a library: the given id, else the selected one, else the best of the latest benchmark."""
    lib_id = lib_id or selected_library_id(project)
    benches = list_benchmarks(project)
    if not benches:
        raise UsageError("this project has no benchmark yet", "Run `neai bench DIR` first.")
    for info in reversed(benches):
        bench = Benchmark.load(project, info["id"])
        best = bench.best()
        if lib_id is None:
            if best:
                return best
            continue
        if best and best["id"] == lib_id:
            return best
        for record in bench.results():
            if record["id"] == lib_id:
                return record
    if lib_id:
        raise UsageError(f"no library '{lib_id}' in this project", "See `neai libs DIR` for the ids.")
    raise UsageError("no benchmark of this project has found a library yet", "Run `neai bench DIR`.")


def selected_library_id(project: Project) -> str | None:
    path = project.path / "selected.json"
    if path.is_file():
        try:
            data = read_json(path)
        except (OSError, ValueError):
            return None
        return check_selected(data, str(path)).get("library")
    return None


def select_library(project: Project, lib_id: str) -> None:
    with project.writer("select the library to deploy"):
        find_library(project, lib_id)
        atomic_write_json(project.path / "selected.json", {"library": lib_id})


def library_data_changes(project: Project, record: dict) -> list[str]:
    """How the project differs from the data the library's benchmark ran on (empty: same)."""
    return Benchmark.load(project, record["benchmark"]).data_changes(project)
