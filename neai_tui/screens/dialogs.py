"""Modal dialogs: errors, help, confirmation, prompts, file browser, new project, signal import."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, DirectoryTree, Input, Label, Select, Static

from ..engine.errors import NeaiError
from ..engine.project import PROJECT_TYPES, TYPE_TITLES, ProjectSettings, Workspace
from ..engine.targets import DEFAULT_TARGET
from ..widgets.keybar import KeyBar
from ..widgets.format import optional_float
from ..widgets.forms import TargetPicker, TickBox, field_row
from ..widgets.suggest import PathSuggester


class Dialog(ModalScreen):
    """A centred box; errors in its forms open an ErrorScreen on top."""

    def __init__(self, **kwargs) -> None:
        super().__init__(classes="dialog-screen", **kwargs)

    def show_error(self, title: str, error: BaseException) -> None:
        from ..app import describe_failure

        _, text = describe_failure(error)
        self.app.push_screen(ErrorScreen(title, text))


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
        yield KeyBar()

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
        body.append(
            "\nctrl+p opens the command palette (every action, searchable); tab moves between fields; "
            "escape goes back.",
            style="italic",
        )
        with Vertical(id="dialog", classes="help-dialog"):
            yield Label(f"Help: {self.help_title}", id="dialog-title")
            with VerticalScroll():
                yield Static(body, id="help-body")
        yield KeyBar()

    def action_close(self) -> None:
        self.dismiss(None)


class ConfirmScreen(Dialog):
    """Asks before something that cannot be undone; dismisses with True to go ahead."""

    BINDINGS = [
        Binding("escape,n", "cancel", "Cancel", id="confirm.cancel"),
        Binding("y", "confirm", "Yes", id="confirm.yes"),
    ]

    def __init__(self, title: str, message: str, confirm: str = "Yes") -> None:
        super().__init__()
        self.confirm_title = title
        self.message = message
        self.confirm_label = confirm

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="confirm-dialog"):
            yield Label(Text(self.confirm_title), id="dialog-title")
            yield Static(Text(self.message), classes="dialog-note")
            with Horizontal(classes="buttons"):
                yield Button(f"{self.confirm_label} (y)", id="yes", variant="error", compact=True)
                yield Button("Cancel (n)", id="no", compact=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()  # the safe choice has the focus

    @on(Button.Pressed, "#yes")
    def action_confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#no")
    def action_cancel(self) -> None:
        self.dismiss(False)


class PromptScreen(Dialog):
    """One line of text (a name, a path); dismisses with it, or None."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="prompt.cancel"),
        Binding("ctrl+o", "browse", "Browse", id="prompt.browse"),
    ]

    def __init__(self, title: str, label: str, value: str = "", *, note: str = "", path: bool = False,
                 browse_suffixes: Iterable[str] = (), want_dir: bool = False) -> None:
        super().__init__()
        self.prompt_title = title
        self.label = label
        self.value = value
        self.note = note
        self.path = path
        self.browse_suffixes = tuple(browse_suffixes)
        self.want_dir = want_dir

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="form-dialog"):
            yield Label(self.prompt_title, id="dialog-title")
            yield field_row(
                self.label,
                Input(self.value, id="prompt-value", compact=True,
                      suggester=PathSuggester() if self.path else None,
                      placeholder="path (→ completes)" if self.path else ""),
            )
            if self.note:
                yield Static(Text(self.note), classes="dialog-note")
            with Horizontal(classes="buttons"):
                yield Button("OK", id="ok", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield KeyBar()

    def on_mount(self) -> None:
        value = self.query_one("#prompt-value", Input)
        value.focus()
        value.cursor_position = len(value.value)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "browse":
            return self.path
        return True

    def action_browse(self) -> None:
        current = self.query_one("#prompt-value", Input).value.strip()

        def chosen(path: Path | None) -> None:
            if path is not None:
                field = self.query_one("#prompt-value", Input)
                field.value = str(path)
                field.focus()

        self.app.push_screen(FileBrowserScreen(current, self.browse_suffixes, want_dir=self.want_dir), chosen)

    @on(Button.Pressed, "#ok")
    @on(Input.Submitted)
    def action_submit(self) -> None:
        self.dismiss(self.query_one("#prompt-value", Input).value.strip())

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class SignalTree(DirectoryTree):
    """Folders and the files that fit (signal files, archives...); hidden ones are left out.
    Plain marks, not emoji: emoji widths differ between terminals and break the columns."""

    ICON_NODE = "▸ "
    ICON_NODE_EXPANDED = "▾ "
    ICON_FILE = "  "

    def __init__(self, path: Path, suffixes: tuple[str, ...], **kwargs) -> None:
        super().__init__(path, **kwargs)
        self.suffixes = suffixes

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        out = []
        for p in paths:
            if p.name.startswith("."):
                continue
            try:
                if p.is_dir() or not self.suffixes or p.suffix.lower() in self.suffixes:
                    out.append(p)
            except OSError:
                continue
        return out


class FileBrowserScreen(Dialog):
    """Browse folders with the arrow keys; enter picks a file (or, for folders, `s`)."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="browser.cancel"),
        Binding("backspace", "parent", "Parent folder", id="browser.parent"),
        Binding("ctrl+h", "home_dir", "Home folder", id="browser.home", show=False),
        Binding("s", "pick_folder", "Use this folder", id="browser.pick_folder"),
    ]

    def __init__(self, start: str | Path = "", suffixes: Iterable[str] = (".csv", ".txt"), *,
                 want_dir: bool = False) -> None:
        super().__init__()
        self.suffixes = tuple(s.lower() for s in suffixes)
        self.want_dir = want_dir
        self.root = self._start_dir(start)

    @staticmethod
    def _start_dir(start: str | Path) -> Path:
        path = Path(os.path.expanduser(str(start))) if str(start).strip() else Path.cwd()
        while not path.is_dir() and path != path.parent:
            path = path.parent
        return path if path.is_dir() else Path.home()

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="browser-dialog"):
            yield Label(f"Choose a {'folder' if self.want_dir else 'file'}", id="dialog-title")
            yield Static(id="browser-root", classes="dialog-note")
            yield SignalTree(self.root, self.suffixes, id="browser-tree")
        yield KeyBar()

    def on_mount(self) -> None:
        self._show_root()
        self.query_one("#browser-tree", SignalTree).focus()

    def _show_root(self) -> None:
        kinds = ", ".join(self.suffixes) if self.suffixes and not self.want_dir else "folders"
        self.query_one("#browser-root", Static).update(
            Text(f"{self.root}   ({kinds}; ↑↓ move, enter opens, backspace goes up)")
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "pick_folder":
            return self.want_dir
        return True

    def _reroot(self, path: Path) -> None:
        self.root = path
        tree = self.query_one("#browser-tree", SignalTree)
        tree.path = path
        self._show_root()

    def action_parent(self) -> None:
        if self.root.parent != self.root:
            self._reroot(self.root.parent)

    def action_home_dir(self) -> None:
        self._reroot(Path.home())

    def action_pick_folder(self) -> None:
        tree = self.query_one("#browser-tree", SignalTree)
        node = tree.cursor_node
        path = node.data.path if node is not None and node.data is not None else self.root
        self.dismiss(path if path.is_dir() else path.parent)

    @on(DirectoryTree.FileSelected)
    def _file_selected(self, event: DirectoryTree.FileSelected) -> None:
        if not self.want_dir:
            self.dismiss(event.path)

    def action_cancel(self) -> None:
        self.dismiss(None)


LIMIT_PLACEHOLDER = "blank = half the target's (none for a core)"


def _default_limits(target: str) -> tuple[float | None, float | None]:
    """A new project's limits for a target name (none while it is not a catalogue name)."""
    from ..engine.targets import default_limits

    try:
        return default_limits(target.strip() or DEFAULT_TARGET)
    except NeaiError:
        return None, None


class NewProjectScreen(Dialog):
    """The new-project form; dismisses with the created `Project`, or None."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="new_project.cancel"),
        Binding("ctrl+s", "create", "Create", id="new_project.create"),
    ]

    def __init__(self, workspace: Workspace) -> None:
        super().__init__()
        self.workspace = workspace

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="form-dialog"):
            yield Label("New project", id="dialog-title")
            yield field_row("Name", Input(placeholder="e.g. motor vibration", id="name", compact=True))
            yield field_row(
                "Type",
                Select([(TYPE_TITLES[t], t) for t in PROJECT_TYPES], value=PROJECT_TYPES[0], allow_blank=False,
                       id="type", compact=True),
            )
            yield field_row("Axes", Input("1", type="integer", id="axes", compact=True), label_id="axes-label")
            yield field_row("", TickBox("Multi-sensor: N variables, one sample per line", id="multisensor",
                                        compact=True), id="multisensor-row")
            yield field_row("Description", Input(placeholder="optional", id="description", compact=True))
            yield field_row("Max RAM KB", Input(placeholder=LIMIT_PLACEHOLDER, type="number", id="max-ram", compact=True))
            yield field_row("Max flash KB",
                            Input(placeholder=LIMIT_PLACEHOLDER, type="number", id="max-flash", compact=True))
            yield field_row("Max time ms",
                            Input(placeholder="blank = no limit", type="number", id="max-time", compact=True))
            yield TargetPicker(DEFAULT_TARGET, id="target-picker")
            with Horizontal(classes="buttons"):
                yield Button("Create", id="create", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    @on(Select.Changed, "#type")
    def _type_changed(self, event: Select.Changed) -> None:
        # Multi-sensor is a kind of anomaly detection: the tick box is only there for it.
        self.query_one("#multisensor-row").display = event.value == "anomaly"
        if event.value != "anomaly":
            self.query_one("#multisensor", TickBox).value = False

    @on(Input.Changed, "#target")
    def _target_changed(self, event: Input.Changed) -> None:
        """Blank limits take a share of the target's memory: say how much."""
        ram, flash = _default_limits(event.value)
        for field_id, value in (("#max-ram", ram), ("#max-flash", flash)):
            self.query_one(field_id, Input).placeholder = (
                f"blank = {value:g} (half the target's)" if value else LIMIT_PLACEHOLDER)

    @on(TickBox.Changed, "#multisensor")
    def _multisensor_changed(self, event: TickBox.Changed) -> None:
        self.query_one("#axes-label", Label).update("Variables" if event.value else "Axes")

    def settings(self) -> ProjectSettings:
        """The form's content as engine settings (the engine validates them)."""
        axes_text = self.query_one("#axes", Input).value.strip()
        try:
            axes = int(axes_text)
        except ValueError:
            raise NeaiError(f"the number of axes must be a whole number, not '{axes_text}'", "Give 1..64.") from None
        target = self.query_one(TargetPicker).value or DEFAULT_TARGET
        ram, flash = _default_limits(target)
        max_ram = optional_float(self.query_one("#max-ram", Input).value, "max RAM", "KB")
        max_flash = optional_float(self.query_one("#max-flash", Input).value, "max flash", "KB")
        return ProjectSettings(
            name=self.query_one("#name", Input).value.strip(),
            type=str(self.query_one("#type", Select).value),
            axes=axes,
            multisensor=self.query_one("#multisensor", TickBox).value,
            description=self.query_one("#description", Input).value.strip(),
            max_ram_kb=max_ram if max_ram is not None else ram,
            max_flash_kb=max_flash if max_flash is not None else flash,
            target=target,
            max_time_ms=optional_float(self.query_one("#max-time", Input).value, "max time", "ms"),
        )

    @on(Button.Pressed, "#create")
    @on(Input.Submitted)
    def action_create(self) -> None:
        try:
            project = self.workspace.create_project(self.settings())
        except (NeaiError, OSError) as exc:
            self.show_error("Cannot create the project", exc)
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


IMPORT_NOTES = {
    "anomaly": "One signal example per line (axes × samples, interleaved). Nominal: normal behaviour; abnormal: "
               "faults. A couple pairs the nominal and abnormal files of one setting.",
    "n-class": "One file per class, one signal example per line.",
    "one-class": "Normal behaviour only, one signal example per line (one file).",
    "extrapolation": "Each line: the value to predict first, then the signal example (one file).",
}
ABNORMAL_WORDS = ("abnormal", "anomal", "fault", "fail", "defect", "broken")
NOMINAL_WORDS = ("nominal", "normal", "healthy")


def guess_role(path: str) -> str | None:
    """The role a file's name says (abnormal.csv, pump_fault.csv, healthy_1.csv), or None."""
    name = Path(path.strip()).stem.lower()
    if any(word in name for word in ABNORMAL_WORDS):
        return "abnormal"
    if any(word in name for word in NOMINAL_WORDS):
        return "nominal"
    return None


def import_fields(project_type: str) -> ComposeResult:
    """The role/couple or class fields of an import, by project type."""
    if project_type == "anomaly":
        yield field_row(
            "Role",
            Select([("nominal (normal behaviour)", "nominal"), ("abnormal", "abnormal")], value="nominal",
                   allow_blank=False, id="role", compact=True),
        )
        yield field_row("Couple", Input("1", type="integer", id="couple", compact=True))
    elif project_type == "n-class":
        yield field_row("Class", Input(placeholder="blank = the file's name", id="class", compact=True))


def read_import_fields(screen, project_type: str, request: ImportRequest) -> ImportRequest:
    """Fill `request` from the fields of `import_fields` (UsageError on bad input)."""
    from ..engine.errors import UsageError

    if project_type == "anomaly":
        request.role = str(screen.query_one("#role", Select).value)
        couple = screen.query_one("#couple", Input).value.strip() or "1"
        try:
            request.couple = int(couple)
        except ValueError:
            raise UsageError(f"the couple must be a whole number, not '{couple}'", "Signal couples are 1, 2, …") from None
    elif project_type == "n-class":
        request.class_name = screen.query_one("#class", Input).value.strip() or None
    return request


class ImportScreen(Dialog):
    """Asks for a signal file and, by project type, its role and couple or its class."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="import.cancel"),
        Binding("ctrl+s", "submit", "Import", id="import.submit"),
        Binding("ctrl+o", "browse", "Browse", id="import.browse"),
    ]

    def __init__(self, project_type: str, start: str = "", base: Path | None = None) -> None:
        super().__init__()
        self.project_type = project_type
        self.start = start
        self.base = base  # the project folder: relative paths are its (said in the field)
        self.guessed_role = "nominal"  # the role last set from the file name (the default first)

    @on(Input.Changed, "#path")
    def _guess_role(self, event: Input.Changed) -> None:
        if self.project_type != "anomaly":
            return
        select = self.query_one("#role", Select)
        role = guess_role(event.value)
        if role is not None and select.value == self.guessed_role:  # not a role the user picked
            select.value = self.guessed_role = role

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="form-dialog"):
            yield Label(f"Import signals ({TYPE_TITLES.get(self.project_type, self.project_type)})", id="dialog-title")
            yield field_row(
                "File",
                Input(self.start, id="path", compact=True, suggester=PathSuggester(self.base),
                      placeholder=(f"relative to {self.base.name}/, or ~/…, /… (→ completes, ctrl+o)" if self.base
                                   else ".csv or .txt (→ completes, ctrl+o browses)")),
            )
            yield from import_fields(self.project_type)
            yield Static(
                IMPORT_NOTES.get(self.project_type, "") + " The file is checked and copied into the project; the "
                "original is not touched.",
                classes="dialog-note",
            )
            with Horizontal(classes="buttons"):
                yield Button("Browse… (ctrl+o)", id="browse", compact=True)
                yield Button("Import", id="import", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#path", Input).focus()

    @on(Button.Pressed, "#browse")
    def action_browse(self) -> None:
        def chosen(path: Path | None) -> None:
            if path is not None:
                field = self.query_one("#path", Input)
                field.value = str(path)
                field.focus()

        self.app.push_screen(FileBrowserScreen(self.query_one("#path", Input).value), chosen)

    @on(Button.Pressed, "#import")
    @on(Input.Submitted)
    def action_submit(self) -> None:
        path = self.query_one("#path", Input).value.strip()
        if not path:
            self.app.push_screen(ErrorScreen("No file given", "Type the path of a .csv or .txt signal file, "
                                                              "or press ctrl+o to browse."))
            return
        try:
            request = read_import_fields(self, self.project_type, ImportRequest(path))
        except NeaiError as exc:
            self.show_error("Cannot import", exc)
            return
        self.dismiss(request)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
