"""The target catalogue in the TUI (boards and MCUs as two lists, search, favourites) and
the Deployment step's compilation options, driven headless with Pilot at 80x24."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Select

from neai_tui.app import NeaiApp
from neai_tui.screens.dialogs import NewProjectScreen
from neai_tui.screens.targets import TargetCatalogueScreen

from .test_tui import settle, visible_text

SIZE = (80, 24)


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("NEAI_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))


async def test_catalogue_search_favourite_choose(tmp_path):
    import os

    app = NeaiApp(workspace=tmp_path / "ws")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, NewProjectScreen)
        form.query_one("#target", Input).focus()
        await pilot.press("ctrl+o")
        await settle(pilot)
        catalogue = app.screen
        assert isinstance(catalogue, TargetCatalogueScreen)
        assert "274 boards, 1729 MCUs" in visible_text(app)
        catalogue.query_one("#catalogue-search", Input).value = "teensy mimxrt"  # the two Teensy 4
        await settle(pilot)
        boards = catalogue.query_one("#catalogue-board", DataTable)
        assert boards.row_count == 2 and "1984 KB" in visible_text(app) and "600" in visible_text(app)
        await pilot.press("down", "down", "f")  # the second row: Teensy 4.1, now a favourite and first
        await settle(pilot)
        config = json.loads((Path(os.environ["NEAI_CONFIG_DIR"]) / "config.json").read_text())
        assert config["favourite_targets"] == ["PJRC Teensy 4.1"]
        assert str(boards.coordinate_to_cell_key(boards.cursor_coordinate).row_key.value) == "PJRC Teensy 4.1"
        await pilot.press("tab")  # the MCUs
        await settle(pilot)
        assert catalogue.kind == "mcu"
        await pilot.press("tab", "enter")
        await settle(pilot)
        assert app.screen is form and form.query_one("#target", Input).value == "PJRC Teensy 4.1"
        # the new project's limits: half of the Teensy's RAM and flash
        assert "blank = 512 (half the target's)" in visible_text(app)
        form.query_one("#name", Input).value = "vib"
        await pilot.press("ctrl+s")
        await settle(pilot)
    from neai_tui.engine.project import Workspace

    made = Workspace(tmp_path / "ws").list_projects()[0]
    assert made.target == "PJRC Teensy 4.1"
    from neai_tui.engine.project import Project

    assert (Project.open(made.path).settings.max_ram_kb, Project.open(made.path).settings.max_flash_kb) == (512.0,
                                                                                                           3968.0)


async def test_deployment_fields_reach_deploy(tmp_path, monkeypatch):
    """Float ABI, sections and extra flags are read from the form and passed on; a refused
    flag shows in red under the form as it is typed."""
    import neai_tui.engine.deploy as deploy_module

    from .test_tui import make_workspace, open_first_project, screen_text

    workspace = make_workspace(tmp_path / "workspace")
    calls = []

    def fake_deploy(project, *, progress=None, **options):
        from types import SimpleNamespace

        calls.append(options)
        return SimpleNamespace(zip_path=tmp_path / "none.zip", metadata={
            "library_id": "b1-c7", "type": "anomaly", "target": "NUCLEO-L432KC", "core": "cortex-m4f",
            "optimize": "size", "build": {"float_abi": "softfp", "sections": False, "extra_flags": ["-funroll-loops"]},
            "measured": {"flash_bytes": 3000, "ram_bytes": 1200, "cycles_per_detect": 80000},
            "timing": {"clock_mhz": 80, "instructions_per_inference": 64000, "cycles_per_inference": 80000,
                       "ms_per_inference": 1.0},
            "target_info": {"name": "NUCLEO-L432KC", "clock_mhz": 80, "flash_share": 0.0114, "ram_share": 0.0183}})

    monkeypatch.setattr(deploy_module, "deploy", fake_deploy)
    app = NeaiApp(workspace=workspace)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        screen = await open_first_project(pilot)
        await pilot.press("6")
        await settle(pilot)
        pane = screen.query_one("#deployment")
        pane.query_one("#deploy-target", Input).value = "NUCLEO-L432KC"
        pane.query_one("#deploy-float-abi", Select).value = "softfp"
        pane.query_one("#deploy-sections").value = False
        pane.query_one("#deploy-cflags", Input).value = "-I/etc"
        await settle(pilot)
        assert "extra flag '-I/etc' is refused: names a path" in screen_text(app)
        pane.query_one("#deploy-cflags", Input).value = "-funroll-loops"
        await settle(pilot)
        text = screen_text(app)
        assert "softfp float" in text and "no per-function sections" in text and "NUCLEO-L432KC: 256 KB" in text
        pane.action_deploy()
        await settle(pilot)
        result = screen_text(app)
        assert "softfp, no per-function sections, -funroll-loops" in result
        assert "1.00 ms at 80 MHz" in result and "NUCLEO-L432KC: 1.1 % of flash, 1.8 % of RAM" in result
    assert calls and calls[0]["float_abi"] == "softfp" and calls[0]["sections"] is False
    assert calls[0]["extra_flags"] == "-funroll-loops"
