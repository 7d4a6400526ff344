"""Issue 16: one keyboard model. Keys sent in a burst (a script, a paste, fast
typing) land where they would have landed typed slowly; a text field owns the
printable keys and the key bar says so; number keys pick steps and tools
whenever no text field has the focus; escape leaves a field, then the screen."""
from __future__ import annotations

import pytest
from textual import events
from textual.widgets import Input, Tabs

from neai_tui.app import NeaiApp
from neai_tui.engine.project import Project, ProjectSettings
from neai_tui.keyboard import is_printable_key
from neai_tui.screens.home import HomeScreen
from neai_tui.screens.project import ProjectScreen
from neai_tui.screens.tools import ToolsScreen
from neai_tui.widgets.keybar import KeyBar

from .test_tui import settle, visible_text

SIZE = (80, 24)
NAMED = {"tab": "\t", "enter": "\r", "space": " "}


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("NEAI_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))


async def drained(pilot, timeout: float = 10.0) -> None:
    """Until every key of a burst has been delivered and settled."""
    import time

    app = pilot.app
    deadline = time.monotonic() + timeout
    await pilot.pause(0.1)
    quiet = 0
    while quiet < 3 and time.monotonic() < deadline:  # three looks in a row with nothing pending
        await pilot.pause(0.05)
        quiet = quiet + 1 if not (app._key_backlog or app._key_busy or not app._message_queue.empty()) else 0
    await settle(pilot)


def burst(app, *keys: str) -> None:
    """Post every key at once, as a terminal delivers a paste or a script's keys."""
    for key in keys:
        for k in ([key] if key in NAMED or len(key) == 1 or "+" in key else list(key)):
            app.post_message(events.Key(k, NAMED.get(k, k if len(k) == 1 else None)))


async def test_a_burst_of_keys_fills_each_field_of_the_new_project_form(tmp_path):
    app = NeaiApp(workspace=tmp_path / "ws")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # n opens the dialog; the name, two tabs (over Type), the axes, then the limits.
        burst(app, "n", "Fan", "tab", "tab", "ctrl+u", "3", "tab", "tab", "motor", "tab", "12", "tab", "40")
        await drained(pilot)
        values = {field.id: field.value for field in app.screen.query(Input)}
        assert values["name"] == "Fan" and values["axes"] == "3" and values["description"] == "motor"
        assert values["max-ram"] == "12" and values["max-flash"] == "40"
        burst(app, "ctrl+s", "2", "i")  # create, open the project's Signals step, then its import dialog
        await drained(pilot)
        assert type(app.screen).__name__ == "ImportScreen" and isinstance(app.focused, Input)
        project = Project.open(tmp_path / "ws" / "fan")
        assert (project.settings.axes, project.settings.max_ram_kb, project.settings.max_flash_kb) == (3, 12, 40)


def keybar_entry(app, text: str) -> tuple[str, bool]:
    for keys, description, enabled in app.screen.query_one(KeyBar).entries():
        if description == text:
            return keys, enabled
    raise AssertionError(f"{text!r} not in the key bar")


async def test_a_text_field_owns_the_printable_keys_and_the_key_bar_says_so(tmp_path):
    Project.create(tmp_path / "ws" / "fan", ProjectSettings(name="fan", type="anomaly", axes=3))
    app = NeaiApp(workspace=tmp_path / "ws")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ProjectScreen)
        assert keybar_entry(app, "Steps") == ("1-6", True)
        await pilot.press("enter")  # into the Settings form: the name field
        await settle(pilot)
        assert isinstance(app.focused, Input)
        assert keybar_entry(app, "Steps") == ("1-6", False)  # digits type here
        assert keybar_entry(app, "Save settings")[1]  # ctrl+s is no printable key: still live
        await pilot.press("end", "2")
        assert app.focused.value == "fan2" and screen.current_step == "settings"
        await pilot.press("escape")  # leaves the field first...
        await settle(pilot)
        assert app.screen is screen and not isinstance(app.focused, Input)
        assert keybar_entry(app, "Steps") == ("1-6", True)
        await pilot.press("2")  # ...where digits are step keys again
        await settle(pilot)
        assert screen.current_step == "signals"
        await pilot.press("escape")  # then the screen
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)


async def test_number_keys_pick_tools_and_never_type_into_a_field(tmp_path):
    app = NeaiApp(workspace=tmp_path / "ws")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ToolsScreen) and isinstance(app.focused, Input)
        assert keybar_entry(app, "Tools")[1] is False  # the path field has the keys
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.focused, Tabs) and keybar_entry(app, "Tools")[1]
        before = {field.id: field.value for field in screen.query(Input)}
        burst(app, "2", "3", "1", "2")
        await drained(pilot)
        assert screen.current == "sampling" and isinstance(app.focused, Tabs)
        assert {field.id: field.value for field in screen.query(Input)} == before  # nothing typed anywhere


def test_printable_keys():
    assert all(is_printable_key(k) for k in ("a", "B", "1", "question_mark", "plus", "slash"))
    assert not any(is_printable_key(k) for k in ("ctrl+s", "escape", "enter", "tab", "f1", "down"))


async def test_the_focused_field_itself_is_marked(tmp_path):
    app = NeaiApp(workspace=tmp_path / "ws")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        name, description = app.screen.query_one("#name", Input), app.screen.query_one("#description", Input)
        assert name.has_focus
        focused_bg, other_bg = name.styles.background, description.styles.background
        assert focused_bg != other_bg  # the field, not only its label
        assert "New project" in visible_text(app)


async def test_an_nclass_emulator_speaks_of_classes_before_any_zip(tmp_path):
    Project.create(tmp_path / "ws" / "states", ProjectSettings(name="states", type="n-class", axes=3))
    app = NeaiApp(workspace=tmp_path / "ws")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        descriptions = {description for _, description, _ in app.screen.query_one(KeyBar).entries()}
        assert "Classify" in descriptions and keybar_entry(app, "Classify") == ("d", False)  # no zip yet
        assert not descriptions & {"Learn", "Init", "Detect", "Sens.+", "Outlier?", "Extrapolate"}
        text = visible_text(app)
        assert "classifies" in text and "Run file" in text and "Learn file" not in text and "Sensitivity" not in text


async def test_the_data_tools_inside_a_project(tmp_path):
    """A failed import offers the tool with the file; the result is imported in one
    action; fields and the rate are remembered; relative paths are the project's."""
    from neai_tui.screens.dialogs import ConfirmScreen, ImportScreen

    project = Project.create(tmp_path / "ws" / "fan", ProjectSettings(name="fan", type="anomaly", axes=3))
    recording = tmp_path / "run.csv"
    recording.write_text("".join(f"{i % 7} {i % 5} {i % 3}\n" for i in range(640)))
    app = NeaiApp(workspace=tmp_path / "ws")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        titles = " ".join(title + " " + help_text for title, help_text, _ in screen.palette_commands())
        assert "Tools: data manipulation" in titles and "reshape" in titles
        await pilot.press("2", "i")
        await settle(pilot)
        assert isinstance(app.screen, ImportScreen) and "relative to fan/" in app.screen.query_one("#path").placeholder
        app.screen.query_one("#path", Input).value = str(recording)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen) and "data manipulation tool" in app.screen.message
        await pilot.press("y")
        await settle(pilot)
        tools = app.screen
        assert isinstance(tools, ToolsScreen) and tools.project is project or tools.project.path == project.path
        assert str(recording) in tools.query_one("#reshape-inputs", Input).value
        tools.query_one("#reshape-buffer", Input).value = "16"
        tools.query_one("#reshape-rate", Input).value = "1000"
        tools.query_one("#reshape-out", Input).value = "nominal_cut.csv"  # relative: the project's
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert (project.path / "nominal_cut.csv").is_file()
        assert Project.open(project.path).settings.frequency_filter == {"sampling_rate_hz": 1000.0}
        await pilot.press("escape")  # out of the field
        await settle(pilot)
        assert keybar_entry(app, "Import into project")[1]
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, ImportScreen)
        await pilot.press("ctrl+s")  # role guessed from the name: nominal
        await settle(pilot)
        assert [s.role for s in Project.open(project.path).signals] == ["nominal"]
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        await pilot.press("t")
        await settle(pilot)
        assert app.screen.query_one("#reshape-buffer", Input).value == "16"  # remembered
        assert app.screen.query_one("#sampling-rate", Input).value == "1000"  # the project's rate
