"""The key bar at the bottom of every screen: the keys that work right now.

Textual's Footer builds one widget per key and rebuilds them all whenever the
bindings change (every step switch, every focus move), which costs a few hundred
milliseconds on a slow link or machine. This bar draws the same information as
one line of text (two when they do not fit, as at 80 columns): the keys of the
focused widget, the screen and the app, greyed out when unavailable, grouped
like the step keys ("1-6 Steps"), with the help and command palette keys on
the right.
"""
from __future__ import annotations

from itertools import groupby

from rich.text import Text
from textual.screen import ModalScreen, Screen
from textual.widget import Widget

from ..keyboard import is_printable_key, is_text_field


RIGHT_ACTIONS = ("help", "app.help")  # always visible, on the right, with the palette
MAX_LINES = 2


class KeyBar(Widget):
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
    }
    KeyBar > .keybar--key {
        color: $footer-key-foreground;
        text-style: bold;
    }
    KeyBar > .keybar--disabled {
        color: $text-disabled;
    }
    """
    COMPONENT_CLASSES = {"keybar--key", "keybar--disabled"}

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._fit_height()

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen:
            self._fit_height()
            self.refresh()

    def key_states(self) -> list[tuple[str, object, bool]]:
        """(key, binding, enabled) of every key the bar may show. A text field being
        edited owns the printable keys (Textual leaves their bindings out while it
        has the focus): they are listed as unavailable, so the bar says why a
        letter or digit types instead of acting, and keeps its layout."""
        out = [(key, active.binding, active.enabled) for key, active in self.screen.active_bindings.items()]
        focused = self.screen.focused
        if not is_text_field(focused):
            return out
        known = {key for key, _, _ in out}
        for node in focused.ancestors:
            for key, binding in node._bindings:
                if key in known or not is_printable_key(key):
                    continue
                if self.app._check_action_state(binding.action, node) is False:
                    continue
                known.add(key)
                out.append((key, binding, False))
            if node.is_modal:
                break
        return out

    def entries(self) -> list[tuple[str, str, bool]]:
        """(keys, description, enabled) in the order they are shown."""
        seen: set[str] = set()
        bindings = []
        for key, binding, enabled in self.key_states():
            if key == self.app.COMMAND_PALETTE_BINDING or binding.action in RIGHT_ACTIONS:
                continue  # drawn on the right
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            bindings.append((binding, enabled))
        order = getattr(self.screen, "key_order", None)
        if order is not None:  # the screen knows which keys matter most (stable sort)
            bindings.sort(key=lambda item: order(item[0]))
        out = []
        for group, members in groupby(bindings, lambda item: item[0].group):
            members = list(members)
            if group is not None and len(members) > 1:
                keys = "".join(self.app.get_key_display(b) for b, _ in members)
                if keys.isdigit() and keys == "".join(str(int(keys[0]) + i) for i in range(len(keys))):
                    keys = f"{keys[0]}-{keys[-1]}"  # 123456 -> 1-6
                out.append((keys, group.description, any(enabled for _, enabled in members)))
            else:
                out.extend((self.app.get_key_display(b), b.description, enabled) for b, enabled in members)
        return out

    def _entry_texts(self) -> list[Text]:
        key_style = self.get_component_rich_style("keybar--key", partial=True)
        off_style = self.get_component_rich_style("keybar--disabled", partial=True)
        out = []
        for keys, description, enabled in self.entries():
            entry = Text(no_wrap=True)
            entry.append(f" {keys} ", style=key_style if enabled else off_style)
            entry.append(f"{description} ", style="" if enabled else off_style)
            out.append(entry)
        return out

    def _right(self) -> Text:
        key_style = self.get_component_rich_style("keybar--key", partial=True)
        right = Text(no_wrap=True)
        for _, binding, enabled in self.key_states():
            if binding.action in RIGHT_ACTIONS and binding.show:
                style = key_style if enabled else self.get_component_rich_style("keybar--disabled", partial=True)
                right.append("▏" if not right else "")
                right.append(f"{self.app.get_key_display(binding)} ", style=style)
                right.append(f"{binding.description.lower()} ")
                break
        palette = self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
        if palette is not None and self.app.ENABLE_COMMAND_PALETTE:
            right.append("▏" if not right else "")
            right.append(f"{self.app.get_key_display(palette.binding)} ", style=key_style)
            right.append("palette ")
        return right

    def lines(self, width: int) -> list[Text]:
        """One line, or two when the keys do not fit in one (at 80 columns, a step
        with many keys): every key stays visible. The help and palette keys end
        the first line."""
        right = self._right()
        room = max(0, width - right.cell_len)
        rows: list[Text] = [Text(no_wrap=True, overflow="ellipsis")]
        for entry in self._entry_texts():
            limit = room if len(rows) == 1 else width
            if rows[-1].cell_len + entry.cell_len > limit and rows[-1].cell_len and len(rows) < MAX_LINES:
                rows.append(Text(no_wrap=True, overflow="ellipsis"))
            rows[-1].append_text(entry)
        for i, row in enumerate(rows):
            limit = room if i == 0 else width
            if row.cell_len > limit:
                row.truncate(limit, overflow="ellipsis")
            row.append(" " * max(0, limit - row.cell_len))
        rows[0].append_text(right)
        return rows

    def _width(self) -> int:
        return self.size.width or self.app.size.width

    def _fit_height(self) -> None:
        height = len(self.lines(self._width()))
        if isinstance(self.screen, ModalScreen):
            # A dialog's bar covers the whole bar of the screen under it, which may
            # be two lines: keys that do not work in the dialog must not show.
            height = MAX_LINES
        if self.styles.height is None or self.styles.height.value != height:
            self.styles.height = height

    def on_resize(self) -> None:
        self._fit_height()

    def render(self) -> Text:
        return Text("\n", no_wrap=True).join(self.lines(self._width()))
