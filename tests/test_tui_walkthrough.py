"""What a new user meets at 80x24, keyboard only (found by walking every project type
through the app in tmux): every key in the key bar, readable tick boxes, the target
completed by enter, the role guessed from a file's name, hints that name keys rather
than `neai` commands, 16-colour terminals, and the benchmark's results plot of every
project type, computed by the library's own C."""
from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Select

from neai_tui.app import NeaiApp
from neai_tui.engine.project import Project, ProjectSettings, Workspace
from neai_tui.screens.dialogs import ErrorScreen, ImportScreen, NewProjectScreen
from neai_tui.screens.project import PANES, ProjectScreen
from neai_tui.widgets.forms import TickBox, TickList
from neai_tui.widgets.keybar import KeyBar
from tests import test_tui
from tests.test_tui import open_first_project, screen_text, settle, visible_text

# The fixtures of test_tui: an isolated config folder, a workspace of two projects.
_isolated_config = test_tui._isolated_config
workspace = test_tui.workspace

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_data"
SMALL = (80, 24)  # the smallest terminal the TUI supports


def key_bar_text(app) -> str:
    return "\n".join(line.plain for line in app.screen.query_one(KeyBar).lines(SMALL[0]))


# -- the key bar -----------------------------------------------------------------------------------
async def test_every_key_of_every_step_is_in_the_key_bar_at_80_columns(workspace):
    app = NeaiApp(workspace=workspace)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        home = key_bar_text(app)
        for key, description in (("n", "New"), ("i", "Import"), ("w", "Workspace"), ("m", "Demo"), ("q", "Quit")):
            assert f" {key} {description} " in home, home
        screen = await open_first_project(pilot)
        for number, pane in enumerate(PANES, start=1):
            await pilot.press(str(number))
            await settle(pilot)
            bar = key_bar_text(app)
            assert len(bar.splitlines()) <= 2, bar
            assert " esc Back " in bar and " q Quit " in bar, bar  # the last keys: nothing was cut
            for binding in pane.KEYS:
                shown = f" {app.get_key_display(binding)} {binding.description} "
                if screen.pane(pane.STEP).check_key(binding.action.split("(")[0]) is False:
                    assert shown not in bar, (pane.STEP, bar)  # another kind's key (issue 16: Classify...)
                    continue
                assert shown in bar, (pane.STEP, bar)
            assert "1-6 Steps" in bar and "? help" in bar and "^p palette" in bar
        assert screen.query_one(KeyBar).size.height == 2


async def test_home_keys_follow_the_project_list_as_soon_as_it_arrives(tmp_path):
    """The flaky home snapshot: duplicate, delete and export were drawn greyed out
    until some later event refreshed the bar. They follow the list now."""
    root = tmp_path / "workspace"
    app = NeaiApp(workspace=root)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        entries = {description: enabled for _, description, enabled in app.screen.query_one(KeyBar).entries()}
        assert entries["Duplicate"] is None or entries["Duplicate"] is False
        Project.create(root / "fan", ProjectSettings(name="Fan", type="anomaly", axes=3))
        await pilot.press("r")  # refresh: the list arrives from a worker, no key or focus change after it
        await settle(pilot)
        entries = {description: enabled for _, description, enabled in app.screen.query_one(KeyBar).entries()}
        assert entries["Duplicate"] and entries["Delete"] and entries["Export"]


async def test_a_dialog_key_bar_hides_the_two_line_bar_under_it(workspace):
    app = NeaiApp(workspace=workspace)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, NewProjectScreen)
        last_lines = visible_text(app).splitlines()[-2:]
        assert "Duplicate" not in "\n".join(last_lines) and "Create" in "\n".join(last_lines)


# -- the new-project form and the import dialog ------------------------------------------------------
async def test_multisensor_tick_box_reads_without_colour_and_only_for_anomaly(workspace):
    app = NeaiApp(workspace=workspace)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("n")
        form = app.screen
        box = form.query_one("#multisensor", TickBox)
        assert "[ ] Multi-sensor" in visible_text(app) and "▐X▌" not in visible_text(app)
        box.focus()
        await pilot.press("space")
        assert box.value and "[x] Multi-sensor" in visible_text(app)
        assert "Variables" in visible_text(app)  # the sensor is n variables now
        form.query_one("#type", Select).value = "n-class"
        await pilot.pause()
        assert not box.value and not form.query_one("#multisensor-row").display
        assert "Multi-sensor" not in visible_text(app)


async def test_the_focused_field_of_a_form_is_marked_and_only_that_one(workspace):
    """Compact fields look alike focused or not: the row with the keyboard has its
    label reversed (class "focused"), and it follows Tab."""
    app = NeaiApp(workspace=workspace)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("n", *"Fan")

        def marked() -> list[str]:
            return [str(row.query_one(".field-label").render()) for row in app.screen.query(".field.focused")]

        assert marked() == ["Name"]
        await pilot.press("tab")
        assert marked() == ["Type"]
        await pilot.press("tab")
        assert marked() == ["Axes"]
        await pilot.press("shift+tab", "shift+tab")
        assert marked() == ["Name"]


async def test_enter_in_the_target_field_takes_the_highlighted_match_then_creates(workspace):
    app = NeaiApp(workspace=workspace)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("n", *"Fan")
        form = app.screen
        target = form.query_one("#target", Input)
        target.focus()
        target.value = "l432"
        await pilot.pause()
        await pilot.press("enter")
        assert app.screen is form and target.value == "NUCLEO-L432KC"  # completed, not created yet
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ProjectScreen)
    created = {p.name: p for p in Workspace(workspace).list_projects()}
    assert created["Fan"].target == "NUCLEO-L432KC"


async def test_the_role_follows_the_file_name_until_the_user_picks_one(workspace):
    app = NeaiApp(workspace=workspace)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await open_first_project(pilot)
        await pilot.press("2", "i")
        dialog = app.screen
        assert isinstance(dialog, ImportScreen)
        path = dialog.query_one("#path", Input)
        role = dialog.query_one("#role", Select)
        path.value = str(SAMPLES / "fan" / "abnormal.csv")
        await pilot.pause()
        assert role.value == "abnormal"
        path.value = str(SAMPLES / "fan" / "nominal.csv")
        await pilot.pause()
        assert role.value == "nominal"
        role.value = "abnormal"  # the user's choice wins over the name
        path.value = str(SAMPLES / "fan" / "nominal.csv") + " "
        await pilot.pause()
        assert role.value == "abnormal"


async def test_hints_name_the_tui_keys_not_neai_commands(workspace, tmp_path):
    app = NeaiApp(workspace=workspace)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await open_first_project(pilot)
        await pilot.press("2")
        await settle(pilot)
        checks = screen_text(app)
        assert "no signal file is imported yet" in checks and "the Signals step (2, key i)" in checks
        assert "`neai" not in checks
        await pilot.press("3", "b")
        await pilot.pause()
        await pilot.press("ctrl+s")  # no signals: the benchmark cannot start
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        assert "`neai" not in app.screen.message and "Signals step" in app.screen.message


def test_a_16_colour_terminal_gets_its_own_ansi_palette(monkeypatch):
    """In 16 colours the theme's RGB colours round badly (red and magenta, orange and
    bright red end up alike): the app draws with the terminal's ANSI palette there."""
    from rich.console import Console

    from neai_tui.app import few_colours

    def detected(term: str) -> str | None:
        return Console(force_terminal=True, _environ={"TERM": term}).color_system

    assert few_colours(detected("xterm-16color")) and few_colours(detected("xterm")) and few_colours(detected("linux"))
    assert not few_colours(detected("xterm-256color")) and not few_colours("truecolor")


async def test_the_ansi_palette_is_the_app_theme_in_16_colours(workspace, monkeypatch):
    from neai_tui import app as app_module

    monkeypatch.setattr(NeaiApp, "is_headless", property(lambda self: False))  # as in a real terminal
    monkeypatch.setattr(app_module, "few_colours", lambda color_system: True)
    app = NeaiApp(workspace=workspace)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        assert app.theme == app_module.ANSI_THEME
        await open_first_project(pilot)
        await pilot.press("3")
        await settle(pilot)
        assert "Benchmark" in visible_text(app)


# -- the benchmark's results plot, per project type ------------------------------------------------------
@pytest.fixture(scope="module")
def trained_workspace(tmp_path_factory) -> Path:
    """One project of each trained type on the sample fan, each benchmarked briefly."""
    from neai_tui.engine.search import run_benchmark

    root = tmp_path_factory.mktemp("trained") / "workspace"
    ws = Workspace(root)
    for kind, files in (("n-class", ["nclass/normal.csv", "nclass/imbalance.csv", "nclass/tapping.csv"]),
                        ("one-class", ["oneclass/normal.csv"]), ("extrapolation", ["extrapolation/speed.csv"])):
        project = ws.create_project(ProjectSettings(name=kind, type=kind, axes=3))
        for name in files:
            project.import_signal(SAMPLES / name)
        run_benchmark(project, max_evals=12, cores=1, seed=5)
    return root


async def open_project_named(pilot, name: str) -> ProjectScreen:
    table = pilot.app.screen.query_one("#projects", DataTable)
    names = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
    table.move_cursor(row=names.index(name))
    return await open_first_project(pilot)


async def show_results(pilot, name: str) -> str:
    """Open the project `name` on its benchmark step; the results plot's text once computed."""
    app = pilot.app
    screen = await open_project_named(pilot, name)
    await pilot.press("3")
    await settle(pilot)
    pane = screen.pane("benchmark")
    for _ in range(100):  # the results worker starts once the stored benchmark is read
        await settle(pilot)
        if pane.results is not None or pane.results_error:
            break
    assert pane.results is not None, pane.results_error
    await pilot.pause()
    text = visible_text(app)
    await pilot.press("escape", "escape")
    await settle(pilot)
    return text


async def test_results_plots_of_trained_libraries(trained_workspace):
    app = NeaiApp(workspace=trained_workspace)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        nclass = await show_results(pilot, "n-class")
        assert "probability of the true class, per held-out line" in nclass
        assert "• normal  + imbalance  * tapping" in nclass and "BA " in nclass
        assert "Learning" not in nclass  # trained libraries learn nothing on the device
        oneclass = await show_results(pilot, "one-class")
        assert "normal lines, synthetic outliers, boundary" in oneclass
        assert "· boundary" in oneclass and "• normal" in oneclass and "recall " in oneclass
        assert "2 principal directions of the features" in oneclass
        extrapolation = await show_results(pilot, "extrapolation")
        assert "predicted (y) against real (x) target" in extrapolation
        assert "y = x (perfect)" in extrapolation and "R² " in extrapolation and "real value" in extrapolation
        for text in (nclass, oneclass, extrapolation):
            assert "not available" not in text and "Traceback" not in text


async def test_results_plot_of_a_multisensor_library(tmp_path):
    from neai_tui.engine.search import run_benchmark

    root = tmp_path / "workspace"
    project = Workspace(root).create_project(ProjectSettings(name="Pump", type="anomaly", axes=6,
                                                             multisensor=True))
    project.import_signal(SAMPLES / "multisensor" / "nominal.csv", role="nominal")
    project.import_signal(SAMPLES / "multisensor" / "abnormal.csv", role="abnormal")
    run_benchmark(project, max_evals=16, cores=1, seed=2)
    app = NeaiApp(workspace=root)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        text = await show_results(pilot, "Pump")
    assert "similarity per held-out window" in text and "90 %" in text and "x abnormal" in text


async def test_validation_starts_from_the_project_files_and_enter_runs(trained_workspace):
    from neai_tui.engine.deploy import deploy

    deploy(Project.open(trained_workspace / "n-class"))
    app = NeaiApp(workspace=trained_workspace)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        screen = await open_project_named(pilot, "n-class")
        await pilot.press("5")
        await settle(pilot)
        pane = screen.pane("validation")
        assert [pane.query_one(f"#val-test-{i}", Input).value for i in range(3)] == [
            "signals/s1_normal.csv", "signals/s2_imbalance.csv", "signals/s3_tapping.csv"]
        assert [pane.query_one(f"#val-expected-{i}", Input).value for i in range(3)] == ["normal", "imbalance",
                                                                                        "tapping"]
        assert "[x] " in visible_text(app)  # the library, ticked
        assert pane.query_one("#val-libs", TickList).selected
        pane.query_one("#val-test-2", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        table = pane.query_one("#val-results", DataTable)
        assert table.row_count == 3
        assert [str(c.label) for c in table.columns.values()] == ["Library", "File", "Expected", "Lines", "Right %",
                                                                  "Classes"]
        assert "BA " in screen_text(app)


async def test_keys_typed_right_after_a_step_key_never_crash(workspace):
    """3 then ? typed at once asked the benchmark pane for its help before the pane
    existed: a traceback on the user's terminal. Every step, keys typed without a pause."""
    from neai_tui.screens.dialogs import HelpScreen

    app = NeaiApp(workspace=workspace)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        for number, pane in enumerate(PANES, start=1):
            app.simulate_key(str(number))  # queued together, as from a fast typist or a slow link
            app.simulate_key("question_mark")
            await settle(pilot)
            assert isinstance(app.screen, HelpScreen) and app.screen.help_title.endswith(pane.TITLE)
            await pilot.press("escape", "v", "tab", "escape")  # help closed, a view key, into the pane and back
        await settle(pilot)
        assert isinstance(app.screen, ProjectScreen)


async def test_a_second_file_for_a_one_file_type_says_why(tmp_path):
    root = tmp_path / "workspace"
    project = Workspace(root).create_project(ProjectSettings(name="Fan 1c", type="one-class", axes=3))
    project.import_signal(SAMPLES / "oneclass" / "normal.csv")
    app = NeaiApp(workspace=root)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        screen = await open_first_project(pilot)
        await pilot.press("2", "i")
        await settle(pilot)
        assert app.screen is screen  # no import dialog
        assert any("takes one file" in n.message for n in app._notifications)
