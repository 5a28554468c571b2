"""Settings from the environment and an optional .env file, each checked with a one-line answer."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.privacy import DEFAULT_MIN_VOTES, DEFAULT_RETENTION_DAYS, MAX_MIN_VOTES, MIN_VOTES_FLOOR


class SettingsError(Exception):
    """A setting with a bad value; the message names the variable and fits on one line."""


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///counterpoint.db"
    secret: str | None = None
    content_pack: str | None = None
    min_votes: int = DEFAULT_MIN_VOTES
    retention_days: int = DEFAULT_RETENTION_DAYS
    poll_hours: float = 24.0
    schedule_grace_minutes: int = 120
    sqlite_synchronous: str = "NORMAL"
    timezone: str = "UTC"
    log_level: str = "INFO"
    discord_token: str | None = None
    discord_api_base: str | None = None
    discord_gateway_url: str | None = None
    discord_dev_guild: str | None = None
    discord_client_id: str | None = None
    # Gateway shards: None runs one unsharded connection; else this process runs `discord_shard_ids`
    # (all of 0..count-1 when not given) of `discord_shard_count`. See docs/scaling.md.
    discord_shard_count: int | None = None
    discord_shard_ids: tuple[int, ...] | None = None
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_mode: str | None = None
    slack_port: int = 3000
    slack_api_url: str | None = None
    slack_admin_users: frozenset[str] = field(default_factory=frozenset)
    health_port: int | None = None  # None: no health endpoint besides Slack HTTP mode's; 0: any free port
    health_host: str = "127.0.0.1"
    # The absolute database path, fixed once by load_settings; empty for Settings built by hand.
    database_path: str = ""
    dotenv_path: str | None = None  # the .env file that was read, if any

    @property
    def database_is_postgres(self) -> bool:
        return is_postgres_url(self.database_url)

    @property
    def sqlite_path(self) -> str:
        """The path as written in DATABASE_URL (maybe relative); database_file is what gets opened."""
        return sqlite_path(self.database_url)

    @property
    def database_file(self) -> str:
        """What is opened, for messages: the absolute SQLite path, or the PostgreSQL URL without its password."""
        if self.database_is_postgres:
            return redacted_url(self.database_url)
        return self.database_path or os.path.abspath(self.sqlite_path)

    @property
    def discord_configured(self) -> bool:
        return bool(self.discord_token)

    @property
    def slack_configured(self) -> bool:
        return bool(self.slack_bot_token)


POSTGRES_SCHEMES = ("postgresql://", "postgres://")
_URL_FORMS = "use sqlite:///counterpoint.db (relative), sqlite:////absolute/path.db or postgresql://user:password@host:5432/db"


def is_postgres_url(url: str) -> bool:
    return url.startswith(POSTGRES_SCHEMES)


def redacted_url(url: str) -> str:
    """The URL with any password replaced, safe to print."""
    # Whatever lies between the scheme and the last '@' may hold a password - even one whose reserved
    # characters (/ # ?) keep urlsplit from finding it - so it is never shown past the user name.
    scheme, sep, rest = url.partition("://")
    head, at, tail = rest.rpartition("@")
    if not sep or not at:
        return url
    user = re.split(r"[:/?#]", head, maxsplit=1)[0]
    return f"{scheme}://{user}:***@{tail}"


def check_postgres_url(url: str) -> None:
    """A PostgreSQL URL must name a host and a database; whether they answer is the store's to find out."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # a port that is not a number raises here
    except ValueError:
        raise SettingsError(f"DATABASE_URL: cannot read '{redacted_url(url)}' (a password with / # ? or @ must "
                            f"be percent-encoded, e.g. %2F); {_URL_FORMS}") from None
    if not parts.hostname or not parts.path.strip("/") or "/" in parts.path.strip("/"):
        raise SettingsError(f"DATABASE_URL: '{redacted_url(url)}' names no host or no database; "
                            "use postgresql://user:password@host:5432/dbname")


def sqlite_path(url: str) -> str:
    prefix = "sqlite:///"
    if is_postgres_url(url):
        raise SettingsError("DATABASE_URL: a PostgreSQL URL has no file path")
    if not url.startswith(prefix) or len(url) == len(prefix):
        raise SettingsError(f"DATABASE_URL: cannot read '{redacted_url(url)}'; {_URL_FORMS}")
    return url[len(prefix):]


def resolve_database_path(url: str, dotenv: Path | None) -> str:
    """The absolute database path. A relative path is relative to the directory of the .env file that
    was read (so the bot finds its votes wherever it is started from), else to the current directory.
    A PostgreSQL URL has no path: it is checked and "" returned."""
    if is_postgres_url(url):
        check_postgres_url(url)
        return ""
    path = Path(sqlite_path(url)).expanduser()
    if not path.is_absolute():
        base = dotenv.resolve().parent if dotenv is not None else Path.cwd()
        path = base / path
    return os.path.abspath(path)


def _slack_token(env: Mapping[str, str], name: str, prefix: str, other: str, other_prefix: str) -> str | None:
    value = _opt(env, name)
    if value is None or value.startswith(prefix):
        return value
    if value.startswith(other_prefix):
        raise SettingsError(f"{name}: this is an {other_prefix}... token, which belongs in {other}; "
                            f"{name} and {other} look swapped")
    kind = re.match(r"x[a-z]{3}-", value)  # only a known-looking prefix is echoed, never secret characters
    seen = f"it starts with '{kind.group(0)}'" if kind else "it does not look like a Slack token"
    raise SettingsError(f"{name}: expected a token starting with {prefix} ({seen})")


def _health(env: Mapping[str, str]) -> tuple[int | None, str]:
    raw = env.get("HEALTH_PORT", "").strip()
    port = _int(env, "HEALTH_PORT", 0, 0, 65535) if raw else None
    host = env.get("HEALTH_HOST", "").strip() or "127.0.0.1"
    return port, host


_DOUBLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "$": "$"}


def parse_dotenv_value(raw: str) -> str:
    """One value as python-dotenv reads it, so a .env behaves the same here and in other tools.

    Unquoted: surrounding spaces go and so does a comment that follows whitespace (`a # note` is `a`,
    `a#b` stays). 'single quotes' are literal. "double quotes" keep a # and decode \\n \\t \\" \\\\.
    After a closing quote only spaces and a # comment may follow. Raises ValueError (the caller adds the line).
    """
    value = raw.strip()
    if not value or value[0] not in "'\"":
        # Only a # after whitespace starts a comment, so a secret such as `k#3x...` survives whole.
        return re.sub(r"\s+#.*", "", raw).strip()
    quote = value[0]
    out: list[str] = []
    i = 1
    while i < len(value):
        char = value[i]
        if quote == '"' and char == "\\" and i + 1 < len(value):
            nxt = value[i + 1]
            out.append(_DOUBLE_ESCAPES.get(nxt, "\\" + nxt))
            i += 2
            continue
        if char == quote:
            rest = value[i + 1:].strip()
            if rest and not rest.startswith("#"):
                # Never quoted back: this is often the tail of a secret that holds a quote character.
                raise ValueError("unexpected text after the closing quote (a quote inside the value? "
                                 "wrap the value in the other kind of quote)")
            return "".join(out)
        out.append(char)
        i += 1
    kind = "double" if quote == '"' else "single"
    raise ValueError(f"the {kind} quote is never closed (values must fit on one line)")


def read_dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as python-dotenv reads them (see parse_dotenv_value); blank lines, # comments and
    an `export ` prefix are allowed. A line that cannot be read stops start-up naming file and line."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for number, raw in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export ") or line.startswith("export\t"):
            line = line[len("export"):].lstrip()
        if "=" not in line:
            # The line is not echoed: it may be a token pasted on its own line or after "KEY:".
            raise SettingsError(f"{path}:{number}: expected KEY=VALUE (the line is not shown: it may hold a secret)")
        key, value = line.split("=", 1)
        key = key.strip()
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", key):
            raise SettingsError(f"{path}:{number}: the text before '=' is not a variable name "
                                "(letters, digits and _; not shown: it may hold a secret)")
        try:
            values[key] = parse_dotenv_value(value)
        except ValueError as exc:
            raise SettingsError(f"{path}:{number}: {key}: {exc}") from None
    return values


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        if not raw.isascii():  # int() would read "٣" as 3
            raise ValueError(raw)
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}: '{raw[:20]}' is not a whole number") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}: {value} is out of range; use {low} to {high}")
    return value


def _min_votes(env: Mapping[str, str]) -> int:
    raw = env.get("RESULTS_MIN_VOTES", "").strip()
    if raw.isascii() and raw.lstrip("-").isdigit() and int(raw) < MIN_VOTES_FLOOR:
        raise SettingsError(f"RESULTS_MIN_VOTES: {raw} is below {MIN_VOTES_FLOOR}; fewer votes than that could "
                            "reveal how someone voted, so it is not allowed")
    return _int(env, "RESULTS_MIN_VOTES", DEFAULT_MIN_VOTES, MIN_VOTES_FLOOR, MAX_MIN_VOTES)


def _opt(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _url(env: Mapping[str, str], name: str) -> str | None:
    value = _opt(env, name)
    if value is not None and not value.startswith(("http://", "https://", "ws://", "wss://")):
        raise SettingsError(f"{name}: '{value}' is not an http(s) or ws(s) URL")
    return value


MAX_SHARDS = 100_000


def _discord_shards(env: Mapping[str, str]) -> tuple[int | None, tuple[int, ...] | None]:
    """DISCORD_SHARD_COUNT (shards in total) and DISCORD_SHARD_IDS (this process's, e.g. "0,1")."""
    count = _int(env, "DISCORD_SHARD_COUNT", 0, 1, MAX_SHARDS) if env.get("DISCORD_SHARD_COUNT", "").strip() else None
    raw = env.get("DISCORD_SHARD_IDS", "").strip()
    if not raw:
        return count, None
    if count is None:
        raise SettingsError("DISCORD_SHARD_IDS: set DISCORD_SHARD_COUNT too (the number of shards in total)")
    ids: list[int] = []
    for part in raw.split(","):
        item = part.strip()
        if not (item.isascii() and item.isdigit()):
            raise SettingsError(f"DISCORD_SHARD_IDS: '{item[:20]}' is not a shard number; use e.g. 0,1")
        shard = int(item)
        if shard >= count:
            raise SettingsError(f"DISCORD_SHARD_IDS: shard {shard} does not exist with DISCORD_SHARD_COUNT={count}; "
                                f"use 0 to {count - 1}")
        if shard in ids:
            raise SettingsError(f"DISCORD_SHARD_IDS: shard {shard} is listed twice")
        ids.append(shard)
    return count, tuple(ids)


def load_settings(env: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")) -> Settings:
    merged: dict[str, str] = {}
    read: Path | None = None
    if dotenv is not None and dotenv.is_file():
        merged.update(read_dotenv(dotenv))
        read = dotenv
    merged.update(os.environ if env is None else env)

    database_url = merged.get("DATABASE_URL", "").strip() or Settings.database_url
    database_path = resolve_database_path(database_url, read)

    secret = _opt(merged, "COUNTERPOINT_SECRET")
    if secret is not None and len(secret) < 16:
        raise SettingsError("COUNTERPOINT_SECRET: too short; use at least 16 random characters (or leave it unset)")

    pack = _opt(merged, "CONTENT_PACK")
    if pack is not None and not Path(pack).is_file():
        raise SettingsError(f"CONTENT_PACK: no file at '{pack}'")

    tz = merged.get("TIMEZONE", "").strip() or "UTC"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"TIMEZONE: unknown timezone '{tz}'; use an IANA name such as Europe/Berlin") from None

    sync = (merged.get("SQLITE_SYNCHRONOUS", "").strip() or "NORMAL").upper()
    if sync not in ("NORMAL", "FULL"):
        raise SettingsError(f"SQLITE_SYNCHRONOUS: '{sync}' is not NORMAL or FULL")

    level = (merged.get("LOG_LEVEL", "").strip() or "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise SettingsError(f"LOG_LEVEL: '{level}' is not DEBUG, INFO, WARNING or ERROR")

    raw_hours = merged.get("POLL_DURATION_HOURS", "").strip()
    try:
        hours = float(raw_hours) if raw_hours else 24.0
    except ValueError:
        raise SettingsError(f"POLL_DURATION_HOURS: '{raw_hours}' is not a number") from None
    if not 0.1 <= hours <= 24 * 14:
        raise SettingsError(f"POLL_DURATION_HOURS: {hours:g} is out of range; use 0.1 to 336")

    mode = (_opt(merged, "SLACK_MODE") or "").lower() or None
    if mode not in (None, "socket", "http"):
        raise SettingsError(f"SLACK_MODE: '{mode}' is not 'socket' or 'http'")
    bot_token = _slack_token(merged, "SLACK_BOT_TOKEN", "xoxb-", "SLACK_APP_TOKEN", "xapp-")
    app_token = _slack_token(merged, "SLACK_APP_TOKEN", "xapp-", "SLACK_BOT_TOKEN", "xoxb-")
    if mode == "socket" and not app_token:
        raise SettingsError("SLACK_MODE: socket mode needs SLACK_APP_TOKEN (xapp-...)")
    signing = _opt(merged, "SLACK_SIGNING_SECRET")
    if bot_token and not app_token and mode != "socket" and not signing:
        raise SettingsError("SLACK_SIGNING_SECRET: required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)")

    dev_guild = _opt(merged, "DISCORD_DEV_GUILD")
    if dev_guild is not None and not (dev_guild.isascii() and dev_guild.isdigit()):
        raise SettingsError(f"DISCORD_DEV_GUILD: '{dev_guild}' is not a server id (digits only)")

    client_id = _opt(merged, "DISCORD_CLIENT_ID")
    if client_id is not None and not (client_id.isascii() and client_id.isdigit()):
        raise SettingsError(f"DISCORD_CLIENT_ID: '{client_id}' is not an application id (digits only)")

    shard_count, shard_ids = _discord_shards(merged)
    admins = frozenset(u.strip() for u in merged.get("SLACK_ADMIN_USERS", "").split(",") if u.strip())
    health_port, health_host = _health(merged)

    return Settings(
        database_url=database_url,
        secret=secret,
        content_pack=pack,
        min_votes=_min_votes(merged),
        retention_days=_int(merged, "RETENTION_DAYS", DEFAULT_RETENTION_DAYS, 1, 36500),
        poll_hours=hours,
        schedule_grace_minutes=_int(merged, "SCHEDULE_GRACE_MINUTES", 120, 0, 7 * 24 * 60),
        sqlite_synchronous=sync,
        timezone=tz,
        log_level=level,
        discord_token=_opt(merged, "DISCORD_TOKEN"),
        discord_api_base=_url(merged, "DISCORD_API_BASE"),
        discord_gateway_url=_url(merged, "DISCORD_GATEWAY_URL"),
        discord_dev_guild=dev_guild,
        discord_client_id=client_id,
        discord_shard_count=shard_count,
        discord_shard_ids=shard_ids,
        slack_bot_token=bot_token,
        slack_signing_secret=signing,
        slack_app_token=app_token,
        slack_mode=mode,
        slack_port=_int(merged, "SLACK_PORT", 3000, 1, 65535),
        slack_api_url=_url(merged, "SLACK_API_URL"),
        slack_admin_users=admins,
        health_port=health_port,
        health_host=health_host,
        database_path=database_path,
        dotenv_path=str(read.resolve()) if read is not None else None,
    )
