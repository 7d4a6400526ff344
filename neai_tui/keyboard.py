"""The keyboard model shared by every screen (issue 16).

1. Keys are delivered one at a time, in order, to the widget that has the focus
   once the previous key has been handled. Textual forwards each key to the
   widget focused *when the app reads it*; the focus moves only when the
   previous key (Tab, a step key, enter...) has travelled up the DOM to its
   binding and the focus change it asked for has run. Keys typed or pasted
   faster than that went to the previous field ("-313264" in the Axes field).
   `OrderedKeys` holds every key until the one before has settled: its
   bindings ran, the messages they posted were handled, the focus moved, a
   screen it opened is mounted.
2. A text field being edited owns the printable keys (Textual's Input takes
   them before any binding): the key bar shows the screen's letter and digit
   keys as unavailable while one has the focus (widgets/keybar.py), and they
   work again as soon as the focus leaves it (escape).
"""
from __future__ import annotations

import time
from collections import deque

from textual import events
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, TextArea

SETTLE_ROUNDS = 3  # a key's handlers may post messages that post messages: let three rounds through
SETTLE_TIMEOUT_S = 1.0  # a key whose handling never reports back (a removed widget) lets the next go


class KeySettled(Message, bubble=True):
    """Sent after a key along the same way up the DOM: when it reaches the app,
    everything the key started at each widget on the way has been handled."""

    def __init__(self, ticket: int) -> None:
        super().__init__()
        self.ticket = ticket


def is_text_field(widget: Widget | None) -> bool:
    """A widget that takes printable keys as text (an Input, an editable TextArea)."""
    if isinstance(widget, Input):
        return True
    return isinstance(widget, TextArea) and not widget.read_only


PRINTABLE_NAMES = {
    "space", "question_mark", "slash", "plus", "minus", "exclamation_mark", "full_stop", "comma", "colon",
    "semicolon", "less_than_sign", "greater_than_sign", "equals_sign", "asterisk", "number_sign", "at",
    "circumflex_accent", "underscore", "apostrophe", "quotation_mark", "left_parenthesis", "right_parenthesis",
    "left_square_bracket", "right_square_bracket", "left_curly_bracket", "right_curly_bracket", "ampersand",
    "percent_sign", "dollar_sign", "tilde", "grave_accent", "vertical_line", "backslash",
}


def is_printable_key(key: str) -> bool:
    """A key that types a character (a letter, a digit, ?, /, +...)."""
    return len(key) == 1 or key in PRINTABLE_NAMES


class OrderedKeys:
    """App mixin: deliver keys and pastes one at a time (see the module)."""

    def _init_ordered_keys(self) -> None:
        self._key_backlog: deque[events.Event] = deque()
        self._key_ticket = 0
        self._key_busy = False
        self._key_target = None
        self._key_rounds = 0
        self._key_started = 0.0

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.Paste)) and not event.is_forwarded:
            self._key_backlog.append(event)
            if not self._key_busy:
                await self._deliver_next_key()
            return
        await super().on_event(event)  # type: ignore[misc]

    async def _deliver_next_key(self) -> None:
        if not self._key_backlog:
            self._key_busy = False
            return
        event = self._key_backlog.popleft()
        self._key_busy = True
        self._key_ticket += 1
        self._key_rounds = 0
        self._key_started = time.monotonic()
        try:
            target = self.focused or self.screen  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 - no screen yet (starting) or any more (quitting)
            target = None
        self._key_target = target
        await super().on_event(event)  # type: ignore[misc]  # Textual's own routing
        self._send_settled(self._key_ticket)
        self.set_timer(SETTLE_TIMEOUT_S, lambda ticket=self._key_ticket: self._key_timed_out(ticket))  # type: ignore[attr-defined]

    def _send_settled(self, ticket: int) -> None:
        target = self._key_target
        if target is not None and target.is_attached and target.post_message(KeySettled(ticket)):
            return
        self.call_later(self._release_key, ticket)  # type: ignore[attr-defined]

    def on_key_settled(self, message: KeySettled) -> None:
        message.stop()
        if message.ticket != self._key_ticket or not self._key_busy:
            return
        self._key_rounds += 1
        if self._key_rounds < SETTLE_ROUNDS:
            self._send_settled(message.ticket)
        else:
            # Behind the focus changes the key's handlers asked for (call_later).
            self.call_later(self._release_key, message.ticket)  # type: ignore[attr-defined]

    async def _release_key(self, ticket: int) -> None:
        if ticket != self._key_ticket or not self._key_busy:
            return
        try:
            screen = self.screen  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001
            screen = None
        if screen is not None and not screen.is_mounted and time.monotonic() - self._key_started < SETTLE_TIMEOUT_S:
            # A screen the key opened: its first focus is set when it is mounted.
            self.set_timer(0.01, lambda: self.call_later(self._release_key, ticket))  # type: ignore[attr-defined]
            return
        await self._deliver_next_key()

    async def _key_timed_out(self, ticket: int) -> None:
        if ticket == self._key_ticket and self._key_busy:
            await self._deliver_next_key()
