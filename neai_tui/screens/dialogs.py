"""Modal dialogs: errors, help, new project, signal import."""
from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Footer, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from ..engine.errors import NeaiError
from ..engine.project import PROJECT_TYPES, TYPE_TITLES, ProjectSettings, Workspace
from ..engine.targets import DEFAULT_TARGET, search_targets
from ..widgets.suggest import PathSuggester


class ErrorScreen(ModalScreen[None]):
    """Shows what went wrong and how to fix it; never a traceback."""

    BINDINGS = [
        Binding("escape,enter", "close", "Close", id="error.close"),
    ]

    def __init__(self, title: str, message: str) -> None:
        super().__init__(classes="dialog-screen")
        self.error_title = title
        self.message = message

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="error-dialog"):
            yield Label(Text(self.error_title), id="dialog-title")
            with VerticalScroll(id="error-body"):
                yield Static(Text(self.message), id="error-message")
            with Horizontal(classes="buttons"):
                yield Button("OK", id="ok", variant="error", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#ok", Button).focus()

    @on(Button.Pressed, "#ok")
    def action_close(self) -> None:
        self.dismiss(None)


class HelpScreen(ModalScreen[None]):
    """What the current screen is for and the keys it answers to."""

    BINDINGS = [
        Binding("escape,question_mark,q", "close", "Close", id="help.close"),
    ]

    def __init__(self, title: str, about: str, keys: list[tuple[str, str]]) -> None:
        super().__init__(classes="dialog-screen")
        self.help_title = title
        self.about = about
        self.keys = keys

    def compose(self) -> ComposeResult:
        body = Text()
        if self.about:
            body.append(self.about.strip() + "\n\n")
        width = max((len(k) for k, _ in self.keys), default=0)
        for key, description in self.keys:
            body.append(f"  {key:<{width}}", style="bold")
            body.append(f"  {description}\n")
        body.append("\nctrl+p opens the command palette; escape closes this help.", style="italic")
        with Vertical(id="dialog", classes="help-dialog"):
            yield Label(f"Help: {self.help_title}", id="dialog-title")
            with VerticalScroll():
                yield Static(body, id="help-body")
        yield Footer()

    def action_close(self) -> None:
        self.dismiss(None)


def _optional_kb(text: str, label: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise NeaiError(f"{label} must be a number of KB, not '{text}'", "Leave it blank for no limit.") from None


class NewProjectScreen(ModalScreen["object | None"]):
    """The new-project form; dismisses with the created `Project`, or None."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="new_project.cancel"),
        Binding("ctrl+s", "create", "Create", id="new_project.create"),
        Binding("down", "pick_target", "Pick a target", id="new_project.pick_target", show=False),
    ]

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(classes="dialog-screen")
        self.workspace = workspace

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="form-dialog"):
            yield Label("New project", id="dialog-title")
            with Horizontal(classes="field"):
                yield Label("Name", classes="field-label")
                yield Input(placeholder="e.g. motor vibration", id="name", compact=True)
            with Horizontal(classes="field"):
                yield Label("Type", classes="field-label")
                yield Select(
                    [(TYPE_TITLES[t], t) for t in PROJECT_TYPES],
                    value=PROJECT_TYPES[0],
                    allow_blank=False,
                    id="type",
                    compact=True,
                )
            with Horizontal(classes="field"):
                yield Label("Axes", classes="field-label", id="axes-label")
                yield Input("1", type="integer", id="axes", compact=True)
            with Horizontal(classes="field"):
                yield Label("", classes="field-label")
                yield Checkbox("Multi-sensor (anomaly only)", id="multisensor", compact=True)
            with Horizontal(classes="field"):
                yield Label("Description", classes="field-label")
                yield Input(placeholder="optional", id="description", compact=True)
            with Horizontal(classes="field"):
                yield Label("Max RAM KB", classes="field-label")
                yield Input(placeholder="blank = no limit", type="number", id="max-ram", compact=True)
            with Horizontal(classes="field"):
                yield Label("Max flash KB", classes="field-label")
                yield Input(placeholder="blank = no limit", type="number", id="max-flash", compact=True)
            with Horizontal(classes="field"):
                yield Label("Target", classes="field-label")
                yield Input(DEFAULT_TARGET, placeholder="board, MCU or core", id="target", compact=True)
            yield OptionList(id="target-matches", compact=True)
            with Horizontal(classes="buttons"):
                yield Button("Create", id="create", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self._show_target_matches(DEFAULT_TARGET)
        self.query_one("#name", Input).focus()

    def _show_target_matches(self, text: str) -> None:
        matches = search_targets(text)
        options = self.query_one("#target-matches", OptionList)
        options.clear_options()
        options.add_options(
            Option(f"{t.name}  ({t.kind}{', ' + t.mcu if t.mcu and t.mcu != t.name else ''}, {t.core})", id=t.name)
            for t in matches[:30]
        )
        if matches:
            options.highlighted = 0

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "pick_target":
            return self.focused is self.query_one("#target", Input)
        return True

    def action_pick_target(self) -> None:
        """↓ in the target field moves to its matches; enter there picks one."""
        self.query_one("#target-matches", OptionList).focus()

    @on(Input.Changed, "#target")
    def _target_typed(self, event: Input.Changed) -> None:
        self._show_target_matches(event.value)

    @on(OptionList.OptionSelected, "#target-matches")
    def _target_chosen(self, event: OptionList.OptionSelected) -> None:
        target = self.query_one("#target", Input)
        target.value = event.option.id or ""
        target.focus()

    @on(Select.Changed, "#type")
    def _type_changed(self, event: Select.Changed) -> None:
        checkbox = self.query_one("#multisensor", Checkbox)
        checkbox.disabled = event.value != "anomaly"
        if checkbox.disabled:
            checkbox.value = False

    @on(Checkbox.Changed, "#multisensor")
    def _multisensor_changed(self, event: Checkbox.Changed) -> None:
        self.query_one("#axes-label", Label).update("Variables" if event.value else "Axes")

    def settings(self) -> ProjectSettings:
        """The form's content as engine settings (the engine validates them)."""
        axes_text = self.query_one("#axes", Input).value.strip()
        try:
            axes = int(axes_text)
        except ValueError:
            raise NeaiError(f"the number of axes must be a whole number, not '{axes_text}'", "Give 1..64.") from None
        return ProjectSettings(
            name=self.query_one("#name", Input).value.strip(),
            type=str(self.query_one("#type", Select).value),
            axes=axes,
            multisensor=self.query_one("#multisensor", Checkbox).value,
            description=self.query_one("#description", Input).value.strip(),
            max_ram_kb=_optional_kb(self.query_one("#max-ram", Input).value, "max RAM"),
            max_flash_kb=_optional_kb(self.query_one("#max-flash", Input).value, "max flash"),
            target=self.query_one("#target", Input).value.strip() or DEFAULT_TARGET,
        )

    @on(Button.Pressed, "#create")
    @on(Input.Submitted)
    def action_create(self) -> None:
        try:
            project = self.workspace.create_project(self.settings())
        except NeaiError as exc:
            self.app.push_screen(ErrorScreen("Cannot create the project", exc.user_text()))
            return
        except OSError as exc:
            self.app.push_screen(ErrorScreen("Cannot create the project", f"{exc.strerror}: {exc.filename}"))
            return
        self.dismiss(project)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass
class ImportRequest:
    """What the import dialog asks `project.import_signal` to do."""

    path: str
    role: str | None = None
    class_name: str | None = None
    couple: int = 1


class ImportScreen(ModalScreen["ImportRequest | None"]):
    """Asks for a signal file and, by project type, its role and couple or its class."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="import.cancel"),
        Binding("ctrl+s", "submit", "Import", id="import.submit"),
    ]

    def __init__(self, project_type: str) -> None:
        super().__init__(classes="dialog-screen")
        self.project_type = project_type

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="form-dialog"):
            yield Label(f"Import signals ({TYPE_TITLES.get(self.project_type, self.project_type)})", id="dialog-title")
            with Horizontal(classes="field"):
                yield Label("File", classes="field-label")
                yield Input(
                    placeholder=".csv or .txt (→ completes)", id="path", suggester=PathSuggester(), compact=True
                )
            if self.project_type == "anomaly":
                with Horizontal(classes="field"):
                    yield Label("Role", classes="field-label")
                    yield Select(
                        [("nominal (normal behaviour)", "nominal"), ("abnormal", "abnormal")],
                        value="nominal",
                        allow_blank=False,
                        id="role",
                        compact=True,
                    )
                with Horizontal(classes="field"):
                    yield Label("Couple", classes="field-label")
                    yield Input("1", type="integer", id="couple", compact=True)
            elif self.project_type == "n-class":
                with Horizontal(classes="field"):
                    yield Label("Class", classes="field-label")
                    yield Input(placeholder="blank = the file's name", id="class", compact=True)
            yield Static(
                "The file is checked and copied into the project; the original is not touched.",
                classes="dialog-note",
            )
            with Horizontal(classes="buttons"):
                yield Button("Import", id="import", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#path", Input).focus()

    @on(Button.Pressed, "#import")
    @on(Input.Submitted)
    def action_submit(self) -> None:
        path = self.query_one("#path", Input).value.strip()
        if not path:
            self.app.push_screen(ErrorScreen("No file given", "Type the path of a .csv or .txt signal file."))
            return
        request = ImportRequest(path)
        if self.project_type == "anomaly":
            request.role = str(self.query_one("#role", Select).value)
            couple = self.query_one("#couple", Input).value.strip() or "1"
            try:
                request.couple = int(couple)
            except ValueError:
                self.app.push_screen(ErrorScreen("Bad couple", f"the couple must be a whole number, not '{couple}'"))
                return
        elif self.project_type == "n-class":
            request.class_name = self.query_one("#class", Input).value.strip() or None
        self.dismiss(request)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
