"""Form pieces shared by dialogs and step panes."""
from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, OptionList, SelectionList
from textual.widgets.option_list import Option

from ..engine.targets import DEFAULT_TARGET, search_targets


class FieldRow(Horizontal):
    """One form line. It carries the class "focused" while one of its widgets has
    the focus, which the stylesheet shows on the label: compact inputs hardly
    change when focused. (A class, not :focus-within, which Textual does not
    restyle when the focus leaves the row.)"""

    def on_descendant_focus(self) -> None:
        self.add_class("focused")

    def on_descendant_blur(self) -> None:
        self.remove_class("focused")


def field_row(label: str, *widgets: Widget, id: str | None = None, label_id: str | None = None) -> Horizontal:
    """One form line: a right-aligned label, then the widgets."""
    return FieldRow(Label(label, classes="field-label", id=label_id), *widgets, classes="field", id=id)


def tick(checked: bool) -> str:
    """A tick box that reads the same in any colours: [x] or [ ]."""
    return "[x]" if checked else "[ ]"


class TickBox(Checkbox):
    """A checkbox drawn [x] / [ ]: Textual's ▐X▌ shows an X either way, ticked or
    not, which only colour tells apart (and not at all in 16 colours)."""

    @property
    def _button(self) -> Content:
        return Content.styled(tick(self.value), "bold" if self.value else "")


class TickList(SelectionList):
    """A selection list whose items start with [x] / [ ] (see TickBox)."""

    def render_line(self, y: int) -> Strip:
        line = OptionList.render_line(self, y)
        _, scroll_y = self.scroll_offset
        try:
            selection = self.get_option_at_index(scroll_y + y)
        except Exception:  # noqa: BLE001 - below the last option: the line as it is
            return line
        checked = selection.value in self._selected
        base = next(iter(line)).style or self.rich_style
        box = Segment(tick(checked) + " ", base + Style(bold=checked, meta={"option": scroll_y + y}))
        return Strip([box, *line])


class TargetInput(Input):
    """The target field: ↓ moves to the list of matching targets; enter takes the
    highlighted match when the text is not a target name yet."""

    BINDINGS = [
        Binding("down", "pick", "Pick from the list", id="target.pick"),
        Binding("ctrl+o", "catalogue", "Catalogue", id="target.catalogue"),
    ]

    def action_pick(self) -> None:
        picker = self.picker
        if picker is not None:
            picker.query_one(OptionList).focus()

    def action_catalogue(self) -> None:
        """The whole catalogue: boards and MCUs in two lists, search, favourites."""
        from ..screens.targets import TargetCatalogueScreen

        def chosen(name: str | None) -> None:
            if name:
                self.value = name
                self.cursor_position = len(name)
            self.focus()

        self.app.push_screen(TargetCatalogueScreen(self.value), chosen)

    @property
    def picker(self) -> "TargetPicker | None":
        picker = self.parent
        while picker is not None and not isinstance(picker, TargetPicker):
            picker = picker.parent
        return picker

    async def action_submit(self) -> None:
        picker = self.picker
        if picker is not None and picker.complete():
            return  # the first enter completes the name; the next one submits the form
        await super().action_submit()


def target_line(target, favourite: bool = False) -> str:
    """One short line per target (a board's line names its MCU and core): one row each at 80 columns."""
    mark = "★ " if favourite else ""
    if target.kind == "core":
        return f"{mark}{target.name}  core"
    if target.mcu and target.mcu != target.name:
        return f"{mark}{target.name}  {target.mcu}, {target.core}"
    return f"{mark}{target.name}  {target.kind.upper() if target.kind == 'mcu' else target.kind}, {target.core}"


class TargetPicker(Vertical):
    """Type-to-search in the target catalogue: boards, MCUs and bare cores."""

    DEFAULT_CSS = """
    TargetPicker { height: auto; }
    TargetPicker OptionList { height: 4; margin-left: 14; }
    """

    def __init__(self, value: str = DEFAULT_TARGET, *, input_id: str = "target", label: str = "Target",
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.initial = value
        self.input_id = input_id
        self.label = label

    def compose(self) -> ComposeResult:
        yield field_row(
            self.label,
            TargetInput(self.initial, placeholder="board, MCU or core (type to search, ↓ picks, ^o lists all)",
                        id=self.input_id, compact=True),
        )
        yield OptionList(id=f"{self.input_id}-matches", compact=True)

    def on_mount(self) -> None:
        self.show_matches(self.initial)

    @property
    def value(self) -> str:
        return self.query_one(TargetInput).value.strip()

    @value.setter
    def value(self, text: str) -> None:
        self.query_one(TargetInput).value = text

    def complete(self) -> bool:
        """Replace a partial name (e.g. "l432") by the highlighted match; False when
        the text is already a target name or nothing matches."""
        from ..engine.errors import NeaiError
        from ..engine.targets import resolve_target

        text = self.value
        try:
            resolve_target(text)
            return False
        except NeaiError:
            pass
        options = self.query_one(OptionList)
        if options.highlighted is None or not options.option_count:
            return False
        chosen = options.get_option_at_index(options.highlighted).id or ""
        if not chosen or chosen == text:
            return False
        self.value = chosen
        self.app.notify(f"Target: {chosen}. Enter again to go on.", title="Target")
        return True

    def show_matches(self, text: str) -> None:
        from ..engine.user_config import favourite_targets

        liked = favourite_targets()
        matches = search_targets(text, favourites=liked)
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(Option(target_line(t, t.name in liked), id=t.name) for t in matches[:40])
        if matches:
            options.highlighted = 0

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        if isinstance(event.input, TargetInput):
            self.show_matches(event.value)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        target = self.query_one(TargetInput)
        target.value = event.option.id or ""
        target.focus()
