"""A benchmark killed with SIGKILL keeps its best library and resumes."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np

from .conftest import tone_signals, write_signals
from .test_cli import neai


def test_kill_9_keeps_best_and_resumes(tmp_path):
    rng = np.random.default_rng(4)
    nominal = write_signals(tmp_path / "n.csv", np.vstack([tone_signals(rng, 40, 50.0), tone_signals(rng, 40, 90.0)]))
    abnormal = write_signals(tmp_path / "a.csv", tone_signals(rng, 30, 200.0, amp=2.0))
    d = tmp_path / "p"
    neai("new", d, "--type", "anomaly", "--axes", 3)
    neai("import", d, nominal, "--role", "nominal")
    neai("import", d, abnormal, "--role", "abnormal")

    proc = subprocess.Popen(
        [sys.executable, "-m", "neai_tui.cli", "bench", str(d), "--time", "120", "--cores", "2", "--seed", "5"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    state_file = d / "benchmarks" / "b1" / "bench.json"
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline:
            time.sleep(0.3)
            try:
                state = json.loads(state_file.read_text())
            except (OSError, ValueError):
                continue
            if state["evals_done"] >= 400 and (d / "benchmarks" / "b1" / "best.json").exists():
                break
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the benchmark and its workers, mid-run
        proc.wait()
    before = json.loads(state_file.read_text())
    assert before["status"] == "running" and before["evals_done"] >= 400

    libs = json.loads(neai("libs", d, "--json").stdout)["libraries"]
    best_before = libs[0]
    assert best_before["benchmark"] == "b1" and best_before["metrics"]["balanced_accuracy"] > 0.5
    neai("check", d)  # the project is readable

    doc = json.loads(neai("bench", d, "--evals", before["evals_done"] + 128, "--cores", "1", "--json").stdout)
    assert doc["benchmark"] == "b1"  # resumed, not restarted
    assert doc["evals"] >= before["evals_done"] + 64
    assert doc["best"]["score"] >= best_before["score"]
    history = (d / "benchmarks" / "b1" / "history.jsonl").read_text().splitlines()
    assert history and all(json.loads(line) for line in history)
    from neai_tui.engine.project import Project
    from neai_tui.engine.search import Benchmark

    # A generation cut by the kill is evaluated again on resume; each candidate counts once.
    resumed = Benchmark.load(Project.open(d), "b1").results()
    indexes = [r["index"] for r in resumed]
    assert len(indexes) == len(set(indexes))
    neai("deploy", d, "--out", tmp_path / "after-kill.zip")

    # It went on exactly where it stopped: the same candidates, scores and best as
    # one uninterrupted run of as many evaluations with the same seed.
    whole = json.loads(neai("bench", d, "--new", "--evals", doc["evals"], "--seed", "5", "--cores", "1",
                            "--json").stdout)
    assert whole["benchmark"] == "b2" and whole["evals"] == doc["evals"]
    uninterrupted = Benchmark.load(Project.open(d), "b2").results()
    assert [(r["index"], r["pipeline"], r["score"]) for r in uninterrupted] == \
        [(r["index"], r["pipeline"], r["score"]) for r in resumed]
    assert (whole["best"]["pipeline"], whole["best"]["score"]) == (doc["best"]["pipeline"], doc["best"]["score"])


def test_a_stopped_benchmark_continues_where_it_stopped(tmp_path):
    """Stopped twice, resumed with more workers or fewer: the same search as one
    run with the same seed and evaluation budget."""
    import threading

    from neai_tui.engine.project import Project, ProjectSettings
    from neai_tui.engine.search import Benchmark, run_benchmark

    rng = np.random.default_rng(21)
    nominal = write_signals(tmp_path / "n.csv", np.vstack([tone_signals(rng, 40, 50.0), tone_signals(rng, 40, 90.0)]))
    abnormal = write_signals(tmp_path / "a.csv", tone_signals(rng, 30, 200.0, amp=2.0))

    def project(name: str) -> Project:
        p = Project.create(tmp_path / name, ProjectSettings(name=name, axes=3))
        p.import_signal(nominal, role="nominal")
        p.import_signal(abnormal, role="abnormal")
        return p

    budget = 1100  # past the screens: the search stage with its TPE proposals too
    whole = run_benchmark(project("whole"), max_evals=budget, cores=1, seed=4)
    p = project("stopped")

    def stopped_after(evals: int, **options):
        cancel = threading.Event()
        result = run_benchmark(p, max_evals=budget, cancel=cancel,
                               progress=lambda pr: pr.evals_done >= evals and cancel.set(), **options)
        assert result.status == "stopped" and evals <= result.evals_done < budget
        return result

    first = stopped_after(300, cores=2, seed=4)
    stopped_after(700, cores=1)
    last = run_benchmark(p, max_evals=budget, cores=2)
    assert last.benchmark == first.benchmark and last.status == "done" and last.evals_done == budget
    assert (last.best["id"], last.best["pipeline"], last.best["score"]) == \
        (whole.best["id"], whole.best["pipeline"], whole.best["score"])
    key = [(r["index"], r["pipeline"], r["score"]) for r in Benchmark.load(p, last.benchmark).results()]
    assert key == [(r["index"], r["pipeline"], r["score"])
                   for r in Benchmark.load(Project.open(tmp_path / "whole"), whole.benchmark).results()]


def test_a_run_shorter_than_one_generation_keeps_what_finished(tmp_path, monkeypatch):
    """A time limit inside the first generation still leaves a library on disk."""
    from neai_tui.engine import search
    from neai_tui.engine.project import Project, ProjectSettings

    rng = np.random.default_rng(8)
    nominal = write_signals(tmp_path / "n.csv", tone_signals(rng, 60, 50.0))
    abnormal = write_signals(tmp_path / "a.csv", tone_signals(rng, 30, 200.0, amp=2.0))
    project = Project.create(tmp_path / "p", ProjectSettings(name="p", axes=3))
    project.import_signal(nominal, role="nominal")
    project.import_signal(abnormal, role="abnormal")
    from neai_tui.engine import strategy

    # one huge first generation
    monkeypatch.setattr(search.task_for("anomaly").__class__, "screen_slice", 10_000)
    monkeypatch.setattr(strategy, "FIRST_SLICE", 10_000)
    real_evaluate = search.task_for("anomaly").evaluator(search.task_for("anomaly").load(project), 1, None, None)
    slow = type(real_evaluate).evaluate

    def evaluate(self, pipeline, prune_below=None):
        time.sleep(0.05)
        return slow(self, pipeline, prune_below)

    monkeypatch.setattr(type(real_evaluate), "evaluate", evaluate)
    result = search.run_benchmark(project, time_limit=1.5, cores=1, seed=2)
    assert result.status == "stopped" and result.best is not None
    bench = search.Benchmark.load(project, result.benchmark)
    assert bench.state["generation"] == 0 and bench.results()  # kept, generation to be redone
    again = search.run_benchmark(project, max_evals=result.evals_done + 20, cores=1)
    assert again.benchmark == result.benchmark and again.best["score"] >= result.best["score"]
    indexes = [r["index"] for r in search.Benchmark.load(project, result.benchmark).results()]
    assert len(indexes) == len(set(indexes))
