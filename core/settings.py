"""Settings from the environment and an optional .env file, each checked with a one-line answer."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
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
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_mode: str | None = None
    slack_port: int = 3000
    slack_api_url: str | None = None
    slack_admin_users: frozenset[str] = field(default_factory=frozenset)

    @property
    def sqlite_path(self) -> str:
        return sqlite_path(self.database_url)

    @property
    def discord_configured(self) -> bool:
        return bool(self.discord_token)

    @property
    def slack_configured(self) -> bool:
        return bool(self.slack_bot_token)


def sqlite_path(url: str) -> str:
    prefix = "sqlite:///"
    if url.startswith(("postgres://", "postgresql://")):
        raise SettingsError("DATABASE_URL: PostgreSQL is not supported yet; use sqlite:///path/to/file.db")
    if not url.startswith(prefix) or len(url) == len(prefix):
        raise SettingsError(
            f"DATABASE_URL: cannot read '{url}'; use sqlite:///counterpoint.db (relative) "
            "or sqlite:////absolute/path.db"
        )
    return url[len(prefix):]


def read_dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines; blank lines and # comments ignored; surrounding quotes removed."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export "):]
        if "=" not in line:
            raise SettingsError(f"{path}:{number}: expected KEY=VALUE, got '{line[:40]}'")
        key, value = line.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
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


def load_settings(env: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")) -> Settings:
    merged: dict[str, str] = {}
    if dotenv is not None:
        merged.update(read_dotenv(dotenv))
    merged.update(os.environ if env is None else env)

    database_url = merged.get("DATABASE_URL", "").strip() or Settings.database_url
    sqlite_path(database_url)

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
    app_token = _opt(merged, "SLACK_APP_TOKEN")
    if mode == "socket" and not app_token:
        raise SettingsError("SLACK_MODE: socket mode needs SLACK_APP_TOKEN (xapp-...)")
    bot_token = _opt(merged, "SLACK_BOT_TOKEN")
    signing = _opt(merged, "SLACK_SIGNING_SECRET")
    if bot_token and not app_token and mode != "socket" and not signing:
        raise SettingsError("SLACK_SIGNING_SECRET: required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)")

    dev_guild = _opt(merged, "DISCORD_DEV_GUILD")
    if dev_guild is not None and not (dev_guild.isascii() and dev_guild.isdigit()):
        raise SettingsError(f"DISCORD_DEV_GUILD: '{dev_guild}' is not a server id (digits only)")

    client_id = _opt(merged, "DISCORD_CLIENT_ID")
    if client_id is not None and not (client_id.isascii() and client_id.isdigit()):
        raise SettingsError(f"DISCORD_CLIENT_ID: '{client_id}' is not an application id (digits only)")

    admins = frozenset(u.strip() for u in merged.get("SLACK_ADMIN_USERS", "").split(",") if u.strip())

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
        slack_bot_token=bot_token,
        slack_signing_secret=signing,
        slack_app_token=app_token,
        slack_mode=mode,
        slack_port=_int(merged, "SLACK_PORT", 3000, 1, 65535),
        slack_api_url=_url(merged, "SLACK_API_URL"),
        slack_admin_users=admins,
    )
