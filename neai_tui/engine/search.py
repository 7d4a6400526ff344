"""The benchmark: search preprocessing x model x hyperparameters for the library
that holds up best in its worst case.

How a candidate is judged (anomaly detection), the way the library will be used:
for each random split, the library learns a random subset of the nominal lines
(in random order, one at a time, as on the device), then detects the held-out
nominal lines and every abnormal line; at the 90 % similarity threshold this
gives a balanced accuracy, and the two similarity populations give a functional
margin. Each signal couple is a separate dataset. A candidate's score is its
*worst* (split, couple) score, so more splits can only lower it: a candidate
whose first splits already score below the current N-th best is rejected
without running the others (exact successive halving).

Determinism: candidates come in generations drawn from (seed, generation) and
the top list as it stood after the previous generation, and ties break by
candidate index, so with --evals and --seed the result does not depend on the
number of cores.

Persistence (benchmarks/<id>/): bench.json (atomic), results.jsonl and
history.jsonl (append-only, fsynced): a killed run keeps its best library and
resumes where it stopped.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import math
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Callable

import numpy as np

from . import csearch
from .errors import Cancelled, InputError, UsageError
from .pipeline import describe, estimate_memory, is_power_of_two
from .project import Project
from .storage import append_jsonl, atomic_write_json, read_json, read_jsonl

N_SPLITS = 5
FIRST_SPLITS = 2  # splits run before a candidate may be rejected
LEARN_FRACTION = 0.6
MAX_LEARN = 600
MAX_DETECT = 1500
TOP_N = 10
GENERATION_SIZE = 64
THRESHOLD = 90
RAM_REFERENCE = 8 * 1024  # used for the resource term when the project sets no limit
FLASH_REFERENCE = 16 * 1024


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


@dataclass
class BenchResult:
    benchmark: str
    best: dict | None
    evals_done: int
    elapsed_s: float
    status: str


# ---------------------------------------------------------------------------- data
@dataclass
class AnomalyData:
    axes: int
    buffer_size: int
    couples: list[tuple[int, np.ndarray, np.ndarray]]  # (couple, nominal, abnormal)


def load_anomaly_data(project: Project) -> AnomalyData:
    s = project.settings
    if s.type != "anomaly":
        raise UsageError(
            f"this project is {s.type}; the benchmark for it is not available yet",
            "Anomaly detection projects can be benchmarked today.",
        )
    if s.multisensor:
        raise UsageError(
            "Multi-sensor benchmarks are not available yet", "Use a generic n-axis project for now."
        )
    blocking = [p for p in project.check() if p.severity == "error"]
    if blocking:
        p = blocking[0]
        raise InputError(f"{p.location()}: {p.message}", f"Fix: {p.hint} (run `neai check DIR` for all findings)")
    couples = []
    for couple in project.couples():
        nominal = np.vstack([project.load_values(e) for e in project.signals_with("nominal", couple)])
        abnormal = np.vstack([project.load_values(e) for e in project.signals_with("abnormal", couple)])
        if len(nominal) < 6:
            raise InputError(
                f"couple {couple} has only {len(nominal)} nominal lines: too few to learn on some and test on others",
                "Import at least 20 nominal lines per axis (the Studio's bare minimum).",
            )
        couples.append((couple, nominal, abnormal))
    return AnomalyData(s.axes, project.buffer_size, couples)


@dataclass
class Split:
    learn: np.ndarray  # indices into nominal, in learning order
    test_nominal: np.ndarray
    test_abnormal: np.ndarray


def make_splits(n_nominal: int, n_abnormal: int, seed: int, couple: int) -> list[Split]:
    rng = np.random.default_rng([seed, couple, 7])
    splits = []
    n_learn = min(MAX_LEARN, max(2, int(round(n_nominal * LEARN_FRACTION))))
    n_learn = min(n_learn, n_nominal - 1)
    for _ in range(N_SPLITS):
        perm = rng.permutation(n_nominal)
        test = perm[n_learn:][:MAX_DETECT]
        abn = rng.permutation(n_abnormal)[:MAX_DETECT]
        splits.append(Split(perm[:n_learn], np.sort(test), np.sort(abn)))
    return splits


# ---------------------------------------------------------------------- the space
FFT_BANDS = (4, 8, 16, 32, 64)
RAW_DECIM = (1, 2, 4, 8)
REGS = (0.0, 0.001, 0.01, 0.1, 1.0)
CALIBS = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0)
WARMUPS = (2, 5, 10)
PROTO_K = (2, 4, 8, 16, 32)


def preprocessing_space(axes: int, buffer_size: int) -> list[dict]:
    space: list[dict] = [{"kind": "stats"}]
    for decim in RAW_DECIM:
        if buffer_size // decim >= 4:
            for norm in ("none", "zscore", "maxabs", "center"):
                space.append({"kind": "raw", "decim": decim, "norm": norm})
    if is_power_of_two(buffer_size) and buffer_size >= 8:
        for bands in FFT_BANDS:
            if bands <= buffer_size // 2:
                for spacing in ("linear", "log"):
                    for window in ("none", "hann"):
                        for log in (False, True):
                            for norm in ("none", "relative"):
                                space.append(
                                    {"kind": "fft", "bands": bands, "spacing": spacing, "window": window,
                                     "log": log, "norm": norm}
                                )
    return space


def model_space() -> list[dict]:
    space = []
    for reg in REGS:
        for calib in CALIBS:
            for warmup in WARMUPS:
                space.append({"kind": "gauss", "reg": reg, "calib": calib, "warmup": warmup})
                for k in PROTO_K:
                    space.append({"kind": "proto", "k": k, "reg": reg, "calib": calib, "warmup": warmup})
    return space


def space_size(axes: int, buffer_size: int) -> int:
    return len(preprocessing_space(axes, buffer_size)) * len(model_space())


def _neighbour(model: dict, rng: np.random.Generator) -> dict:
    """A model close to `model`: one hyperparameter moved to an adjacent value."""
    m = dict(model)
    options = [("reg", REGS), ("calib", CALIBS), ("warmup", WARMUPS)]
    if m["kind"] == "proto":
        options.append(("k", PROTO_K))
    name, values = options[int(rng.integers(len(options)))]
    i = values.index(m[name]) if m[name] in values else 0
    m[name] = values[int(np.clip(i + rng.choice([-1, 1]), 0, len(values) - 1))]
    return m


def pipeline_key(pipeline: dict) -> str:
    return json.dumps(pipeline, sort_keys=True)


def generation(
    gen: int, seed: int, pres: list[dict], models: list[dict], top: list[dict], seen: set[str]
) -> list[dict]:
    """The new pipelines of one generation (none already in `seen`); depends
    only on its arguments. An empty list means the space is exhausted."""
    rng = np.random.default_rng([seed, gen, 11])
    out: list[dict] = []
    keys = set(seen)

    def add(pipeline: dict) -> None:
        key = pipeline_key(pipeline)
        if key not in keys:
            keys.add(key)
            out.append(pipeline)

    if gen == 0:
        # Screen every preprocessing with a sensible model of each family.
        for pre in pres:
            add({"pre": pre, "model": {"kind": "gauss", "reg": 0.01, "calib": 3.0, "warmup": 5}})
            add({"pre": pre, "model": {"kind": "proto", "k": 8, "reg": 0.01, "calib": 3.0, "warmup": 5}})
        return out
    attempts = 0
    while len(out) < GENERATION_SIZE and attempts < 50 * GENERATION_SIZE:
        attempts += 1
        r = rng.random()
        if top and r < 0.5:  # exploit: a neighbour of a good one
            parent = top[int(rng.integers(min(len(top), TOP_N)))]["pipeline"]
            add({"pre": parent["pre"], "model": _neighbour(parent["model"], rng)})
        elif top and r < 0.7:  # a good preprocessing with any model
            parent = top[int(rng.integers(min(len(top), TOP_N)))]["pipeline"]
            add({"pre": parent["pre"], "model": models[int(rng.integers(len(models)))]})
        else:  # explore
            add({"pre": pres[int(rng.integers(len(pres)))], "model": models[int(rng.integers(len(models)))]})
    if not out and len(keys) < len(pres) * len(models):
        # Random draws keep landing on evaluated ones: sweep for the rest in order.
        for pre in pres:
            for model in models:
                add({"pre": pre, "model": model})
                if len(out) >= GENERATION_SIZE:
                    return out
    return out


# ------------------------------------------------------------------ evaluation
def _balanced_accuracy(sim_nom: np.ndarray, sim_abn: np.ndarray) -> float:
    parts = []
    if len(sim_nom):
        parts.append(float(np.mean(sim_nom >= THRESHOLD)))
    if len(sim_abn):
        parts.append(float(np.mean(sim_abn < THRESHOLD)))
    return float(np.mean(parts)) if parts else 0.0


def _margin(sim_nom: np.ndarray, sim_abn: np.ndarray) -> float:
    """How far apart the populations sit, -1..1: 5th percentile of the nominal
    similarities minus 95th percentile of the abnormal ones, over 100."""
    if not len(sim_nom) or not len(sim_abn):
        return 0.0
    return float(np.percentile(sim_nom, 5) - np.percentile(sim_abn, 95)) / 100.0


def resource_term(ram: int, flash: int, max_ram: float | None, max_flash: float | None) -> float:
    ram_ref = max_ram if max_ram else RAM_REFERENCE
    flash_ref = max_flash if max_flash else FLASH_REFERENCE
    return 1.0 - 0.5 * min(1.0, ram / ram_ref) - 0.5 * min(1.0, flash / flash_ref)


def split_score(ba: float, margin: float, resource: float) -> float:
    return 100.0 * (0.7 * ba + 0.2 * (margin + 1.0) / 2.0 + 0.1 * resource)


class Evaluator:
    """Evaluates pipelines on fixed splits; caches features per preprocessing."""

    def __init__(self, data: AnomalyData, seed: int, max_ram: float | None, max_flash: float | None):
        self.data = data
        self.max_ram = max_ram
        self.max_flash = max_flash
        self.splits = {
            couple: make_splits(len(nom), len(abn), seed, couple) for couple, nom, abn in data.couples
        }
        self._cache: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}

    def _features(self, pre: dict):
        key = json.dumps(pre, sort_keys=True)
        if key not in self._cache:
            if len(self._cache) > 64:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = [
                (
                    csearch.features(pre, nom, self.data.axes, self.data.buffer_size),
                    csearch.features(pre, abn, self.data.axes, self.data.buffer_size),
                )
                for _, nom, abn in self.data.couples
            ]
        return self._cache[key]

    def evaluate(self, pipeline: dict, prune_below: float | None = None) -> dict:
        ram, flash = estimate_memory(pipeline, self.data.axes, self.data.buffer_size)
        if (self.max_ram and ram > self.max_ram) or (self.max_flash and flash > self.max_flash):
            return {"status": "too-big", "ram_bytes": ram, "flash_bytes": flash}
        resource = resource_term(ram, flash, self.max_ram, self.max_flash)
        feats = self._features(pipeline["pre"])
        rows = []  # (score, ba, margin) per (split, couple)
        for split_i in range(N_SPLITS):
            for (couple, _, _), (f_nom, f_abn) in zip(self.data.couples, feats):
                split = self.splits[couple][split_i]
                rows.append(self._run_split(pipeline["model"], f_nom, f_abn, split, resource))
            if prune_below is not None and split_i + 1 == FIRST_SPLITS:
                if min(r[0] for r in rows) <= prune_below:
                    return {"status": "rejected", "ram_bytes": ram, "flash_bytes": flash}
        scores = np.array(rows)
        worst = int(np.argmin(scores[:, 0]))
        ba_all = scores[:, 1]
        return {
            "status": "ok",
            "score": round(float(scores[worst, 0]), 4),
            "metrics": {
                "balanced_accuracy": round(float(ba_all.min()), 4),
                "functional_margin": round(float(scores[:, 2].min()), 4),
                "balanced_accuracy_mean": round(float(ba_all.mean()), 4),
                "balanced_accuracy_ci95": _ci95(ba_all),
            },
            "ram_bytes": ram,
            "flash_bytes": flash,
        }

    def _run_split(self, model, f_nom, f_abn, split: Split, resource: float):
        both = np.vstack([f_nom, f_abn[split.test_abnormal]])
        detect = np.concatenate([split.test_nominal, len(f_nom) + np.arange(len(split.test_abnormal))])
        _, sims = csearch.run(model, both, split.learn, detect)
        sim_nom, sim_abn = sims[: len(split.test_nominal)], sims[len(split.test_nominal):]
        ba = _balanced_accuracy(sim_nom, sim_abn)
        margin = _margin(sim_nom, sim_abn)
        return split_score(ba, margin, resource), ba, margin

    def learning_curve(self, pipeline: dict) -> dict:
        """Balanced accuracy against the number of learned lines, and the
        recommended minimum: the first count from which the balanced accuracy
        stays within 0.02 of what the full learning set reaches."""
        model = pipeline["model"]
        feats = self._features(pipeline["pre"])
        counts = None
        curves = []
        for split_i in range(N_SPLITS):
            for (couple, _, _), (f_nom, f_abn) in zip(self.data.couples, feats):
                split = self.splits[couple][split_i]
                n_learn = len(split.learn)
                if counts is None:
                    counts = sorted({c for c in list(range(1, 21)) + list(np.unique(np.geomspace(20, n_learn, 24).astype(int))) if c <= n_learn})
                both = np.vstack([f_nom, f_abn[split.test_abnormal]])
                detect = np.concatenate([split.test_nominal, len(f_nom) + np.arange(len(split.test_abnormal))])
                sims = csearch.curve(model, both, split.learn, detect, counts)
                n_nom = len(split.test_nominal)
                curves.append([_balanced_accuracy(row[:n_nom], row[n_nom:]) for row in sims])
        mean_curve = np.mean(np.array(curves), axis=0)
        final = mean_curve[-1]
        ok = mean_curve >= final - 0.02
        recommended = counts[-1]
        for i in range(len(counts)):
            if ok[i:].all():
                recommended = counts[i]
                break
        return {
            "counts": [int(c) for c in counts],
            "balanced_accuracy": [round(float(v), 4) for v in mean_curve],
            "min_learning_iterations": int(max(recommended, model.get("warmup", 2) + 2)),
        }


def _ci95(values: np.ndarray) -> list[float]:
    """Normal-approximation 95 % interval of the mean over splits."""
    if len(values) < 2:
        v = float(values[0]) if len(values) else 0.0
        return [round(v, 4), round(v, 4)]
    m = float(values.mean())
    h = 1.96 * float(values.std(ddof=1)) / math.sqrt(len(values))
    return [round(max(0.0, m - h), 4), round(min(1.0, m + h), 4)]


# ----------------------------------------------------------- worker processes
_WORKER: Evaluator | None = None


def _init_worker(data: AnomalyData, seed: int, max_ram, max_flash) -> None:
    global _WORKER
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _WORKER = Evaluator(data, seed, max_ram, max_flash)


def _work(batch: list[tuple[int, dict]], prune_below: float | None) -> list[tuple[int, dict]]:
    assert _WORKER is not None
    return [(index, _WORKER.evaluate(p, prune_below)) for index, p in batch]


# ---------------------------------------------------------------- benchmarks
def benchmarks_dir(project: Project) -> Path:
    return project.path / "benchmarks"


def list_benchmarks(project: Project) -> list[dict]:
    out = []
    root = benchmarks_dir(project)
    if root.is_dir():
        for folder in sorted(root.iterdir(), key=lambda p: (len(p.name), p.name)):
            if (folder / "bench.json").is_file():
                try:
                    out.append(read_json(folder / "bench.json"))
                except (OSError, ValueError):
                    continue
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
    def create(cls, project: Project, seed: int | None, cores: int) -> "Benchmark":
        existing = {b["id"] for b in list_benchmarks(project)}
        n = 1
        while f"b{n}" in existing or (benchmarks_dir(project) / f"b{n}").exists():
            n += 1
        bench = cls(project, f"b{n}")
        bench.dir.mkdir(parents=True)
        # A new benchmark's best becomes the default library again.
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
        bench = cls(project, bench_id)
        if not (bench.dir / "bench.json").is_file():
            raise UsageError(f"no benchmark '{bench_id}' in {project.path}", "See `neai libs DIR`.")
        bench.state = read_json(bench.dir / "bench.json")
        return bench

    def save(self) -> None:
        atomic_write_json(self.dir / "bench.json", self.state)

    def results(self) -> list[dict]:
        """Results of the completed generations (a generation cut short by a
        crash is evaluated again on resume, so its partial records are ignored)."""
        done = int(self.state.get("next_index", 0))
        by_index = {r["index"]: r for r in read_jsonl(self.dir / "results.jsonl") if r["index"] < done}
        return [by_index[i] for i in sorted(by_index)]

    def history(self) -> list[dict]:
        return list(read_jsonl(self.dir / "history.jsonl"))

    def top(self, n: int = TOP_N) -> list[dict]:
        ranked = sorted(self.results(), key=lambda r: (-r["score"], r["index"]))
        return ranked[:n]

    def best(self) -> dict | None:
        if (self.dir / "best.json").is_file():
            return read_json(self.dir / "best.json")
        return None


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
) -> BenchResult:
    """Run (or resume) a benchmark until the time or evaluation budget, the
    cancel event, or convergence. The best library so far is always on disk."""
    if cores < 1:
        raise UsageError(f"--cores must be 1 or more, not {cores}", "Use --cores N with N >= 1.")
    data = load_anomaly_data(project)
    resume_id = None if new else latest_unfinished(project)
    bench = Benchmark.load(project, resume_id) if resume_id else Benchmark.create(project, seed, cores)
    state = bench.state
    seed = state["seed"]
    max_ram = project.settings.max_ram_kb * 1024 if project.settings.max_ram_kb else None
    max_flash = project.settings.max_flash_kb * 1024 if project.settings.max_flash_kb else None
    pres = preprocessing_space(data.axes, data.buffer_size)
    models = model_space()
    state["space_size"] = len(pres) * len(models)
    state["data"] = {
        "axes": data.axes,
        "buffer_size": data.buffer_size,
        "couples": {str(c): {"nominal": len(n), "abnormal": len(a)} for c, n, a in data.couples},
        "splits": N_SPLITS,
    }
    state["status"] = "running"
    bench.save()

    evaluator = Evaluator(data, seed, max_ram, max_flash)
    top = bench.top()
    seen = _load_seen(bench)
    best = bench.best()
    started = time.monotonic()
    elapsed_before = float(state.get("elapsed_s", 0.0))
    evals_at_start = int(state["evals_done"])
    last_improvement = int(state.get("last_improvement_evals", 0))
    cancel = cancel or threading.Event()

    pool = None
    if cores > 1:
        pool = ProcessPoolExecutor(
            max_workers=cores, mp_context=get_context("spawn"), initializer=_init_worker,
            initargs=(data, seed, max_ram, max_flash),
        )

    def elapsed() -> float:
        return elapsed_before + time.monotonic() - started

    def report(message: str, new_best: bool = False) -> None:
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
                )
            )

    def budget_left() -> int | None:
        return None if max_evals is None else max_evals - state["evals_done"]

    status = "done"
    report(f"benchmark {bench.id}: {state['space_size']} candidates in the space, seed {seed}, {cores} core(s)")
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
            candidates = generation(gen, seed, pres, models, top, seen)
            if not candidates:
                report("the whole space has been evaluated")
                break
            if left is not None:
                candidates = candidates[:left]
            # Within a generation every candidate is judged against the top list
            # as it stood before the generation: same result on any core count.
            threshold = top[TOP_N - 1]["score"] if len(top) >= TOP_N else None
            base_index = int(state.get("next_index", 0))
            todo = list(enumerate(candidates, start=base_index))
            outcomes = _evaluate_all(todo, evaluator, pool, threshold, cancel, time_limit, started)
            if outcomes is None:  # cancelled or out of time mid-generation: redo it on resume
                status = "stopped"
                break
            improved = None
            for index, pipeline in todo:
                result = outcomes[index]
                seen.add(pipeline_key(pipeline))
                if result["status"] != "ok":
                    continue
                record = {
                    "id": f"{bench.id}-c{index}",
                    "index": index,
                    "benchmark": bench.id,
                    "pipeline": pipeline,
                    "pipeline_text": describe(pipeline),
                    **{k: result[k] for k in ("score", "metrics", "ram_bytes", "flash_bytes")},
                    "found_after_s": round(elapsed(), 2),
                }
                append_jsonl(bench.dir / "results.jsonl", record)
                top.append(record)
                if best is None or (record["score"], -record["index"]) > (best["score"], -best["index"]):
                    best = record
                    improved = record
            top = sorted(top, key=lambda r: (-r["score"], r["index"]))[:TOP_N]
            state["evals_done"] += len(candidates)
            state["generation"] = gen + 1
            state["next_index"] = base_index + len(candidates)
            state["elapsed_s"] = round(elapsed(), 2)
            if improved is not None:
                best = dict(improved)
                best.update(evaluator.learning_curve(best["pipeline"]))
                atomic_write_json(bench.dir / "best.json", best)
                state["best_id"] = best["id"]
                last_improvement = state["evals_done"]
                state["last_improvement_evals"] = last_improvement
                append_jsonl(
                    bench.dir / "history.jsonl",
                    {
                        "t": round(elapsed(), 2),
                        "evals": state["evals_done"],
                        "id": best["id"],
                        "score": best["score"],
                        "metrics": best["metrics"],
                        "ram_bytes": best["ram_bytes"],
                        "flash_bytes": best["flash_bytes"],
                    },
                )
            bench.save()
            report(
                f"generation {gen}: {len(candidates)} evaluated"
                + (f"; new best {best['score']:.2f}: {best['pipeline_text']}" if improved else ""),
                new_best=improved is not None,
            )
            # Every evaluated pipeline (kept, rejected or too big) is logged, so a
            # resumed run neither repeats it nor changes what later generations draw.
            append_jsonl(bench.dir / "evaluated.jsonl", {"generation": gen, "keys": [pipeline_key(p) for p in candidates]})
    except KeyboardInterrupt:
        status = "stopped"
    finally:
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        state["status"] = status
        state["elapsed_s"] = round(elapsed(), 2)
        bench.save()
    if status == "stopped" and best is None and cancel.is_set():
        raise Cancelled("the benchmark was stopped before any library was found", "Run `neai bench DIR` to resume.")
    return BenchResult(bench.id, best, state["evals_done"], state["elapsed_s"], status)


def _evaluate_all(todo, evaluator, pool, threshold, cancel, time_limit, started):
    """{index: result} for every candidate, or None if stopped midway."""
    out: dict[int, dict] = {}
    if pool is None:
        for index, pipeline in todo:
            if cancel.is_set() or (time_limit is not None and time.monotonic() - started >= time_limit):
                return None
            out[index] = evaluator.evaluate(pipeline, threshold)
        return out
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
                for f in futures:
                    f.cancel()
                return None
            try:
                for index, result in future.result(timeout=0.2):
                    out[index] = result
                break
            except TimeoutError:
                continue
    return out


def _load_seen(bench: "Benchmark") -> set[str]:
    seen: set[str] = set()
    for record in read_jsonl(bench.dir / "evaluated.jsonl"):
        if record["generation"] < bench.state["generation"]:
            seen.update(record["keys"])
    return seen


def list_libraries(project: Project) -> list[dict]:
    """The candidate libraries of every benchmark (best first per benchmark)."""
    selected = selected_library_id(project)
    out = []
    for info in list_benchmarks(project):
        bench = Benchmark.load(project, info["id"])
        best = bench.best()
        for record in bench.top():
            lib = {
                "id": record["id"],
                "benchmark": record["benchmark"],
                "score": record["score"],
                "metrics": record["metrics"],
                "ram_bytes": record["ram_bytes"],
                "flash_bytes": record["flash_bytes"],
                "pipeline": record["pipeline_text"],
                "selected": record["id"] == selected,
            }
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
            return read_json(path).get("library")
        except (OSError, ValueError):
            return None
    return None


def select_library(project: Project, lib_id: str) -> None:
    find_library(project, lib_id)
    atomic_write_json(project.path / "selected.json", {"library": lib_id})
