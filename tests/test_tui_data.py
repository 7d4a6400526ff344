"""The Tools screen's Signal files tab, driven headless with Pilot at 80x24: re-cut a
sample, chain an extract on the result, import it into a project of the workspace."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from textual.widgets import Input, Select, Tabs

from neai_tui.app import NeaiApp
from neai_tui.engine.project import Project, ProjectSettings
from neai_tui.engine.signals import read_signals
from neai_tui.screens.dialogs import ErrorScreen
from neai_tui.screens.tools import DataPane, ImportResultScreen, ToolsScreen

from .test_tui import settle, visible_text

SIZE = (80, 24)
FAN = Path(__file__).resolve().parent.parent / "sample_data" / "fan" / "nominal.csv"


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("NEAI_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))


async def test_recut_then_extract_then_import(tmp_path):
    source = tmp_path / "fan.csv"
    shutil.copyfile(FAN, source)
    before = source.read_bytes()
    workspace = tmp_path / "ws"
    Project.create(workspace / "fan64", ProjectSettings(name="fan64", type="anomaly", axes=3))
    app = NeaiApp(workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ToolsScreen)
        await pilot.press("escape", "4")  # to the tab bar, then the 4th tool
        await settle(pilot)
        pane = screen.query_one(DataPane)
        # The keyboard model: a tool key keeps the focus on the tab bar (typing cannot
        # overwrite a field); tab moves into the form's first field.
        assert screen.current == "data" and isinstance(app.focused, Tabs)
        await pilot.press("tab")
        await settle(pilot)
        assert app.focused is screen.query_one("#data-action", Select)  # the form's first field
        screen.query_one("#data-inputs", Input).focus()
        await settle(pilot)
        app.focused.value = str(source)
        screen.query_one("#data-axes", Input).value = "3"
        await settle(pilot)
        assert "300 lines × 768 values (3 axes × 256 samples)" in visible_text(app)
        screen.query_one("#data-buffer", Input).value = "64"
        screen.query_one("#data-buffer", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        recut = tmp_path / "fan_recut.csv"  # the default name, next to the input
        assert read_signals(recut, axes=3).values.shape == (1200, 192)
        assert "Wrote fan_recut.csv: 1200 lines" in visible_text(app)

        await pilot.press("ctrl+n")  # the result becomes the input
        await settle(pilot)
        assert screen.query_one("#data-inputs", Input).value == str(recut)
        screen.query_one("#data-action", Select).value = "extract"
        await settle(pilot)
        assert not screen.query_one("#data-opts-recut").display and screen.query_one("#data-opts-extract").display
        screen.query_one("#data-every", Input).value = "2"
        screen.query_one("#data-every", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        extracted = tmp_path / "fan_recut_extract.csv"
        np.testing.assert_array_equal(read_signals(extracted, axes=3).values,
                                      read_signals(recut, axes=3).values[::2])

        await pilot.press("ctrl+n")
        screen.query_one("#data-action", Select).value = "extract"
        screen.query_one("#data-every", Input).value = "2"
        screen.query_one("#data-out", Input).value = str(recut)  # an existing file: refused
        screen.query_one("#data-every", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen) and "already exists" in app.screen.message
        await pilot.press("escape")
        pane.result = pane.result  # still the extract's result
        await pilot.press("ctrl+t")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ImportResultScreen)
        assert "fan64" in visible_text(app) and dialog.query_one("#import-anomaly").display
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        project = Project.open(workspace / "fan64")
        assert [(s.role, s.lines, s.values_per_line) for s in project.signals] == [("nominal", 600, 192)]
        assert "Imported into fan64 as s1" in visible_text(app)
    assert source.read_bytes() == before


def test_tmux_chain_recut_extract_import(tmp_path):
    """The same chain in a real terminal (tmux, 80x24), keyboard only."""
    from .tmux_drive import quit_app, shower, start_app

    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    source = tmp_path / "fan.csv"
    shutil.copyfile(FAN, source)
    Project.create(tmp_path / "workspace" / "fan64", ProjectSettings(name="fan64", type="anomaly", axes=3))
    session = start_app(str(tmp_path))
    show = shower(False)
    try:
        session.wait_for("fan64", "Projects")
        session.keys("t")
        session.wait_for("4 Signal files", "Enter (or ctrl+r) writes the file.")
        # The screen opens in the first tool's form: shift+tab goes back to the tab bar,
        # where a tool key keeps the focus; tab moves into the form: Action -> Axes ->
        # Layout -> Files. In one burst: the app queues keys (issue 16).
        session.keys("BTab", "4", "Tab", "Tab", "Tab", "Tab")
        session.wait_for("Action Re-cut")
        session.type(str(source))
        session.keys("BTab", "BTab", "C-u")  # Files -> Layout -> Axes
        session.type("3")
        screen = session.wait_for("300 lines × 768 values (3 axes × 256 samples)")
        session.keys("Tab", "Tab", "Tab", "C-u")  # Axes -> Layout -> Files -> Buffer
        session.type("64")
        session.keys("Enter")
        screen = session.wait_for("Wrote fan_recut.csv: 1200 lines")
        show("re-cut", screen)
        session.keys("C-n")
        session.wait_for("Input: fan_recut.csv")
        session.keys("Enter", "Up", "Up", "Enter")  # the action list: Re-cut -> Extract lines
        session.wait_for("Action Extract lines", "Every")
        session.keys("Tab", "Tab", "Tab", "Tab", "Tab")  # Action -> Axes -> Layout -> Files -> Lines -> Every
        session.type("2")
        session.keys("Enter")
        screen = session.wait_for("Wrote fan_recut_extract.csv: 600 lines", "every 2nd line")
        show("extract", screen)
        session.keys("C-t")
        session.wait_for("Import fan_recut_extract.csv into a project", "fan64", "Role")
        session.keys("C-s")
        screen = session.wait_for("Imported into fan64 as s1")
        show("imported", screen)
        session.keys("Escape")
        time.sleep(0.2)  # alone: a terminal reads escape then a key at once as alt+key
        session.keys("Escape")
        session.wait_for("Projects")
        quit_app(session, show)
    finally:
        session.close()
    signals = Project.open(tmp_path / "workspace" / "fan64").signals
    assert [(s.lines, s.values_per_line) for s in signals] == [(600, 192)]
    assert source.read_bytes() == FAN.read_bytes()
