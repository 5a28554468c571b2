"""The use cases: every member and admin action, returning render models and never sending anything."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, tzinfo

from core import overview, presenter
from core.actions import Action, ActionError, ActionKind, decode
from core.models import ChannelSettings, ContentPack, Poll, Prompt, Results, StanceEntry, VoteKind
from core.privacy import (
    DEFAULT_MIN_VOTES,
    DEFAULT_RETENTION_DAYS,
    MAX_MIN_VOTES,
    MIN_VOTES_FLOOR,
    check_min_votes,
    retention_cutoff,
    voter_key,
)
from core.render import Attachment, Button, Card, PollPost, Reply, Style
from core.store.base import PollAlreadyOpen, Store, StoreError
from core.usecase import (
    ADMIN_ONLY,
    NOT_HERE,
    STORE_DOWN,
    VOTE_NOT_RECORDED,
    Actor,
    Home,
    UserError,
    answers_errors,
    parse_poll_ref,
    utc_now,
)
from core.visibility import Rule, may_see, rule_for, visible_results

log = logging.getLogger(__name__)
ATTACH_TRIES = 4
NOT_POSTED = ("Poll #{poll_id} is still being posted in this channel, so it takes no votes yet. "
              "Vote on it once it appears.")
__all__ = ["ADMIN_ONLY", "MAX_MIN_VOTES", "MIN_VOTES_FLOOR", "STORE_DOWN", "VOTE_NOT_RECORDED", "Actor",
           "DebateService", "Home", "UserError", "parse_poll_ref", "utc_now"]


class DebateService:
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
        self._polls: dict[int, Poll] = {}

    # -- helpers --------------------------------------------------------------------------------

    def _key(self, actor: Actor) -> str:
        return voter_key(self._secret, actor.space_id, actor.member_id)

    def _require_admin(self, actor: Actor) -> None:
        if not actor.is_admin:
            raise UserError(ADMIN_ONLY)

    async def channel_settings(self, space_id: str, channel_id: str) -> ChannelSettings:
        settings = await self.store.channel_settings(space_id, channel_id)
        return settings or ChannelSettings(space_id, channel_id, self.default_min_votes)

    async def min_votes(self, space_id: str, channel_id: str) -> int:
        return (await self.channel_settings(space_id, channel_id)).min_votes

    def _prompt(self, poll: Poll) -> Prompt:
        prompt = self.content.prompt(poll.prompt_id)
        if prompt is None:  # the operator swapped content packs under a live database
            raise UserError(f"Poll #{poll.id} uses a prompt ({poll.prompt_id}) that the current content pack lacks.")
        return prompt

    async def _poll_in_space(self, actor: Actor, poll_id: int, for_vote: bool = False) -> Poll:
        # Votes use a cache: every vote needs the poll and its identity never changes, while whether
        # it is still open is decided again by the store inside the vote's own transaction. Anything
        # that shows the poll's state reads it fresh.
        poll = self._polls.get(poll_id) if for_vote else None
        if poll is None:
            poll = await self.store.get_poll(poll_id)
            # Only posted polls are cached: one still being posted may yet be abandoned.
            if poll is not None and for_vote and poll.message_ref is not None:
                if len(self._polls) >= 4096:
                    self._polls.clear()
                self._polls[poll_id] = poll
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
            raise UserError("There is no open poll in this channel." if open_only
                            else f"No poll has been posted in this channel yet. Try `{self.command} today`.")
        return polls[0]

    async def rule(self, poll: Poll) -> Rule:
        return rule_for(poll, await self.channel_settings(poll.space_id, poll.channel_id))

    async def results_for(self, poll: Poll) -> Results:
        """The poll's results as the visibility rule allows them to be shown now, to anyone."""
        tally = await self.store.tally(poll.id)
        return visible_results(poll, self._prompt(poll), tally, await self.rule(poll), self.clock())

    async def poll_card(self, poll_id: int) -> Card:
        """The current state of a poll message, for posting or refreshing it in place."""
        poll = await self.store.get_poll(poll_id)
        if poll is None:
            raise UserError(f"There is no poll #{poll_id}.")
        prompt = self._prompt(poll)
        return presenter.poll_card(poll, prompt, self.content.section(prompt.section_id),
                                   await self.results_for(poll), self.clock(), self.tz)

    async def next_prompt(self, space_id: str, channel_id: str, order: str = "section", seed: str = "") -> Prompt:
        """The next prompt of the deck not yet used in this round in the channel.

        A round ends when every prompt was used once; "shuffle" walks each round in its own
        order, fixed by the seed so restarts and a second process agree on it.
        """
        used = await self.store.used_prompt_ids(space_id, channel_id)
        prompts = list(self.content.prompts)
        rounds = min((used.count(p.id) for p in prompts), default=0)
        if order == "shuffle":
            random.Random(f"{seed}:{rounds}").shuffle(prompts)
        for prompt in prompts:
            if used.count(prompt.id) <= rounds:
                return prompt
        return prompts[0]

    async def open_poll(self, space_id: str, channel_id: str, prompt: Prompt, platform: str = "") -> Poll:
        """A new poll with the channel's threshold and mode fixed on it; PollAlreadyOpen if one is open."""
        now = self.clock()
        settings = await self.channel_settings(space_id, channel_id)
        return await self.store.create_poll(space_id, channel_id, prompt.id, now, now + self.poll_duration,
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

    async def outcome_card(self, poll_id: int) -> Card:
        poll = await self.store.get_poll(poll_id)
        if poll is None:
            raise UserError(f"There is no poll #{poll_id}.")
        results = await self.results_for(poll)
        return presenter.outcome_card(results, self.content.section(results.prompt.section_id))

    async def visible_polls(self, actor: Actor, open_only: bool = False, limit: int = 25) -> list[Poll]:
        """Polls of the actor's channel, newest first, for pickers such as autocomplete."""
        polls = (await self.store.open_polls(actor.space_id, actor.channel_id) if open_only
                 else await self.store.recent_polls(actor.space_id, actor.channel_id, limit=limit))
        return [p for p in polls if await may_see(p, actor.space_id, actor.channel_id, actor.can_view)][:limit]

    async def attach_message(self, poll_id: int, message_ref: str) -> None:
        await self.store.set_poll_message(poll_id, message_ref)

    # -- member use cases -----------------------------------------------------------------------

    @answers_errors
    async def today(self, actor: Actor) -> Reply:
        polls = await self.store.open_polls(actor.space_id, actor.channel_id)
        now = self.clock()
        current = [p for p in polls if p.is_open(now)]
        if not current:
            try:
                poll = await self.open_poll(actor.space_id, actor.channel_id,
                                            await self.next_prompt(actor.space_id, actor.channel_id), actor.platform)
            except PollAlreadyOpen as exc:  # someone else's `today` won the race: show theirs
                current = [exc.poll]
            else:
                return Reply(text=f"Today's question is posted (poll #{poll.id}).",
                             post=PollPost(poll.id, await self.poll_card(poll.id)))
        if current[0].message_ref is None:  # still being posted (or its post is being retried)
            return Reply(text=NOT_POSTED.format(poll_id=current[0].id))
        card = await self.poll_card(current[0].id)
        return Reply(text="Today's question is open. Vote here or on the poll message.", card=card)

    @answers_errors
    async def article(self, actor: Actor, section_ref: str | None = None) -> Reply:
        if not section_ref:
            return Reply(card=presenter.article_card(self.content.article, self.content.sections))
        section = self.content.section(section_ref.strip().lower())
        if section is None:
            known = ", ".join(s.id for s in self.content.sections)
            raise UserError(f"There is no section '{section_ref}'. Sections: {known}.")
        return Reply(card=presenter.section_card(section, self.content.article))

    @answers_errors
    async def vote(self, actor: Actor, poll_id: int, option_id: str) -> Reply:
        poll = await self._poll_in_space(actor, poll_id, for_vote=True)
        if poll.message_ref is None and poll.is_open(self.clock()):
            # Its post may still be refused, and an abandoned poll keeps no votes: taking one now
            # would confirm a vote that is then lost.
            raise UserError(NOT_POSTED.format(poll_id=poll.id))
        prompt = self._prompt(poll)
        option = prompt.option(option_id)
        if option is None:
            raise UserError("That choice is not part of this poll. Use the buttons on the poll message.")
        outcome = await self.store.record_vote(poll.id, self._key(actor), option.id, self.clock())
        label = f"{option.emoji} {option.label}".strip()
        until = f" until {presenter.when(poll.closes_at, self.tz)}" if poll.closes_at else " while the poll is open"
        retract = Button("Retract my vote", Action(ActionKind.RETRACT, poll_id=poll.id).encode(), "↩️", Style.DANGER)
        if outcome.kind is VoteKind.POLL_CLOSED:
            self._polls.pop(poll.id, None)
            fresh = await self.store.get_poll(poll.id)
            if fresh is None or fresh.abandoned:
                raise UserError(NOT_HERE.format(poll_id=poll_id))
            raise UserError(f"Poll #{poll.id} is closed; votes are no longer accepted. "
                            f"See the outcome with `{self.command} results {poll.id}`.")
        if outcome.kind is VoteKind.UNKNOWN_POLL:
            raise UserError(f"There is no poll #{poll_id} here.")
        if outcome.kind is VoteKind.UNCHANGED:
            return Reply(text=f"You already chose {label}. Nothing changed.",
                         card=Card(title="Your vote", buttons=(retract,)))
        verb = "changed your vote to" if outcome.kind is VoteKind.CHANGED else "chose"
        return Reply(
            text=f"You {verb} {label}. You can change it{until}, or retract it.",
            card=Card(title="Your vote", text="Only you can see this.", buttons=(retract,)),
            refresh_polls=(poll.id,),
        )

    @answers_errors
    async def retract(self, actor: Actor, poll_id: int) -> Reply:
        poll = await self._poll_in_space(actor, poll_id, for_vote=True)
        outcome = await self.store.retract_vote(poll.id, self._key(actor), self.clock())
        if outcome.kind is VoteKind.POLL_CLOSED:
            raise UserError(f"Poll #{poll.id} is closed; its votes can no longer change.")
        if outcome.kind is VoteKind.NOTHING_TO_RETRACT:
            return Reply(text=f"You have no vote on poll #{poll.id}. Nothing changed.")
        return Reply(text=f"Your vote on poll #{poll.id} is retracted. You can vote again while it is open.",
                     refresh_polls=(poll.id,))

    @answers_errors
    async def results(self, actor: Actor, poll_ref: str | None = None) -> Reply:
        poll = await self._pick_poll(actor, poll_ref)
        results = await self.results_for(poll)
        section = self.content.section(results.prompt.section_id)
        card = (presenter.outcome_card(results, section) if not poll.is_open(self.clock())
                else presenter.results_so_far_card(results))
        return Reply(card=card)

    @answers_errors
    async def stance(self, actor: Actor) -> Reply:
        entries: list[StanceEntry] = []
        for poll, option_id in await self.store.stance(actor.space_id, self._key(actor)):
            prompt = self.content.prompt(poll.prompt_id)
            option = prompt.option(option_id) if prompt else None
            if prompt and option:
                entries.append(StanceEntry(poll, prompt, option))
        return Reply(card=presenter.stance_card(entries))

    async def home(self, actor: Actor) -> Home:
        """The member's overview, with only polls of channels they can see (see core.overview)."""
        return await overview.home(self, actor)

    @answers_errors
    async def forget_me(self, actor: Actor, confirmed: bool = False) -> Reply:
        if not confirmed:
            return Reply(card=presenter.forget_confirm_card())
        deleted = await self.store.forget_member(actor.space_id, self._key(actor))
        polls = {p.id for p in await self.store.open_polls(actor.space_id)}
        return Reply(
            text=f"Done: {deleted} record{'s' if deleted != 1 else ''} about you deleted from this space. "
                 "Open polls no longer count your votes.",
            refresh_polls=tuple(sorted(polls)),
        )

    @answers_errors
    async def help(self, actor: Actor, admin_command: str | None = None) -> Reply:
        return Reply(card=presenter.help_card(self.command, actor.is_admin, admin_command))

    @answers_errors
    async def press(self, actor: Actor, payload: str) -> Reply:
        """A button press, from its payload: the one place payloads from outside are trusted or refused."""
        try:
            action = decode(payload)
        except ActionError as exc:
            raise UserError(f"That button is not valid ({exc}). It may come from an old message.") from None
        if action.kind is ActionKind.VOTE:
            return await self.vote(actor, action.poll_id or 0, action.option_id or "")
        if action.kind is ActionKind.RETRACT:
            return await self.retract(actor, action.poll_id or 0)
        if action.kind is ActionKind.SECTION:
            return await self.article(actor, action.section_id)
        if action.kind is ActionKind.FORGET:
            return await self.forget_me(actor, confirmed=True)
        return Reply(text="Cancelled. Nothing was deleted.")

    # -- admin use cases ------------------------------------------------------------------------

    @answers_errors
    async def post(self, actor: Actor, prompt_ref: str | None = None) -> Reply:
        self._require_admin(actor)
        if prompt_ref:
            prompt = self.content.prompt(prompt_ref.strip().lower())
            if prompt is None:
                raise UserError(f"There is no prompt '{prompt_ref}'. `{self.command} help` lists commands; "
                                "prompt ids are in the content pack.")
        else:
            prompt = await self.next_prompt(actor.space_id, actor.channel_id)
        try:
            poll = await self.open_poll(actor.space_id, actor.channel_id, prompt, actor.platform)
        except PollAlreadyOpen as exc:
            # One open poll per channel: a manual post never closes a poll members are voting on.
            raise UserError(f"Poll #{exc.poll.id} is still open in this channel. Close it first with "
                            f"`{self.command} close`, then post.") from None
        return Reply(text=f"Posted poll #{poll.id}.", post=PollPost(poll.id, await self.poll_card(poll.id)))

    @answers_errors
    async def close(self, actor: Actor, poll_ref: str | None = None) -> Reply:
        self._require_admin(actor)
        poll = await self._pick_poll(actor, poll_ref, open_only=True)
        if not await self.store.close_poll(poll.id, self.clock()):
            raise UserError(f"Poll #{poll.id} is already closed.")
        return Reply(text=f"Closed poll #{poll.id}.", refresh_polls=(poll.id,))

    @answers_errors
    async def export(self, actor: Actor) -> Reply:
        self._require_admin(actor)
        data = await self.export_csv(actor.space_id, viewer=actor)
        return Reply(text="Aggregate results as CSV. It holds counts only, never who voted.",
                     attachment=Attachment("counterpoint-results.csv", data))

    async def export_csv(self, space_id: str, viewer: Actor | None = None) -> bytes:
        """Aggregates of the space's polls as the visibility rule shows them (see core.overview)."""
        return await overview.space_csv(self, space_id, viewer)

    @answers_errors
    async def settings(self, actor: Actor, min_votes: str | None = None) -> Reply:
        self._require_admin(actor)
        announce = None
        refresh: tuple[int, ...] = ()
        if min_votes is not None:
            try:
                k = check_min_votes(min_votes, "min-votes")
            except ValueError as exc:
                raise UserError(str(exc)) from None
            current = await self.channel_settings(actor.space_id, actor.channel_id)
            if k != current.min_votes:
                await self.store.save_channel_settings(replace(current, min_votes=k))
                announce = presenter.threshold_announcement(current.min_votes, k)
                refresh = tuple(p.id for p in await self.store.open_polls(actor.space_id, actor.channel_id))
        settings = await self.channel_settings(actor.space_id, actor.channel_id)
        k = max(settings.min_votes, MIN_VOTES_FLOOR)
        when_shown = "live while the poll is open" if settings.results_live else "only once the poll closes"
        return Reply(text=f"Settings for this channel: results show from {k} votes (min-votes {k}), "
                          f"{when_shown}. Change with `{self.command} settings min-votes N` "
                          f"({MIN_VOTES_FLOOR} to {MAX_MIN_VOTES}).",
                     announce=announce, refresh_polls=refresh)

    async def purge_expired(self) -> int:
        return await self.store.purge_votes_closed_before(retention_cutoff(self.clock(), self.retention_days))

