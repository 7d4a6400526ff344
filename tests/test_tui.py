"""The TUI, driven headless with Pilot: home screen, navigation, import, new project.

The steps' screens are in test_tui_steps.py, snapshots in test_tui_snapshots.py; the
real-terminal drive (tests/tmux_drive.py) is collected here.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from rich.text import Text
from textual.widgets import ContentSwitcher, DataTable, Input, Select, Static

from neai_tui.app import NeaiApp
from neai_tui.engine.project import Project, ProjectSettings, Workspace
from neai_tui.screens.dialogs import (
    ConfirmScreen,
    ErrorScreen,
    FileBrowserScreen,
    HelpScreen,
    ImportScreen,
    NewProjectScreen,
    PromptScreen,
)
from neai_tui.screens.home import HomeScreen
from neai_tui.screens.project import ProjectScreen
from neai_tui.screens.signals import SerialCaptureScreen
from neai_tui.widgets.suggest import PathSuggester
from tests.tmux_drive import test_tmux_drive, test_tmux_drive_nclass  # noqa: F401  (collected here: runs in a real terminal)

SIZE = (100, 30)


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path_factory, monkeypatch):
    # The workspace-folder setting must never touch the user's own config.
    monkeypatch.setenv("NEAI_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))


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
    """The text of every Static and Label on the active screen (plots included)."""
    console = Console(width=200, record=True, file=io.StringIO())
    for widget in app.screen.query(Static):
        content = widget.content
        console.print(content if not isinstance(content, str) else Text(content))
    return console.export_text()


def visible_text(app) -> str:
    """What the terminal shows right now, line by line (as a user would read it)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


async def settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
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
        text = screen_text(app)
        assert "Duplicate" in text and "Export" in text and "n creates a project" in text
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
        for key, step in zip("234561", ["signals", "benchmark", "emulator", "validation", "deployment", "settings"]):
            await pilot.press(key)
            assert switcher.current == step
        await pilot.press("2")
        await settle(pilot)
        assert "No signal file yet" in screen_text(app)
        assert "no signal file is imported yet" in screen_text(app)  # project.check()
        await pilot.press("1", "i")  # Settings step: import is not offered here
        assert app.screen is screen
        await pilot.press("2", "i")  # typed at once: the key belongs to the step just chosen
        assert isinstance(app.screen, ImportScreen)
        await pilot.press("escape", "1", "ctrl+p", *"Serial port")  # any step's action, from anywhere
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, SerialCaptureScreen) and screen.current_step == "signals"
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, HomeScreen)


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
        table = screen.pane("signals").query_one("#signals-table", DataTable)
        assert table.row_count == 1
        row = table.get_row_at(0)
        assert row[2:5] == ["30", "48", "nominal (couple 1)"]  # lines, values, role
        assert "couple 1 has no abnormal file" in screen_text(app)
        await import_through_dialog(pilot, abnormal, role="abnormal")
        assert table.row_count == 2
        text = screen_text(app)
        assert "0 error(s), 2 warning(s): the benchmark can start." in text
        assert "the bare minimum is 60" in text  # 30 lines for 3 axes
        await pilot.press("1")
        assert "16 samples" in screen_text(app)  # buffer size, from the engine
    assert [s.role for s in Project.open(workspace / "motor").signals] == ["nominal", "abnormal"]


async def test_import_errors_show_a_modal_and_change_nothing(workspace, tmp_path):
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
        assert screen.pane("signals").query_one("#signals-table", DataTable).row_count == 0
        await import_through_dialog(pilot, tmp_path / "missing.csv")
        assert isinstance(app.screen, ErrorScreen)
        assert "missing.csv" in app.screen.message
    assert Project.open(workspace / "motor").signals == []


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
        form.query_one("#target", Input).value = "nucleo-l43"
        await pilot.pause()
        matches = form.query_one("#target-matches")
        assert matches.option_count == 2  # NUCLEO-L432KC, NUCLEO-L433RC-P
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


async def test_import_through_the_folder_browser(workspace, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    write_csv(data / "nominal.csv")
    (data / "notes.md").write_text("not a signal file")
    app = NeaiApp(workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_first_project(pilot)
        await pilot.press("2", "i")
        dialog = app.screen
        dialog.query_one("#path", Input).value = str(data) + "/"
        await pilot.press("ctrl+o")
        assert isinstance(app.screen, FileBrowserScreen)
        await pilot.pause(0.3)  # the tree reads the folder in the background
        tree = app.screen.query_one("#browser-tree")
        names = [str(node.label) for node in tree.root.children]
        assert names == ["nominal.csv"]  # folders and signal files only
        await pilot.press("down", "enter")
        assert app.screen is dialog
        assert dialog.query_one("#path", Input).value == str(data / "nominal.csv")


# -- home: workspace operations ----------------------------------------------------------------
async def test_filter_duplicate_and_delete_projects(workspace):
    app = NeaiApp(workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#projects", DataTable)
        await pilot.press("slash", *"pump")
        await pilot.pause()
        assert table.row_count == 1 and table.get_row_at(0)[0] == "Pump states"
        await pilot.press("escape")  # clears the filter, back to the list (still on Pump states)
        assert table.row_count == 2 and app.screen.focused is table
        await pilot.press("up", "c")
        assert isinstance(app.screen, PromptScreen)
        await pilot.press("enter")  # the proposed name: "Motor bearings copy"
        await settle(pilot)
        names = [table.get_row_at(i)[0] for i in range(table.row_count)]
        assert names == ["Motor bearings", "Motor bearings copy", "Pump states"]
        assert table.get_row_at(table.cursor_row)[0] == "Motor bearings copy"
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmScreen)
        assert "motor-bearings-copy" in screen_text(app)
        await pilot.press("n")  # cancel: nothing happens
        await settle(pilot)
        assert table.row_count == 3
        await pilot.press("x", "y")
        await settle(pilot)
        assert [table.get_row_at(i)[0] for i in range(table.row_count)] == ["Motor bearings", "Pump states"]
    assert sorted(p.name for p in workspace.iterdir()) == ["motor", "pump"]


async def test_export_and_import_a_project_archive(workspace, tmp_path):
    archive = tmp_path / "exports" / "motor.zip"
    app = NeaiApp(workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("e")
        prompt = app.screen
        assert isinstance(prompt, PromptScreen)
        prompt.query_one("#prompt-value", Input).value = str(archive)
        await pilot.press("enter")
        await settle(pilot)
        assert archive.is_file()
        await pilot.press("i")
        app.screen.query_one("#prompt-value", Input).value = str(archive)
        await pilot.press("enter")
        await settle(pilot)
        table = app.screen.query_one("#projects", DataTable)
        assert [table.get_row_at(i)[0] for i in range(table.row_count)].count("Motor bearings") == 2
        assert table.get_row_at(table.cursor_row)[0] == "Motor bearings"  # the imported one is highlighted
    assert len(Workspace(workspace).list_projects()) == 3


async def test_workspace_folder_setting(workspace, tmp_path, monkeypatch):
    from neai_tui.engine.user_config import configured_workspace

    other = tmp_path / "other-workspace"
    app = NeaiApp(workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("w")
        prompt = app.screen
        assert "NEAI_WORKSPACE is set" in screen_text(app)  # the environment wins at the next start
        prompt.query_one("#prompt-value", Input).value = str(other)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert str(other) in app.screen.sub_title
        assert app.screen.query_one("#projects", DataTable).row_count == 0
        assert "n creates one" in screen_text(app)
    assert configured_workspace() == other.resolve()
