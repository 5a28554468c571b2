"""What a signed Slack request must look like before Bolt sees it.

Bolt trusts the shape of what Slack sends: `actions: []`, an action without `action_id`, an event that
is a string or an `id` that is a number make it raise, and it answers 500 (Slack then retries). A press
without `user` even reached the service and recorded a vote under an empty member id. So the gate
parses the body exactly as Bolt will (it builds Bolt's own request object) and lets through only the
kinds of request this app handles, in the shape every listener and every Bolt middleware can rely on.
Anything else is a `Rejected` (400 or 404) and changes nothing.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest

MAX_DEPTH = 32  # Block Kit payloads nest about 12 deep; a few thousand levels is an attack on the parser
RECENT_REQUESTS = 4096  # request identities remembered for Slack's retries (it retries within minutes)

# Keys that Bolt's context extraction and our listeners read as "an id, or an object with an id".
_ID_KEYS = ("user", "channel", "team", "enterprise")
# Keys read as nested objects (Bolt looks inside them with .get()).
_OBJECT_KEYS = ("event", "message", "previous_message", "item", "assistant_thread", "view", "container",
                "function_data", "workflow_step", "state")
_LIST_OF_OBJECT_KEYS = ("authorizations", "response_urls")
_STRING_KEYS = ("type", "response_url", "trigger_id", "event_id", "team_id", "user_id", "channel_id",
                "enterprise_id", "api_app_id", "token", "bot_id", "tab", "subtype", "channel_type", "thread_ts")
_COMMAND_FIELDS = ("user_id", "team_id", "channel_id", "command")
_SSL_CHECK_FIELDS = frozenset({"ssl_check", "token"})


@dataclass(frozen=True)
class Rejected:
    status: int
    reason: str


def admit(raw: str, headers: Mapping[str, str], query: str) -> AsyncBoltRequest | Rejected:
    """Bolt's request for a signed body this app handles, or why it is refused."""
    return _checked(lambda: AsyncBoltRequest(body=raw, query=query, headers=dict(headers)))


def admit_socket(payload: Any, headers: Mapping[str, Any]) -> AsyncBoltRequest | Rejected:
    """The same gate for a Socket Mode payload (already a dict: no signature, no parsing)."""
    return _checked(lambda: AsyncBoltRequest(mode="socket_mode", body=payload, headers=dict(headers)))


def _checked(build: Callable[[], AsyncBoltRequest]) -> AsyncBoltRequest | Rejected:
    try:
        request = build()
    except RecursionError:
        return Rejected(400, f"JSON nested deeper than {MAX_DEPTH} levels")
    except Exception as exc:  # Bolt's parsing and context extraction raise whatever the shape makes them
        return Rejected(400, f"body Bolt cannot read ({type(exc).__name__})")
    body = request.body
    if not isinstance(body, dict):
        return Rejected(400, "body is not an object")
    if _too_deep(body):
        return Rejected(400, f"JSON nested deeper than {MAX_DEPTH} levels")
    problem: str | Rejected | None = _shape_problem(body, "body")
    if problem is None:
        problem = _kind_problem(body, request)
    if problem is not None:
        return problem if isinstance(problem, Rejected) else Rejected(400, problem)
    return request


def request_identity(request: AsyncBoltRequest, raw: str) -> str | None:
    """What stays the same when Slack retries: the event_id for events, else the body itself.

    None for requests that act on nothing (url_verification, ssl_check): those are answered every time.
    """
    body = request.body
    if body.get("type") == "event_callback":
        event_id = body.get("event_id")
        if isinstance(event_id, str) and event_id:
            return f"event:{event_id}"
    elif "command" not in body and body.get("type") != "block_actions":
        return None
    return "body:" + hashlib.sha256(raw.encode()).hexdigest()


class RecentRequests:
    """A bounded LRU of request identities already handled, so a retry does not act twice."""

    def __init__(self, size: int = RECENT_REQUESTS) -> None:
        self.size = size
        self._seen: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, identity: str) -> bool:
        return identity in self._seen

    def add(self, identity: str) -> None:
        self._seen[identity] = None
        self._seen.move_to_end(identity)
        while len(self._seen) > self.size:
            self._seen.popitem(last=False)

    def discard(self, identity: str) -> None:
        self._seen.pop(identity, None)


def _too_deep(value: Any) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


def _shape_problem(obj: dict[str, Any], where: str) -> str | None:
    """Every key Bolt or a listener reads has the type it is read as, here and in nested objects."""
    for key in _ID_KEYS:
        value = obj.get(key)
        if value is None or isinstance(value, str):
            continue
        if not isinstance(value, dict) or not isinstance(value.get("id", ""), str):
            return f"{where}.{key} is neither an id nor an object with a string id"
        problem = _shape_problem(value, f"{where}.{key}")
        if problem:
            return problem
    for key in _OBJECT_KEYS:
        value = obj.get(key)
        if value is None:
            continue
        if not isinstance(value, dict):
            return f"{where}.{key} is not an object"
        problem = _shape_problem(value, f"{where}.{key}")
        if problem:
            return problem
    for key in _LIST_OF_OBJECT_KEYS:
        value = obj.get(key)
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            return f"{where}.{key} is not a list of objects"
        for i, item in enumerate(value):
            problem = _shape_problem(item, f"{where}.{key}[{i}]")
            if problem:
                return problem
    for key in _STRING_KEYS:
        if key in obj and obj[key] is not None and not isinstance(obj[key], str):
            return f"{where}.{key} is not a string"
    return None


def _kind_problem(body: dict[str, Any], request: AsyncBoltRequest) -> str | Rejected | None:
    kind = body.get("type")
    if "command" in body:
        return _command_problem(body)
    if kind == "block_actions":
        return _interaction_problem(body, request) or _actions_problem(body.get("actions"))
    if kind == "view_submission":  # the ask form (bots.slack.forms), which reads the view defensively
        view = body.get("view")
        return _interaction_problem(body, request) or (None if isinstance(view, dict) else "view is not an object")
    if kind == "event_callback":
        event = body.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str) or not event["type"]:
            return "event is not an object with a string type"
        return None
    if kind == "url_verification":
        return None if isinstance(body.get("challenge"), str) else "url_verification without a challenge"
    if body and set(body) <= _SSL_CHECK_FIELDS and isinstance(body.get("ssl_check"), str):
        return None
    if isinstance(kind, str) and kind:
        # Well formed, perhaps, but nothing here handles it (and Bolt's own "unhandled" path trips
        # over shapes it never checks): answered as Bolt would, without Bolt.
        return Rejected(404, f"no handler for {kind[:40]!r} requests")
    return "body is neither a slash command, an interaction nor an event"


def _command_problem(body: dict[str, Any]) -> str | None:
    if "type" in body:
        return "a slash command has no type"
    if not all(isinstance(v, str) for v in body.values()):
        return "slash command fields are not all strings"
    missing = [f for f in _COMMAND_FIELDS if not body.get(f)]
    return f"slash command without {', '.join(missing)}" if missing else None


def _interaction_problem(body: dict[str, Any], request: AsyncBoltRequest) -> str | None:
    user = body.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("id"), str) or not user["id"]:
        return "interaction without a user id"
    team = request.context.team_id
    if not isinstance(team, str) or not team:
        return "interaction without a team"
    return None


def _actions_problem(actions: Any) -> str | None:
    if not isinstance(actions, list) or not actions:
        return "block_actions without actions"
    for action in actions:
        if not isinstance(action, dict) or not isinstance(action.get("action_id"), str):
            return "an action without a string action_id"
        for key in ("value", "block_id"):
            if key in action and action[key] is not None and not isinstance(action[key], str):
                return f"an action whose {key} is not a string"
    return None

