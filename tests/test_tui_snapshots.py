"""Snapshots at 80x24 (the smallest terminal the TUI supports), from fixed data.

Update them after an intended change with `pytest tests/test_tui_snapshots.py --snapshot-update`
and look at the report before committing.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from neai_tui.app import NeaiApp
from neai_tui.engine.project import Project, ProjectSettings

SNAPSHOT_ROOT = Path("/tmp/neai-tui-snapshot")  # fixed: the home screen's header shows the workspace
TERMINAL = (80, 24)


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("NEAI_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))


@pytest.fixture
def snapshot_workspace():
    # The workspace path is fixed (it is on screen), so test runs of several checkouts
    # on one machine take turns: an flock held while a test owns the folder.
    import fcntl

    with open(SNAPSHOT_ROOT.with_name(SNAPSHOT_ROOT.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        shutil.rmtree(SNAPSHOT_ROOT, ignore_errors=True)
        root = SNAPSHOT_ROOT / "workspace"
        yield root
        shutil.rmtree(SNAPSHOT_ROOT, ignore_errors=True)


def fan_project(root: Path) -> Project:
    """3 axes x 64 samples of seeded tones: the same picture on every run."""
    project = Project.create(root / "fan", ProjectSettings(name="Fan demo", type="anomaly", axes=3,
                                                           target="NUCLEO-L432KC", max_ram_kb=8))
    rng = np.random.default_rng(11)
    t = np.arange(64) / 1000.0
    rows = []
    for _ in range(40):
        phase = rng.uniform(0, 6.3)
        axes = [np.sin(2 * np.pi * f * t + phase) * a + 0.05 * rng.standard_normal(64)
                for f, a in ((50, 1.0), (100, 0.5), (150, 0.25))]
        rows.append(np.stack(axes, axis=1).reshape(-1))
    data = SNAPSHOT_ROOT / "nominal.csv"
    data.write_text("".join(" ".join(f"{v:.4f}" for v in row) + "\n" for row in rows))
    project.import_signal(data, role="nominal")
    return project


async def settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    # A text cursor blinks every 0.5 s: on a loaded machine the picture could catch it
    # either way. Steady cursors (always drawn) make the snapshot the same every run.
    from textual.widgets import Input

    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause(0.3)  # tables size their columns when idle


def test_home_snapshot(snap_compare, snapshot_workspace):
    Project.create(snapshot_workspace / "fan", ProjectSettings(name="Fan demo", type="anomaly", axes=5,
                                                               multisensor=True, target="NUCLEO-L432KC"))
    Project.create(snapshot_workspace / "pump", ProjectSettings(name="Pump states", type="n-class", axes=1))
    assert snap_compare(NeaiApp(workspace=snapshot_workspace), terminal_size=TERMINAL, run_before=settle)


def test_signals_preview_snapshot(snap_compare, snapshot_workspace):
    fan_project(snapshot_workspace)

    async def show_preview(pilot) -> None:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)

    assert snap_compare(NeaiApp(workspace=snapshot_workspace), terminal_size=TERMINAL, run_before=show_preview)


def test_benchmark_snapshot(snap_compare, snapshot_workspace, monkeypatch):
    """The benchmark step of a stopped benchmark: its figures and the results plot."""
    from neai_tui.engine import bench_results, search

    project = fan_project(snapshot_workspace)
    bench = project.path / "benchmarks" / "b1"
    bench.mkdir(parents=True)
    best = {
        "id": "b1-c42", "index": 42, "benchmark": "b1", "score": 88.25,
        "metrics": {"balanced_accuracy": 0.9612, "functional_margin": 0.21},
        "ram_bytes": 1700, "flash_bytes": 4300, "pipeline_text": "FFT 8 log bands, relative -> 8 prototypes",
        "pipeline": {"pre": {"kind": "fft", "bands": 8, "spacing": "log", "log": True, "norm": "relative"},
                     "model": {"kind": "proto", "k": 8}},  # a library record holds its pipeline (schema.py)
        "counts": [1, 2, 4, 8, 16, 24], "balanced_accuracy": [0.5, 0.62, 0.81, 0.93, 0.96, 0.96],
        "min_learning_iterations": 16,
    }
    (bench / "bench.json").write_text(json.dumps({"id": "b1", "status": "stopped", "evals_done": 1280,
                                                  "elapsed_s": 64.0, "seed": 1, "generation": 12}))
    (bench / "best.json").write_text(json.dumps(best))
    (bench / "history.jsonl").write_text("".join(json.dumps({"t": t, "score": s}) + "\n" for t, s in
                                                 [(2.0, 80.1), (5.5, 84.0), (12.0, 86.7), (40.0, 88.25)]))
    rng = np.random.default_rng(4)
    results = {"type": "anomaly", "library": "b1-c42", "threshold": 90, "balanced_accuracy": 0.96,
               "couples": [{"couple": 1, "learned": 24, "nominal_lines": [], "abnormal_lines": [],
                            "nominal": [int(v) for v in rng.integers(86, 101, 16)],
                            "abnormal": [int(v) for v in rng.integers(0, 95, 20)]}]}
    monkeypatch.setattr(bench_results, "library_results", lambda project, lib_id=None: results)
    monkeypatch.setattr(search, "list_libraries", lambda project: [
        {"id": "b1-c42", "benchmark": "b1", "score": 88.25, "metrics": best["metrics"], "ram_bytes": 1700,
         "flash_bytes": 4300, "pipeline": best["pipeline_text"], "selected": True}])

    async def show_benchmark(pilot) -> None:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)

    assert snap_compare(NeaiApp(workspace=snapshot_workspace), terminal_size=TERMINAL, run_before=show_benchmark)


# -- issue 16: every screen and dialog at 80x24, the steps at 120x40 too ----------------------------
# (name, keys from the home screen of a workspace holding the fan project)
SCREENS = [
    ("new_project", ["n"]),
    ("help_home", ["question_mark"]),
    ("workspace_prompt", ["w"]),
    ("delete_confirm", ["x"]),
    ("settings_step", ["enter"]),
    ("settings_field", ["enter", "enter"]),  # the focused field itself is marked
    ("signals_checks", ["enter", "2"]),
    ("import_dialog", ["enter", "2", "i"]),
    ("filter_dialog", ["enter", "2", "F"]),
    ("benchmark_step", ["enter", "3"]),
    ("new_benchmark_dialog", ["enter", "3", "b"]),
    ("emulator_step", ["enter", "4"]),
    ("validation_step", ["enter", "5"]),
    ("deployment_step", ["enter", "6"]),
    ("tools_reshape", ["t"]),
    ("tools_sampling", ["t", "escape", "2"]),
    ("tools_datalogger", ["t", "escape", "3"]),
    ("tools_in_project", ["enter", "t"]),
    ("error_dialog", ["t", "ctrl+r"]),  # the form is empty: "no recordings given"
]
STEPS_120 = ["settings_step", "signals_checks", "benchmark_step", "emulator_step", "validation_step",
             "deployment_step"]


def _press(keys):
    async def run_before(pilot) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run_before


@pytest.mark.parametrize("name,keys", SCREENS, ids=[name for name, _ in SCREENS])
def test_every_screen_at_80x24(snap_compare, snapshot_workspace, name, keys):
    fan_project(snapshot_workspace)
    assert snap_compare(NeaiApp(workspace=snapshot_workspace), terminal_size=TERMINAL, run_before=_press(keys))


@pytest.mark.parametrize("name", STEPS_120)
def test_the_steps_at_120x40(snap_compare, snapshot_workspace, name):
    fan_project(snapshot_workspace)
    keys = dict(SCREENS)[name]
    assert snap_compare(NeaiApp(workspace=snapshot_workspace), terminal_size=(120, 40), run_before=_press(keys))
