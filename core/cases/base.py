"""What every use-case area shares: the store, the content, identities, and finding polls and prompts."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from core import presenter
from core.cache import SharedLoadCache
from core.catalogue import t
from core.commands.spelling import spell
from core.models import CUSTOM_PROMPT_PREFIX, ChannelSettings, ContentPack, Poll, Prompt, Results, SpaceSettings
from core.moments import mention
from core.privacy import DEFAULT_MIN_VOTES, DEFAULT_RETENTION_DAYS, voter_key
from core.render import Card, PollPost
from core.roles import Access, access_of, channel_allowed
from core.store.base import Store, StoreError
from core.throttle import StoreTurns, holder_name
from core.usecase import ADMIN_ONLY, FACILITATORS_ONLY, NOT_HERE, Actor, UserError, parse_poll_ref, utc_now
from core.visibility import Rule, may_see, rule_for, visible_results

log = logging.getLogger("core.service")
ATTACH_TRIES = 4
POLL_CACHE_MAX = 4096
ZONE_CACHE_SECONDS = 60.0


@dataclass(frozen=True)
class DeckPosition:
    """Where a channel stands in the deck: the next prompt and how many are left in this round."""

    next: Prompt
    used_in_round: int
    size: int
    upcoming: tuple[Prompt, ...] = ()  # the rest of this round, in the order they will come

    @property
    def last_of_round(self) -> bool:
        return self.used_in_round == self.size - 1


class ServiceBase:
    def __init__(
        self,
        content: ContentPack,
        store: Store,
        secret: str,
        clock: Callable[[], datetime] = utc_now,
        default_min_votes: int = DEFAULT_MIN_VOTES,
        poll_duration: timedelta = timedelta(hours=24),
        retention_days: int = DEFAULT_RETENTION_DAYS,
        command: str = "/debate",
        tz: tzinfo = UTC,
    ) -> None:
        self.content = content
        self.store = store
        self._secret = secret
        self.clock = clock
        self.default_min_votes = default_min_votes
        self.poll_duration = poll_duration
        self.retention_days = retention_days
        self.command = command
        self.tz = tz
        # Only posted polls are kept: one still being posted may yet be abandoned.
        self._polls: SharedLoadCache[int, Poll | None] = SharedLoadCache(
            None, POLL_CACHE_MAX, keep=lambda p: p is not None and p.message_ref is not None)
        self._zones: SharedLoadCache[tuple[str, str], tzinfo] = SharedLoadCache(ZONE_CACHE_SECONDS, POLL_CACHE_MAX)

    # -- who and where --------------------------------------------------------------------------

    def _key(self, actor: Actor) -> str:
        return voter_key(self._secret, actor.space_id, actor.member_id)

    def cmd(self, actor: Actor | str, name: str, **values: str) -> str:
        """A command as the member's platform spells it, in backticks."""
        platform = actor if isinstance(actor, str) else actor.platform
        return f"`{spell(platform, name, self.command, **values)}`"

    async def space_settings(self, space_id: str) -> SpaceSettings:
        return await self.store.space_settings(space_id)

    async def access(self, actor: Actor) -> Access:
        if actor.is_admin:  # no store read for admins
            return Access.ADMIN
        return access_of(actor, await self.space_settings(actor.space_id))

    async def require(self, actor: Actor, level: Access = Access.FACILITATOR) -> None:
        if await self.access(actor) < level:
            raise UserError(ADMIN_ONLY if level is Access.ADMIN else FACILITATORS_ONLY)

    async def require_channel(self, actor: Actor) -> None:
        """New polls and settings only in the channels facilitators chose (if they chose any)."""
        space = await self.space_settings(actor.space_id)
        if not channel_allowed(space, actor.channel_id):
            channels = ", ".join(mention("channel", c) for c in sorted(space.channels))
            raise UserError(t("channel.not_used", channels=channels))

    async def channel_settings(self, space_id: str, channel_id: str) -> ChannelSettings:
        settings = await self.store.channel_settings(space_id, channel_id)
        return settings or ChannelSettings(space_id, channel_id, self.default_min_votes)

    async def min_votes(self, space_id: str, channel_id: str) -> int:
        return (await self.channel_settings(space_id, channel_id)).min_votes

    async def zone(self, space_id: str, channel_id: str) -> tzinfo:
        """The channel's zone for plain-text times: its schedule's, else the bot's TIMEZONE.

        Remembered for a minute: every vote receipt names a time, and a schedule's zone rarely changes."""
        remembered = self._zones.peek((space_id, channel_id))  # the usual case, with no coroutine to build
        if remembered is not None:
            return remembered

        async def load() -> tzinfo:
            schedule = await self.store.get_schedule(space_id, channel_id)
            if schedule is not None:
                try:
                    return ZoneInfo(schedule.timezone)
                except (ValueError, KeyError):
                    pass
            return self.tz

        return await self._zones.get((space_id, channel_id), load)

    def zone_changed(self, space_id: str, channel_id: str) -> None:
        self._zones.forget((space_id, channel_id))

    # -- prompts and polls ----------------------------------------------------------------------

    async def prompt_of(self, poll: Poll) -> Prompt:
        prompt = await self.find_prompt(poll.prompt_id)
        if prompt is None:  # the operator swapped content packs under a live database
            raise UserError(t("poll.missing_prompt", poll_id=poll.id, prompt_id=poll.prompt_id))
        return prompt

    async def find_prompt(self, prompt_id: str) -> Prompt | None:
        if prompt_id.startswith(CUSTOM_PROMPT_PREFIX):
            return await self.store.custom_prompt(prompt_id)
        return self.content.prompt(prompt_id)

    async def poll(self, poll_id: int) -> Poll | None:
        """A poll as stored now (adapters use this to find a poll's message)."""
        return await self.store.get_poll(poll_id)

    async def _poll_in_space(self, actor: Actor, poll_id: int, for_vote: bool = False) -> Poll:
        # Votes use a cache: every vote needs the poll and its identity never changes, while whether
        # it is still open is decided again by the store inside the vote's own transaction. Anything
        # that shows the poll's state reads it fresh.
        if for_vote:
            poll = self._polls.peek(poll_id) or await self._polls.get(poll_id, lambda: self.store.get_poll(poll_id))
        else:
            poll = await self.store.get_poll(poll_id)
        # The same answer for a poll that does not exist and one the member may not see, so poll
        # numbers cannot be used to probe other channels.
        if poll is None or not await may_see(poll, actor.space_id, actor.channel_id, actor.can_view):
            raise UserError(NOT_HERE.format(poll_id=poll_id))
        return poll

    async def _pick_poll(self, actor: Actor, ref: str | None, open_only: bool = False) -> Poll:
        if ref:
            return await self._poll_in_space(actor, parse_poll_ref(ref))
        polls = (await self.store.open_polls(actor.space_id, actor.channel_id) if open_only
                 else await self.store.recent_polls(actor.space_id, actor.channel_id, limit=1))
        if not polls:
            raise UserError(t("poll.none_open") if open_only
                            else t("poll.none_yet", today=self.cmd(actor, "today")))
        return polls[0]

    async def rule(self, poll: Poll) -> Rule:
        return rule_for(poll, await self.channel_settings(poll.space_id, poll.channel_id))

    async def results_for(self, poll: Poll) -> Results:
        """The poll's results as the visibility rule allows them to be shown now, to anyone."""
        tally = await self.store.tally(poll.id)
        return visible_results(poll, await self.prompt_of(poll), tally, await self.rule(poll), self.clock())

    async def poll_card(self, poll_id: int) -> Card:
        """The current state of a poll message, for posting or refreshing it in place."""
        poll = await self.store.get_poll(poll_id)
        if poll is None:
            raise UserError(t("poll.none", poll_id=poll_id))
        prompt = await self.prompt_of(poll)
        return presenter.poll_card(poll, prompt, self.content.section(prompt.section_id),
                                   await self.results_for(poll), self.clock(),
                                   await self.zone(poll.space_id, poll.channel_id), self.content.axis)

    async def outcome_card(self, poll_id: int) -> Card:
        poll = await self.store.get_poll(poll_id)
        if poll is None:
            raise UserError(t("poll.none", poll_id=poll_id))
        results = await self.results_for(poll)
        return presenter.outcome_card(results, self.content.section(results.prompt.section_id), self.content.axis)

    async def deck_position(self, space_id: str, channel_id: str, order: str = "section",
                            seed: str = "") -> DeckPosition:
        """The next prompt of the deck not yet used in this round in the channel.

        A round ends when every prompt was used once; "shuffle" walks each round in its own
        order, fixed by the seed so restarts and a second process agree on it.
        """
        used = await self.store.used_prompt_ids(space_id, channel_id)
        prompts = list(self.content.prompts)
        rounds = min((used.count(p.id) for p in prompts), default=0)
        if order == "shuffle":
            random.Random(f"{seed}:{rounds}").shuffle(prompts)
        fresh = [p for p in prompts if used.count(p.id) <= rounds]
        nxt = fresh[0] if fresh else prompts[0]
        return DeckPosition(nxt, len(prompts) - len(fresh), len(prompts), tuple(fresh))

    async def next_prompt(self, space_id: str, channel_id: str, order: str = "section", seed: str = "") -> Prompt:
        return (await self.deck_position(space_id, channel_id, order, seed)).next

    async def open_poll(self, space_id: str, channel_id: str, prompt: Prompt, platform: str = "",
                        duration: timedelta | None = None) -> Poll:
        """A new poll with the channel's threshold, mode and duration fixed on it; PollAlreadyOpen if one is open."""
        now = self.clock()
        settings = await self.channel_settings(space_id, channel_id)
        length = duration or settings.poll_duration or self.poll_duration
        return await self.store.create_poll(space_id, channel_id, prompt.id, now, now + length,
                                            platform, min_votes=settings.min_votes,
                                            results_live=settings.results_live)

    async def publish(self, post: PollPost, send: Callable[[Card], Awaitable[str]]) -> str:
        """Post a new poll through `send` and record where it landed: claim -> post -> attach.

        If the platform refuses (or the post is interrupted), the poll is abandoned - closed, shown
        nowhere, its prompt free for the next post - and the error goes back to the adapter, which
        tells the member why.
        """
        try:
            ref = await send(post.card)
        except BaseException:
            try:
                await self.store.abandon_poll(post.poll_id, self.clock())
            except StoreError as exc:
                log.error("poll #%d could not be abandoned after its post failed: %s", post.poll_id, exc)
            raise
        # The message is out: recording where is worth a few tries, and a failure is not the post's.
        for attempt in range(ATTACH_TRIES):
            try:
                await self.attach_message(post.poll_id, ref)
                break
            except StoreError as exc:
                if attempt == ATTACH_TRIES - 1:
                    log.error("poll #%d was posted but where could not be recorded: %s", post.poll_id, exc)
                else:
                    await asyncio.sleep(0.5 * (attempt + 1))
        return ref

    async def visible_polls(self, actor: Actor, open_only: bool = False, limit: int = 25) -> list[Poll]:
        """Polls of the actor's channel, newest first, for pickers such as autocomplete."""
        polls = (await self.store.open_polls(actor.space_id, actor.channel_id) if open_only
                 else await self.store.recent_polls(actor.space_id, actor.channel_id, limit=limit))
        return [p for p in polls if await may_see(p, actor.space_id, actor.channel_id, actor.can_view)][:limit]

    async def attach_message(self, poll_id: int, message_ref: str) -> None:
        await self.store.set_poll_message(poll_id, message_ref)

    async def known_spaces(self) -> list[tuple[str, int]]:
        """Every space the database knows, with its number of polls (for the CLI's export)."""
        return await self.store.known_spaces()

    async def database_ok(self) -> bool:
        """Whether the database answers now (health checks)."""
        try:
            await self.store.schema_version()
        except StoreError:
            return False
        return True

    def refresh_turns(self, platform: str, interval: float) -> StoreTurns:
        """Turns at editing poll messages shared by every process on this database (core.throttle)."""
        return StoreTurns(self.store, holder_name(platform), interval)

    async def get_meta(self, key: str) -> str | None:
        return await self.store.get_meta(key)

    async def set_meta(self, key: str, value: str) -> None:
        await self.store.set_meta(key, value)
