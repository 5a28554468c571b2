"""How the core keeps members anonymous: keyed voter hashes, the k threshold, retention."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

SECRET_META_KEY = "voter_key_secret"
DEFAULT_MIN_VOTES = 3
# Below three votes, results would let two members who compare notes learn the third one's vote.
MIN_VOTES_FLOOR = 3
MAX_MIN_VOTES = 1000
DEFAULT_RETENTION_DAYS = 180


def new_secret() -> str:
    return secrets.token_hex(32)


@functools.lru_cache(maxsize=16_384)
def voter_key(secret: str, space_id: str, member_id: str) -> str:
    """A stable pseudonym for a member within one space.

    Keyed (HMAC) rather than a bare hash so that nobody holding the database alone can confirm a
    guessed member id; scoped by space so one member's votes cannot be linked across servers.
    Remembered for the members seen lately (every vote needs it); this memory holds the secret anyway.
    """
    message = f"{len(space_id)}:{space_id}:{member_id}".encode()
    keyed = _keyed(secret).copy()  # the key schedule is computed once per secret, not per vote
    keyed.update(message)
    return keyed.hexdigest()


@functools.lru_cache(maxsize=8)
def _keyed(secret: str) -> hmac.HMAC:
    return hmac.new(secret.encode(), digestmod=hashlib.sha256)


def votes_needed(total: int, min_votes: int) -> int:
    """How many more votes before results may show; 0 when they may."""
    return max(0, min_votes - total)


def retention_cutoff(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


def check_min_votes(value: str, name: str) -> int:
    """A threshold from an admin or an operator: a whole number from the floor up, or ValueError."""
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 6:
        raise ValueError(f"{name} must be a whole number from {MIN_VOTES_FLOOR} to {MAX_MIN_VOTES}, "
                         f"got '{value[:20]}'.")
    k = int(text)
    if k < MIN_VOTES_FLOOR:
        raise ValueError(f"{name} cannot be below {MIN_VOTES_FLOOR}: with fewer votes, results could reveal how "
                         "someone voted.")
    if k > MAX_MIN_VOTES:
        raise ValueError(f"{name} must be at most {MAX_MIN_VOTES}.")
    return k
