"""Forms (modals) for commands the registry marks `form=True` when they are run without options.

The modal is the interaction's first answer (Discord accepts no modal after a defer). Its submit is
matched by custom_id in the client's on_interaction, like buttons: no modal object is kept in memory, so
a form opened before a restart still works after it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord

from core.catalogue import has, t
from core.commands.registry import BY_NAME, Command, Values
from core.content.fields import QUESTION_MAX
from core.roles import Access

if TYPE_CHECKING:
    from bots.discord.tree import Host

log = logging.getLogger(__name__)

FORM_PREFIX = "cp1:form:"
TITLE_MAX = 45
LABEL_MAX = 45
PLACEHOLDER_MAX = 100
INPUT_MAX = 4000
# A positional argument is the form's question; Discord shows the member this limit as they type.
SHORT_MAX = {"question": QUESTION_MAX}


def _text(key: str, default: str, limit: int) -> str:
    return (t(key) if has(key) else default)[:limit]


def build_modal(command: Command) -> discord.ui.Modal:
    """One text input per argument: positional ones are short and required, the rest paragraphs."""
    key = f"discord.form.{command.name.replace(' ', '.')}"
    modal = discord.ui.Modal(title=_text(f"{key}.title", command.name, TITLE_MAX), custom_id=FORM_PREFIX + command.name)
    for arg in command.args[:5]:
        short = arg.positional
        modal.add_item(discord.ui.TextInput(
            label=_text(f"{key}.{arg.name}", arg.name, LABEL_MAX),
            custom_id=arg.name,
            style=discord.TextStyle.short if short else discord.TextStyle.paragraph,
            placeholder=_text(f"{key}.{arg.name}.placeholder", "", PLACEHOLDER_MAX) or None,
            required=short,
            max_length=min(SHORT_MAX.get(arg.name, arg.max_length), arg.max_length, INPUT_MAX),
        ))
    # Submits are answered by custom_id (see `submitted`): a stopped modal is not kept by discord.py.
    modal.stop()
    return modal


async def open_form(host: Host, interaction: discord.Interaction, command: Command) -> bool:
    """Answer with the command's form; False when the member should get the core's answer instead
    (outside a server, or not allowed to run the command: better told now than after typing)."""
    actor = host.actor(interaction)
    if actor is None:
        return False
    try:
        if command.access > Access.MEMBER and await host.service.access(actor) < command.access:
            return False
    except Exception:  # the router's own check answers a store failure properly
        return False
    await interaction.response.send_modal(build_modal(command))
    return True


def _inputs(components: Any) -> dict[str, str]:
    """custom_id -> value of every text input, in action rows or labels, however nested."""
    found: dict[str, str] = {}
    for comp in components if isinstance(components, list) else []:
        if not isinstance(comp, dict):
            continue
        if comp.get("type") == 4 and isinstance(comp.get("custom_id"), str):
            found[comp["custom_id"]] = str(comp.get("value") or "")
        found.update(_inputs(comp.get("components")))
        if isinstance(comp.get("component"), dict):
            found.update(_inputs([comp["component"]]))
    return found


def submitted(data: Any) -> tuple[Command, Values] | None:
    """The command and its values from a modal submit's data; None for a form this bot does not know."""
    custom_id = str((data or {}).get("custom_id", ""))
    command = BY_NAME.get(custom_id.removeprefix(FORM_PREFIX)) if custom_id.startswith(FORM_PREFIX) else None
    if command is None or not command.form:
        return None
    inputs = _inputs((data or {}).get("components"))
    # Only the command's own arguments, and only those filled in: an empty field means "not given".
    values = {a.name: inputs[a.name].strip() for a in command.args if inputs.get(a.name, "").strip()}
    return command, values
