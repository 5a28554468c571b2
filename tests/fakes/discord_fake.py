"""A strict local fake of Discord (REST under /api/v10 plus the gateway websocket) for offline tests.

It runs the real discord.py client against aiohttp on 127.0.0.1. Strict on purpose: the limits real
Discord enforces (content, embeds, components, app commands, one acknowledgement per interaction,
the 3 s deadline) are enforced here too, answered with Discord-shaped errors and also appended to
`FakeDiscord.violations`, so a test can assert `not fake.violations` even when the bot swallowed the
HTTP error.

Pointing discord.py (2.7.1) at the fake - `fake.patch_discord()` does both and restores them:
- `discord.http.Route.BASE = fake.api_base`. This covers bot REST *and* interaction callbacks,
  followups and @original edits: webhook/async_.py builds `Route(...)` objects too, and a Route reads
  the class attribute when it is constructed, i.e. per request. (`discord.http._set_api_version()`
  rewrites Route.BASE, so do not call it while patched.)
- `discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)`; it must be a
  yarl.URL because `from_client` calls `.with_query()` on it. A plain Client connects straight there;
  resumes go to READY's `resume_gateway_url`, which the fake points at itself.
Nothing else is needed: attachment URLs point at the fake and avatars are null, so no CDN URL exists.

Speed tip: `discord.Client(..., guild_ready_timeout=0.05)`; the default waits 2 s after the last
GUILD_CREATE before `on_ready`.

Behaviour worth knowing (all mirrors real Discord):
- GUILD_CREATE lists every member only when the GUILD_MEMBERS intent was identified *and* allowed by
  `privileged_intents`; otherwise just the bot. Asking for a disallowed privileged intent closes the
  socket with 4014 (discord.py raises PrivilegedIntentsRequired).
- The first followup after a deferred (type 5) response resolves the "thinking" message and keeps
  its visibility: an ephemeral defer makes that followup ephemeral, a public one makes it public.
- Resolving a loading message does not count in `StoredMessage.edits`; every later edit does.
- Ephemeral messages are stored (with flag 64) but never appear in channel history or GET by id.
- INTERACTION_CREATE goes to the most recent identified session; message events go to all sessions
  with the matching intent (GUILD_MESSAGES / DIRECT_MESSAGES).
- Channel permission overwrites (`add_channel(..., overwrites=[overwrite(...)])`) apply as on Discord:
  @everyone, then the member's roles together, then the member; no VIEW_CHANNEL means no permissions.
  They shape the interaction's `member.permissions` and what the bot may do in that channel.
- Times: the core writes moments as `⟦t:...⟧` tokens every adapter must resolve. A token bracket in any
  request body or uploaded file is recorded in `token_leaks` and `violations` (the request still
  succeeds, as on Discord, which would show the raw token), and leaving `async with` then fails the test.
- Every message-bearing request (create, edit, interaction response, followup, webhook edit) records
  the `allowed_mentions` it carried in `FakeDiscord.mention_settings` (None when it sent none).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hashlib
import json
import math
import re
import secrets
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web

from tests.fakes.images import image_problems

API_VERSION = 10
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024
ATTACHMENT_DESCRIPTION_MAX = 1024  # an attachment's alt text
TOKEN_LIFETIME_S = 15 * 60
_DISCORD_EPOCH_MS = 1_420_070_400_000

# Permission bits (https://discord.com/developers/docs/topics/permissions).
ADMINISTRATOR = 1 << 3
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
USE_APPLICATION_COMMANDS = 1 << 31
MANAGE_THREADS = 1 << 34
CREATE_PUBLIC_THREADS = 1 << 35
SEND_MESSAGES_IN_THREADS = 1 << 38
ALL_PERMISSIONS = (1 << 51) - 1
DEFAULT_EVERYONE_PERMISSIONS = (
    ADD_REACTIONS | VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | ATTACH_FILES | READ_MESSAGE_HISTORY
    | USE_APPLICATION_COMMANDS | CREATE_PUBLIC_THREADS | SEND_MESSAGES_IN_THREADS
)
DEFAULT_BOT_PERMISSIONS = DEFAULT_EVERYONE_PERMISSIONS | MANAGE_MESSAGES | MANAGE_THREADS

INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = INTENT_GUILD_MEMBERS | INTENT_GUILD_PRESENCES | INTENT_MESSAGE_CONTENT

FLAG_SUPPRESS_EMBEDS = 1 << 2
FLAG_HAS_THREAD = 1 << 5
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_SUPPRESS_NOTIFICATIONS = 1 << 12
FLAG_COMPONENTS_V2 = 1 << 15
_SETTABLE_FLAGS = FLAG_SUPPRESS_EMBEDS | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_COMPONENTS_V2

_SELECT_TYPES = frozenset({3, 5, 6, 7, 8})
# Interaction type -> callback types Discord accepts for it.
_MODAL_TOP = frozenset({1, 10, 18})  # action row, text display, label
_MODAL_INPUTS = frozenset({3, 4, 5, 6, 7, 8, 10})  # selects, text input, text display
_CALLBACK_TYPES: dict[int, frozenset[int]] = {
    2: frozenset({4, 5, 9}),
    3: frozenset({4, 5, 6, 7, 9}),
    4: frozenset({8}),
    5: frozenset({4, 5, 6, 7}),
}
_COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")
TOKEN_BRACKETS = ("\u27e6", "\u27e7")  # core.moments.OPEN / CLOSE, spelt out so the fake stays independent


def unresolved_tokens(value: Any, where: str = "") -> list[str]:
    """Where a string in `value` still holds a moment-token bracket (the adapter did not resolve it)."""
    if isinstance(value, str):
        return [where or "body"] if any(b in value for b in TOKEN_BRACKETS) else []
    if isinstance(value, dict):
        return [e for k, v in value.items() for e in unresolved_tokens(v, f"{where}.{k}" if where else str(k))]
    if isinstance(value, list):
        return [e for i, v in enumerate(value) for e in unresolved_tokens(v, f"{where}.{i}" if where else str(i))]
    return []


class _SnowflakeClock:
    """Time-based ids: discord.py derives created_at from them and history sorts by them."""

    def __init__(self) -> None:
        self._last = 0

    def __call__(self) -> str:
        candidate = (int(time.time() * 1000) - _DISCORD_EPOCH_MS) << 22
        self._last = max(candidate, self._last + 1)
        return str(self._last)


new_snowflake = _SnowflakeClock()


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _json_response(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    # discord.py compares Content-Type to exactly "application/json"; web.json_response() appends a
    # charset, after which discord.py treats the body as text and e.g. 429 handling breaks.
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


# --------------------------------------------------------------------------------------------------
# Records a test reads


@dataclass
class Violation:
    kind: str  # e.g. "length", "count", "embed_size", "duplicate_custom_id", "late_response"
    field: str  # dotted path into the request body, "" when it concerns the request as a whole
    message: str
    route: str  # "METHOD /path" relative to the API base


@dataclass
class RequestRecord:
    method: str
    path: str  # relative to the API base, e.g. "/channels/1/messages"
    query: dict[str, str]
    json: Any  # the JSON body, or multipart payload_json parsed
    files: list[tuple[str, int]]  # (filename, size) of uploaded parts
    status: int = 0


@dataclass
class StoredAttachment:
    id: str
    filename: str
    data: bytes
    content_type: str | None
    description: str | None
    url: str

    def payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id, "filename": self.filename, "size": len(self.data), "url": self.url,
            "proxy_url": self.url, "content_type": self.content_type,
        }
        if self.description is not None:
            out["description"] = self.description
        return out


@dataclass
class StoredMessage:
    payload: dict[str, Any]  # exactly what the fake returns for GET
    files: list[StoredAttachment] = field(default_factory=list)
    edits: int = 0
    deleted: bool = False
    interaction_id: str | None = None

    @property
    def id(self) -> str:
        return self.payload["id"]

    @property
    def channel_id(self) -> str:
        return self.payload["channel_id"]

    @property
    def author_id(self) -> str:
        return self.payload["author"]["id"]

    @property
    def content(self) -> str:
        return self.payload.get("content") or ""

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return self.payload.get("embeds") or []

    @property
    def components(self) -> list[dict[str, Any]]:
        return self.payload.get("components") or []

    @property
    def flags(self) -> int:
        return self.payload.get("flags") or 0

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & FLAG_EPHEMERAL)

    def find_component(self, custom_id: str) -> dict[str, Any] | None:
        return next((c for c in _iter_components(self.components) if c.get("custom_id") == custom_id), None)

    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for c in _iter_components(self.components) if "custom_id" in c]


@dataclass
class CallbackRecord:
    interaction_id: str
    type: int
    body: dict[str, Any]  # {"type": ..., "data": ...} as the bot sent it
    files: list[StoredAttachment]
    elapsed: float  # seconds between dispatch and the callback arriving


@dataclass
class FakeUser:
    id: str
    username: str
    bot: bool = False
    global_name: str | None = None

    def payload(self) -> dict[str, Any]:
        return {
            "id": self.id, "username": self.username, "discriminator": "0", "global_name": self.global_name,
            "avatar": None, "bot": self.bot, "system": False, "public_flags": 0, "flags": 0,
            "banner": None, "accent_color": None, "avatar_decoration_data": None,
        }


@dataclass
class FakeMember:
    user: FakeUser
    roles: list[str]
    joined_at: str
    nick: str | None = None


@dataclass
class FakeGuild:
    id: str
    name: str
    owner_id: str
    bot_role_id: str
    joined_at: str
    roles: dict[str, dict[str, Any]] = field(default_factory=dict)
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    threads: dict[str, dict[str, Any]] = field(default_factory=dict)
    members: dict[str, FakeMember] = field(default_factory=dict)


class InteractionRecord:
    """One dispatched interaction and everything the bot did with its token."""

    def __init__(self, fake: FakeDiscord, payload: dict[str, Any]) -> None:
        self._fake = fake
        self.payload = payload
        self.id: str = payload["id"]
        self.token: str = payload["token"]
        self.type: int = payload["type"]
        self.channel_id: str = payload["channel_id"]
        self.guild_id: str | None = payload.get("guild_id")
        self.message_id: str | None = (payload.get("message") or {}).get("id")
        self.dispatched_at = 0.0  # loop time, set just before the frame is written
        self.callback: CallbackRecord | None = None
        self.original: StoredMessage | None = None
        self.followups: list[StoredMessage] = []
        self.edits: list[dict[str, Any]] = []  # bodies of PATCHes to @original / followups

    @property
    def choices(self) -> list[dict[str, Any]] | None:
        if self.callback is None or self.callback.type != 8:
            return None
        return self.callback.body.get("data", {}).get("choices")

    async def response(self, timeout: float = 5.0) -> dict[str, Any]:  # noqa: ASYNC109 - API asked for a timeout
        """The accepted callback body ({"type", "data"}); a rejected callback does not count."""
        await self._fake.wait_for(lambda: self.callback is not None, timeout=timeout)
        assert self.callback is not None
        return self.callback.body

    async def wait_followups(self, count: int = 1, timeout: float = 5.0) -> list[StoredMessage]:  # noqa: ASYNC109
        await self._fake.wait_for(lambda: len(self.followups) >= count, timeout=timeout)
        return self.followups

    async def wait_edits(self, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:  # noqa: ASYNC109
        await self._fake.wait_for(lambda: len(self.edits) >= count, timeout=timeout)
        return self.edits


Interaction = InteractionRecord


# --------------------------------------------------------------------------------------------------
# Validation. Each check appends (path, kind, code, message); the caller turns them into one 400.


class _ApiError(Exception):
    def __init__(
        self, status: int, code: int, message: str, *, errors: dict[str, Any] | None = None,
        headers: Mapping[str, str] | None = None, extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.errors, self.headers, self.extra = errors, headers, extra

    def response(self) -> web.Response:
        body: dict[str, Any] = {"message": self.message, "code": self.code, **(self.extra or {})}
        if self.errors:
            body["errors"] = self.errors
        return _json_response(body, self.status, self.headers)


class _FormErrors:
    def __init__(self, prefix: tuple[str, ...] = (), items: list[tuple[tuple[str, ...], str, str, str]] | None = None):
        self.prefix = prefix
        self.items = items if items is not None else []

    def sub(self, *parts: str) -> _FormErrors:
        return _FormErrors((*self.prefix, *parts), self.items)

    def add(self, path: tuple[str, ...], kind: str, code: str, message: str) -> None:
        self.items.append(((*self.prefix, *path), kind, code, message))

    def length(self, path: tuple[str, ...], value: Any, high: int, *, low: int = 0, required: bool = False) -> int:
        if value is None:
            if required:
                self.add(path, "required", "BASE_TYPE_REQUIRED", "This field is required")
            return 0
        if not isinstance(value, str):
            self.add(path, "type", "BASE_TYPE_STRING", "Could not interpret value as string.")
            return 0
        if not low <= len(value) <= high:
            if low:
                self.add(path, "length", "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")
            else:
                self.add(path, "length", "BASE_TYPE_MAX_LENGTH", f"Must be {high} or fewer in length.")
        return len(value)

    def count(self, path: tuple[str, ...], items: Any, high: int, *, low: int = 0) -> list[Any]:
        if items is None:
            if low:
                self.add(path, "required", "BASE_TYPE_REQUIRED", "This field is required")
            return []
        if not isinstance(items, list):
            self.add(path, "type", "BASE_TYPE_ARRAY", "Could not interpret value as array.")
            return []
        if not low <= len(items) <= high:
            self.add(path, "count", "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")
        return items

    def nested(self) -> dict[str, Any]:
        root: dict[str, Any] = {}
        for path, _kind, code, message in self.items:
            node = root
            for part in path:
                node = node.setdefault(part, {})
            node.setdefault("_errors", []).append({"code": code, "message": message})
        return root


def _iter_components(components: Sequence[Any]) -> Iterator[dict[str, Any]]:
    for comp in components:
        if not isinstance(comp, dict):
            continue
        yield comp
        yield from _iter_components(comp.get("components") or [])
        for key in ("accessory", "component"):
            if isinstance(comp.get(key), dict):
                yield from _iter_components([comp[key]])


def _check_message(errs: _FormErrors, body: Any, *, allowed_flags: int, current_flags: int = 0) -> None:
    if not isinstance(body, dict):
        errs.add((), "type", "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        return
    errs.length(("content",), body.get("content"), 2000)
    flags = body.get("flags") or 0
    if not isinstance(flags, int) or flags & ~allowed_flags:
        errs.add(("flags",), "invalid_flags", "MESSAGE_FLAGS_INVALID", f"Flags {flags!r} are not allowed here")
        flags = 0
    v2 = bool((flags | current_flags) & FLAG_COMPONENTS_V2)
    if body.get("embeds") is not None:
        _check_embeds(errs, body["embeds"])
    if body.get("components") is not None:
        _check_components(errs, body["components"], v2=v2)
    if v2 and (body.get("content") or body.get("embeds")):
        errs.add(("content",), "invalid", "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
                 "The 'content' and 'embeds' fields cannot be used when using MessageFlags.IS_COMPONENTS_V2")


def _check_embeds(errs: _FormErrors, embeds: Any) -> None:
    items = errs.count(("embeds",), embeds, 10)
    total = 0
    for i, embed in enumerate(items):
        path = ("embeds", str(i))
        if not isinstance(embed, dict):
            errs.add(path, "type", "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
            continue
        total += errs.length((*path, "title"), embed.get("title"), 256)
        total += errs.length((*path, "description"), embed.get("description"), 4096)
        for j, fld in enumerate(errs.count((*path, "fields"), embed.get("fields"), 25)):
            fld = fld if isinstance(fld, dict) else {}
            total += errs.length((*path, "fields", str(j), "name"), fld.get("name"), 256, low=1, required=True)
            total += errs.length((*path, "fields", str(j), "value"), fld.get("value"), 1024, low=1, required=True)
        footer = embed.get("footer") if isinstance(embed.get("footer"), dict) else {}
        total += errs.length((*path, "footer", "text"), footer.get("text"), 2048)
        author = embed.get("author") if isinstance(embed.get("author"), dict) else {}
        total += errs.length((*path, "author", "name"), author.get("name"), 256)
    if total > 6000:
        errs.add(("embeds",), "embed_size", "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")


def _check_custom_id(errs: _FormErrors, path: tuple[str, ...], value: Any, seen: set[str]) -> None:
    errs.length(path, value, 100, low=1, required=True)
    if isinstance(value, str):
        if value in seen:
            errs.add(path, "duplicate_custom_id", "COMPONENT_CUSTOM_ID_DUPLICATED",
                     "Component custom id cannot be duplicated")
        seen.add(value)


def _check_components(errs: _FormErrors, components: Any, *, v2: bool) -> None:
    root = ("components",)
    if not isinstance(components, list):
        errs.add(root, "type", "BASE_TYPE_ARRAY", "Could not interpret value as array.")
        return
    if not v2:
        errs.count(root, components, 5)
    seen: set[str] = set()
    totals = Counter[str]()
    for i, comp in enumerate(components):
        _walk_component(errs, comp, (*root, str(i)), top=True, v2=v2, seen=seen, totals=totals)
    if v2 and totals["count"] > 40:
        errs.add(root, "count", "BASE_TYPE_BAD_LENGTH", "Must be 40 or fewer components in total.")
    if totals["text"] > 4000:
        errs.add(root, "length", "BASE_TYPE_MAX_LENGTH", "Text displays must total 4000 or fewer characters.")


def _walk_component(
    errs: _FormErrors, comp: Any, path: tuple[str, ...], *, top: bool, v2: bool, seen: set[str], totals: Counter[str]
) -> None:
    if not isinstance(comp, dict):
        errs.add(path, "type", "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        return
    totals["count"] += 1
    ctype = comp.get("type")

    def walk(child: Any, child_path: tuple[str, ...]) -> None:
        _walk_component(errs, child, child_path, top=False, v2=v2, seen=seen, totals=totals)

    if top and not v2 and ctype != 1:
        errs.add((*path, "type"), "invalid", "COMPONENT_TYPE_INVALID", "Top-level components must be action rows")
    if ctype == 1:
        children = errs.count((*path, "components"), comp.get("components"), 5, low=1)
        kinds = [c.get("type") for c in children if isinstance(c, dict)]
        if any(k in _SELECT_TYPES for k in kinds) and len(children) > 1:
            errs.add((*path, "components"), "width", "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                     "The specified component exceeds the maximum width")
        for j, child in enumerate(children):
            if isinstance(child, dict) and child.get("type") == 1:
                errs.add((*path, "components", str(j), "type"), "invalid", "COMPONENT_TYPE_INVALID",
                         "Action rows cannot contain action rows")
            walk(child, (*path, "components", str(j)))
    elif ctype == 2:
        _check_button(errs, comp, path, seen)
    elif ctype in _SELECT_TYPES:
        _check_select(errs, comp, path, seen)
    elif ctype == 4:
        errs.add((*path, "type"), "invalid", "COMPONENT_TYPE_INVALID", "Text inputs are only valid in modals")
    elif not v2:
        errs.add((*path, "type"), "invalid", "COMPONENT_TYPE_INVALID",
                 f"Component type {ctype!r} needs the IS_COMPONENTS_V2 message flag")
    elif ctype == 9:
        for j, child in enumerate(errs.count((*path, "components"), comp.get("components"), 3, low=1)):
            walk(child, (*path, "components", str(j)))
        walk(comp.get("accessory"), (*path, "accessory"))
    elif ctype == 10:
        totals["text"] += errs.length((*path, "content"), comp.get("content"), 4000, low=1, required=True)
    elif ctype == 17:
        for j, child in enumerate(errs.count((*path, "components"), comp.get("components"), 40, low=1)):
            walk(child, (*path, "components", str(j)))
    elif ctype not in (11, 12, 13, 14):
        errs.add((*path, "type"), "invalid", "COMPONENT_TYPE_INVALID", f"Unknown component type {ctype!r}")


def _check_button(errs: _FormErrors, comp: dict[str, Any], path: tuple[str, ...], seen: set[str]) -> None:
    style = comp.get("style")
    if style not in range(1, 7):
        errs.add((*path, "style"), "invalid", "BUTTON_COMPONENT_INVALID_STYLE", f"Invalid button style {style!r}")
    errs.length((*path, "label"), comp.get("label"), 80)
    if style == 5:
        errs.length((*path, "url"), comp.get("url"), 512, low=1, required=True)
        if "custom_id" in comp:
            errs.add((*path, "custom_id"), "invalid", "BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED",
                     "Link buttons cannot have a custom_id")
    elif style == 6:
        if not comp.get("sku_id"):
            errs.add((*path, "sku_id"), "required", "BASE_TYPE_REQUIRED", "This field is required")
    else:
        _check_custom_id(errs, (*path, "custom_id"), comp.get("custom_id"), seen)
    if style != 6 and not comp.get("label") and not comp.get("emoji"):
        errs.add((*path, "label"), "required", "BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED",
                 "A button needs a label or an emoji")


def _check_select(errs: _FormErrors, comp: dict[str, Any], path: tuple[str, ...], seen: set[str]) -> None:
    _check_custom_id(errs, (*path, "custom_id"), comp.get("custom_id"), seen)
    errs.length((*path, "placeholder"), comp.get("placeholder"), 150)
    low, high = comp.get("min_values", 1), comp.get("max_values", 1)
    if not (isinstance(low, int) and 0 <= low <= 25):
        errs.add((*path, "min_values"), "range", "NUMBER_TYPE_MAX", "min_values must be between 0 and 25")
    if not (isinstance(high, int) and 1 <= high <= 25):
        errs.add((*path, "max_values"), "range", "NUMBER_TYPE_MAX", "max_values must be between 1 and 25")
    if comp.get("type") != 3:
        return
    options = errs.count((*path, "options"), comp.get("options"), 25, low=1)
    values: set[str] = set()
    for j, opt in enumerate(options):
        opt = opt if isinstance(opt, dict) else {}
        op = (*path, "options", str(j))
        errs.length((*op, "label"), opt.get("label"), 100, low=1, required=True)
        errs.length((*op, "value"), opt.get("value"), 100, low=1, required=True)
        errs.length((*op, "description"), opt.get("description"), 100)
        if opt.get("value") in values:
            errs.add((*op, "value"), "duplicate", "SELECT_COMPONENT_OPTION_VALUE_DUPLICATED",
                     "Select option values must be unique")
        values.add(opt.get("value"))
    if isinstance(high, int) and high > len(options):
        errs.add((*path, "max_values"), "range", "NUMBER_TYPE_MAX", "max_values exceeds the number of options")


def _check_modal(errs: _FormErrors, data: Any) -> None:
    if not isinstance(data, dict):
        errs.add((), "type", "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        return
    errs.length(("title",), data.get("title"), 45, low=1, required=True)
    seen: set[str] = set()
    _check_custom_id(errs, ("custom_id",), data.get("custom_id"), set())
    for i, row in enumerate(errs.count(("components",), data.get("components"), 5, low=1)):
        # Paths name the top-level row; inputs nest one or two levels below it (row or label).
        path = ("components", str(i))
        # A modal holds action rows (or labels) of inputs; buttons and the like are refused there.
        if not isinstance(row, dict) or row.get("type") not in _MODAL_TOP:
            errs.add((*path, "type"), "invalid", "COMPONENT_TYPE_INVALID", "Modals take action rows or labels")
            continue
        inner = [c for c in _iter_components([row]) if c is not row]
        if (row.get("type") != 10 and not inner) or any(c.get("type") not in _MODAL_INPUTS for c in inner):
            errs.add((*path, "components"), "invalid", "COMPONENT_TYPE_INVALID",
                     "A modal row must hold one text input or select")
        for comp in _iter_components([row]):
            if comp.get("type") == 4:
                _check_custom_id(errs, (*path, "custom_id"), comp.get("custom_id"), seen)
                errs.length((*path, "label"), comp.get("label"), 45)
                errs.length((*path, "placeholder"), comp.get("placeholder"), 100)
                errs.length((*path, "value"), comp.get("value"), 4000)
            elif comp.get("type") == 18:
                errs.length((*path, "label"), comp.get("label"), 45, low=1, required=True)
                errs.length((*path, "description"), comp.get("description"), 100)


def _check_choices(errs: _FormErrors, choices: Any) -> None:
    for i, choice in enumerate(errs.count(("choices",), choices, 25)):
        choice = choice if isinstance(choice, dict) else {}
        errs.length(("choices", str(i), "name"), choice.get("name"), 100, low=1, required=True)
        value = choice.get("value")
        if isinstance(value, str):
            errs.length(("choices", str(i), "value"), value, 100)
        elif not isinstance(value, int | float) or isinstance(value, bool):
            errs.add(("choices", str(i), "value"), "type", "BASE_TYPE_REQUIRED", "Choice value must be str or number")


def _check_name(errs: _FormErrors, path: tuple[str, ...], name: Any, *, chat_input: bool) -> None:
    if errs.length(path, name, 32, low=1, required=True) and chat_input:
        if not _COMMAND_NAME.match(name) or name != name.lower():
            errs.add(path, "invalid_name", "APPLICATION_COMMAND_INVALID_NAME",
                     "Command names must be 1-32 lowercase letters, digits, '-' or '_'")


def _check_commands(errs: _FormErrors, commands: Any) -> None:
    if not isinstance(commands, list):
        errs.add((), "type", "BASE_TYPE_ARRAY", "Could not interpret value as array.")
        return
    per_type = Counter[int]()
    seen: set[tuple[Any, Any]] = set()
    for i, cmd in enumerate(commands):
        path = (str(i),)
        if not isinstance(cmd, dict):
            errs.add(path, "type", "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
            continue
        ctype = cmd.get("type", 1)
        per_type[ctype] += 1
        if (cmd.get("name"), ctype) in seen:
            errs.add((*path, "name"), "duplicate", "APPLICATION_COMMANDS_DUPLICATE_NAME",
                     f"Application command names must be unique: {cmd.get('name')!r}")
        seen.add((cmd.get("name"), ctype))
        if ctype == 1:
            _check_name(errs, (*path, "name"), cmd.get("name"), chat_input=True)
            errs.length((*path, "description"), cmd.get("description"), 100, low=1, required=True)
            _check_options(errs, cmd.get("options") or [], (*path, "options"), parent_type=None)
            if _command_chars(cmd) > 4000:
                errs.add(path, "length", "APPLICATION_COMMAND_TOO_LARGE", "Command exceeds maximum size (4000)")
        elif ctype in (2, 3):
            _check_name(errs, (*path, "name"), cmd.get("name"), chat_input=False)
            if cmd.get("description") or cmd.get("options"):
                errs.add(path, "invalid", "APPLICATION_COMMAND_CONTEXT_MENU_INVALID",
                         "Context menu commands take no description or options")
        else:
            errs.add((*path, "type"), "invalid", "BASE_TYPE_CHOICES", f"Value {ctype!r} is not a valid command type")
    for ctype, limit in ((1, 100), (2, 15), (3, 15)):
        if per_type[ctype] > limit:
            errs.add((), "count", "APPLICATION_COMMANDS_TOO_MANY", f"At most {limit} commands of type {ctype}")


def _check_options(errs: _FormErrors, options: Any, path: tuple[str, ...], *, parent_type: int | None) -> None:
    items = errs.count(path, options, 25)
    kinds = {o.get("type") for o in items if isinstance(o, dict)}
    if kinds & {1, 2} and kinds - {1, 2}:
        errs.add(path, "invalid", "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                 "Subcommands and groups cannot be mixed with other options")
    optional_seen = False
    names: set[Any] = set()
    for j, opt in enumerate(items):
        op = (*path, str(j))
        if not isinstance(opt, dict):
            errs.add(op, "type", "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
            continue
        _check_name(errs, (*op, "name"), opt.get("name"), chat_input=True)
        if opt.get("name") in names:
            errs.add((*op, "name"), "duplicate", "APPLICATION_COMMAND_OPTION_NAME_ALREADY_EXISTS",
                     "Option names must be unique")
        names.add(opt.get("name"))
        errs.length((*op, "description"), opt.get("description"), 100, low=1, required=True)
        otype = opt.get("type")
        if otype not in range(1, 12):
            errs.add((*op, "type"), "invalid", "BASE_TYPE_CHOICES", f"Value {otype!r} is not a valid option type")
        elif otype in (1, 2):
            if parent_type == 1 or (otype == 2 and parent_type is not None):
                errs.add((*op, "type"), "invalid", "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                         "Subcommands nest at most subcommand group -> subcommand")
            _check_options(errs, opt.get("options") or [], (*op, "options"), parent_type=otype)
        else:
            if parent_type == 2:
                errs.add((*op, "type"), "invalid", "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                         "Subcommand groups may only contain subcommands")
            if opt.get("required"):
                if optional_seen:
                    errs.add((*op, "required"), "invalid", "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                             "Required options must be placed before non-required options")
            else:
                optional_seen = True
            if opt.get("choices") is not None and opt.get("autocomplete"):
                errs.add((*op, "autocomplete"), "invalid", "AUTOCOMPLETE_AND_CHOICES",
                         "Autocomplete and choices cannot both be set")
            for k, choice in enumerate(errs.count((*op, "choices"), opt.get("choices"), 25)):
                choice = choice if isinstance(choice, dict) else {}
                errs.length((*op, "choices", str(k), "name"), choice.get("name"), 100, low=1, required=True)
                if isinstance(choice.get("value"), str):
                    errs.length((*op, "choices", str(k), "value"), choice["value"], 100)


def _command_chars(cmd: dict[str, Any]) -> int:
    total = len(cmd.get("name") or "") + len(cmd.get("description") or "")
    for opt in cmd.get("options") or []:
        total += _command_chars(opt)
        for choice in opt.get("choices") or []:
            total += len(str(choice.get("name", ""))) + len(str(choice.get("value", "")))
    return total


def _is_empty(payload: dict[str, Any]) -> bool:
    keys = ("content", "embeds", "components", "attachments", "sticker_items", "poll")
    return not any(payload.get(k) for k in keys)


# --------------------------------------------------------------------------------------------------
# The fake


@dataclass
class _Upload:
    field: str
    filename: str
    data: bytes
    content_type: str | None


@dataclass
class _RequestContext:
    route: str
    json: Any
    uploads: list[_Upload]
    arrived_at: float  # loop time the request reached the fake, before the fake parsed or checked it


_REQUEST: contextvars.ContextVar[_RequestContext] = contextvars.ContextVar("fake_discord_request")


def _ctx() -> _RequestContext:
    return _REQUEST.get()


@dataclass
class _Session:
    id: str
    intents: int
    shard: list[int] | None
    ws: web.WebSocketResponse | None = None
    seq: int = 0
    ready: bool = False
    resumable: bool = True
    log: list[dict[str, Any]] = field(default_factory=list)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass
class _Injection:
    method: str
    pattern: re.Pattern[str]
    times: int
    make: Callable[[], _ApiError]


class FakeDiscord:
    """`async with FakeDiscord() as fake:` starts REST + gateway on 127.0.0.1 (random port)."""

    def __init__(
        self, *, token: str = "fake-bot-token", bot_name: str = "fake-bot", guild_name: str = "G1",
        privileged_intents: int = 0, response_deadline: float = 3.0,
        bot_permissions: int = DEFAULT_BOT_PERMISSIONS, heartbeat_interval_ms: int = 41_250, port: int = 0,
    ) -> None:
        self.token = token
        self.privileged_intents = privileged_intents
        self.response_deadline = response_deadline
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self._bot_permissions = bot_permissions

        self.bot = FakeUser(new_snowflake(), bot_name, bot=True)
        # Apps created since 2020 share their id with the bot user.
        self.application_id = self.bot.id
        self.owner = FakeUser(new_snowflake(), "owner")
        self.users: dict[str, FakeUser] = {u.id: u for u in (self.bot, self.owner)}
        self.guilds: dict[str, FakeGuild] = {}
        self.dm_channels: dict[str, dict[str, Any]] = {}
        self.guild = self.add_guild(guild_name)
        self.channel_id = next(iter(self.guild.channels))

        self.messages: defaultdict[str, list[StoredMessage]] = defaultdict(list)
        self.callbacks: list[CallbackRecord] = []
        self.followups: list[StoredMessage] = []
        self.requests: list[RequestRecord] = []
        self.violations: list[Violation] = []
        self.token_leaks: list[Violation] = []
        self.interactions: list[InteractionRecord] = []
        self.identify_payloads: list[dict[str, Any]] = []
        self.gateway_connections: list[dict[str, str]] = []  # query strings of websocket connects
        self.presence_updates: list[dict[str, Any]] = []
        self.commands: dict[str | None, list[dict[str, Any]]] = {}  # guild id (None = global) -> commands
        self.command_puts: Counter[str] = Counter()  # "global" or guild id -> bulk PUTs
        self.command_creates: Counter[str] = Counter()  # "global" or guild id -> newly created commands
        self.resumes = 0
        self.heartbeats = 0
        self.invalid_requests = 0  # 401/403/429 answers; Discord bans an IP at 10,000 per 10 minutes
        # (route, allowed_mentions or None) of every request that creates or edits a message.
        self.mention_settings: list[tuple[str, Any]] = []

        self._messages_by_id: dict[str, StoredMessage] = {}
        self._attachments: dict[str, StoredAttachment] = {}
        self._interactions: dict[str, InteractionRecord] = {}
        self._by_token: dict[str, InteractionRecord] = {}
        self._command_specs: dict[str, str] = {}
        self._sessions: dict[str, _Session] = {}
        self._current: _Session | None = None
        self._sockets: set[web.WebSocketResponse] = set()
        self._server_closes: dict[web.WebSocketResponse, int] = {}
        self._injections: list[_Injection] = []
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port = port  # 0: any free port; a fixed one lets a test start the fake after the client

    # ---- lifecycle ------------------------------------------------------------------------------

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, exc_type: object, *exc: object) -> None:
        await self.close()
        if exc_type is None and self.token_leaks:
            raise AssertionError(f"the bot sent unresolved moment tokens: {self.token_leaks}")

    async def start(self) -> None:
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        self._routes(app)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self._port)
        await site.start()
        self._port = self._runner.addresses[0][1]

    async def close(self) -> None:
        """Close clients first: a still-running client would try to reconnect to a dead port."""
        for ws in list(self._sockets):
            self._server_closes[ws] = 1001
            await ws.close(code=1001, message=b"fake shutting down")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/api/v{API_VERSION}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self._port}/gateway"

    @property
    def guild_id(self) -> str:
        return self.guild.id

    @contextlib.contextmanager
    def patch_discord(self) -> Iterator[FakeDiscord]:
        """Point discord.py's REST, webhook and gateway URLs at this fake; restore them on exit."""
        import discord.gateway
        import discord.http
        import yarl

        route, ws_cls = discord.http.Route, discord.gateway.DiscordWebSocket
        old_base, old_gateway = route.BASE, ws_cls.DEFAULT_GATEWAY
        route.BASE = self.api_base
        ws_cls.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        try:
            yield self
        finally:
            route.BASE, ws_cls.DEFAULT_GATEWAY = old_base, old_gateway

    # ---- configuration --------------------------------------------------------------------------

    def add_guild(self, name: str, *, owner: FakeUser | None = None) -> FakeGuild:
        """Add a guild with @everyone, a managed bot role, #general, its owner and the bot.

        Call before clients connect: guilds added later are not announced over the gateway."""
        owner = owner or self.owner
        gid, bot_role = new_snowflake(), new_snowflake()
        guild = FakeGuild(id=gid, name=name, owner_id=owner.id, bot_role_id=bot_role, joined_at=_now_iso())
        guild.roles[gid] = _role_payload(gid, "@everyone", DEFAULT_EVERYONE_PERMISSIONS, 0)
        guild.roles[bot_role] = _role_payload(bot_role, self.bot.username, self._bot_permissions, 1,
                                              managed=True, tags={"bot_id": self.bot.id})
        self.guilds[gid] = guild
        for user, roles in ((owner, []), (self.bot, [bot_role])):
            self.users[user.id] = user
            guild.members[user.id] = FakeMember(user, roles, _now_iso())
        self.add_channel("general", guild=guild)
        return guild

    def add_channel(
        self, name: str, *, guild: FakeGuild | None = None, type: int = 0,
        overwrites: Sequence[dict[str, Any]] = (),
    ) -> str:
        """A channel; `overwrites` as made by `overwrite()` (e.g. deny @everyone VIEW_CHANNEL)."""
        guild = guild or self.guild
        cid = new_snowflake()
        guild.channels[cid] = {
            "id": cid, "type": type, "guild_id": guild.id, "name": name, "position": len(guild.channels),
            "permission_overwrites": [dict(o) for o in overwrites], "topic": None, "nsfw": False,
            "last_message_id": None, "rate_limit_per_user": 0, "parent_id": None, "flags": 0,
        }
        return cid

    def add_role(self, name: str, permissions: int = 0, *, guild: FakeGuild | None = None) -> str:
        guild = guild or self.guild
        rid = new_snowflake()
        guild.roles[rid] = _role_payload(rid, name, permissions, len(guild.roles))
        return rid

    def add_member(
        self, user_id: str | int, name: str, permissions: int | None = None, *, roles: Sequence[str] = (),
        guild: FakeGuild | None = None, bot: bool = False,
    ) -> FakeMember:
        """Add a member; `permissions` become a dedicated role so discord.py resolves them normally."""
        guild = guild or self.guild
        user = self.users.get(str(user_id)) or FakeUser(str(user_id), name, bot=bot)
        self.users[user.id] = user
        role_ids = list(roles)
        if permissions is not None:
            rid = new_snowflake()
            guild.roles[rid] = _role_payload(rid, f"{name}-perms", permissions, len(guild.roles))
            role_ids.append(rid)
        member = FakeMember(user, role_ids, _now_iso())
        guild.members[user.id] = member
        return member

    def set_bot_permissions(self, permissions: int, *, guild: FakeGuild | None = None) -> None:
        guild = guild or self.guild
        guild.roles[guild.bot_role_id]["permissions"] = str(permissions)

    def permissions_of(self, user_id: str, guild: FakeGuild | None = None) -> int:
        guild = guild or self.guild
        if user_id == guild.owner_id:
            return ALL_PERMISSIONS
        member = guild.members.get(user_id)
        perms = int(guild.roles[guild.id]["permissions"])
        for rid in member.roles if member else []:
            perms |= int(guild.roles[rid]["permissions"])
        return ALL_PERMISSIONS if perms & ADMINISTRATOR else perms

    def permissions_in(self, user_id: str, channel_id: str, guild: FakeGuild | None = None) -> int:
        """Permissions in one channel (a thread uses its parent's), overwrites applied as Discord does."""
        guild = guild or self.guild
        base = self.permissions_of(user_id, guild)
        if base == ALL_PERMISSIONS and (user_id == guild.owner_id or base & ADMINISTRATOR):
            return base
        channel = guild.channels.get(channel_id)
        if channel is None and channel_id in guild.threads:
            channel = guild.channels.get(guild.threads[channel_id]["parent_id"])
        if channel is None:
            return base
        member = guild.members.get(user_id)
        roles = set(member.roles) if member else set()
        by_id = {(int(o["type"]), str(o["id"])): o for o in channel.get("permission_overwrites") or []}
        perms = base
        if (everyone := by_id.get((0, guild.id))) is not None:
            perms = (perms & ~int(everyone["deny"])) | int(everyone["allow"])
        allow = deny = 0
        for (kind, oid), o in by_id.items():
            if kind == 0 and oid in roles:
                allow, deny = allow | int(o["allow"]), deny | int(o["deny"])
        perms = (perms & ~deny) | allow
        if (own := by_id.get((1, user_id))) is not None:
            perms = (perms & ~int(own["deny"])) | int(own["allow"])
        return perms if perms & VIEW_CHANNEL else 0

    # ---- failure injection ----------------------------------------------------------------------

    def rate_limit_next(
        self, method: str, path_regex: str, retry_after: float = 0.5, times: int = 1, *, is_global: bool = False
    ) -> None:
        """Answer the next `times` matching requests (re.search on the path below the API base) with 429."""

        def make() -> _ApiError:
            reset = time.time() + retry_after
            headers = {
                # discord.py treats a 429 without Via (or with a non-JSON body) as a Cloudflare ban.
                "Via": "1.1 google",
                "Retry-After": str(math.ceil(retry_after)),
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": f"{reset:.3f}",
                "X-RateLimit-Reset-After": f"{retry_after:.3f}",
                "X-RateLimit-Bucket": hashlib.md5(path_regex.encode()).hexdigest(),
                "X-RateLimit-Scope": "global" if is_global else "user",
            }
            if is_global:
                headers["X-RateLimit-Global"] = "true"
            # discord.py reads retry_after from the JSON body, not from the headers.
            return _ApiError(429, 0, "You are being rate limited.", headers=headers,
                             extra={"retry_after": retry_after, "global": is_global})

        self._injections.append(_Injection(method.upper(), re.compile(path_regex), times, make))

    def fail_next(
        self, method: str, path_regex: str, status: int = 500, *, code: int = 0, message: str = "Internal Server Error",
        times: int = 1,
    ) -> None:
        """Answer the next `times` matching requests with an arbitrary error (discord.py retries 5xx)."""
        self._injections.append(
            _Injection(method.upper(), re.compile(path_regex), times, lambda: _ApiError(status, code, message))
        )

    async def drop_connections(self, code: int = 4000) -> None:
        """Close every gateway socket; with a resumable code discord.py RESUMEs."""
        for ws in list(self._sockets):
            self._server_closes[ws] = code
            await ws.close(code=code, message=b"dropped by test")

    # ---- querying -------------------------------------------------------------------------------

    def message(self, message_id: str | int) -> StoredMessage:
        return self._messages_by_id[str(message_id)]

    def channel_messages(self, channel_id: str | None = None) -> list[StoredMessage]:
        """Visible (non-ephemeral, not deleted) messages, oldest first."""
        return [m for m in self.messages[channel_id or self.channel_id] if not m.ephemeral and not m.deleted]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:  # noqa: ASYNC109
        """Re-evaluate `predicate` after every request/gateway change; return its first truthy value."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout}s; violations={self.violations}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _violate(self, kind: str, field_path: str, message: str, route: str) -> None:
        self.violations.append(Violation(kind, field_path, message, route))

    def _check_tokens(self, route: str, body: Any, uploads: list[_Upload]) -> None:
        paths = unresolved_tokens(body)
        paths += [f"file:{u.filename}" for u in uploads if unresolved_tokens(u.data.decode("utf-8", "replace"))]
        for path in paths:
            leak = Violation("unresolved_moment", path, "a core.moments token reached Discord unresolved", route)
            self.token_leaks.append(leak)
            self.violations.append(leak)

    def _raise_form(self, errs: _FormErrors, route: str) -> None:
        if not errs.items:
            return
        for path, kind, _code, message in errs.items:
            self._violate(kind, ".".join(path), message, route)
        raise _ApiError(400, 50035, "Invalid Form Body", errors=errs.nested())

    # ---- dispatching interactions ---------------------------------------------------------------

    async def slash(
        self, name: str, options: Mapping[str, Any] | Sequence[dict[str, Any]] | None = None, *,
        user_id: str | int | None = None, guild: bool = True, channel_id: str | None = None,
        subcommand: str | Sequence[str] | None = None, locale: str = "en-US", permissions: int | None = None,
    ) -> InteractionRecord:
        """Invoke a synced chat-input command. `options` as {name: value} (types from the synced
        command) or as raw option dicts; `subcommand` as "sub" or "group sub"."""
        cmd = self._find_command(name, guild)
        leaf_specs, wrap = _descend(cmd, subcommand)
        guild_obj = self.guild if guild else None
        built, resolved = self._build_options(leaf_specs, options, guild_obj, autocomplete_focus=None)
        data: dict[str, Any] = {"id": cmd["id"], "name": cmd["name"], "type": 1}
        opts = wrap(built)
        if opts:
            data["options"] = opts
        if resolved:
            data["resolved"] = resolved
        if cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        payload = self._interaction_envelope(2, data, user_id=user_id, guild=guild, channel_id=channel_id,
                                             locale=locale, permissions=permissions)
        return await self.dispatch_interaction(payload)

    async def autocomplete(
        self, name: str, focused: str, value: str = "", options: Mapping[str, Any] | None = None, *,
        user_id: str | int | None = None, guild: bool = True, subcommand: str | Sequence[str] | None = None,
        locale: str = "en-US", channel_id: str | None = None,
    ) -> InteractionRecord:
        """Type-4 interaction as the user types `value` into option `focused`."""
        cmd = self._find_command(name, guild)
        leaf_specs, wrap = _descend(cmd, subcommand)
        spec = next((o for o in leaf_specs if o.get("name") == focused), None)
        if spec is None or not spec.get("autocomplete"):
            raise ValueError(f"option {focused!r} of /{name} is not an autocomplete option")
        built, _ = self._build_options(leaf_specs, options or {}, self.guild if guild else None,
                                       autocomplete_focus=focused)
        built.append({"name": focused, "type": spec["type"], "value": value, "focused": True})
        data: dict[str, Any] = {"id": cmd["id"], "name": cmd["name"], "type": 1, "options": wrap(built)}
        if cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        payload = self._interaction_envelope(4, data, user_id=user_id, guild=guild, channel_id=channel_id,
                                             locale=locale)
        return await self.dispatch_interaction(payload)

    async def click(
        self, message_id: str | int, custom_id: str, *, user_id: str | int | None = None,
        values: Sequence[str] | None = None, locale: str = "en-US",
    ) -> InteractionRecord:
        """Press a button (or pick `values` in a select) on a stored message; fails like a real UI would
        if the component does not exist or is disabled."""
        msg = self._messages_by_id.get(str(message_id))
        if msg is None or msg.deleted:
            raise LookupError(f"no message {message_id}")
        comp = msg.find_component(custom_id)
        if comp is None:
            raise LookupError(f"message {message_id} has no component {custom_id!r}; has {msg.custom_ids()}")
        if comp.get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled")
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": comp["type"]}
        if "id" in comp:
            data["id"] = comp["id"]
        if comp["type"] in _SELECT_TYPES:
            picked = list(values or [])
            if comp["type"] == 3:
                allowed = {o["value"] for o in comp.get("options", [])}
                if not set(picked) <= allowed:
                    raise ValueError(f"values {picked} not among options {sorted(allowed)}")
            if not comp.get("min_values", 1) <= len(picked) <= comp.get("max_values", 1):
                raise ValueError(f"{len(picked)} values outside min/max of {custom_id!r}")
            data["values"] = picked
        guild = msg.payload.get("guild_id") is not None
        payload = self._interaction_envelope(3, data, user_id=user_id, guild=guild, channel_id=msg.channel_id,
                                             locale=locale)
        payload["message"] = json.loads(json.dumps(msg.payload))
        return await self.dispatch_interaction(payload)

    async def submit_modal(
        self, opened_by: InteractionRecord, values: Mapping[str, str], *, user_id: str | int | None = None
    ) -> InteractionRecord:
        """Submit the modal the bot opened (callback type 9) on `opened_by`, filling text inputs."""
        if opened_by.callback is None or opened_by.callback.type != 9:
            raise LookupError("that interaction was not answered with a modal")
        modal = opened_by.callback.body["data"]

        def fill(comp: dict[str, Any]) -> dict[str, Any]:
            if comp.get("type") == 4:
                return {"type": 4, "custom_id": comp["custom_id"], "value": values.get(comp["custom_id"], "")}
            out: dict[str, Any] = {"type": comp.get("type")}
            if "components" in comp:
                out["components"] = [fill(c) for c in comp["components"]]
            if "component" in comp:
                out["component"] = fill(comp["component"])
            return out

        data = {"custom_id": modal["custom_id"], "components": [fill(c) for c in modal["components"]]}
        payload = self._interaction_envelope(5, data, user_id=user_id, guild=opened_by.guild_id is not None,
                                             channel_id=opened_by.channel_id, locale="en-US")
        if "message" in opened_by.payload:
            payload["message"] = opened_by.payload["message"]
        return await self.dispatch_interaction(payload)

    async def dispatch_interaction(
        self, payload: dict[str, Any], *, timeout: float = 5.0  # noqa: ASYNC109 - waits for a live session
    ) -> InteractionRecord:
        """Send a ready-made INTERACTION_CREATE payload to the most recent live session."""
        session = await self.wait_for(self._live_session, timeout=timeout)
        rec = InteractionRecord(self, payload)
        self._interactions[rec.id] = rec
        self._by_token[rec.token] = rec
        self.interactions.append(rec)
        rec.dispatched_at = asyncio.get_running_loop().time()
        await self._send_dispatch(session, "INTERACTION_CREATE", payload)
        self._notify()
        return rec

    def _live_session(self) -> _Session | None:
        s = self._current
        return s if s is not None and s.ready and s.ws is not None and not s.ws.closed else None

    def _find_command(self, name: str, guild: bool) -> dict[str, Any]:
        pools = ([self.commands.get(self.guild.id, [])] if guild else []) + [self.commands.get(None, [])]
        for pool in pools:
            for cmd in pool:
                if cmd["name"] == name and cmd.get("type", 1) == 1:
                    return cmd
        raise LookupError(f"/{name} was never synced (synced: {[c['name'] for p in pools for c in p]})")

    def _build_options(
        self, specs: list[dict[str, Any]], given: Mapping[str, Any] | Sequence[dict[str, Any]] | None,
        guild: FakeGuild | None, *, autocomplete_focus: str | None,
    ) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
        by_name = {s["name"]: s for s in specs}
        if given is None:
            given = {}
        if isinstance(given, Mapping):
            raw = []
            for name, value in given.items():
                if name not in by_name:
                    raise ValueError(f"no option {name!r}; options are {sorted(by_name)}")
                raw.append({"name": name, "type": by_name[name]["type"], "value": value})
            if autocomplete_focus is None:
                missing = [s["name"] for s in specs if s.get("required") and s["name"] not in given]
                if missing:
                    raise ValueError(f"required options missing: {missing}")
        else:
            raw = [dict(o) for o in given]
        resolved: dict[str, dict[str, Any]] = {}
        for opt in raw:
            spec = by_name.get(opt["name"], {})
            choices = [c["value"] for c in spec.get("choices") or []]
            if choices and opt["value"] not in choices:
                raise ValueError(f"{opt['value']!r} is not a choice of {opt['name']!r}: {choices}")
            opt["value"] = self._resolve_value(opt["type"], opt["value"], guild, resolved)
        return raw, resolved

    def _resolve_value(self, otype: int, value: Any, guild: FakeGuild | None, resolved: dict[str, Any]) -> Any:
        if otype == 11:
            filename, data = value
            att = self._new_attachment(_Upload("", filename, data, None), None)
            resolved.setdefault("attachments", {})[att.id] = att.payload()
            return att.id
        if otype not in (6, 7, 8, 9):
            return value
        sid = str(getattr(value, "id", value))
        if otype in (6, 9) and sid in self.users:
            resolved.setdefault("users", {})[sid] = self.users[sid].payload()
            if guild is not None and sid in guild.members:
                member = self._member_payload(guild, guild.members[sid], with_user=False)
                member["permissions"] = str(self.permissions_of(sid, guild))
                resolved.setdefault("members", {})[sid] = member
        elif otype in (8, 9) and guild is not None and sid in guild.roles:
            resolved.setdefault("roles", {})[sid] = guild.roles[sid]
        elif otype == 7 and (found := self._channel(sid)) is not None:
            channel = dict(found[0])
            channel["permissions"] = str(ALL_PERMISSIONS)
            resolved.setdefault("channels", {})[sid] = channel
        else:
            raise ValueError(f"option type {otype}: unknown id {sid}")
        return sid

    def _interaction_envelope(
        self, itype: int, data: dict[str, Any], *, user_id: str | int | None, guild: bool, channel_id: str | None,
        locale: str, permissions: int | None = None,
    ) -> dict[str, Any]:
        user = self.users[str(user_id)] if user_id is not None else self.owner
        payload: dict[str, Any] = {
            "id": new_snowflake(), "application_id": self.application_id, "type": itype, "data": data,
            "token": "fake-itk-" + secrets.token_urlsafe(32), "version": 1, "locale": locale,
            "entitlements": [], "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        }
        if guild:
            g = self.guild
            if user.id not in g.members:
                raise LookupError(f"user {user.id} is not a member of {g.name}; use add_member()")
            cid = channel_id or self.channel_id
            found = self._channel(cid)
            if found is None:
                raise LookupError(f"no channel {cid}; use add_channel()")
            channel = dict(found[0])
            perms = self.permissions_in(user.id, cid, g) if permissions is None else permissions
            channel["permissions"] = str(perms)
            member = self._member_payload(g, g.members[user.id])
            member["permissions"] = str(perms)
            payload.update(
                guild_id=g.id, guild_locale="en-US", guild={"id": g.id, "locale": "en-US", "features": []},
                channel_id=cid, channel=channel, member=member,
                app_permissions=str(self.permissions_in(self.bot.id, cid, g)),
                authorizing_integration_owners={"0": g.id}, context=0,
            )
        else:
            dm = self._dm_channel(user)
            payload.update(
                channel_id=dm["id"], channel=dm, user=user.payload(),
                app_permissions=str(DEFAULT_EVERYONE_PERMISSIONS),
                authorizing_integration_owners={"0": "0"}, context=1,
            )
        return payload

    async def user_message(self, content: str, *, user_id: str | int, channel_id: str | None = None) -> StoredMessage:
        """A member posts in a channel (MESSAGE_CREATE, content hidden without MESSAGE_CONTENT)."""
        user = self.users[str(user_id)]
        return await self._create_message(channel_id or self.channel_id, {"content": content}, [],
                                          route="(user message)", author=user)

    # ---- payload builders -----------------------------------------------------------------------

    def _member_payload(self, guild: FakeGuild, member: FakeMember, *, with_user: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "roles": list(member.roles), "joined_at": member.joined_at, "nick": member.nick, "avatar": None,
            "banner": None, "premium_since": None, "deaf": False, "mute": False, "pending": False, "flags": 0,
            "communication_disabled_until": None,
        }
        if with_user:
            out["user"] = member.user.payload()
        return out

    def _guild_payload(self, guild: FakeGuild) -> dict[str, Any]:
        return {
            "id": guild.id, "name": guild.name, "icon": None, "splash": None, "discovery_splash": None,
            "banner": None, "description": None, "owner_id": guild.owner_id, "afk_channel_id": None,
            "afk_timeout": 300, "verification_level": 0, "default_message_notifications": 0,
            "explicit_content_filter": 0, "roles": list(guild.roles.values()), "emojis": [], "stickers": [],
            "features": [], "mfa_level": 0, "system_channel_id": next(iter(guild.channels), None),
            "system_channel_flags": 0, "rules_channel_id": None, "public_updates_channel_id": None,
            "safety_alerts_channel_id": None, "vanity_url_code": None, "premium_tier": 0,
            "premium_subscription_count": 0, "preferred_locale": "en-US", "nsfw_level": 0,
            "premium_progress_bar_enabled": False, "max_members": 500_000, "max_video_channel_users": 25,
            "application_id": None, "incidents_data": None,
        }

    def _guild_create_payload(self, guild: FakeGuild, session: _Session) -> dict[str, Any]:
        if session.intents & INTENT_GUILD_MEMBERS:
            members = list(guild.members.values())
        else:
            members = [guild.members[self.bot.id]]
        return {
            **self._guild_payload(guild), "joined_at": guild.joined_at, "large": False, "unavailable": False,
            "member_count": len(guild.members), "voice_states": [], "presences": [],
            "members": [self._member_payload(guild, m) for m in members],
            "channels": [{k: v for k, v in c.items() if k != "guild_id"} for c in guild.channels.values()],
            "threads": list(guild.threads.values()), "stage_instances": [], "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    def _application_flags(self) -> int:
        flags = 1 << 23  # APPLICATION_COMMAND_BADGE
        for intent, flag in ((INTENT_GUILD_PRESENCES, 13), (INTENT_GUILD_MEMBERS, 15), (INTENT_MESSAGE_CONTENT, 19)):
            if self.privileged_intents & intent:
                flags |= 1 << flag  # the *_LIMITED flags mark a privileged intent as enabled
        return flags

    def _channel(self, channel_id: str) -> tuple[dict[str, Any], FakeGuild | None] | None:
        for guild in self.guilds.values():
            found = guild.channels.get(channel_id) or guild.threads.get(channel_id)
            if found is not None:
                return found, guild
        if channel_id in self.dm_channels:
            return self.dm_channels[channel_id], None
        return None

    def _dm_channel(self, user: FakeUser) -> dict[str, Any]:
        for dm in self.dm_channels.values():
            if dm["recipients"][0]["id"] == user.id:
                return dm
        cid = new_snowflake()
        self.dm_channels[cid] = {"id": cid, "type": 1, "last_message_id": None, "flags": 0,
                                 "recipients": [user.payload()]}
        return self.dm_channels[cid]

    def _new_attachment(self, upload: _Upload, description: str | None, route: str = "") -> StoredAttachment:
        problems = image_problems(upload.filename, upload.data)
        if description is not None and len(description) > ATTACHMENT_DESCRIPTION_MAX:
            problems.append(f"{upload.filename}: description longer than {ATTACHMENT_DESCRIPTION_MAX}")
        for problem in problems:
            self._violate("bad_attachment", upload.field, problem, route)
        if problems:
            raise _ApiError(400, 50035, "Invalid Form Body")
        aid = new_snowflake()
        att = StoredAttachment(aid, upload.filename, upload.data, upload.content_type, description,
                               f"{self.base_url}/attachments/{aid}/{upload.filename}")
        self._attachments[aid] = att
        return att

    # ---- HTTP plumbing --------------------------------------------------------------------------

    def _routes(self, app: web.Application) -> None:
        api = f"/api/v{API_VERSION}"
        table: list[tuple[str, str, Callable[[web.Request], Any]]] = [
            ("GET", "/users/@me", self._h_me),
            ("GET", "/users/{uid}", self._h_user),
            ("POST", "/users/@me/channels", self._h_create_dm),
            ("GET", "/oauth2/applications/@me", self._h_application),
            ("GET", "/gateway", self._h_gateway),
            ("GET", "/gateway/bot", self._h_gateway),
            ("GET", "/applications/{app}/commands", self._h_get_commands),
            ("PUT", "/applications/{app}/commands", self._h_put_commands),
            ("GET", "/applications/{app}/guilds/{gid}/commands", self._h_get_commands),
            ("PUT", "/applications/{app}/guilds/{gid}/commands", self._h_put_commands),
            ("GET", "/channels/{cid}", self._h_get_channel),
            ("GET", "/channels/{cid}/messages", self._h_history),
            ("POST", "/channels/{cid}/messages", self._h_create_message),
            ("GET", "/channels/{cid}/messages/{mid}", self._h_get_message),
            ("PATCH", "/channels/{cid}/messages/{mid}", self._h_edit_message),
            ("DELETE", "/channels/{cid}/messages/{mid}", self._h_delete_message),
            ("POST", "/channels/{cid}/messages/{mid}/threads", self._h_thread_from_message),
            ("PUT", "/channels/{cid}/messages/{mid}/reactions/{emoji}/@me", self._h_no_content),
            ("POST", "/channels/{cid}/threads", self._h_thread_without_message),
            ("PUT", "/channels/{cid}/thread-members/@me", self._h_no_content),
            ("POST", "/channels/{cid}/typing", self._h_no_content),
            ("GET", "/guilds/{gid}", self._h_get_guild),
            ("GET", "/guilds/{gid}/channels", self._h_guild_channels),
            ("GET", "/guilds/{gid}/roles", self._h_guild_roles),
            ("GET", "/guilds/{gid}/members", self._h_guild_members),
            ("GET", "/guilds/{gid}/members/{uid}", self._h_guild_member),
            ("POST", "/interactions/{iid}/{token}/callback", self._h_callback),
            ("POST", "/webhooks/{app}/{token}", self._h_followup),
            ("GET", "/webhooks/{app}/{token}/messages/{mid}", self._h_webhook_message),
            ("PATCH", "/webhooks/{app}/{token}/messages/{mid}", self._h_webhook_message),
            ("DELETE", "/webhooks/{app}/{token}/messages/{mid}", self._h_webhook_message),
        ]
        for method, path, handler in table:
            app.router.add_route(method, api + path, handler)
        app.router.add_get("/gateway", self._h_websocket)
        app.router.add_get("/attachments/{aid}/{filename}", self._h_attachment)
        app.router.add_route("*", "/{tail:.*}", self._h_unknown)

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Callable[[web.Request], Any]) -> web.StreamResponse:
        # Stamped first: reading the body and the fake's own checks (which walk every string of it) are
        # Discord's work, not the bot's, and they would weigh on a bigger answer more than on "ok".
        arrived_at = asyncio.get_running_loop().time()
        if request.path == "/gateway":
            return await handler(request)
        prefix = f"/api/v{API_VERSION}"
        is_api = request.path.startswith(prefix + "/")
        rel = request.path[len(prefix):] if is_api else request.path
        rec = RequestRecord(request.method, rel, dict(request.query), None, [])
        self.requests.append(rec)
        route = f"{request.method} {rel}"
        try:
            body, uploads = await self._read_body(request, route)
            rec.json, rec.files = body, [(u.filename, len(u.data)) for u in uploads]
            self._check_tokens(route, body, uploads)
            # A ContextVar rather than request["..."]: aiohttp >= 3.12 warns about str keys and
            # older releases lack web.RequestKey; the handler runs in the middleware's task.
            _REQUEST.set(_RequestContext(route, body, uploads, arrived_at))
            injected = self._take_injection(request.method, rel)
            if injected is not None:
                raise injected
            if is_api and not rel.startswith(("/interactions/", "/webhooks/", "/gateway")):
                if request.headers.get("Authorization") != f"Bot {self.token}":
                    raise _ApiError(401, 0, "401: Unauthorized")
            response = await handler(request)
        except _ApiError as exc:
            response = exc.response()
        rec.status = response.status
        if response.status in (401, 403, 429):
            self.invalid_requests += 1
        if is_api and response.status < 400:
            bucket = request.match_info.route.resource.canonical if request.match_info.route.resource else rel
            response.headers.update({
                "X-RateLimit-Limit": "50", "X-RateLimit-Remaining": "49", "X-RateLimit-Reset-After": "1.000",
                "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
                "X-RateLimit-Bucket": hashlib.md5(f"{request.method} {bucket}".encode()).hexdigest(),
            })
        self._notify()
        return response

    def _record_mentions(self, route: str, body: Any) -> None:
        self.mention_settings.append((route, body.get("allowed_mentions") if isinstance(body, dict) else None))

    def _take_injection(self, method: str, rel: str) -> _ApiError | None:
        for inj in self._injections:
            if inj.times > 0 and inj.method == method and inj.pattern.search(rel):
                inj.times -= 1
                if inj.times == 0:
                    self._injections.remove(inj)
                return inj.make()
        return None

    async def _read_body(self, request: web.Request, route: str) -> tuple[Any, list[_Upload]]:
        if not request.body_exists:
            return None, []
        if request.content_type == "application/json":
            raw = await request.read()
            return (json.loads(raw) if raw else None), []
        if request.content_type == "multipart/form-data":
            payload, uploads = None, []
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, aiohttp.BodyPartReader):
                    continue
                if part.name == "payload_json":
                    payload = json.loads(await part.text())
                elif part.filename is not None:
                    data = await part.read()
                    if len(data) > ATTACHMENT_SIZE_LIMIT:
                        self._violate("file_too_large", part.name or "", f"{part.filename}: {len(data)} bytes", route)
                        raise _ApiError(413, 40005, "Request entity too large")
                    uploads.append(_Upload(part.name or "", part.filename, bytes(data),
                                           part.headers.get(aiohttp.hdrs.CONTENT_TYPE)))
            return payload, uploads
        if await request.read():
            self._violate("content_type", "", f"unsupported body type {request.content_type!r}", route)
            raise _ApiError(400, 50035, "Invalid Form Body")
        return None, []

    # ---- REST: identity, gateway, commands ------------------------------------------------------

    async def _h_me(self, request: web.Request) -> web.Response:
        return _json_response({**self.bot.payload(), "verified": True, "mfa_enabled": False, "email": None,
                               "locale": "en-US", "premium_type": 0})

    async def _h_user(self, request: web.Request) -> web.Response:
        user = self.users.get(request.match_info["uid"])
        if user is None:
            raise _ApiError(404, 10013, "Unknown User")
        return _json_response(user.payload())

    async def _h_application(self, request: web.Request) -> web.Response:
        return _json_response({
            "id": self.application_id, "name": self.bot.username, "icon": None, "description": "",
            "summary": "", "type": None, "bot_public": True, "bot_require_code_grant": False,
            "bot": self.bot.payload(), "owner": self.owner.payload(), "team": None, "verify_key": "0" * 64,
            "flags": self._application_flags(), "rpc_origins": [], "tags": [], "redirect_uris": [],
            "interactions_endpoint_url": None, "approximate_guild_count": len(self.guilds),
            "integration_types_config": {"0": {}},
        })

    async def _h_gateway(self, request: web.Request) -> web.Response:
        return _json_response({
            "url": self.gateway_url, "shards": 1,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 14_400_000,
                                    "max_concurrency": 1},
        })

    def _check_app(self, request: web.Request) -> str | None:
        if request.match_info["app"] != self.application_id:
            raise _ApiError(403, 50001, "Missing Access")
        gid = request.match_info.get("gid")
        if gid is not None and gid not in self.guilds:
            raise _ApiError(403, 50001, "Missing Access")
        return gid

    async def _h_get_commands(self, request: web.Request) -> web.Response:
        return _json_response(self.commands.get(self._check_app(request), []))

    async def _h_put_commands(self, request: web.Request) -> web.Response:
        gid = self._check_app(request)
        body = _ctx().json
        errs = _FormErrors()
        _check_commands(errs, body)
        self._raise_form(errs, _ctx().route)
        key = gid or "global"
        self.command_puts[key] += 1
        existing = {(c["name"], c.get("type", 1)): c for c in self.commands.get(gid, [])}
        stored, creates = [], 0
        for spec in body:
            old = existing.get((spec["name"], spec.get("type", 1)))
            creates += old is None
            stored.append(self._store_command(spec, gid, old))
        if self.command_creates[key] + creates > 200:
            self._violate("daily_command_creates", "", f"{key}: more than 200 command creates", _ctx().route)
            raise _ApiError(429, 30034, "Max number of daily application command creates has been reached (200)",
                            headers={"Via": "1.1 google", "Retry-After": "86400"})
        self.command_creates[key] += creates
        self.commands[gid] = stored
        return _json_response(stored)

    def _store_command(self, spec: dict[str, Any], gid: str | None, old: dict[str, Any] | None) -> dict[str, Any]:
        canonical = json.dumps(spec, sort_keys=True)
        cid = old["id"] if old else new_snowflake()
        unchanged = old is not None and self._command_specs.get(cid) == canonical
        self._command_specs[cid] = canonical
        out: dict[str, Any] = {
            "id": cid, "application_id": self.application_id,
            "version": old["version"] if unchanged and old else new_snowflake(),
            "type": spec.get("type", 1), "name": spec["name"], "name_localizations": spec.get("name_localizations"),
            "description": spec.get("description", ""),
            "description_localizations": spec.get("description_localizations"),
            "default_member_permissions": spec.get("default_member_permissions"), "nsfw": bool(spec.get("nsfw")),
            "contexts": spec.get("contexts"), "integration_types": spec.get("integration_types") or [0],
        }
        if spec.get("options"):
            out["options"] = spec["options"]
        if gid is None:
            out["dm_permission"] = spec.get("dm_permission", True)
        else:
            out["guild_id"] = gid
        return out

    # ---- REST: channels, messages, threads ------------------------------------------------------

    def _require_channel(self, channel_id: str) -> tuple[dict[str, Any], FakeGuild | None]:
        found = self._channel(channel_id)
        if found is None:
            raise _ApiError(404, 10003, "Unknown Channel")
        return found

    def _require_message(self, channel_id: str, message_id: str) -> StoredMessage:
        msg = self._messages_by_id.get(message_id)
        if msg is None or msg.deleted or msg.ephemeral or msg.channel_id != channel_id:
            raise _ApiError(404, 10008, "Unknown Message")
        return msg

    def _require_permission(self, guild: FakeGuild | None, needed: int, route: str, channel_id: str = "") -> None:
        if guild is None:
            return
        have = self.permissions_in(self.bot.id, channel_id, guild)
        if have & needed != needed:
            self._violate("missing_permissions", "", f"bot lacks permission bits {needed & ~have:#x}", route)
            raise _ApiError(403, 50013, "Missing Permissions")

    async def _h_get_channel(self, request: web.Request) -> web.Response:
        return _json_response(self._require_channel(request.match_info["cid"])[0])

    async def _h_create_message(self, request: web.Request) -> web.Response:
        cid, route = request.match_info["cid"], _ctx().route
        channel, guild = self._require_channel(cid)
        needed = VIEW_CHANNEL | (SEND_MESSAGES_IN_THREADS if channel["type"] in (10, 11, 12) else SEND_MESSAGES)
        if _ctx().uploads:
            needed |= ATTACH_FILES
        self._require_permission(guild, needed, route, cid)
        body = _ctx().json or {}
        self._record_mentions(route, body)
        errs = _FormErrors()
        _check_message(errs, body, allowed_flags=_SETTABLE_FLAGS)
        self._raise_form(errs, route)
        msg = await self._create_message(cid, body, _ctx().uploads, route=route, author=self.bot)
        return _json_response(msg.payload)

    async def _h_history(self, request: web.Request) -> web.Response:
        cid = request.match_info["cid"]
        self._require_channel(cid)
        q = request.query
        limit = int(q.get("limit", "50"))
        if not 1 <= limit <= 100:
            raise _ApiError(400, 50035, "Invalid Form Body",
                            errors={"limit": {"_errors": [{"code": "NUMBER_TYPE_MAX", "message": "1-100"}]}})
        visible = sorted(self.channel_messages(cid), key=lambda m: int(m.id), reverse=True)
        if "before" in q:
            visible = [m for m in visible if int(m.id) < int(q["before"])]
        if "after" in q:
            # Discord returns the messages right after `after`, still newest first.
            visible = sorted((m for m in visible if int(m.id) > int(q["after"])), key=lambda m: int(m.id))[:limit]
            visible.reverse()
        if "around" in q:
            pivot = int(q["around"])
            older = [m for m in visible if int(m.id) <= pivot][: math.ceil(limit / 2)]
            newer = [m for m in visible if int(m.id) > pivot][-(limit // 2):] if limit // 2 else []
            visible = newer + older
        return _json_response([m.payload for m in visible[:limit]])

    async def _h_get_message(self, request: web.Request) -> web.Response:
        return _json_response(self._require_message(request.match_info["cid"], request.match_info["mid"]).payload)

    async def _h_edit_message(self, request: web.Request) -> web.Response:
        msg = self._require_message(request.match_info["cid"], request.match_info["mid"])
        if msg.author_id != self.bot.id:
            raise _ApiError(403, 50005, "Cannot edit a message authored by another user")
        self._record_mentions(_ctx().route, _ctx().json or {})
        await self._edit_message(msg, _ctx().json or {}, _ctx().uploads, route=_ctx().route)
        return _json_response(msg.payload)

    async def _h_delete_message(self, request: web.Request) -> web.Response:
        msg = self._require_message(request.match_info["cid"], request.match_info["mid"])
        _, guild = self._require_channel(msg.channel_id)
        if msg.author_id != self.bot.id:
            self._require_permission(guild, MANAGE_MESSAGES, _ctx().route, msg.channel_id)
        await self._delete_message(msg)
        return web.Response(status=204)

    async def _h_no_content(self, request: web.Request) -> web.Response:
        self._require_channel(request.match_info["cid"])
        return web.Response(status=204)

    async def _h_thread_from_message(self, request: web.Request) -> web.Response:
        cid, route = request.match_info["cid"], _ctx().route
        channel, guild = self._require_channel(cid)
        msg = self._require_message(cid, request.match_info["mid"])
        self._require_permission(guild, CREATE_PUBLIC_THREADS, route, cid)
        if msg.flags & FLAG_HAS_THREAD:
            raise _ApiError(400, 160004, "A thread has already been created for this message")
        # A thread started from a message shares the message's id.
        thread = await self._create_thread(channel, guild, _ctx().json or {}, route, thread_id=msg.id, ttype=11)
        msg.payload["flags"] = msg.flags | FLAG_HAS_THREAD
        msg.payload["thread"] = thread
        return _json_response(thread, 201)

    async def _h_thread_without_message(self, request: web.Request) -> web.Response:
        cid, route = request.match_info["cid"], _ctx().route
        channel, guild = self._require_channel(cid)
        body = _ctx().json or {}
        self._require_permission(guild, CREATE_PUBLIC_THREADS, route, cid)
        thread = await self._create_thread(channel, guild, body, route, thread_id=new_snowflake(),
                                           ttype=int(body.get("type") or 12))
        return _json_response(thread, 201)

    async def _create_thread(
        self, parent: dict[str, Any], guild: FakeGuild | None, body: dict[str, Any], route: str, *,
        thread_id: str, ttype: int,
    ) -> dict[str, Any]:
        errs = _FormErrors()
        errs.length(("name",), body.get("name"), 100, low=1, required=True)
        self._raise_form(errs, route)
        if guild is None or parent["type"] not in (0, 5):
            raise _ApiError(400, 50024, "Cannot execute action on this channel type")
        now = _now_iso()
        thread = {
            "id": thread_id, "guild_id": guild.id, "parent_id": parent["id"], "owner_id": self.bot.id,
            "name": body["name"], "type": ttype, "last_message_id": None, "message_count": 0, "member_count": 1,
            "rate_limit_per_user": body.get("rate_limit_per_user") or 0, "flags": 0, "total_message_sent": 0,
            "applied_tags": [],
            "thread_metadata": {"archived": False, "auto_archive_duration": body.get("auto_archive_duration") or 1440,
                                "archive_timestamp": now, "locked": False, "create_timestamp": now,
                                "invitable": body.get("invitable", True)},
        }
        guild.threads[thread_id] = thread
        await self._broadcast("THREAD_CREATE", {**thread, "newly_created": True}, INTENT_GUILDS)
        return thread

    # ---- REST: guilds, users --------------------------------------------------------------------

    def _require_guild(self, request: web.Request) -> FakeGuild:
        guild = self.guilds.get(request.match_info["gid"])
        if guild is None:
            raise _ApiError(404, 10004, "Unknown Guild")
        return guild

    async def _h_get_guild(self, request: web.Request) -> web.Response:
        guild = self._require_guild(request)
        payload = self._guild_payload(guild)
        if request.query.get("with_counts") in ("1", "true", "True"):
            payload.update(approximate_member_count=len(guild.members), approximate_presence_count=0)
        return _json_response(payload)

    async def _h_guild_channels(self, request: web.Request) -> web.Response:
        return _json_response(list(self._require_guild(request).channels.values()))

    async def _h_guild_roles(self, request: web.Request) -> web.Response:
        return _json_response(list(self._require_guild(request).roles.values()))

    async def _h_guild_member(self, request: web.Request) -> web.Response:
        guild = self._require_guild(request)
        member = guild.members.get(request.match_info["uid"])
        if member is None:
            raise _ApiError(404, 10007, "Unknown Member")
        return _json_response(self._member_payload(guild, member))

    async def _h_guild_members(self, request: web.Request) -> web.Response:
        guild = self._require_guild(request)
        if not self.privileged_intents & INTENT_GUILD_MEMBERS:
            # Listing members needs the GUILD_MEMBERS intent enabled for the app.
            self._violate("missing_access", "", "listing members needs the GUILD_MEMBERS intent", _ctx().route)
            raise _ApiError(403, 50001, "Missing Access")
        after = int(request.query.get("after", "0"))
        limit = int(request.query.get("limit", "1"))
        members = sorted((m for m in guild.members.values() if int(m.user.id) > after), key=lambda m: int(m.user.id))
        return _json_response([self._member_payload(guild, m) for m in members[:limit]])

    async def _h_create_dm(self, request: web.Request) -> web.Response:
        user = self.users.get(str((_ctx().json or {}).get("recipient_id")))
        if user is None:
            raise _ApiError(400, 50007, "Cannot send messages to this user")
        return _json_response(self._dm_channel(user))

    async def _h_attachment(self, request: web.Request) -> web.Response:
        att = self._attachments.get(request.match_info["aid"])
        if att is None:
            raise _ApiError(404, 0, "404: Not Found")
        return web.Response(body=att.data, content_type=att.content_type or "application/octet-stream")

    async def _h_unknown(self, request: web.Request) -> web.Response:
        self._violate("unknown_route", "", "the fake does not implement this route", _ctx().route)
        raise _ApiError(404, 0, "404: Not Found")

    # ---- REST: interactions and their webhooks --------------------------------------------------

    async def _h_callback(self, request: web.Request) -> web.Response:
        route, arrived_at = _ctx().route, _ctx().arrived_at
        rec = self._interactions.get(request.match_info["iid"])
        if rec is None or rec.token != request.match_info["token"]:
            raise _ApiError(404, 10062, "Unknown interaction")
        elapsed = arrived_at - rec.dispatched_at
        if rec.callback is not None:
            self._violate("already_acknowledged", "", "second callback for one interaction", route)
            raise _ApiError(400, 40060, "Interaction has already been acknowledged.")
        if elapsed > self.response_deadline:
            self._violate("late_response", "", f"first response {elapsed:.2f}s after dispatch "
                          f"(limit {self.response_deadline}s)", route)
            raise _ApiError(404, 10062, "Unknown interaction")
        body = _ctx().json
        errs = _FormErrors()
        if not isinstance(body, dict):
            errs.add((), "type", "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
            self._raise_form(errs, route)
        ctype, data = body.get("type"), body.get("data") or {}
        if ctype in (4, 7):
            self._record_mentions(route, data)
        target = self._messages_by_id.get(rec.message_id) if rec.message_id else None
        if ctype not in _CALLBACK_TYPES[rec.type] or (ctype in (6, 7) and target is None):
            errs.add(("type",), "invalid_callback_type", "INTERACTION_RESPONSE_TYPE_INVALID",
                     f"Callback type {ctype!r} is not valid for interaction type {rec.type}")
        elif ctype == 4:
            _check_message(errs.sub("data"), data, allowed_flags=_SETTABLE_FLAGS | FLAG_EPHEMERAL)
        elif ctype == 7 and target is not None:
            _check_message(errs.sub("data"), data, allowed_flags=_SETTABLE_FLAGS, current_flags=target.flags)
        elif ctype == 5 and (data.get("flags") or 0) & ~FLAG_EPHEMERAL:
            errs.add(("data", "flags"), "invalid_flags", "MESSAGE_FLAGS_INVALID", "Only EPHEMERAL may be deferred")
        elif ctype == 8:
            _check_choices(errs.sub("data"), data.get("choices"))
        elif ctype == 9:
            _check_modal(errs.sub("data"), data)
        self._raise_form(errs, route)

        msg: StoredMessage | None = None
        uploads = _ctx().uploads
        if ctype == 4:
            msg = await self._create_message(rec.channel_id, data, uploads, route=route, author=self.bot,
                                             webhook=True, msg_type=20 if rec.type == 2 else 0, interaction=rec)
        elif ctype == 5:
            msg = await self._create_message(rec.channel_id, {"flags": data.get("flags") or 0}, [], route=route,
                                             author=self.bot, webhook=True, msg_type=20 if rec.type == 2 else 0,
                                             interaction=rec, extra_flags=FLAG_LOADING, allow_empty=True)
        elif ctype == 7 and target is not None:
            await self._edit_message(target, data, uploads, route=route)
            msg = target
        rec.original = msg or (target if ctype == 6 else None)
        rec.callback = CallbackRecord(rec.id, ctype, body, msg.files if msg and uploads else [], elapsed)
        self.callbacks.append(rec.callback)

        interaction: dict[str, Any] = {"id": rec.id, "type": rec.type}
        resource: dict[str, Any] = {"type": ctype}
        if msg is not None:
            interaction.update(response_message_id=msg.id, response_message_loading=ctype == 5,
                               response_message_ephemeral=msg.ephemeral)
            resource["message"] = msg.payload
        return _json_response({"interaction": interaction, "resource": resource})

    def _webhook_interaction(self, request: web.Request) -> InteractionRecord:
        rec = self._by_token.get(request.match_info["token"])
        if rec is None or request.match_info["app"] != self.application_id:
            raise _ApiError(404, 10015, "Unknown Webhook")
        if asyncio.get_running_loop().time() - rec.dispatched_at > TOKEN_LIFETIME_S:
            raise _ApiError(401, 50027, "Invalid Webhook Token")
        if rec.callback is None:
            self._violate("not_acknowledged", "", "webhook call before the interaction was acknowledged",
                          _ctx().route)
            raise _ApiError(404, 10015, "Unknown Webhook")
        return rec

    async def _h_followup(self, request: web.Request) -> web.Response:
        rec, route = self._webhook_interaction(request), _ctx().route
        body = _ctx().json or {}
        self._record_mentions(route, body)
        errs = _FormErrors()
        _check_message(errs, body, allowed_flags=_SETTABLE_FLAGS | FLAG_EPHEMERAL)
        self._raise_form(errs, route)
        original = rec.original
        if original is not None and original.flags & FLAG_LOADING:
            # Discord resolves the "thinking" message with the first followup; its visibility is fixed.
            await self._edit_message(original, {k: v for k, v in body.items() if k != "flags"},
                                     _ctx().uploads, route=route)
            msg = original
        else:
            msg = await self._create_message(rec.channel_id, body, _ctx().uploads, route=route,
                                             author=self.bot, webhook=True, interaction=rec)
        rec.followups.append(msg)
        self.followups.append(msg)
        return _json_response(msg.payload)

    async def _h_webhook_message(self, request: web.Request) -> web.StreamResponse:
        rec, route, mid = self._webhook_interaction(request), _ctx().route, request.match_info["mid"]
        msg = rec.original if mid == "@original" else self._messages_by_id.get(mid)
        if msg is None or msg.deleted or (msg is not rec.original and msg not in rec.followups):
            raise _ApiError(404, 10008, "Unknown Message")
        if request.method == "GET":
            return _json_response(msg.payload)
        if request.method == "DELETE":
            await self._delete_message(msg)
            return web.Response(status=204)
        body = _ctx().json or {}
        self._record_mentions(route, body)
        await self._edit_message(msg, body, _ctx().uploads, route=route)
        rec.edits.append(body)
        return _json_response(msg.payload)

    # ---- message store --------------------------------------------------------------------------

    def _check_embed_images(self, body: dict[str, Any], files: list[StoredAttachment], route: str) -> None:
        """An embed image `attachment://name` must name a file of the same message, or Discord shows none."""
        names = {f.filename for f in files}
        for i, embed in enumerate(body.get("embeds") or []):
            url = str((embed.get("image") or {}).get("url") or "")
            if url.startswith("attachment://") and url.removeprefix("attachment://") not in names:
                self._violate("embed_attachment", f"embeds.{i}.image.url", f"{url} names no attachment", route)
                raise _ApiError(400, 50035, "Invalid Form Body")

    def _resolve_attachments(
        self, body: dict[str, Any], uploads: list[_Upload], existing: list[StoredAttachment], route: str
    ) -> list[StoredAttachment]:
        by_index: dict[int, _Upload] = {}
        for pos, up in enumerate(uploads):
            m = re.fullmatch(r"files\[(\d+)\]", up.field)
            by_index[int(m.group(1)) if m else pos] = up
        spec = body.get("attachments")
        if spec is None:
            return list(existing) + [self._new_attachment(up, None, route) for up in by_index.values()]
        old = {a.id: a for a in existing}
        result: list[StoredAttachment] = []
        errs = _FormErrors()
        for i, entry in enumerate(spec):
            aid = str(entry.get("id"))
            if aid in old:
                result.append(old[aid])
            elif aid.isdigit() and int(aid) in by_index:
                up = by_index.pop(int(aid))
                up.filename = entry.get("filename") or up.filename
                result.append(self._new_attachment(up, entry.get("description"), route))
            else:
                errs.add(("attachments", str(i), "id"), "unknown_attachment", "ATTACHMENT_NOT_FOUND",
                         f"Unknown attachment {aid}")
        self._raise_form(errs, route)
        return result + [self._new_attachment(up, None, route) for up in by_index.values()]

    async def _create_message(
        self, channel_id: str, body: dict[str, Any], uploads: list[_Upload], *, route: str, author: FakeUser,
        webhook: bool = False, msg_type: int = 0, interaction: InteractionRecord | None = None,
        extra_flags: int = 0, allow_empty: bool = False,
    ) -> StoredMessage:
        channel, guild = self._require_channel(channel_id)
        files = self._resolve_attachments(body, uploads, [], route)
        self._check_embed_images(body, files, route)
        payload: dict[str, Any] = {
            "id": new_snowflake(), "channel_id": channel_id, "author": author.payload(),
            "content": body.get("content") or "", "timestamp": _now_iso(), "edited_timestamp": None,
            "tts": bool(body.get("tts")), "mention_everyone": False, "mentions": self._mentions(body),
            "mention_roles": [], "attachments": [f.payload() for f in files],
            "embeds": [{"type": "rich", **e} for e in body.get("embeds") or []],
            "components": body.get("components") or [], "pinned": False, "type": msg_type,
            "flags": (body.get("flags") or 0) | extra_flags, "reactions": [],
        }
        if not allow_empty and _is_empty(payload):
            self._violate("empty_message", "", "Cannot send an empty message", route)
            raise _ApiError(400, 50006, "Cannot send an empty message")
        if guild is not None:
            payload["guild_id"] = guild.id
        if body.get("nonce") is not None:
            payload["nonce"] = body["nonce"]
        ref = body.get("message_reference")
        if ref:
            target = self._messages_by_id.get(str(ref.get("message_id")))
            if target is None and ref.get("fail_if_not_exists", True):
                self._violate("unknown_reference", "message_reference", "reply to an unknown message", route)
                raise _ApiError(400, 50035, "Invalid Form Body", errors={"message_reference": {"_errors": [
                    {"code": "REPLIES_UNKNOWN_MESSAGE", "message": "Unknown message"}]}})
            if target is not None:
                payload.update(type=19, referenced_message=target.payload, message_reference={
                    "type": 0, "message_id": target.id, "channel_id": target.channel_id,
                    "guild_id": target.payload.get("guild_id")})
        if webhook:
            payload.update(webhook_id=self.application_id, application_id=self.application_id)
        if interaction is not None:
            meta: dict[str, Any] = {
                "id": interaction.id, "type": interaction.type,
                "user": (interaction.payload.get("member") or interaction.payload)["user"],
                "authorizing_integration_owners": interaction.payload["authorizing_integration_owners"],
            }
            if interaction.original is not None:
                meta["original_response_message_id"] = interaction.original.id
            if interaction.message_id:
                meta["interacted_message_id"] = interaction.message_id
            payload["interaction_metadata"] = meta
        msg = StoredMessage(payload, files, interaction_id=interaction.id if interaction else None)
        self.messages[channel_id].append(msg)
        self._messages_by_id[msg.id] = msg
        if not msg.ephemeral:
            channel["last_message_id"] = msg.id
            if "message_count" in channel:
                channel["message_count"] += 1
                channel["total_message_sent"] += 1
            await self._broadcast_message("MESSAGE_CREATE", msg, guild)
        return msg

    async def _edit_message(
        self, msg: StoredMessage, body: dict[str, Any], uploads: list[_Upload], *, route: str
    ) -> None:
        errs = _FormErrors()
        _check_message(errs, body, allowed_flags=_SETTABLE_FLAGS, current_flags=msg.flags)
        self._raise_form(errs, route)
        new = dict(msg.payload)
        if "content" in body:
            new["content"] = body["content"] or ""
        if "embeds" in body:
            new["embeds"] = [{"type": "rich", **e} for e in body["embeds"] or []]
        if "components" in body:
            new["components"] = body["components"] or []
        flags = msg.flags
        if body.get("flags") is not None:
            flags = (flags & ~_SETTABLE_FLAGS) | (body["flags"] & _SETTABLE_FLAGS)
        was_loading = bool(flags & FLAG_LOADING)
        new["flags"] = flags & ~FLAG_LOADING
        files = msg.files
        if "attachments" in body or uploads:
            files = self._resolve_attachments(body, uploads, msg.files, route)
            new["attachments"] = [f.payload() for f in files]
        if _is_empty(new):
            self._violate("empty_message", "", "Cannot send an empty message", route)
            raise _ApiError(400, 50006, "Cannot send an empty message")
        if not was_loading:
            new["edited_timestamp"] = _now_iso()
            msg.edits += 1
        msg.payload, msg.files = new, files
        if not msg.ephemeral:
            found = self._channel(msg.channel_id)
            await self._broadcast_message("MESSAGE_UPDATE", msg, found[1] if found else None)

    async def _delete_message(self, msg: StoredMessage) -> None:
        msg.deleted = True
        if not msg.ephemeral:
            event = {"id": msg.id, "channel_id": msg.channel_id}
            if msg.payload.get("guild_id"):
                event["guild_id"] = msg.payload["guild_id"]
            await self._broadcast("MESSAGE_DELETE", event, self._message_intent(msg))

    def _mentions(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        ids = re.findall(r"<@!?(\d+)>", body.get("content") or "")
        return [self.users[i].payload() for i in dict.fromkeys(ids) if i in self.users]

    def _message_intent(self, msg: StoredMessage) -> int:
        return INTENT_GUILD_MESSAGES if msg.payload.get("guild_id") else INTENT_DIRECT_MESSAGES

    async def _broadcast_message(self, event: str, msg: StoredMessage, guild: FakeGuild | None) -> None:
        base = dict(msg.payload)
        if guild is not None and msg.author_id in guild.members:
            base["member"] = self._member_payload(guild, guild.members[msg.author_id], with_user=False)
        hidden = {**base, "content": "", "embeds": [], "attachments": [], "components": []}
        mentions_bot = any(u["id"] == self.bot.id for u in msg.payload.get("mentions", []))
        for session in self._event_sessions(self._message_intent(msg)):
            # Without MESSAGE_CONTENT, Discord blanks other users' messages that do not mention the bot.
            sees = session.intents & INTENT_MESSAGE_CONTENT or msg.author_id == self.bot.id or mentions_bot
            await self._send_dispatch(session, event, base if sees else hidden)

    # ---- gateway --------------------------------------------------------------------------------

    def _event_sessions(self, intent: int) -> list[_Session]:
        return [s for s in self._sessions.values() if s.ready and s.resumable and s.intents & intent]

    async def _broadcast(self, event: str, data: dict[str, Any], intent: int) -> None:
        for session in self._event_sessions(intent):
            await self._send_dispatch(session, event, data)

    async def _send_dispatch(self, session: _Session, event: str, data: dict[str, Any]) -> None:
        async with session.lock:
            session.seq += 1
            frame = {"op": 0, "t": event, "s": session.seq, "d": data}
            # Kept for RESUME replay; a socket that is down just misses the write.
            session.log.append(frame)
            del session.log[:-1000]
            ws = session.ws
            if ws is not None and not ws.closed:
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await ws.send_str(json.dumps(frame))

    async def _h_websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        self._sockets.add(ws)
        self.gateway_connections.append(dict(request.query))
        state: dict[str, _Session | None] = {"session": None}
        try:
            await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}}))
            async for frame in ws:
                if frame.type is not aiohttp.WSMsgType.TEXT:
                    await ws.close(code=4002, message=b"Error while decoding payload.")
                    break
                try:
                    payload = json.loads(frame.data)
                except ValueError:
                    await ws.close(code=4002, message=b"Error while decoding payload.")
                    break
                await self._on_gateway_frame(ws, state, payload)
                self._notify()
        finally:
            self._sockets.discard(ws)
            # aiohttp reports the client's echo of a server-initiated close, so remember our own code.
            close_code = self._server_closes.pop(ws, ws.close_code)
            session = state["session"]
            if session is not None and session.ws is ws:
                session.ws = None
                # A deliberate close (1000/1001) ends the session on Discord's side as well.
                if close_code in (1000, 1001):
                    session.resumable = False
                    self._sessions.pop(session.id, None)
                    if self._current is session:
                        self._current = None
            self._notify()
        return ws

    async def _on_gateway_frame(
        self, ws: web.WebSocketResponse, state: dict[str, _Session | None], payload: dict[str, Any]
    ) -> None:
        op, d = payload.get("op"), payload.get("d")
        if op == 1:
            self.heartbeats += 1
            await ws.send_str(json.dumps({"op": 11}))
        elif op == 2:
            await self._identify(ws, state, d or {})
        elif op == 6:
            await self._resume(ws, state, d or {})
        elif state["session"] is None:
            await ws.close(code=4003, message=b"Not authenticated.")
        elif op == 3:
            self.presence_updates.append(d)
        elif op == 8:
            await self._member_chunk(state["session"], d or {})
        elif op != 4:  # voice state updates are accepted and ignored
            await ws.close(code=4001, message=b"Unknown opcode.")

    async def _identify(self, ws: web.WebSocketResponse, state: dict[str, _Session | None], d: dict[str, Any]) -> None:
        self.identify_payloads.append(d)
        if state["session"] is not None:
            await ws.close(code=4005, message=b"Already authenticated.")
            return
        if d.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        intents = d.get("intents")
        if not isinstance(intents, int):
            await ws.close(code=4013, message=b"Invalid intent(s).")
            return
        if intents & PRIVILEGED_INTENTS & ~self.privileged_intents:
            await ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        session = _Session(secrets.token_hex(16), intents, d.get("shard"), ws=ws)
        self._sessions[session.id] = session
        self._current = session
        state["session"] = session
        ready: dict[str, Any] = {
            "v": API_VERSION, "user": {**self.bot.payload(), "verified": True, "mfa_enabled": False, "email": None},
            "guilds": [{"id": g.id, "unavailable": True} for g in self.guilds.values()],
            "session_id": session.id, "session_type": "normal", "resume_gateway_url": self.gateway_url,
            "application": {"id": self.application_id, "flags": self._application_flags()},
            "private_channels": [], "relationships": [], "presences": [], "user_settings": {},
            "guild_join_requests": [], "geo_ordered_rtc_regions": [], "_trace": ["fake-discord"],
        }
        if session.shard is not None:
            ready["shard"] = session.shard
        await self._send_dispatch(session, "READY", ready)
        for guild in self.guilds.values():
            if intents & INTENT_GUILDS:
                await self._send_dispatch(session, "GUILD_CREATE", self._guild_create_payload(guild, session))
        session.ready = True

    async def _resume(self, ws: web.WebSocketResponse, state: dict[str, _Session | None], d: dict[str, Any]) -> None:
        session = self._sessions.get(str(d.get("session_id")))
        if d.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        if session is None or not session.resumable:
            # d=false: not resumable, discord.py closes and IDENTIFYs afresh.
            await ws.send_str(json.dumps({"op": 9, "d": False}))
            return
        self.resumes += 1
        state["session"] = session
        last_seen = d.get("seq") or 0
        async with session.lock:
            session.ws = ws
            for frame in session.log:
                if frame["s"] > last_seen:
                    await ws.send_str(json.dumps(frame))
        self._current = session
        await self._send_dispatch(session, "RESUMED", {"_trace": ["fake-discord"]})

    async def _member_chunk(self, session: _Session, d: dict[str, Any]) -> None:
        guild = self.guilds.get(str(d.get("guild_id")))
        if guild is None:
            return
        members = list(guild.members.values())
        if not session.intents & INTENT_GUILD_MEMBERS:
            members = [guild.members[self.bot.id]]
        if d.get("user_ids"):
            wanted = {str(u) for u in d["user_ids"]}
            members = [m for m in members if m.user.id in wanted]
        elif d.get("query"):
            members = [m for m in members if m.user.username.startswith(d["query"])]
        chunk = {"guild_id": guild.id, "members": [self._member_payload(guild, m) for m in members],
                 "chunk_index": 0, "chunk_count": 1, "not_found": []}
        if d.get("nonce"):
            chunk["nonce"] = d["nonce"]
        await self._send_dispatch(session, "GUILD_MEMBERS_CHUNK", chunk)


def overwrite(target_id: str, *, allow: int = 0, deny: int = 0, member: bool = False) -> dict[str, Any]:
    """A channel permission overwrite for a role (the guild id is @everyone) or, with member=True, a member."""
    return {"id": str(target_id), "type": 1 if member else 0, "allow": str(allow), "deny": str(deny)}


def _role_payload(
    rid: str, name: str, permissions: int, position: int, *, managed: bool = False, tags: dict[str, Any] | None = None
) -> dict[str, Any]:
    role: dict[str, Any] = {
        "id": rid, "name": name, "permissions": str(permissions), "position": position, "color": 0,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None}, "hoist": False,
        "icon": None, "unicode_emoji": None, "managed": managed, "mentionable": False, "flags": 0,
    }
    if tags is not None:
        role["tags"] = tags
    return role


def _descend(
    cmd: dict[str, Any], subcommand: str | Sequence[str] | None
) -> tuple[list[dict[str, Any]], Callable[[list[dict[str, Any]]], list[dict[str, Any]]]]:
    """Walk to the invoked (sub)command; return its option specs and a function that nests leaf
    options the way Discord does: [{type 2, name, options: [{type 1, name, options: leaf}]}]."""
    parts = subcommand.split() if isinstance(subcommand, str) else list(subcommand or [])
    specs: list[dict[str, Any]] = cmd.get("options") or []
    path: list[dict[str, Any]] = []
    for part in parts:
        found = next((o for o in specs if o.get("name") == part and o.get("type") in (1, 2)), None)
        if found is None:
            raise LookupError(f"/{cmd['name']} has no subcommand {part!r}")
        path.append(found)
        specs = found.get("options") or []
    if any(o.get("type") in (1, 2) for o in specs):
        raise ValueError(f"/{cmd['name']} {' '.join(parts)} needs a subcommand")

    def wrap(leaf: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for spec in reversed(path):
            leaf = [{"type": spec["type"], "name": spec["name"], "options": leaf}]
        return leaf

    return specs, wrap
