"""A strict, local fake Slack for offline tests: Web API, upload URLs, response_url sink, Socket Mode.

Strict on purpose: Block Kit limits that real Slack enforces are enforced here too, so an over-long
label fails a test instead of failing in production. Every rejected payload is also appended to
`FakeSlack.violations`, so a test can assert `not slack.violations` even when the code under test
swallowed the API error.

Times: the core writes moments as `⟦t:...⟧` tokens that every adapter must resolve before sending. A
token bracket in anything the bot sends (API params, response_url bodies, socket acks) is recorded in
`FakeSlack.token_leaks` and `violations`, and leaving the `async with` block then fails the test: real
Slack would show the raw token, so every end-to-end test checks this without asking.

Wire facts this relies on (checked against slack_sdk 3.48 / slack_bolt 1.30):
- AsyncWebClient sends JSON for chat.*/views.*, but puts the arguments of auth.test, users.info,
  conversations.*, files.* and apps.connections.open in the query string, and users.info,
  conversations.history and conversations.replies are GETs. So query, form and JSON are all merged.
- The token travels in `Authorization: Bearer ...`; a form `token` field is accepted too.
- files_upload_v2 POSTs raw bytes (not multipart) to the upload URL and only checks for HTTP 200.
- The Socket Mode client never reads the hello; it acks with `{"envelope_id": ..., "payload"?: ...}`.
- Channels declared with `set_channel` have members; the bot sees a private channel only when it is in
  it (users.conversations, conversations.members), and posting where the bot is not in is not_in_channel.
  Channels never declared behave as before: the bot can post anywhere, and nobody is listed as a member.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import json
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import WSCloseCode, WSMsgType, web
from slack_sdk.signature import SignatureVerifier

from tests.fakes.images import image_problems

JSON = dict[str, Any]

TEAM_ID = "T0001"
TEAM_NAME = "Fake Workspace"
BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
APP_ID = "A0001"

MESSAGE_MAX_BLOCKS = 50
VIEW_MAX_BLOCKS = 100
MESSAGE_TEXT_MAX = 40_000
ACK_DEADLINE_S = 3.0
ALT_TXT_MAX = 1000  # files.getUploadURLExternal: alt text for an image
RESPONSE_URL_MAX_USES = 5

# Fields Slack accepts as JSON-encoded strings when a call is form-encoded.
_JSON_STRING_FIELDS = ("blocks", "attachments", "metadata", "view", "files")
_KNOWN_BLOCK_TYPES = frozenset(
    {"section", "header", "context", "actions", "divider", "image", "input", "rich_text", "markdown",
     "file", "video", "table", "context_actions"}
)
_SELECTS_WITH_OPTIONS = frozenset({"static_select", "multi_static_select", "radio_buttons", "checkboxes"})

ActionIdScope = Literal["message", "block"]
TOKEN_BRACKETS = ("\u27e6", "\u27e7")  # core.moments.OPEN / CLOSE, spelt out so the fake stays independent


def unresolved_tokens(value: Any, where: str = "") -> list[str]:
    """Where a string in `value` still holds a moment-token bracket (the adapter did not resolve it)."""
    if isinstance(value, str):
        return [f"{where or 'text'}: unresolved moment token in {value[:80]!r}"] if any(
            b in value for b in TOKEN_BRACKETS) else []
    if isinstance(value, dict):
        return [e for k, v in value.items() for e in unresolved_tokens(v, f"{where}.{k}" if where else str(k))]
    if isinstance(value, list):
        return [e for i, v in enumerate(value) for e in unresolved_tokens(v, f"{where}[{i}]")]
    return []


# --------------------------------------------------------------------------- Block Kit checks


def check_blocks(
    blocks: Any, *, max_blocks: int = MESSAGE_MAX_BLOCKS, action_id_scope: ActionIdScope = "message"
) -> list[str]:
    """Return one explanation per Block Kit rule broken (empty list: Slack would accept it).

    Public so renderer unit tests can use the same rules without a server.
    `action_id_scope="block"` is what Slack itself enforces; "message" is stricter and is the default
    because this project wants action ids that identify a button without also reading the block id.
    """
    if not isinstance(blocks, list):
        return [f"blocks must be an array, got {type(blocks).__name__}"]
    errors: list[str] = []
    if len(blocks) > max_blocks:
        errors.append(f"{len(blocks)} blocks, max {max_blocks}")
    block_ids: set[str] = set()
    message_action_ids: set[str] = set()
    for i, block in enumerate(blocks):
        where = f"blocks[{i}]"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            errors.append(f"{where}: a block must be an object with a type")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            _check_id(errors, f"{where}.block_id", block_id, block_ids)
        action_ids = message_action_ids if action_id_scope == "message" else set()
        _check_block(errors, where, block, action_ids)
    return errors


def check_view(view: Any, *, action_id_scope: ActionIdScope = "message") -> list[str]:
    if not isinstance(view, dict):
        return ["view must be an object"]
    errors: list[str] = []
    if view.get("type") not in ("home", "modal"):
        errors.append(f"view.type must be home or modal, got {view.get('type')!r}")
    _check_len(errors, "view.private_metadata", view.get("private_metadata"), 3000)
    _check_len(errors, "view.callback_id", view.get("callback_id"), 255)
    for key in ("title", "submit", "close"):
        if key in view:
            _check_text(errors, f"view.{key}", view[key], 24, plain_only=True)
    errors.extend(
        check_blocks(view.get("blocks", []), max_blocks=VIEW_MAX_BLOCKS, action_id_scope=action_id_scope)
    )
    return errors


_INPUT_ELEMENTS = frozenset({"plain_text_input", "number_input", "email_text_input", "url_text_input",
                             "static_select", "multi_static_select", "radio_buttons", "checkboxes",
                             "users_select", "conversations_select", "channels_select", "datepicker"})


def check_modal(view: Any, *, action_id_scope: ActionIdScope = "message") -> list[str]:
    """check_view plus what views.open requires of a modal: a title, a callback_id to route its
    submission, input blocks holding input elements with action_ids, and a submit button for them."""
    errors = check_view(view, action_id_scope=action_id_scope)
    if not isinstance(view, dict):
        return errors
    if view.get("type") != "modal":
        errors.append("views.open only takes a modal")
    if "title" not in view:
        errors.append("view.title: required for a modal")
    if not isinstance(view.get("callback_id"), str) or not view["callback_id"]:
        errors.append("view.callback_id: required, or the submission cannot be routed")
    inputs = [b for b in view.get("blocks") or [] if isinstance(b, dict) and b.get("type") == "input"]
    if not inputs:
        errors.append("view.blocks: no input block to submit")
    elif "submit" not in view:
        errors.append("view.submit: required when a modal has input blocks")
    for i, block in enumerate(inputs):
        element = block.get("element")
        if not isinstance(element, dict) or element.get("type") not in _INPUT_ELEMENTS:
            errors.append(f"input[{i}].element: not an input element")
            continue
        if not isinstance(element.get("action_id"), str) or not isinstance(block.get("block_id"), str):
            errors.append(f"input[{i}]: needs a block_id and an action_id to read its value back")
        if element["type"] == "plain_text_input":
            max_length = element.get("max_length", 3000)
            if not isinstance(max_length, int) or not 1 <= max_length <= 3000:
                errors.append(f"input[{i}].element.max_length: must be 1 to 3000")
    return errors


def _check_len(errors: list[str], where: str, value: Any, max_len: int) -> None:
    if isinstance(value, str) and len(value) > max_len:
        errors.append(f"{where}: {len(value)} characters, max {max_len}")


def _check_id(errors: list[str], where: str, value: Any, seen: set[str]) -> None:
    if not isinstance(value, str) or not value:
        errors.append(f"{where}: must be a non-empty string")
        return
    _check_len(errors, where, value, 255)
    if value in seen:
        errors.append(f"{where}: duplicate {value!r}")
    seen.add(value)


def _check_text(errors: list[str], where: str, obj: Any, max_len: int, *, plain_only: bool = False) -> None:
    if not isinstance(obj, dict):
        errors.append(f"{where}: must be a text object")
        return
    allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    if obj.get("type") not in allowed:
        errors.append(f"{where}.type: must be {' or '.join(allowed)}, got {obj.get('type')!r}")
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        # Slack rejects empty text objects, which a renderer fed an empty string easily produces.
        errors.append(f"{where}.text: must be a non-empty string")
        return
    _check_len(errors, f"{where}.text", text, max_len)


def _check_block(errors: list[str], where: str, block: JSON, action_ids: set[str]) -> None:
    kind = block["type"]
    if kind not in _KNOWN_BLOCK_TYPES:
        errors.append(f"{where}: unknown block type {kind!r}")
    elif kind == "section":
        if "text" not in block and "fields" not in block:
            errors.append(f"{where}: a section needs text or fields")
        if "text" in block:
            _check_text(errors, f"{where}.text", block["text"], 3000)
        fields = block.get("fields")
        if fields is not None:
            if not isinstance(fields, list) or len(fields) > 10:
                errors.append(f"{where}.fields: must be an array of at most 10 text objects")
            else:
                for j, fld in enumerate(fields):
                    _check_text(errors, f"{where}.fields[{j}]", fld, 2000)
        if "accessory" in block:
            _check_element(errors, f"{where}.accessory", block["accessory"], action_ids)
    elif kind == "header":
        _check_text(errors, f"{where}.text", block.get("text"), 150, plain_only=True)
    elif kind == "context":
        elements = block.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
            errors.append(f"{where}.elements: must hold 1 to 10 elements")
        else:
            for j, element in enumerate(elements):
                if isinstance(element, dict) and element.get("type") == "image":
                    _check_image(errors, f"{where}.elements[{j}]", element)
                else:
                    _check_text(errors, f"{where}.elements[{j}]", element, 3000)
    elif kind == "actions":
        elements = block.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= 25:
            errors.append(f"{where}.elements: must hold 1 to 25 elements")
        else:
            for j, element in enumerate(elements):
                _check_element(errors, f"{where}.elements[{j}]", element, action_ids)
    elif kind == "image":
        _check_image(errors, where, block)
        if "title" in block:
            _check_text(errors, f"{where}.title", block["title"], 2000, plain_only=True)
    elif kind == "input":
        _check_text(errors, f"{where}.label", block.get("label"), 2000, plain_only=True)
        if "hint" in block:
            _check_text(errors, f"{where}.hint", block["hint"], 2000, plain_only=True)
        _check_element(errors, f"{where}.element", block.get("element"), action_ids)
    elif kind == "markdown":
        _check_len(errors, f"{where}.text", block.get("text"), 12_000)


def _check_image(errors: list[str], where: str, image: JSON) -> None:
    if not isinstance(image.get("alt_text"), str):
        errors.append(f"{where}.alt_text: required")
    _check_len(errors, f"{where}.alt_text", image.get("alt_text"), 2000)
    _check_len(errors, f"{where}.image_url", image.get("image_url"), 3000)


def _check_element(errors: list[str], where: str, element: Any, action_ids: set[str]) -> None:
    if not isinstance(element, dict) or not isinstance(element.get("type"), str):
        errors.append(f"{where}: an element must be an object with a type")
        return
    kind = element["type"]
    if "action_id" in element:
        _check_id(errors, f"{where}.action_id", element["action_id"], action_ids)
    if "placeholder" in element:
        _check_text(errors, f"{where}.placeholder", element["placeholder"], 150, plain_only=True)
    if kind == "button":
        _check_text(errors, f"{where}.text", element.get("text"), 75, plain_only=True)
        _check_len(errors, f"{where}.value", element.get("value"), 2000)
        _check_len(errors, f"{where}.url", element.get("url"), 3000)
        if element.get("style") not in (None, "primary", "danger"):
            errors.append(f"{where}.style: must be primary or danger")
    elif kind in _SELECTS_WITH_OPTIONS:
        options = element.get("options")
        groups = element.get("option_groups")
        if options is None and groups is None:
            errors.append(f"{where}: needs options or option_groups")
        if options is not None:
            _check_options(errors, f"{where}.options", options, 100, plain_only=kind.endswith("select"))
        if groups is not None:
            if not isinstance(groups, list) or len(groups) > 100:
                errors.append(f"{where}.option_groups: at most 100 groups")
            else:
                for j, group in enumerate(groups):
                    opts = group.get("options") if isinstance(group, dict) else None
                    _check_options(errors, f"{where}.option_groups[{j}].options", opts, 100, plain_only=True)
    elif kind == "overflow":
        _check_options(errors, f"{where}.options", element.get("options"), 5, plain_only=True)
    elif kind == "image":
        _check_image(errors, where, element)


def _check_options(errors: list[str], where: str, options: Any, max_count: int, *, plain_only: bool) -> None:
    if not isinstance(options, list) or not 1 <= len(options) <= max_count:
        errors.append(f"{where}: must hold 1 to {max_count} options")
        return
    for j, option in enumerate(options):
        if not isinstance(option, dict):
            errors.append(f"{where}[{j}]: must be an option object")
            continue
        _check_text(errors, f"{where}[{j}].text", option.get("text"), 75, plain_only=plain_only)
        _check_len(errors, f"{where}[{j}].value", option.get("value"), 150)


def find_action(blocks: list[JSON], action_id: str) -> tuple[str | None, JSON] | None:
    """(block_id, element) of the interactive element with this action_id, for building clicks."""
    for block in blocks:
        candidates = list(block.get("elements") or [])
        for key in ("accessory", "element"):
            if isinstance(block.get(key), dict):
                candidates.append(block[key])
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return block.get("block_id"), element
    return None


# --------------------------------------------------------------------------- records


@dataclass
class Call:
    method: str
    params: JSON
    time: float
    token: str | None = None
    status: int = 200
    response: JSON | None = None


@dataclass
class Violation:
    source: str  # API method, "response_url:<tag>" or "socket_ack:<envelope_id>"
    errors: list[str]
    payload: Any


@dataclass
class ResponsePost:
    tag: str
    body: JSON
    time: float
    accepted: bool


@dataclass
class UploadedFile:
    file_id: str
    filename: str
    length: int
    content: bytes | None = None
    title: str | None = None
    channel_id: str | None = None
    initial_comment: str | None = None
    thread_ts: str | None = None
    alt_txt: str | None = None


@dataclass
class _Failure:
    error: str
    status: int
    retry_after: int | None
    remaining: int
    drop: bool


@dataclass
class FakeChannel:
    channel_id: str
    private: bool
    members: set[str]

    def describe(self) -> JSON:
        return {"id": self.channel_id, "name": self.channel_id.lower(), "is_channel": not self.private,
                "is_group": self.private, "is_private": self.private, "is_member": BOT_USER_ID in self.members,
                "is_archived": False}


def _page(params: JSON, default_limit: int) -> tuple[int, int]:
    """Cursor pagination as Slack does it; here the cursor is simply the next index."""
    cursor = str(params.get("cursor") or "0")
    if not cursor.isdigit():
        raise _ApiError("invalid_cursor")
    limit = int(params.get("limit") or default_limit)
    return int(cursor), max(1, min(limit, 1000))


class _ApiError(Exception):
    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


def _truthy(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


def _ts_key(ts: Any) -> Decimal:
    try:
        return Decimal(str(ts))
    except InvalidOperation:
        return Decimal(0)


# --------------------------------------------------------------------------- the server


class FakeSlack:
    """The fake server. Use as `async with FakeSlack() as slack:`; all recorded state is public."""

    def __init__(
        self,
        bot_token: str = "xoxb-test",
        app_token: str = "xapp-test",
        *,
        action_id_scope: ActionIdScope = "message",
    ) -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.action_id_scope: ActionIdScope = action_id_scope
        self.base_url = ""
        self.api_url = ""
        self.calls: list[Call] = []
        self.messages: defaultdict[str, list[JSON]] = defaultdict(list)
        self.ephemerals: list[JSON] = []
        self.views: dict[str, JSON] = {}
        self.modals: list[JSON] = []  # views.open, newest last (see view_submission_payload)
        self.expired_triggers: set[str] = set()  # trigger_ids views.open answers expired_trigger_id for
        self._used_triggers: set[str] = set()
        self.files: list[UploadedFile] = []
        self.responses: list[ResponsePost] = []
        self.violations: list[Violation] = []
        self.token_leaks: list[Violation] = []
        self.unknown_methods: list[str] = []
        self.users: dict[str, JSON] = {}
        self.channels: dict[str, FakeChannel] = {}
        self.envelopes: list[JSON] = []
        self.acks: dict[str, JSON] = {}
        self.socket_connections = 0
        self._port = 0
        self._runner: web.AppRunner | None = None
        self._failures: defaultdict[str, list[_Failure]] = defaultdict(list)
        self._ts_counter = itertools.count(1)
        self._id_counter = itertools.count(1)
        self._uploads: dict[str, UploadedFile] = {}
        self._tickets: set[str] = set()
        self._sockets: list[web.WebSocketResponse] = []
        self._socket_connected = asyncio.Event()
        self._sent_at: dict[str, float] = {}
        self._ack_events: dict[str, asyncio.Event] = {}
        self._response_bindings: dict[str, tuple[str, str]] = {}
        self._response_uses: defaultdict[str, int] = defaultdict(int)
        self.set_user(BOT_USER_ID, name="counterpoint", is_bot=True)

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> FakeSlack:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("GET", "/api/{method}", self._api)
        app.router.add_route("POST", "/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/response/{tag}", self._response_url_post)
        app.router.add_get("/socket-mode", self._socket)
        # No access log: its request lines (query strings with user ids, response_url paths) are the
        # fake's own, and would only muddy tests that read every log record of the bot.
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{self._port}"
        self.api_url = f"{self.base_url}/api/"
        return self

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close(code=WSCloseCode.GOING_AWAY)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlack:
        return await self.start()

    async def __aexit__(self, exc_type: object, *exc: object) -> None:
        await self.stop()
        if exc_type is None and self.token_leaks:
            raise AssertionError(f"the bot sent unresolved moment tokens: {self.token_leaks}")

    # ---------------------------------------------------------------- test-facing helpers

    def set_user(
        self,
        user_id: str,
        *,
        is_admin: bool = False,
        is_owner: bool = False,
        is_primary_owner: bool = False,
        tz: str = "UTC",
        name: str | None = None,
        is_bot: bool = False,
        deleted: bool = False,
    ) -> JSON:
        offset = ZoneInfo(tz).utcoffset(datetime.now(UTC).replace(tzinfo=None))
        user = {
            "id": user_id, "team_id": TEAM_ID, "name": name or user_id.lower(),
            "real_name": name or user_id, "deleted": deleted, "is_bot": is_bot,
            "is_admin": is_admin, "is_owner": is_owner, "is_primary_owner": is_primary_owner,
            "tz": tz, "tz_label": tz, "tz_offset": int(offset.total_seconds()) if offset else 0,
        }
        self.users[user_id] = user
        return user

    def set_channel(
        self, channel_id: str, *, private: bool = False, members: tuple[str, ...] | list[str] = (),
        bot_member: bool = True,
    ) -> FakeChannel:
        """Declare a channel with its members (the bot is added when `bot_member`)."""
        channel = FakeChannel(channel_id, private, set(members))
        if bot_member:
            channel.members.add(BOT_USER_ID)
        self.channels[channel_id] = channel
        return channel

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def message(self, channel: str, ts: str) -> JSON | None:
        return next((m for m in self.messages.get(channel, []) if m["ts"] == ts), None)

    def fail_next(
        self,
        method: str,
        error: str = "ratelimited",
        *,
        status: int | None = None,
        retry_after: int | None = 1,
        times: int = 1,
        drop: bool = False,
    ) -> None:
        """Make the next `times` calls to `method` fail; `drop=True` closes the connection unanswered.

        `method` may also be "response_url" or "upload". A 429 defaults to Retry-After: 1 because
        slack_sdk sleeps int(Retry-After) + random() seconds before retrying.
        """
        if status is None:
            status = 429 if error == "ratelimited" else 200
        self._failures[method].append(_Failure(error, status, retry_after, times, drop))

    def response_url(self, tag: str, *, channel: str | None = None, message_ts: str | None = None) -> str:
        """A response_url on this fake; bind it to a stored message to make replace/delete act on it."""
        if channel is not None and message_ts is not None:
            self._response_bindings[tag] = (channel, message_ts)
        return f"{self.base_url}/response/{tag}"

    # The timeout parameters below are the API the tests asked for; asyncio.timeout() at each call
    # site would only add noise.
    async def wait_for(
        self,
        predicate: Callable[[], Any],
        timeout: float = 5.0,  # noqa: ASYNC109
        interval: float = 0.01,
    ) -> Any:
        """Poll until predicate() (sync or async) is truthy and return that value."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if inspect.isawaitable(result):
                result = await result
            if result:
                return result
            if loop.time() >= deadline:
                raise TimeoutError(f"condition not met within {timeout}s")
            await asyncio.sleep(interval)

    # ---------------------------------------------------------------- Socket Mode, test side

    async def wait_socket_connected(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        await asyncio.wait_for(self._socket_connected.wait(), timeout)

    async def socket_send(
        self, envelope_type: str, payload: JSON, *, accepts_response_payload: bool | None = None
    ) -> str:
        """Push an envelope to the newest Socket Mode connection and return its envelope_id."""
        if envelope_type not in ("slash_commands", "interactive", "events_api"):
            raise ValueError(f"unsupported envelope type {envelope_type!r}")
        if accepts_response_payload is None:
            # Slack sets this only where the ack body is used: slash commands, view submissions and
            # block suggestions. Block actions and events ignore an ack payload.
            takes_body = ("view_submission", "block_suggestion")
            accepts_response_payload = envelope_type == "slash_commands" or (
                envelope_type == "interactive" and payload.get("type") in takes_body
            )
        envelope: JSON = {
            "envelope_id": str(uuid.uuid4()),
            "type": envelope_type,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        if envelope_type == "events_api":
            envelope.update(retry_attempt=0, retry_reason="")
        await self.socket_send_raw(envelope)
        return envelope["envelope_id"]

    async def socket_send_raw(self, message: JSON) -> None:
        """Send any frame, e.g. {"type": "disconnect", "reason": "refresh_requested"}."""
        live = [ws for ws in self._sockets if not ws.closed]
        if not live:
            raise RuntimeError("no Socket Mode client is connected")
        envelope_id = message.get("envelope_id")
        if envelope_id:
            self._sent_at[envelope_id] = time.monotonic()
            self._ack_events[envelope_id] = asyncio.Event()
            self.envelopes.append(message)
        await live[-1].send_json(message)

    async def wait_ack(self, envelope_id: str, timeout: float = 5.0) -> JSON:  # noqa: ASYNC109
        """Wait for the ack and return its payload ({} for a bare ack); the raw ack is in `acks`."""
        event = self._ack_events.get(envelope_id)
        if event is None:
            raise KeyError(f"envelope {envelope_id} was never sent")
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"no ack for envelope {envelope_id} within {timeout}s") from None
        return self.acks[envelope_id].get("payload") or {}

    # ---------------------------------------------------------------- HTTP plumbing

    def _take_failure(self, method: str) -> _Failure | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        failure.remaining -= 1
        if failure.remaining <= 0:
            queue.pop(0)
        return failure

    def _violation(self, source: str, errors: list[str], payload: Any) -> None:
        self.violations.append(Violation(source, errors, payload))

    def _check_tokens(self, source: str, payload: Any) -> None:
        """Recorded, not refused: Slack would post the raw token, so the request itself succeeds."""
        errors = unresolved_tokens(payload)
        if errors:
            self.token_leaks.append(Violation(source, errors, payload))
            self._violation(source, errors, payload)

    @staticmethod
    async def _read_params(request: web.Request) -> JSON:
        params: JSON = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError as exc:
                    raise _ApiError("invalid_json") from exc
                if isinstance(body, dict):
                    params.update(body)
            else:
                form = await request.post()
                for key, value in form.items():
                    params[key] = value if isinstance(value, str) else value.file.read()
        for key in _JSON_STRING_FIELDS:
            if isinstance(params.get(key), str):
                try:
                    params[key] = json.loads(params[key])
                except ValueError:
                    pass  # left as a string, so the Block Kit check reports it
        return params

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        call = Call(method=method, params={}, time=time.time())
        self.calls.append(call)
        headers: dict[str, str] = {}
        try:
            call.params = await self._read_params(request)
            self._check_tokens(method, call.params)
            header = request.headers.get("Authorization", "")
            call.token = header.removeprefix("Bearer ").strip() or call.params.pop("token", None)
            failure = self._take_failure(method)
            if failure is not None:
                if failure.drop:
                    if request.transport is not None:
                        request.transport.close()
                    return web.Response()
                call.status = failure.status
                if failure.status == 429 and failure.retry_after is not None:
                    headers["Retry-After"] = str(failure.retry_after)
                raise _ApiError(failure.error)
            handler = self._handlers().get(method)
            if handler is None:
                self.unknown_methods.append(method)
                raise _ApiError("unknown_method", req_method=method)
            kind, func = handler
            self._authorize(kind, call.token)
            body = func(call.params)
            if method == "auth.test":
                headers["X-OAuth-Scopes"] = ("chat:write,commands,users:read,im:write,files:write,channels:read,"
                                             "groups:read,channels:history,groups:history")
        except _ApiError as exc:
            body = {"ok": False, "error": exc.error, **exc.extra}
        call.response = body
        return web.json_response(body, status=call.status, headers=headers)

    def _authorize(self, kind: str, token: str | None) -> None:
        if not token:
            raise _ApiError("not_authed")
        expected = self.app_token if kind == "app" else self.bot_token
        other = self.bot_token if kind == "app" else self.app_token
        if token == other or (kind == "bot" and token.startswith("xapp-")):
            raise _ApiError("not_allowed_token_type")
        if token != expected:
            raise _ApiError("invalid_auth")

    def _handlers(self) -> dict[str, tuple[str, Callable[[JSON], JSON]]]:
        return {
            "auth.test": ("bot", self._auth_test),
            "chat.postMessage": ("bot", self._chat_post_message),
            "chat.update": ("bot", self._chat_update),
            "chat.delete": ("bot", self._chat_delete),
            "chat.postEphemeral": ("bot", self._chat_post_ephemeral),
            "views.publish": ("bot", self._views_publish),
            "views.open": ("bot", self._views_open),
            "users.info": ("bot", self._users_info),
            "conversations.open": ("bot", self._conversations_open),
            "conversations.history": ("bot", self._conversations_history),
            "conversations.replies": ("bot", self._conversations_replies),
            "conversations.members": ("bot", self._conversations_members),
            "users.conversations": ("bot", self._users_conversations),
            "files.getUploadURLExternal": ("bot", self._files_get_upload_url),
            "files.completeUploadExternal": ("bot", self._files_complete_upload),
            "apps.connections.open": ("app", self._apps_connections_open),
        }

    # ---------------------------------------------------------------- Web API methods

    def _next_ts(self) -> str:
        micros = 1_700_000_000_000_000 + 100 * next(self._ts_counter)
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    @staticmethod
    def _channel(params: JSON) -> str:
        channel = params.get("channel")
        if not isinstance(channel, str) or not channel:
            raise _ApiError("channel_not_found")
        # Posting to a user id lands in the app's DM with that user, as on Slack.
        return "D" + channel if channel.startswith(("U", "W")) else channel

    def _check_message(self, source: str, params: JSON) -> None:
        blocks = params.get("blocks")
        if blocks is not None:
            errors = check_blocks(blocks, action_id_scope=self.action_id_scope)
            if errors:
                self._violation(source, errors, params)
                raise _ApiError("invalid_blocks", errors=errors, response_metadata={"messages": errors})
        text = params.get("text")
        if isinstance(text, str) and len(text) > MESSAGE_TEXT_MAX:
            errors = [f"text: {len(text)} characters, max {MESSAGE_TEXT_MAX}"]
            self._violation(source, errors, params)
            raise _ApiError("msg_too_long", errors=errors)

    @staticmethod
    def _public(message: JSON, *, with_metadata: bool = True) -> JSON:
        out = {k: v for k, v in message.items() if k != "edits" and v is not None}
        if not with_metadata:
            out.pop("metadata", None)
        return out

    def _auth_test(self, _: JSON) -> JSON:
        return {
            "ok": True, "url": "https://fake-workspace.slack.com/", "team": TEAM_NAME, "user": "counterpoint",
            "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID, "is_enterprise_install": False,
        }

    def _chat_post_message(self, p: JSON) -> JSON:
        channel = self._channel(p)
        declared = self.channels.get(channel)
        if declared is not None and BOT_USER_ID not in declared.members:
            raise _ApiError("not_in_channel" if not declared.private else "channel_not_found")
        if not p.get("text") and not p.get("blocks") and not p.get("attachments"):
            raise _ApiError("no_text")
        self._check_message("chat.postMessage", p)
        message = self._store_message(channel, p.get("text") or "", p.get("blocks") or [], p)
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": self._public(message)}

    def _store_message(self, channel: str, text: str, blocks: list[JSON], p: JSON) -> JSON:
        thread_ts = p.get("thread_ts") or None
        message: JSON = {
            "type": "message", "ts": self._next_ts(), "user": BOT_USER_ID, "bot_id": BOT_ID, "app_id": APP_ID,
            "text": text, "blocks": blocks, "metadata": p.get("metadata"), "thread_ts": thread_ts,
            "reply_broadcast": _truthy(p.get("reply_broadcast")) or None, "files": p.get("_files"),
            "edits": 0,
        }
        parent = self.message(channel, thread_ts) if thread_ts else None
        if parent is not None:
            parent["thread_ts"] = parent["ts"]
            parent["reply_count"] = parent.get("reply_count", 0) + 1
        self.messages[channel].append(message)
        return message

    def _chat_update(self, p: JSON) -> JSON:
        channel = self._channel(p)
        message = self.message(channel, str(p.get("ts")))
        if message is None:
            raise _ApiError("message_not_found")
        self._check_message("chat.update", p)
        # Slack keeps the previous text/blocks when a field is omitted; an empty list clears blocks.
        if p.get("text") is not None:
            message["text"] = p["text"]
        if p.get("blocks") is not None:
            message["blocks"] = p["blocks"]
        if p.get("metadata") is not None:
            message["metadata"] = p["metadata"]
        message["edits"] += 1
        return {"ok": True, "channel": channel, "ts": message["ts"], "text": message["text"],
                "message": self._public(message)}

    def _chat_delete(self, p: JSON) -> JSON:
        channel = self._channel(p)
        message = self.message(channel, str(p.get("ts")))
        if message is None:
            raise _ApiError("message_not_found")
        self.messages[channel].remove(message)
        return {"ok": True, "channel": channel, "ts": message["ts"]}

    def _chat_post_ephemeral(self, p: JSON) -> JSON:
        channel = self._channel(p)
        if not p.get("user"):
            raise _ApiError("user_not_found")
        if not p.get("text") and not p.get("blocks") and not p.get("attachments"):
            raise _ApiError("no_text")
        self._check_message("chat.postEphemeral", p)
        ts = self._next_ts()
        self.ephemerals.append({"channel": channel, "user": p["user"], "text": p.get("text") or "",
                                "blocks": p.get("blocks") or [], "thread_ts": p.get("thread_ts"),
                                "message_ts": ts})
        return {"ok": True, "message_ts": ts}

    def _views_publish(self, p: JSON) -> JSON:
        user_id, view = p.get("user_id"), p.get("view")
        if not user_id or not isinstance(view, dict):
            raise _ApiError("invalid_arguments")
        errors = check_view(view, action_id_scope=self.action_id_scope)
        if view.get("type") != "home":
            errors.append("views.publish only takes a home view")
        if errors:
            self._violation("views.publish", errors, p)
            raise _ApiError("invalid_blocks", errors=errors)
        stored = {**view, "id": f"V{next(self._id_counter):08d}", "team_id": TEAM_ID}
        self.views[user_id] = stored
        return {"ok": True, "view": stored}

    def _views_open(self, p: JSON) -> JSON:
        trigger, view = p.get("trigger_id"), p.get("view")
        if not isinstance(trigger, str) or not trigger or not isinstance(view, dict):
            raise _ApiError("invalid_arguments")
        if trigger in self.expired_triggers:
            raise _ApiError("expired_trigger_id")
        if trigger in self._used_triggers:
            raise _ApiError("exchanged_trigger_id")  # a trigger opens one view
        errors = check_modal(view, action_id_scope=self.action_id_scope)
        if errors:
            self._violation("views.open", errors, p)
            raise _ApiError("invalid_arguments", response_metadata={"messages": errors})
        self._used_triggers.add(trigger)
        stored = {**view, "id": f"V{next(self._id_counter):08d}", "team_id": TEAM_ID, "app_id": APP_ID,
                  "bot_id": BOT_ID, "trigger_id": trigger, "state": {"values": {}}, "hash": uuid.uuid4().hex}
        self.modals.append(stored)
        return {"ok": True, "view": stored}

    def _users_info(self, p: JSON) -> JSON:
        user = self.users.get(str(p.get("user")))
        if user is None:
            raise _ApiError("user_not_found")
        return {"ok": True, "user": user}

    def _conversations_open(self, p: JSON) -> JSON:
        if p.get("channel"):
            return {"ok": True, "channel": {"id": p["channel"]}}
        users = [u for u in str(p.get("users") or "").split(",") if u]
        if not users:
            raise _ApiError("users_list_not_supplied")
        channel_id = "D" + users[0] if len(users) == 1 else "G" + "".join(sorted(users))
        return {"ok": True, "channel": {"id": channel_id}}

    def _conversations_history(self, p: JSON) -> JSON:
        channel = self._channel(p)
        with_metadata = _truthy(p.get("include_all_metadata"))
        latest, oldest = p.get("latest"), p.get("oldest")
        top_level = [
            m for m in self.messages.get(channel, [])
            if m.get("thread_ts") in (None, m["ts"]) or m.get("reply_broadcast")
        ]
        if latest:
            top_level = [m for m in top_level if _ts_key(m["ts"]) < _ts_key(latest)]
        if oldest:
            top_level = [m for m in top_level if _ts_key(m["ts"]) > _ts_key(oldest)]
        newest_first = sorted(top_level, key=lambda m: _ts_key(m["ts"]), reverse=True)
        limit = int(p.get("limit") or 100)
        page = [self._public(m, with_metadata=with_metadata) for m in newest_first[:limit]]
        return {"ok": True, "messages": page, "has_more": len(newest_first) > limit, "pin_count": 0,
                "response_metadata": {"next_cursor": ""}}

    def _conversations_replies(self, p: JSON) -> JSON:
        channel = self._channel(p)
        ts = str(p.get("ts"))
        parent = self.message(channel, ts)
        if parent is None:
            raise _ApiError("thread_not_found")
        with_metadata = _truthy(p.get("include_all_metadata"))
        replies = [m for m in self.messages[channel] if m.get("thread_ts") == ts and m is not parent]
        thread = [parent, *replies]  # the parent first, then its replies oldest first
        start, limit = _page(p, default_limit=1000)
        page = thread[start:start + limit]
        more = start + limit < len(thread)
        return {"ok": True, "messages": [self._public(m, with_metadata=with_metadata) for m in page],
                "has_more": more, "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    def _visible_channel(self, channel_id: str) -> FakeChannel:
        channel = self.channels.get(channel_id)
        if channel is None or (channel.private and BOT_USER_ID not in channel.members):
            raise _ApiError("channel_not_found")  # Slack's answer for a private channel the bot is not in
        return channel

    def _conversations_members(self, p: JSON) -> JSON:
        channel = self._visible_channel(self._channel(p))
        members = sorted(channel.members)
        start, limit = _page(p, default_limit=100)
        more = start + limit < len(members)
        return {"ok": True, "members": members[start:start + limit],
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    def _users_conversations(self, p: JSON) -> JSON:
        user = str(p.get("user") or BOT_USER_ID)
        if user not in self.users:
            raise _ApiError("user_not_found")
        types = {t.strip() for t in str(p.get("types") or "public_channel").split(",")}
        unknown = types - {"public_channel", "private_channel", "mpim", "im"}
        if unknown:
            raise _ApiError("invalid_types")
        found = [
            c for c in self.channels.values()
            if user in c.members and ("private_channel" if c.private else "public_channel") in types
            and (not c.private or BOT_USER_ID in c.members)  # private channels: only those the bot shares
        ]
        start, limit = _page(p, default_limit=100)
        page = found[start:start + limit]
        more = start + limit < len(found)
        return {"ok": True, "channels": [c.describe() for c in page],
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    def _files_get_upload_url(self, p: JSON) -> JSON:
        filename, length = p.get("filename"), p.get("length")
        if not filename or length is None:
            raise _ApiError("invalid_arguments")
        alt = p.get("alt_txt")
        if alt is not None and len(str(alt)) > ALT_TXT_MAX:
            self._violation("files.getUploadURLExternal", [f"alt_txt longer than {ALT_TXT_MAX}"], p)
            raise _ApiError("invalid_arguments")
        file_id = f"F{next(self._id_counter):08d}"
        self._uploads[file_id] = UploadedFile(file_id=file_id, filename=str(filename), length=int(length),
                                              alt_txt=None if alt is None else str(alt))
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, p: JSON) -> JSON:
        items = p.get("files")
        if not isinstance(items, list) or not items:
            raise _ApiError("invalid_arguments")
        channels = [c for c in str(p.get("channels") or "").split(",") if c]
        channel = p.get("channel_id") or (channels[0] if channels else None)
        done: list[UploadedFile] = []
        for item in items:
            upload = self._uploads.get(str(item.get("id"))) if isinstance(item, dict) else None
            if upload is None or upload.content is None:
                raise _ApiError("file_not_found")
            upload.title = item.get("title") or upload.filename
            done.append(upload)
        for upload in done:
            upload.channel_id = channel
            upload.initial_comment = p.get("initial_comment")
            upload.thread_ts = p.get("thread_ts")
            self.files.append(upload)
        described = [{"id": f.file_id, "name": f.filename, "title": f.title, "size": len(f.content or b""),
                      "channels": [channel] if channel else []} for f in done]
        if channel:
            # Sharing to a channel posts a message carrying the files, as Slack does.
            self._store_message(channel, p.get("initial_comment") or "", [],
                                {"thread_ts": p.get("thread_ts"), "_files": described})
        return {"ok": True, "files": described}

    def _apps_connections_open(self, _: JSON) -> JSON:
        ticket = uuid.uuid4().hex
        self._tickets.add(ticket)
        return {"ok": True, "url": f"ws://127.0.0.1:{self._port}/socket-mode?ticket={ticket}"}

    # ---------------------------------------------------------------- upload URL and response_url

    async def _upload(self, request: web.Request) -> web.StreamResponse:
        upload = self._uploads.get(request.match_info["file_id"])
        failure = self._take_failure("upload")
        if failure is not None:
            return web.Response(status=failure.status if failure.status != 200 else 500, text=failure.error)
        if upload is None:
            return web.Response(status=404, text="file_not_found")
        if request.content_type == "multipart/form-data":
            form = await request.post()
            part = next((v for v in form.values() if not isinstance(v, str)), None)
            upload.content = part.file.read() if part is not None else b""
        else:
            upload.content = await request.read()
        problems = image_problems(upload.filename, upload.content)
        if len(upload.content) != upload.length:
            problems.append(f"{upload.filename}: {len(upload.content)} bytes sent, {upload.length} declared")
        if problems:
            self._violation(f"upload:{upload.filename}", problems, {"length": len(upload.content)})
            return web.Response(status=400, text="invalid_file")
        self._check_tokens(f"upload:{upload.filename}", upload.content.decode("utf-8", "replace"))
        return web.Response(text=f"OK - {len(upload.content)}", content_type="text/plain")

    async def _response_url_post(self, request: web.Request) -> web.StreamResponse:
        tag = request.match_info["tag"]
        source = f"response_url:{tag}"
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            self._violation(source, ["body must be a JSON object"], None)
            return web.Response(status=400, text="invalid_payload")
        self._check_tokens(source, body)
        failure = self._take_failure("response_url")
        if failure is not None:
            headers = {}
            if failure.status == 429 and failure.retry_after is not None:
                headers["Retry-After"] = str(failure.retry_after)
            return web.Response(status=failure.status, text=failure.error, headers=headers)
        self._response_uses[tag] += 1
        errors: list[str] = []
        if self._response_uses[tag] > RESPONSE_URL_MAX_USES:
            uses = self._response_uses[tag]
            errors.append(f"response_url used {uses} times, Slack allows {RESPONSE_URL_MAX_USES}")
        if body.get("blocks") is not None:
            errors += check_blocks(body["blocks"], action_id_scope=self.action_id_scope)
        if isinstance(body.get("text"), str) and len(body["text"]) > MESSAGE_TEXT_MAX:
            errors.append(f"text: {len(body['text'])} characters, max {MESSAGE_TEXT_MAX}")
        self.responses.append(ResponsePost(tag, body, time.time(), accepted=not errors))
        if errors:
            self._violation(source, errors, body)
            return web.Response(status=400, text="invalid_blocks")
        self._apply_response(tag, body)
        return web.Response(text="ok", content_type="text/plain")

    def _apply_response(self, tag: str, body: JSON) -> None:
        binding = self._response_bindings.get(tag)
        if binding is None:
            return
        channel, ts = binding
        message = self.message(channel, ts)
        if _truthy(body.get("delete_original")):
            if message is not None:
                self.messages[channel].remove(message)
        elif _truthy(body.get("replace_original")) and message is not None:
            if body.get("text") is not None:
                message["text"] = body["text"]
            message["blocks"] = body.get("blocks") or []
            message["edits"] += 1
        elif body.get("response_type") == "in_channel":
            self._store_message(channel, body.get("text") or "", body.get("blocks") or [], body)
        else:
            self.ephemerals.append({"channel": channel, "user": None, "text": body.get("text") or "",
                                    "blocks": body.get("blocks") or [], "message_ts": self._next_ts()})

    # ---------------------------------------------------------------- Socket Mode, server side

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        if request.query.get("ticket") not in self._tickets:
            return web.Response(status=401, text="invalid ticket: call apps.connections.open first")
        ws = web.WebSocketResponse()  # autoping answers the client's heartbeat pings
        await ws.prepare(request)
        self._sockets.append(ws)
        self.socket_connections += 1
        await ws.send_json({
            "type": "hello",
            "num_connections": len(self._sockets),
            "debug_info": {"host": "fake-slack", "build_number": 1, "approximate_connection_time": 3600},
            "connection_info": {"app_id": APP_ID},
        })
        self._socket_connected.set()
        try:
            async for frame in ws:
                if frame.type == WSMsgType.TEXT:
                    self._on_socket_text(frame.data)
        finally:
            self._sockets.remove(ws)
            if not self._sockets:
                self._socket_connected.clear()
        return ws

    def _on_socket_text(self, data: str) -> None:
        try:
            ack = json.loads(data)
        except ValueError:
            self._violation("socket", ["frame is not JSON"], data)
            return
        envelope_id = ack.get("envelope_id") if isinstance(ack, dict) else None
        source = f"socket_ack:{envelope_id}"
        if envelope_id not in self._sent_at:
            self._violation(source, ["ack for an envelope that was never sent"], ack)
            return
        errors: list[str] = []
        if envelope_id in self.acks:
            errors.append("envelope acked twice")
        elapsed = time.monotonic() - self._sent_at[envelope_id]
        if elapsed > ACK_DEADLINE_S:
            errors.append(f"acked after {elapsed:.2f}s, Slack gives up after {ACK_DEADLINE_S}s")
        payload = ack.get("payload")
        self._check_tokens(source, payload)
        envelope = next((e for e in self.envelopes if e["envelope_id"] == envelope_id), {})
        if payload and not envelope.get("accepts_response_payload"):
            errors.append("ack carries a payload but this envelope does not accept one; Slack drops it")
        if isinstance(payload, dict) and payload.get("blocks") is not None:
            errors += check_blocks(payload["blocks"], action_id_scope=self.action_id_scope)
        if isinstance(payload, dict) and isinstance(payload.get("view"), dict):
            errors += check_view(payload["view"], action_id_scope=self.action_id_scope)
        if errors:
            self._violation(source, errors, ack)
        self.acks.setdefault(envelope_id, ack)
        self._ack_events[envelope_id].set()


# --------------------------------------------------------------------------- driving Bolt over HTTP


def sign(
    secret: str, body: bytes, timestamp: int | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> dict[str, str]:
    """Headers for a request Bolt's signature check accepts (pass `timestamp` to test skew)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature, "Content-Type": content_type}


def slash_payload(
    command: str = "/debate",
    text: str = "",
    *,
    user_id: str = "U0001",
    user_name: str = "tester",
    channel_id: str = "C0001",
    channel_name: str = "general",
    team_id: str = TEAM_ID,
    response_url: str | None = None,
    trigger_id: str = "1.2.fake-trigger",
) -> dict[str, str]:
    """A slash command as Slack sends it: form fields over HTTP, the same dict inside a socket envelope."""
    payload = {
        "token": "fake-verification-token", "team_id": team_id, "team_domain": "fake-workspace",
        "channel_id": channel_id, "channel_name": channel_name, "user_id": user_id, "user_name": user_name,
        "command": command, "text": text, "api_app_id": APP_ID, "is_enterprise_install": "false",
        "trigger_id": trigger_id,
    }
    if response_url is not None:
        payload["response_url"] = response_url
    return payload


def slash_body(command: str = "/debate", text: str = "", **kwargs: Any) -> bytes:
    return urlencode(slash_payload(command, text, **kwargs)).encode()


def block_actions_payload(
    action_id: str,
    value: str | None = None,
    *,
    block_id: str | None = None,
    user_id: str = "U0001",
    team_id: str = TEAM_ID,
    channel_id: str = "C0001",
    message: JSON | None = None,
    message_ts: str | None = None,
    response_url: str | None = None,
    trigger_id: str = "1.2.fake-trigger",
    action_type: str = "button",
) -> JSON:
    """A button click. Pass a stored `message` (e.g. slack.messages[ch][-1]) and the block_id and value
    are read from the button that carries `action_id`, so the click matches what was rendered."""
    if message is None:
        message = {"type": "message", "ts": message_ts or "1700000000.000100", "text": "", "blocks": []}
    ts = message_ts or message["ts"]
    found = find_action(message.get("blocks") or [], action_id)
    if found is not None:
        block_id = block_id or found[0]
        value = value if value is not None else found[1].get("value")
    action: JSON = {"action_id": action_id, "block_id": block_id or "b1", "type": action_type,
                    "action_ts": f"{time.time():.6f}"}
    if value is not None:
        action["value"] = value
    payload: JSON = {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": team_id},
        "api_app_id": APP_ID,
        "token": "fake-verification-token",
        "container": {"type": "message", "message_ts": ts, "channel_id": channel_id, "is_ephemeral": False},
        "trigger_id": trigger_id,
        "team": {"id": team_id, "domain": "fake-workspace"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": "general"},
        "message": {k: v for k, v in message.items() if k != "edits" and v is not None} | {"ts": ts},
        "state": {"values": {}},
        "actions": [action],
    }
    if response_url is not None:
        payload["response_url"] = response_url
    return payload


def view_submission_payload(
    view: JSON, answers: dict[str, str | None], *, user_id: str = "U0001", team_id: str = TEAM_ID,
) -> JSON:
    """A modal's submission as Slack sends it, `answers` by input block_id.

    Slack itself refuses to submit a form with a required field empty or a value over its max_length,
    so this raises ValueError for those: a test cannot submit what no member could.
    """
    values: JSON = {}
    for block in view.get("blocks") or []:
        if block.get("type") != "input":
            continue
        element, answer = block["element"], answers.get(block["block_id"])
        if not answer and not block.get("optional"):
            raise ValueError(f"{block['block_id']} is required; Slack would not submit the form")
        if answer and len(answer) > element.get("max_length", 3000):
            raise ValueError(f"{block['block_id']} is over its max_length; Slack would not submit the form")
        values[block["block_id"]] = {element["action_id"]: {"type": element["type"], "value": answer or None}}
    unknown = set(answers) - set(values)
    if unknown:
        raise ValueError(f"no input block {sorted(unknown)} in this view")
    submitted = {k: v for k, v in view.items() if k != "trigger_id"} | {"state": {"values": values}}
    return {
        "type": "view_submission",
        "team": {"id": team_id, "domain": "fake-workspace"},
        "user": {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": team_id},
        "api_app_id": APP_ID,
        "token": "fake-verification-token",
        "trigger_id": f"{time.time():.0f}.2.view-trigger",
        "view": submitted,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def block_actions_body(action_id: str, value: str | None = None, **kwargs: Any) -> bytes:
    return urlencode({"payload": json.dumps(block_actions_payload(action_id, value, **kwargs))}).encode()
