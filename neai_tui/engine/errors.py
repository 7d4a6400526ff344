"""Typed errors: every failure a user can cause carries a message and a hint.

The CLI maps them to exit codes (2 for bad input or usage, 1 for internal errors)
and the TUI shows them in a modal; neither ever shows a traceback.
"""
from __future__ import annotations

from dataclasses import dataclass


class NeaiError(Exception):
    """Base of all errors meant for the user."""

    exit_code = 1

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def user_text(self) -> str:
        return f"{self.message}\n{self.hint}" if self.hint else self.message


class UsageError(NeaiError):
    """The command or its arguments do not fit (wrong option, missing project...)."""

    exit_code = 2


class InputError(NeaiError):
    """A file or value the user gave cannot be used as it is."""

    exit_code = 2


@dataclass(frozen=True)
class Problem:
    """One finding about an input file, located as precisely as possible.

    ``line`` and ``column`` are 1-based; ``column`` counts values (fields), not
    characters, which is what a user sees in a spreadsheet; 0 means "whole line"
    or "whole file".
    """

    severity: str  # "error" blocks, "warning" advises
    code: str  # stable identifier, e.g. "not-a-number"
    file: str
    line: int
    column: int
    message: str
    hint: str

    def location(self) -> str:
        loc = self.file
        if self.line:
            loc += f":{self.line}"
            if self.column:
                loc += f":{self.column}"
        return loc

    def text(self) -> str:
        return f"{self.location()}: {self.severity}: {self.message} Fix: {self.hint}"


class SignalFileError(InputError):
    """A signal file has blocking problems; ``problems`` lists all found."""

    def __init__(self, problems: list[Problem]) -> None:
        errors = [p for p in problems if p.severity == "error"] or problems
        first = errors[0]
        more = f" ({len(errors) - 1} more problem(s) in this file)" if len(errors) > 1 else ""
        super().__init__(f"{first.location()}: {first.message}{more}", f"Fix: {first.hint}")
        self.problems = problems


class ToolchainError(NeaiError):
    """The bundled compiler or emulator failed on code we generated."""

    exit_code = 1


class Cancelled(NeaiError):
    """Long work stopped on request; whatever was saved stays valid."""

    exit_code = 130
