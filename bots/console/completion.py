"""Tab completion at the console's prompt: its own commands, and /debate's from the command registry."""

from __future__ import annotations

from collections.abc import Sequence

from core.commands.registry import COMMANDS


def candidates(before_cursor: str, own_commands: Sequence[str]) -> list[str]:
    """Words that can complete the one the cursor is in, given the line up to the cursor."""
    words = before_cursor.split()
    if not before_cursor or before_cursor[-1].isspace():
        done, prefix = words, ""
    else:
        done, prefix = words[:-1], words[-1]
    if not done:
        options = ["/debate", *own_commands]
    elif done[0] == "/debate":
        # Command names have one or two words ("schedule set"): offer the next word of those that fit.
        depth = len(done) - 1
        names = [command.name.split() for command in COMMANDS]
        options = sorted({name[depth] for name in names if len(name) > depth and name[:depth] == done[1:]})
    else:
        options = []
    return [option for option in options if option.startswith(prefix)]


class Completer:
    """readline's completer: asked with state 0, 1, 2... until it answers None."""

    def __init__(self, own_commands: Sequence[str]) -> None:
        self.own_commands = own_commands
        self.matches: list[str] = []

    def __call__(self, text: str, state: int) -> str | None:
        if state == 0:
            import readline

            self.matches = candidates(readline.get_line_buffer()[:readline.get_endidx()], self.own_commands)
        return self.matches[state] if state < len(self.matches) else None
