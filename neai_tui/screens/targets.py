"""The target catalogue as two lists, boards and MCUs: type to search, f marks a favourite
(kept in the user config, listed first everywhere), enter chooses. Opened with ctrl+o from
any target field (new project, settings, deployment)."""
from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Input, Label, Static, TabbedContent, TabPane

from ..widgets.keybar import KeyBar
from ..widgets.table import Table
from .dialogs import Dialog

KIND_TABS = (("board", "Boards"), ("mcu", "MCUs"))
COLUMNS = (("★", 1), ("Name", 20), ("MCU / vendor", 15), ("Core", 4), ("Flash", 7), ("RAM", 7), ("MHz", 4))


def short_core(core: str) -> str:
    """cortex-m4f -> M4F, cortex-m0plus -> M0+: the column stays narrow at 80 columns."""
    return core.removeprefix("cortex-").upper().replace("PLUS", "+")


class TargetCatalogueScreen(Dialog):
    """Dismisses with the chosen target's name, or None."""

    DEFAULT_CSS = """
    TargetCatalogueScreen #dialog { height: 100%; }
    TargetCatalogueScreen #catalogue-tabs { height: 1fr; }
    TargetCatalogueScreen DataTable { height: 1fr; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="catalogue.cancel"),
        Binding("f", "favourite", "Favourite", id="catalogue.favourite"),
        Binding("ctrl+f", "favourite", "Favourite", id="catalogue.favourite_ctrl", show=False),
        Binding("tab", "switch", "Boards/MCUs", id="catalogue.switch", priority=True),
    ]

    def __init__(self, current: str = "") -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="browser-dialog"):
            yield Label("Target catalogue", id="dialog-title")
            yield Input(placeholder="search: name, MCU, core, vendor (e.g. nucleo l4)", id="catalogue-search",
                        compact=True)
            with TabbedContent(id="catalogue-tabs"):
                for kind, title in KIND_TABS:
                    with TabPane(title, id=f"catalogue-{kind}-tab"):
                        table = Table(id=f"catalogue-{kind}", cursor_type="row", zebra_stripes=True)
                        for label, width in COLUMNS:
                            table.add_column(label, width=width)
                        yield table
            yield Static(id="catalogue-note", classes="dialog-note")
        yield KeyBar()

    def on_mount(self) -> None:
        from ..engine.targets import resolve_target
        from ..engine.errors import NeaiError

        self.fill("")
        try:
            current = resolve_target(self.current) if self.current.strip() else None
        except NeaiError:
            current = None
        if current is not None and current.kind == "mcu":
            self.query_one("#catalogue-tabs", TabbedContent).active = "catalogue-mcu-tab"
        self.query_one("#catalogue-search", Input).focus()

    @property
    def kind(self) -> str:
        active = self.query_one("#catalogue-tabs", TabbedContent).active or "catalogue-board-tab"
        return active.removeprefix("catalogue-").removesuffix("-tab")

    def fill(self, text: str) -> None:
        from ..engine.targets import search_targets
        from ..engine.user_config import favourite_targets

        liked = favourite_targets()
        found = search_targets(text, favourites=liked)
        counts = {}
        for kind, title in KIND_TABS:
            table = self.query_one(f"#catalogue-{kind}", DataTable)
            table.clear()
            rows = [t for t in found if t.kind == kind]
            counts[kind] = len(rows)
            for t in rows:
                star = Text("★", style="bold yellow") if t.name in liked else ""
                table.add_row(star, t.name, t.mcu if kind == "board" else t.vendor, short_core(t.core),
                              f"{t.flash_kb} KB" if t.flash_kb else "ext.", f"{t.ram_kb} KB",
                              str(t.clock_mhz or "–"), key=t.name)
        self.query_one("#catalogue-note", Static).update(Text(
            f"{counts['board']} boards, {counts['mcu']} MCUs. ↓ to the list, enter chooses, f marks a favourite "
            "(listed first), tab: boards / MCUs. Sizes in KiB; MHz: the maximum clock."))

    @on(Input.Changed, "#catalogue-search")
    def _search(self, event: Input.Changed) -> None:
        self.fill(event.value)

    @on(Input.Submitted, "#catalogue-search")
    def _to_list(self) -> None:
        self.query_one(f"#catalogue-{self.kind}", DataTable).focus()

    def on_key(self, event) -> None:
        if event.key == "down" and isinstance(self.focused, Input):
            event.stop()
            self.query_one(f"#catalogue-{self.kind}", DataTable).focus()

    def highlighted(self) -> str | None:
        table = self.query_one(f"#catalogue-{self.kind}", DataTable)
        if not table.row_count:
            return None
        row = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return str(row.value) if row is not None else None

    @on(DataTable.RowSelected)
    def _chosen(self, event: DataTable.RowSelected) -> None:
        self.dismiss(str(event.row_key.value))

    def action_favourite(self) -> None:
        from ..engine.user_config import favourite_targets, set_favourite_target

        name = self.highlighted()
        if name is None:
            return
        liked = name in favourite_targets()
        set_favourite_target(name, favourite=not liked)
        self.notify(f"{name} {'removed from' if liked else 'added to'} the favourites.", title="Favourites")
        table = self.query_one(f"#catalogue-{self.kind}", DataTable)
        self.fill(self.query_one("#catalogue-search", Input).value)
        table.move_cursor(row=table.get_row_index(name))

    def action_switch(self) -> None:
        tabs = self.query_one("#catalogue-tabs", TabbedContent)
        tabs.active = "catalogue-mcu-tab" if self.kind == "board" else "catalogue-board-tab"
        if isinstance(self.focused, DataTable):
            self.query_one(f"#catalogue-{self.kind}", DataTable).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "favourite":
            return not isinstance(self.focused, Input)  # f is a letter of the search while typing
        return True

    def action_cancel(self) -> None:
        self.dismiss(None)
