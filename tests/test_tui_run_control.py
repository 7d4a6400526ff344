"""Issue 16: run control that keeps its word. A paused and resumed run keeps the
budget the user chose; the dialog proposes the user's last choices; a new
benchmark asks before the chosen library stops being the chosen one."""
from __future__ import annotations

import threading
import time

from textual.widgets import Input, Select

from neai_tui.app import NeaiApp
from neai_tui.screens.benchmark import NewBenchmarkScreen

from .test_tui import open_first_project, settle
from .test_tui_steps import BEST, SIZE, FakeProgress, FakeResult, fake_engine, imported, screen_text  # noqa: F401
from .test_tui_steps import workspace  # noqa: F401


async def test_pause_resume_keeps_the_chosen_budget_and_the_dialog_remembers_it(imported, fake_engine, monkeypatch):
    from neai_tui.engine import search

    started: list[threading.Event] = []

    def run(project, *, progress=None, cancel=None, **options):
        fake_engine.append(options)
        started.append(cancel)
        base = 30.0 * (len(started) - 1)
        progress(FakeProgress(0, 0.0, base, None, None, False, "benchmark b1"))  # as the engine starts
        progress(FakeProgress(10, 5.0, base + 30.0, 80.0, BEST, True))  # then 30 s later
        if len(started) == 1:
            assert cancel.wait(10)
        # the second run ends on its time limit
        return FakeResult("b1", BEST, evals_done=10, elapsed_s=base + 30.0, status="stopped")

    monkeypatch.setattr(search, "run_benchmark", run)
    app = NeaiApp(workspace=imported)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_first_project(pilot)
        await pilot.press("3", "b")
        dialog = app.screen
        assert isinstance(dialog, NewBenchmarkScreen)
        dialog.query_one("#bench-limit-value", Input).value = "90"
        dialog.query_one("#bench-cores", Input).value = "1"
        await pilot.press("ctrl+s")
        deadline = time.monotonic() + 5
        while not started and time.monotonic() < deadline:
            await pilot.pause(0.05)
        await pilot.pause(0.2)
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert fake_engine[1]["time_limit"] == 60 and fake_engine[1]["new"] is False  # what was left
        assert "ran its 90 s" in screen_text(app)  # the budget chosen, not what was left of it
        await pilot.press("b")
        await settle(pilot)
        dialog = app.screen
        assert dialog.query_one("#bench-limit-value", Input).value == "90"  # the user's last choice
        assert dialog.query_one("#bench-cores", Input).value == "1"
        assert screen.pane("benchmark").budget.time_limit == 90


async def test_a_new_benchmark_asks_before_dropping_the_chosen_library(imported, fake_engine, monkeypatch):
    from neai_tui.engine import search

    def run(project, *, progress=None, cancel=None, **options):
        fake_engine.append(options)
        return FakeResult("b2", BEST, status="done")

    monkeypatch.setattr(search, "run_benchmark", run)
    app = NeaiApp(workspace=imported)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_first_project(pilot)
        await pilot.press("3")
        await settle(pilot)
        screen.pane("benchmark").choose("b1-c7")
        await settle(pilot)
        screen.load_libraries()
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        dialog = app.screen
        keep = dialog.query_one("#bench-keep", Select)
        assert keep.value == "keep" and "keep b1-c7 chosen" in screen_text(app)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert fake_engine[-1].get("keep_selection") is True
        await pilot.press("b")
        await settle(pilot)
        app.screen.query_one("#bench-keep", Select).value = "replace"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "keep_selection" not in fake_engine[-1]
