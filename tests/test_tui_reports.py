"""The TUI's report screen (80x24 snapshot, export), the experiments list (filter,
side by side) and the benchmark history (both runs listed after a restart, a
benchmark reopened with its stored log)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from textual.widgets import DataTable, Input

from neai_tui.app import NeaiApp
from neai_tui.engine.project import Project, ProjectSettings
from tests.test_tui import open_first_project, screen_text, settle, visible_text

from .conftest import tone_signals, write_signals

SNAPSHOT_ROOT = Path("/tmp/neai-tui-report-snapshot")
TERMINAL = (80, 24)


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("NEAI_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))


def report_doc() -> dict:
    """A fixed report document (what engine.report.build_report returns)."""
    rng = np.random.default_rng(3)
    nominal = [int(v) for v in rng.integers(88, 101, 40)]
    abnormal = [int(v) for v in rng.integers(0, 95, 40)]
    from neai_tui.engine.report import anomaly_results

    results = anomaly_results(nominal, abnormal, "benchmark b1, split 1: held-out lines of the project")
    return {
        "title": "Fan demo: library b1-c42", "generated": "2026-12-05T10:00:00+00:00", "tool": "neai-tui 0.1.0",
        "project": {"name": "Fan demo", "description": "", "type": "anomaly", "type_title": "Anomaly detection",
                    "multisensor": False, "axes": 3, "buffer_size": 256, "values_per_line": 768,
                    "sampling_rate_hz": 1600.0, "buffer_ms": 160.0, "target": "NUCLEO-L432KC", "core": "cortex-m4f",
                    "max_ram_kb": 8, "max_flash_kb": 16, "created": ""},
        "data": {"files": [{"id": "s1", "name": "s1_nominal.csv", "original": "nominal.csv",
                            "label": "nominal, couple 1", "lines": 300, "values_per_line": 768, "sha256": "ab" * 32,
                            "used": True},
                           {"id": "s2", "name": "s2_abnormal.csv", "original": "abnormal.csv",
                            "label": "abnormal, couple 1", "lines": 150, "values_per_line": 768, "sha256": "cd" * 32,
                            "used": True}],
                 "repartition": {"nominal": 300, "abnormal": 150}, "lines": 450},
        "benchmark": {"id": "b1", "created": "", "status": "done", "evals": 2400, "elapsed_s": 61.0, "seed": 1,
                      "space_size": 340560, "budget": "60 s", "percent_done": 100.0, "splits": None, "n_splits": 5,
                      "split_kind": "random", "files": ["s1_nominal.csv", "s2_abnormal.csv"], "restricted": False},
        "library": {"id": "b1-c42", "benchmark": "b1", "pipeline": "FFT 16 log bands, Hann -> 8 prototypes "
                                                                   "(reg 0.01, calib 3)",
                    "pipeline_config": None, "score": 88.25,
                    "metrics": {"balanced_accuracy": 0.9612, "functional_margin": 0.21},
                    "main_metric": "balanced_accuracy", "worst": 0.9612, "mean": 0.9781, "ci95": [0.966, 0.9902],
                    "estimated_ram_bytes": 1700, "estimated_flash_bytes": 4300, "found_after_s": 40.0,
                    "min_learning_iterations": 16},
        "flowchart": [{"stage": "Input", "title": "3 axes × 256 samples", "params": {"rate_hz": 1600.0}},
                      {"stage": "Preprocessing", "title": "FFT 16 log bands, Hann",
                       "params": {"bands": 16, "spacing": "log", "window": "hann", "log": True}},
                      {"stage": "Model", "title": "8 prototypes (reg 0.01, calib 3)",
                       "params": {"k": 8, "reg": 0.01, "calib": 3.0, "warmup": 5}},
                      {"stage": "Output", "title": "similarity 0-100 (abnormal below 90)", "params": {}}],
        "measured": {"zip": "/x/b1-c42_cortex-m4f.zip", "target": "NUCLEO-L432KC", "core": "cortex-m4f",
                     "float_abi": "hard", "optimize": "size", "flash_bytes": 3680, "ram_bytes": 1548,
                     "static_ram_bytes": 1300, "stack_bytes": 248, "knowledge_bytes": 1024, "call": "detect",
                     "instructions": 63800, "instructions_per_learn": 12000, "cycles": 71200, "clock_mhz": 80.0,
                     "clock_assumed": False, "us": 890.0, "identical": True, "lines_compared": 72,
                     "measured_on": "cortex-m4f"},
        "results": results,
        "learning_curve": {"counts": [1, 2, 4, 8, 16, 32, 64, 180], "balanced_accuracy": [0.5, 0.55, 0.7, 0.85,
                                                                                          0.95, 0.96, 0.96, 0.97],
                           "min_learning_iterations": 16},
        "nested_cv": {"skipped": "not computed for this report"},
    }


def test_report_screen_snapshot(snap_compare, monkeypatch):
    from neai_tui.engine import nested_cv, report
    from neai_tui.screens.report import ReportScreen

    shutil.rmtree(SNAPSHOT_ROOT, ignore_errors=True)
    project = Project.create(SNAPSHOT_ROOT / "workspace" / "fan", ProjectSettings(name="Fan demo", type="anomaly",
                                                                                  axes=3))
    monkeypatch.setattr(report, "build_report", lambda *a, **k: report_doc())
    monkeypatch.setattr(nested_cv, "cached", lambda *a, **k: None)

    async def open_report(pilot) -> None:
        await pilot.app.workers.wait_for_complete()
        await pilot.app.push_screen(ReportScreen(project, "b1-c42"))
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.3)

    try:
        assert snap_compare(NeaiApp(workspace=SNAPSHOT_ROOT / "workspace"), terminal_size=TERMINAL,
                            run_before=open_report)
    finally:
        shutil.rmtree(SNAPSHOT_ROOT, ignore_errors=True)


async def test_report_screen_scrolls_to_every_section_and_exports(tmp_path, monkeypatch):
    from neai_tui.engine import nested_cv, report
    from neai_tui.screens.report import ExportScreen, ReportScreen

    project = Project.create(tmp_path / "ws" / "fan", ProjectSettings(name="Fan demo", type="anomaly", axes=3))
    monkeypatch.setattr(report, "build_report", lambda *a, **k: report_doc())
    monkeypatch.setattr(nested_cv, "cached", lambda *a, **k: None)
    app = NeaiApp(workspace=tmp_path / "ws")
    async with app.run_test(size=TERMINAL) as pilot:
        await settle(pilot)
        await app.push_screen(ReportScreen(project, "b1-c42"))
        await settle(pilot)
        text = screen_text(app)
        for needle in ("flash 3680 B", "63800 instructions", "890 µs at 80 MHz", "Preprocessing", "FFT 16 log",
                       "nominal", "ROC AUC", "Learning curve", "Nested cross-validation", "n runs the search"):
            assert needle in text, needle
        assert "Preprocessing" in visible_text(app)  # the flowchart is on the first screen
        await pilot.press("pagedown", "pagedown")
        assert "Preprocessing" not in visible_text(app)  # it scrolls
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ExportScreen)
        out = tmp_path / "fan.html"
        app.screen.query_one("#export-path", Input).value = str(out)
        await pilot.press("enter")
        await settle(pilot)
        assert out.is_file() and "890" in out.read_text() and f"Written: {out}" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, ReportScreen)


async def wait_for_text(pilot, needle: str, timeout: float = 5.0) -> str:
    """What the terminal shows once `needle` is in it (tables draw when idle)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        await settle(pilot)
        text = visible_text(pilot.app)
        if needle in text or time.monotonic() > deadline:
            return text
        await pilot.pause(0.1)


def fake_experiment(project: Project, note: str, ba: float, files: list[str]) -> dict:
    from neai_tui.engine.experiments import store_experiment

    doc = {"id": None, "created": "2026-12-05T10:00:00+00:00", "project": project.settings.name, "type": "anomaly",
           "note": note, "sensitivity": None, "learn": [],
           "tests": [{"path": f"/data/{f}", "name": f, "sha256": f"{f}-hash", "bytes": 10, "lines": 20,
                      "line_range": "", "use": "test", "expected": "abnormal" if "fault" in f else "nominal",
                      "source": "file"} for f in files],
           "libraries": [{"ref": "b1-c4", "id": "b1-c4", "type": "anomaly", "built": False, "error": ""}],
           "results": [{"library": "b1-c4", "error": "", "learned": 50,
                        "files": [{"file": f"/data/{f}", "lines": 20, "expected": None, "correct": 90.0}
                                  for f in files],
                        "metrics": {"balanced_accuracy": ba}}]}
    return store_experiment(project, doc, {"b1-c4": [[] for _ in files]})


async def test_experiments_are_listed_filtered_and_compared(tmp_path):
    from neai_tui.screens.experiments import ComparisonScreen, ExperimentsScreen

    project = Project.create(tmp_path / "ws" / "fan", ProjectSettings(name="Fan", type="anomaly", axes=3))
    fake_experiment(project, "first try", 0.91, ["new.csv", "fault.csv"])
    fake_experiment(project, "after the bearing change", 0.97, ["new.csv", "fault.csv"])
    fake_experiment(project, "", 0.88, ["other.csv"])
    app = NeaiApp(workspace=tmp_path / "ws")
    async with app.run_test(size=TERMINAL) as pilot:
        await settle(pilot)
        screen = await open_first_project(pilot)
        await pilot.press("5")
        await settle(pilot)
        await pilot.press("h")
        await settle(pilot)
        assert isinstance(app.screen, ExperimentsScreen)
        table = app.screen.query_one("#exp-table", DataTable)
        assert table.row_count == 3 and "BA b1-c4 0.91" in await wait_for_text(pilot, "BA b1-c4 0.91")
        await pilot.press("slash")
        await pilot.press(*"bearing")
        await settle(pilot)
        assert table.row_count == 1 and str(table.get_row_at(0)[1]) == "e2"
        app.screen.query_one("#exp-filter", Input).value = "fault"
        await settle(pilot)
        assert table.row_count == 2
        await pilot.press("escape")  # from the filter to the list
        await pilot.press("space", "down", "space", "c")
        text = await wait_for_text(pilot, "+0.06")
        assert isinstance(app.screen, ComparisonScreen)
        assert "e1 (2026-12-05T10:00)  against  e2" in text and "same file" in text and "20, abnormal" in text
        await pilot.press("escape", "escape")
        await settle(pilot)
        assert app.screen is screen


async def test_benchmark_history_lists_both_runs_after_a_restart(tmp_path):
    """One benchmark on every file (CLI), one on a subset from the TUI dialog; after
    the app is closed and started again, the History view lists both and reopens
    one with the log it kept."""
    from neai_tui.engine.search import run_benchmark
    from neai_tui.screens.benchmark import NewBenchmarkScreen
    from neai_tui.widgets.forms import TickList

    rng = np.random.default_rng(2)
    ws = tmp_path / "ws"
    project = Project.create(ws / "fan", ProjectSettings(name="Fan", type="anomaly", axes=3))
    for name, freq, role in (("slow", 50.0, "nominal"), ("fast", 80.0, "nominal"), ("fault", 160.0, "abnormal")):
        project.import_signal(write_signals(tmp_path / f"{name}.csv", tone_signals(rng, 30, freq)), role=role)
    run_benchmark(project, max_evals=40, seed=1)

    app = NeaiApp(workspace=ws)
    async with app.run_test(size=TERMINAL) as pilot:
        await settle(pilot)
        screen = await open_first_project(pilot)
        await pilot.press("3", "b")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, NewBenchmarkScreen)
        dialog.query_one("#bench-limit").value = "evals"
        dialog.query_one("#bench-limit-value", Input).value = "40"
        dialog.query_one("#bench-cores", Input).value = "1"
        files = dialog.query_one("#bench-files", TickList)
        assert files.selected == ["s1", "s2", "s3"]
        files.deselect("s2")
        await pilot.press("ctrl+s")
        await settle(pilot)
        await settle(pilot)
        pane = screen.pane("benchmark")
        assert not pane.running and "only s1, s3" in "\n".join(pane.log_entries)
    state = json.loads((ws / "fan" / "benchmarks" / "b2" / "bench.json").read_text())
    assert [f["id"] for f in state["files"]] == ["s1", "s3"] and state["files_restricted"]
    assert all(set(split["learn"]) == {"s1_slow.csv"} for split in state["splits"])

    app = NeaiApp(workspace=ws)  # a restart
    async with app.run_test(size=TERMINAL) as pilot:
        await settle(pilot)
        screen = await open_first_project(pilot)
        await pilot.press("3")
        await settle(pilot)
        pane = screen.pane("benchmark")
        for _ in range(5):
            await pilot.press("v")
        await settle(pilot)
        table = pane.query_one("#bench-history", DataTable)
        assert table.row_count == 2
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(2)]
        assert [r[0] for r in rows] == ["b1", "b2"] and [r[2] for r in rows] == ["40 evals", "40 evals"]
        assert [r[1] for r in rows] == ["done", "done"] and [r[6] for r in rows] == ["all", "s1,s3"]
        shown = await wait_for_text(pilot, "s1,s3")
        assert "b2" in shown and "s1,s3" in shown and "100 % of its budget (40 evals)" in shown
        await pilot.press("up", "enter")  # reopen b1
        await settle(pilot)
        assert pane.shown_benchmark == "b1" and "Benchmark b1: done" in screen_text(app)
        log = "\n".join(pane.log_entries)
        assert "start: 40 evals, 1 core(s), seed 1, every file" in log and "done: 40 evaluations" in log
        assert len(pane.points) >= 1 and "score" in str(pane.points[0])
        await pilot.press("v")  # back to Results: b1's best, run by its C
        await settle(pilot)
        assert pane.results["library"].startswith("b1-")
