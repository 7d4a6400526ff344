"""The key bar at the bottom of every screen: the keys that work right now.

Textual's Footer builds one widget per key and rebuilds them all whenever the
bindings change (every step switch, every focus move), which costs a few hundred
milliseconds on a slow link or machine. This bar draws the same information as
one line of text: the keys of the focused widget, the screen and the app, greyed
out when unavailable, grouped like the step keys ("123456 Steps"), with the
command palette's key on the right.
"""
from __future__ import annotations

from itertools import groupby

from rich.text import Text
from textual.screen import Screen
from textual.widget import Widget


RIGHT_ACTIONS = ("help", "app.help")  # always visible, on the right, with the palette


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

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen:
            self.refresh()

    def entries(self) -> list[tuple[str, str, bool]]:
        """(keys, description, enabled) in the order they are shown."""
        seen: set[str] = set()
        bindings = []
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            if key == self.app.COMMAND_PALETTE_BINDING or binding.action in RIGHT_ACTIONS:
                continue  # drawn on the right
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            bindings.append((binding, active.enabled))
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

    def render(self) -> Text:
        key_style = self.get_component_rich_style("keybar--key", partial=True)
        off_style = self.get_component_rich_style("keybar--disabled", partial=True)
        left = Text(no_wrap=True, overflow="ellipsis")
        for keys, description, enabled in self.entries():
            left.append(f" {keys} ", style=key_style if enabled else off_style)
            left.append(f"{description} ", style="" if enabled else off_style)
        right = Text(no_wrap=True)
        for active in self.screen.active_bindings.values():
            if active.binding.action in RIGHT_ACTIONS and active.binding.show:
                right.append("▏" if not right else "")
                right.append(f"{self.app.get_key_display(active.binding)} ", style=key_style)
                right.append(f"{active.binding.description.lower()} ")
                break
        palette = self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
        if palette is not None and self.app.ENABLE_COMMAND_PALETTE:
            right.append("▏" if not right else "")
            right.append(f"{self.app.get_key_display(palette.binding)} ", style=key_style)
            right.append("palette ")
        width = self.size.width
        room = max(0, width - right.cell_len)
        if left.cell_len > room:
            left.truncate(room, overflow="ellipsis")
        left.append(" " * max(0, room - left.cell_len))
        left.append_text(right)
        return left
