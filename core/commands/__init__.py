"""The commands: declared once (registry), spelled per platform (spelling), parsed from text (router)."""

from core.commands.router import MAX_COMMAND_LENGTH, CommandRouter

__all__ = ["MAX_COMMAND_LENGTH", "CommandRouter"]
