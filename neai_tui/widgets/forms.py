"""Form pieces shared by dialogs and step panes."""
from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from ..engine.targets import DEFAULT_TARGET, search_targets


def field_row(label: str, *widgets: Widget, id: str | None = None, label_id: str | None = None) -> Horizontal:
    """One form line: a right-aligned label, then the widgets."""
    return Horizontal(Label(label, classes="field-label", id=label_id), *widgets, classes="field", id=id)


class TargetInput(Input):
    """The target field: ↓ moves to the list of matching targets."""

    BINDINGS = [Binding("down", "pick", "Pick a target", id="target.pick", show=False)]

    def action_pick(self) -> None:
        picker = self.parent
        while picker is not None and not isinstance(picker, TargetPicker):
            picker = picker.parent
        if picker is not None:
            picker.query_one(OptionList).focus()


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
            TargetInput(self.initial, placeholder="board, MCU or core (type to search, ↓ to pick)",
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

    def show_matches(self, text: str) -> None:
        matches = search_targets(text)
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(
            Option(f"{t.name}  ({t.kind}{', ' + t.mcu if t.mcu and t.mcu != t.name else ''}, {t.core})", id=t.name)
            for t in matches[:40]
        )
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
