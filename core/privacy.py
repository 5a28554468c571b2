"""How the core keeps members anonymous: keyed voter hashes, the k threshold, retention."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

SECRET_META_KEY = "voter_key_secret"
DEFAULT_MIN_VOTES = 3
DEFAULT_RETENTION_DAYS = 180


def new_secret() -> str:
    return secrets.token_hex(32)


def voter_key(secret: str, space_id: str, member_id: str) -> str:
    """A stable pseudonym for a member within one space.

    Keyed (HMAC) rather than a bare hash so that nobody holding the database alone can confirm a
    guessed member id; scoped by space so one member's votes cannot be linked across servers.
    """
    message = f"{len(space_id)}:{space_id}:{member_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def votes_needed(total: int, min_votes: int) -> int:
    """How many more votes before results may show; 0 when they may."""
    return max(0, min_votes - total)


def retention_cutoff(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)
