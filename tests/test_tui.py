"""The TUI, driven headless with Pilot, plus one snapshot and the real-terminal drive."""
from __future__ import annotations

import io
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from rich.text import Text
from textual.widgets import ContentSwitcher, DataTable, Input, Select, Static

from neai_tui.app import NeaiApp
from neai_tui.engine.errors import NeaiError
from neai_tui.engine.project import Project, ProjectSettings, Workspace
from neai_tui.messages import BenchmarkProgressed
from neai_tui.screens.dialogs import ErrorScreen, HelpScreen, ImportScreen, NewProjectScreen
from neai_tui.screens.home import HomeScreen
from neai_tui.screens.project import ProjectScreen
from neai_tui.widgets.suggest import PathSuggester
from tests.tmux_drive import test_tmux_drive  # noqa: F401  (collected here: runs in a real terminal)

SIZE = (100, 30)
SNAPSHOT_WORKSPACE = Path("/tmp/neai-tui-snapshot/workspace")  # fixed: the header shows it


def make_workspace(root: Path) -> Path:
    Project.create(root / "motor", ProjectSettings(name="Motor bearings", type="anomaly", axes=3))
    Project.create(
        root / "pump", ProjectSettings(name="Pump states", type="n-class", axes=1, target="NUCLEO-F401RE")
    )
    return root


def write_csv(path: Path, lines: int = 30, values: int = 48, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    rows = rng.normal(size=(lines, values))
    path.write_text("".join(" ".join(f"{v:.4f}" for v in row) + "\n" for row in rows))
    return path


def screen_text(app) -> str:
    """The text of every Static and Label on the active screen, tables included."""
    console = Console(width=200, record=True, file=io.StringIO())
    for widget in app.screen.query(Static):
        content = widget.content
        console.print(content if not isinstance(content, str) else Text(content))
    return console.export_text()


async def settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


async def open_first_project(pilot) -> ProjectScreen:
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(pilot.app.screen, ProjectScreen)
    return pilot.app.screen


@pytest.fixture
def workspace(tmp_path) -> Path:
    return make_workspace(tmp_path / "workspace")


# -- home ------------------------------------------------------------------------------
async def test_home_lists_projects_and_damaged_ones(workspace):
    (workspace / "zz-broken").mkdir()
    (workspace / "zz-broken" / "project.json").write_text("{not json")
    app = NeaiApp(workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        table = app.screen.query_one("#projects", DataTable)
        assert table.row_count == 3
        rows = [table.get_row_at(i) for i in range(3)]
        assert rows[0][:4] == ["Motor bearings", "anomaly", "3", "cortex-m4f"]
        assert rows[1][:4] == ["Pump states", "n-class", "1", "NUCLEO-F401RE"]
        assert str(rows[2][1]) == "damaged"
        assert str(workspace) in app.screen.sub_title
        await pilot.press("down", "down")
        assert "damaged" in screen_text(app)


async def test_workspace_from_environment(workspace, monkeypatch):
    monkeypatch.setenv("NEAI_WORKSPACE", str(workspace))
    app = NeaiApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.screen.query_one("#projects", DataTable).row_count == 2


async def test_help_and_quit(workspace):
    app = NeaiApp(workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert "New project" in screen_text(app)
        await pilot.press("escape")
        assert isinstance(app.screen, HomeScreen)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_command_palette_offers_screen_commands(workspace):
    app = NeaiApp(workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"New project")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, NewProjectScreen)


async def test_path_suggester_completes_files(tmp_path):
    (tmp_path / "signals_nominal.csv").write_text("1\n")
    (tmp_path / "sub").mkdir()
    suggester = PathSuggester()
    assert await suggester.get_suggestion(str(tmp_path / "signals_")) == str(tmp_path / "signals_nominal.csv")
    assert await suggester.get_suggestion(str(tmp_path / "su")) == str(tmp_path / "sub") + "/"
    assert await suggester.get_suggestion(str(tmp_path / "nothing")) is None


# -- project view -------------------------------------------------------------------------
async def test_open_project_switch_steps_and_go_home(workspace):
    app = NeaiApp(workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_first_project(pilot)
        assert screen.project.name == "Motor bearings"
        switcher = screen.query_one("#panes", ContentSwitcher)
        assert switcher.current == "settings"
        assert "Anomaly detection" in screen_text(app)
        for key, step in zip("2345612", ["signals", "benchmark", "emulator", "validation", "deployment", "settings", "signals"]):
            await pilot.press(key)
            assert switcher.current == step
        assert "No signal file yet" in screen_text(app)
        assert "no signal file is imported yet" in screen_text(app)  # project.check()
        await pilot.press("escape")
        assert isinstance(app.screen, HomeScreen)


async def test_step_keys_only_in_their_step(workspace):
    app = NeaiApp(workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_first_project(pilot)
        await pilot.press("i")  # Settings step: import is not offered here
        assert app.screen is screen
        await pilot.press("2", "i")
        assert isinstance(app.screen, ImportScreen)


async def test_open_directly_on_a_project(workspace):
    app = NeaiApp(workspace=workspace, project=workspace / "pump")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ProjectScreen)
        assert app.screen.project.name == "Pump states"
        await pilot.press("escape")
        assert isinstance(app.screen, HomeScreen)


async def test_open_missing_project_shows_error(tmp_path):
    app = NeaiApp(workspace=tmp_path / "ws", project=tmp_path / "nowhere")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        assert "is not a neai project" in app.screen.message


# -- import ---------------------------------------------------------------------------------
async def import_through_dialog(pilot, path: Path, role: str | None = None) -> None:
    await pilot.press("2", "i")
    dialog = pilot.app.screen
    assert isinstance(dialog, ImportScreen)
    dialog.query_one("#path", Input).value = str(path)
    if role:
        dialog.query_one("#role", Select).value = role
    await pilot.press("enter")
    await settle(pilot)


async def test_import_valid_file(workspace, tmp_path):
    nominal = write_csv(tmp_path / "nominal.csv", seed=1)
    abnormal = write_csv(tmp_path / "abnormal.csv", seed=2)
    app = NeaiApp(workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_first_project(pilot)
        await import_through_dialog(pilot, nominal)
        assert app.screen is screen
        table = screen.query_one("#signals-table", DataTable)
        assert table.row_count == 1
        row = table.get_row_at(0)
        assert row[2:5] == ["nominal (couple 1)", "30", "48"]
        assert "couple 1 has no abnormal file" in screen_text(app)
        await import_through_dialog(pilot, abnormal, role="abnormal")
        assert table.row_count == 2
        text = screen_text(app)
        assert "0 error(s), 2 warning(s): the benchmark can start." in text
        assert "the bare minimum is 60" in text  # 30 lines for 3 axes
        await pilot.press("1")
        assert "16 samples" in screen_text(app)  # buffer size, from the engine
    assert [s.role for s in Project.open(workspace / "motor").signals] == ["nominal", "abnormal"]


async def test_import_invalid_file_shows_error_modal(workspace, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("1 2 3\n4 x 6\n")
    app = NeaiApp(workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_first_project(pilot)
        await import_through_dialog(pilot, bad)
        assert isinstance(app.screen, ErrorScreen)
        message = app.screen.message
        assert "bad.csv:2" in message and "Traceback" not in message
        await pilot.press("enter")
        assert app.screen is screen
        assert screen.query_one("#signals-table", DataTable).row_count == 0
    assert Project.open(workspace / "motor").signals == []


async def test_import_missing_file_shows_error_modal(workspace, tmp_path):
    app = NeaiApp(workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_first_project(pilot)
        await import_through_dialog(pilot, tmp_path / "missing.csv")
        assert isinstance(app.screen, ErrorScreen)
        assert "missing.csv" in app.screen.message


# -- new project ------------------------------------------------------------------------------
async def test_new_project_form_creates_a_project(workspace):
    app = NeaiApp(workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        form = app.screen
        assert isinstance(form, NewProjectScreen)
        await pilot.press(*"Fan")
        form.query_one("#type", Select).value = "n-class"
        form.query_one("#axes", Input).value = "3"
        form.query_one("#max-ram", Input).value = "8"
        form.query_one("#target", Input).value = "nucleo-l4"
        await pilot.pause()
        matches = form.query_one("#target-matches")
        assert matches.option_count == 2  # NUCLEO-L432KC, NUCLEO-L476RG
        form.query_one("#target", Input).focus()
        await pilot.press("down", "enter")  # ↓ moves to the matches, enter picks the first
        assert form.query_one("#target", Input).value == "NUCLEO-L432KC"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ProjectScreen)
        assert app.screen.project.name == "Fan"
    created = {p.name: p for p in Workspace(workspace).list_projects()}
    assert created["Fan"].type == "n-class" and created["Fan"].axes == 3
    assert created["Fan"].target == "NUCLEO-L432KC"
    assert Project.open(created["Fan"].path).settings.max_ram_kb == 8


async def test_new_project_form_reports_bad_input(workspace):
    app = NeaiApp(workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        form = app.screen
        await pilot.press("ctrl+s")  # no name
        assert isinstance(app.screen, ErrorScreen)
        assert "name is empty" in app.screen.message
        await pilot.press("escape")
        assert app.screen is form
        await pilot.press(*"X")
        form.query_one("#target", Input).value = "no-such-board"
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, ErrorScreen)
        assert "unknown target" in app.screen.message
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, HomeScreen)
    assert len(Workspace(workspace).list_projects()) == 2


# -- benchmark and deployment, with the engine's long work replaced by fakes ----------------------
@dataclass
class FakeProgress:
    evals_done: int
    evals_per_s: float
    elapsed_s: float
    best_score: float | None
    best: dict | None
    new_best: bool
    message: str = ""


@dataclass
class FakeResult:
    benchmark: str
    best: dict | None
    status: str = "done"


BEST = {
    "id": "lib-7",
    "score": 91.5,
    "metrics": {"balanced_accuracy": 0.95, "functional_margin": 0.4},
    "ram_bytes": 1536,
    "flash_bytes": 4096,
    "pipeline_text": "fft → knn",
}


def test_progress_messages_do_not_flood():
    plain = BenchmarkProgressed(FakeProgress(1, 1.0, 1.0, 50.0, None, False))
    best = BenchmarkProgressed(FakeProgress(2, 1.0, 2.0, 60.0, None, True))
    assert plain.can_replace(BenchmarkProgressed(FakeProgress(3, 1.0, 3.0, 60.0, None, False)))
    assert not best.can_replace(plain)  # a new best is never dropped from the queue


async def test_benchmark_progress_reaches_the_screen(workspace, monkeypatch):
    from neai_tui.engine import search

    def fake_run(project, *, progress=None, cancel=None, **options):
        for i in range(1, 6):
            progress(FakeProgress(i * 10, 20.0, float(i), 50.0 + i, BEST, True, f"generation {i}"))
        return FakeResult("b1", BEST)

    monkeypatch.setattr(search, "run_benchmark", fake_run)
    monkeypatch.setattr(search, "list_libraries", lambda project: [{**BEST, "benchmark": "b1", "pipeline": "fft → knn", "selected": True}])
    app = NeaiApp(workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_first_project(pilot)
        await pilot.press("3", "b")
        await settle(pilot)
        text = screen_text(app)
        assert "Finished: benchmark b1" in text and "lib-7" in text
        assert "50  (20/s)" in text and "balanced_accuracy 0.95" in text and "1.5 KB / 4.0 KB" in text
        assert len(screen.history) >= 2
        assert screen.query_one("#bench-plot").display
        assert screen.query_one("#bench-libraries", DataTable).row_count == 1
        assert screen.cancel_benchmark is None


async def test_stop_sets_the_cancel_event(workspace, monkeypatch):
    from neai_tui.engine import search

    seen: list[threading.Event] = []

    def fake_run(project, *, progress=None, cancel=None, **options):
        seen.append(cancel)
        progress(FakeProgress(1, 1.0, 0.1, 10.0, BEST, True))
        assert cancel.wait(10), "the UI never asked to stop"
        return FakeResult("b1", BEST, status="stopped")

    monkeypatch.setattr(search, "run_benchmark", fake_run)
    monkeypatch.setattr(search, "list_libraries", lambda project: [])
    app = NeaiApp(workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_first_project(pilot)
        await pilot.press("3", "b")
        deadline = time.monotonic() + 5
        while not seen and time.monotonic() < deadline:
            await pilot.pause(0.05)
        assert screen.cancel_benchmark is not None
        await pilot.press("s")
        await settle(pilot)
        assert seen[0].is_set()
        assert "Stopped" in screen_text(app)
        assert screen.cancel_benchmark is None


@pytest.mark.parametrize(
    "error, expected",
    [
        (NeaiError("not enough nominal lines", "Import more signals."), "not enough nominal lines\nImport more signals."),
        (RuntimeError("boom"), "RuntimeError: boom"),
    ],
)
async def test_worker_failure_shows_an_error_modal(workspace, monkeypatch, error, expected):
    from neai_tui.engine import search

    def fake_run(project, **options):
        raise error

    monkeypatch.setattr(search, "run_benchmark", fake_run)
    monkeypatch.setattr(search, "list_libraries", lambda project: [])
    app = NeaiApp(workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_first_project(pilot)
        await pilot.press("3", "b")
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        assert expected in app.screen.message
        assert "Traceback" not in app.screen.message
        await pilot.press("enter")
        assert app.screen is screen and screen.cancel_benchmark is None


async def test_deploy_shows_zip_and_figures(workspace, monkeypatch, tmp_path):
    from neai_tui.engine import deploy as deploy_module
    from neai_tui.engine import search

    zip_path = tmp_path / "lib-7_cortex-m4f.zip"
    zip_path.write_bytes(b"PK" + bytes(2046))
    calls = []

    @dataclass
    class FakeDeploy:
        zip_path: Path
        metadata: dict

    def fake_deploy(project, *, lib_id=None, target=None, suffix=None, out=None, progress=None):
        calls.append(lib_id)
        progress("compiling")
        return FakeDeploy(zip_path, {"library_id": "lib-7", "target": "cortex-m4f", "core": "cortex-m4f",
                                     "score": 91.5, "ram_bytes": 1200, "flash_bytes": 3000, "pipeline": "fft → knn"})

    monkeypatch.setattr(deploy_module, "deploy", fake_deploy)
    monkeypatch.setattr(search, "list_libraries", lambda project: [{**BEST, "benchmark": "b1", "pipeline": "fft → knn", "selected": True}])
    app = NeaiApp(workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_first_project(pilot)
        await pilot.press("6", "d")
        await settle(pilot)
        text = screen_text(app)
        assert calls == ["lib-7"]
        assert str(zip_path) in text and "2.0 KB" in text and "1.2 KB / 2.9 KB" in text


# -- snapshot -----------------------------------------------------------------------------------
def test_home_snapshot(snap_compare):
    shutil.rmtree(SNAPSHOT_WORKSPACE.parent, ignore_errors=True)
    root = make_workspace(SNAPSHOT_WORKSPACE)
    Project.create(root / "fan", ProjectSettings(name="Fan demo", type="anomaly", axes=5, multisensor=True,
                                                 target="NUCLEO-L432KC"))
    try:
        assert snap_compare(NeaiApp(workspace=root), terminal_size=(80, 24))
    finally:
        shutil.rmtree(SNAPSHOT_WORKSPACE.parent, ignore_errors=True)
