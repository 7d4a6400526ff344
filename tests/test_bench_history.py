"""Benchmark history: `neai bench --files` uses only the files given (its splits name
them, its libraries learn only them), every benchmark is listed with its status,
budget and best, and its log survives."""
from __future__ import annotations

import json

import numpy as np
import pytest

from neai_tui.cli import main
from neai_tui.engine.project import Project, ProjectSettings

from .conftest import tone_signals, write_signals


def cli(capsys, *args, code: int = 0) -> str:
    capsys.readouterr()
    assert main([str(a) for a in args]) == code
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return out if code == 0 else err


@pytest.fixture
def two_nominals(tmp_path) -> Project:
    rng = np.random.default_rng(8)
    project = Project.create(tmp_path / "p", ProjectSettings(name="p", type="anomaly", axes=3))
    for name, freq, role in (("slow", 50.0, "nominal"), ("fast", 80.0, "nominal"), ("fault", 160.0, "abnormal")):
        project.import_signal(write_signals(tmp_path / f"{name}.csv", tone_signals(rng, 30, freq)), role=role)
    return project


def test_bench_files_uses_only_those_and_the_history_lists_both(two_nominals, capsys):
    d = two_nominals.path
    every = json.loads(cli(capsys, "bench", d, "--evals", 64, "--seed", 2, "--json"))
    subset = json.loads(cli(capsys, "bench", d, "--new", "--evals", 64, "--seed", 2, "--files", "s1,fault.csv",
                            "--json"))
    assert not every["restricted"] and len(every["files"]) == 3
    assert subset["restricted"] and subset["files"] == ["s1_slow.csv", "s3_fault.csv"]
    for split in subset["splits"]:
        assert set(split["learn"]) == {"s1_slow.csv"}
        assert set(split["test"]) == {"s1_slow.csv", "s3_fault.csv"}
        assert sum(split["learn"].values()) + split["test"]["s1_slow.csv"] == 30
    named = {name for split in every["splits"] for name in split["learn"]}
    assert named == {"s1_slow.csv", "s2_fast.csv"}
    # its library learns only the files it was given, wherever it is used
    from neai_tui.engine.bench_results import library_results

    assert library_results(two_nominals, subset["best"]["id"])["couples"][0]["learned"] == 18  # 60 % of 30
    assert library_results(two_nominals, every["best"]["id"])["couples"][0]["learned"] == 36  # 60 % of 60
    history = json.loads(cli(capsys, "benchmarks", d, "--json"))["benchmarks"]
    assert [(b["id"], b["status"], b["budget_text"], b["percent_done"], b["evals"], b["restricted"])
            for b in history] == [("b1", "done", "64 evals", 100.0, 64, False), ("b2", "done", "64 evals", 100.0, 64, True)]
    assert history[1]["best"]["id"] == subset["best"]["id"] and history[1]["files"] == subset["files"]
    text = cli(capsys, "benchmarks", d)
    assert "only s1_slow.csv, s3_fault.csv" in text and "b1" in text
    log = cli(capsys, "benchmarks", d, "--log", "b2")
    assert "start: 64 evals" in log and "only s1_slow.csv, s3_fault.csv" in log and "new best" in log
    assert "done: 64 evaluations" in log and "split 1 (couple 1): learn s1_slow.csv 18" in log


def test_a_resumed_benchmark_keeps_its_files(two_nominals, capsys):
    d = two_nominals.path
    # stopped by its time limit before any library (exit 2 says so), kept to resume
    cli(capsys, "bench", d, "--time", 0.001, "--files", "s2", "fault", "--seed", 1, code=2)
    state = json.loads((d / "benchmarks" / "b1" / "bench.json").read_text())
    assert state["status"] == "stopped" and [f["id"] for f in state["files"]] == ["s2", "s3"]
    err = cli(capsys, "bench", d, "--evals", 32, "--files", "s1", "s3", code=2)
    assert "resumed uses s2, s3" in err and "--new" in err
    resumed = json.loads(cli(capsys, "bench", d, "--evals", 32, "--json"))  # no --files: its own
    assert resumed["benchmark"] == "b1" and resumed["files"] == ["s2_fast.csv", "s3_fault.csv"]
    runs = json.loads((d / "benchmarks" / "b1" / "bench.json").read_text())["runs"]
    assert [r["evals"] for r in runs] == [None, 32] and runs[0]["time_s"] == 0.001


@pytest.mark.parametrize("files, needle", [
    (["s9"], "no signal file 's9'"),
    (["s1"], "has no abnormal file"),  # a couple without its abnormal file cannot be judged
    (["couple:3"], "no signal couple 3"),
])
def test_bench_files_refuses_what_cannot_be_benchmarked(two_nominals, capsys, files, needle):
    err = cli(capsys, "bench", two_nominals.path, "--evals", 8, "--files", *files, code=2)
    assert needle in err
    assert not (two_nominals.path / "benchmarks").exists() or not any((two_nominals.path / "benchmarks").iterdir())
