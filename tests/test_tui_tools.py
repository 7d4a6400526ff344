"""The Tools screen, driven headless with Pilot at 80x24: home -> t -> each tool's form,
run in a worker, the result on screen; refusals shown in a dialog, never a traceback."""
from __future__ import annotations

import numpy as np
import pytest
from textual.widgets import DataTable, Input, TextArea

from neai_tui.app import NeaiApp
from neai_tui.engine.signals import read_signals
from neai_tui.screens.dialogs import ErrorScreen, FileBrowserScreen, HelpScreen
from neai_tui.screens.home import HomeScreen
from neai_tui.screens.tools import ToolsScreen

from .test_tools import write_logger_csv
from .test_tui import settle, visible_text

SIZE = (80, 24)


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("NEAI_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))


def state_files(folder):
    rng = np.random.default_rng(4)
    t = np.arange(3000) / 1000.0
    paths = []
    for name, extra in (("idle", 0.0), ("running", 0.5)):
        x = np.sin(2 * np.pi * 30 * t) + extra * np.sin(2 * np.pi * 90 * t) + 0.05 * rng.standard_normal(len(t))
        path = folder / f"{name}.csv"
        path.write_text("".join(f"{v:.5f}\n" for v in x))
        paths.append(path)
    return paths


async def test_tools_screen_main_path(tmp_path):
    recording = write_logger_csv(tmp_path / "pump run.csv", rows=120)
    idle, running = state_files(tmp_path)
    out = tmp_path / "buffers.csv"
    app = NeaiApp(workspace=tmp_path / "ws")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "t Tools" in visible_text(app)  # in the home screen's key bar
        await pilot.press("t")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ToolsScreen) and isinstance(app.focused, Input)

        # 1. data manipulation: the path quoted (it holds a space), its last key typed
        app.focused.value = f"'{recording}"
        await pilot.press("'")
        await settle(pilot)
        note = " ".join(visible_text(app).split())
        assert "';' separated, a header row, 6 columns: 1 datetime (text), 2 x" in note
        screen.query_one("#reshape-buffer", Input).value = "16"
        screen.query_one("#reshape-hop", Input).value = "8"
        screen.query_one("#reshape-out", Input).value = str(out)
        screen.query_one("#reshape-out", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert read_signals(out, axes=3).values.shape == (14, 48)
        text = visible_text(app)
        assert "Wrote buffers.csv: 14 lines" in text and "left out: datetime (date/time)" in text
        await pilot.press("escape", "v")  # out of the form; v shows the first line written
        await settle(pilot)
        assert "line 1 of 14" in visible_text(app) and "• x" in visible_text(app)
        await pilot.press("ctrl+r")  # again: the file exists and Overwrite is not ticked
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen) and "already exists" in app.screen.message
        await pilot.press("escape")
        assert app.screen is screen and app.focused is not None and not isinstance(app.focused, Input)

        # 2. sampling finder (the focus is on the tab bar: number keys pick a tool)
        await pilot.press("2")
        await settle(pilot)
        screen.query_one("#sampling-inputs", Input).value = f"{idle} run={running}"
        screen.query_one("#sampling-rate", Input).value = "1000"
        screen.query_one("#sampling-max", Input).value = "256"
        screen.query_one("#sampling-decimation", Input).value = "8"
        await pilot.press("ctrl+r")
        await settle(pilot)
        table = screen.query_one("#sampling-table", DataTable)
        assert table.row_count > 5 and str(table.get_row_at(0)[0]) == "*"
        assert "Recommended:" in visible_text(app) and "balanced" in visible_text(app)
        assert not isinstance(app.focused, Input)  # a number key leaves the focus on the tab bar (issue 16)
        await pilot.press("v")
        await settle(pilot)
        assert "balanced accuracy" in visible_text(app) and "250 Hz" in visible_text(app)

        # 3. datalogger; ctrl+o browses for its folder
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("ctrl+o")
        await pilot.pause(0.2)  # (the tree's loader keeps running: no settle while it is open)
        assert isinstance(app.screen, FileBrowserScreen) and app.screen.want_dir
        await pilot.press("escape")
        await pilot.pause()
        screen.query_one("#datalogger-folder", Input).value = str(tmp_path / "fw")
        screen.query_one("#datalogger-folder", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert (tmp_path / "fw" / "main.c").is_file()
        assert "read_sensor" in screen.query_one("#datalogger-source", TextArea).text
        assert "Wrote " in visible_text(app)

        await pilot.press("escape", "question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen) and "Datalogger" in app.screen.help_title
        await pilot.press("escape", "escape")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
    assert recording.read_text().startswith("datetime;x;y;z")  # the input is untouched


async def test_tools_form_errors_are_dialogs(tmp_path):
    app = NeaiApp(workspace=tmp_path / "ws")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        commands = [c.title for c in app.get_system_commands(app.screen)]
        assert "Tools" in commands
        await pilot.press("t")
        await settle(pilot)
        app.screen.query_one("#reshape-inputs", Input).value = "'unclosed"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen) and "Quote paths" in app.screen.message
        await pilot.press("escape")
        app.screen.query_one("#reshape-inputs", Input).value = str(tmp_path / "missing.csv")
        app.screen.query_one("#reshape-out", Input).value = str(tmp_path / "o.csv")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen) and "file not found" in app.screen.message
        assert "Traceback" not in app.screen.message
