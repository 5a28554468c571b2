"""The use cases: every member and admin action, returning render models and never sending anything."""

from __future__ import annotations

import csv
import functools
import io
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Concatenate, ParamSpec

from core import presenter
from core.actions import Action, ActionError, ActionKind, decode
from core.models import ChannelSettings, ContentPack, Poll, Prompt, Results, StanceEntry, VoteKind
from core.privacy import DEFAULT_MIN_VOTES, DEFAULT_RETENTION_DAYS, retention_cutoff, voter_key
from core.render import Attachment, Button, Card, PollPost, Reply, Style
from core.results import compute_results
from core.store.base import Store

log = logging.getLogger(__name__)
P = ParamSpec("P")
MAX_MIN_VOTES = 1000


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Actor:
    """Who is asking, where. `is_admin` is decided by the adapter from platform permissions."""

    space_id: str
    channel_id: str
    member_id: str
    is_admin: bool = False
    platform: str = ""  # which adapter posts for this space: "slack", "discord", "console"


@dataclass(frozen=True)
class Home:
    """A member's overview of a space: their stance, the open question, the latest final results."""

    stance: Card
    today: Card | None
    today_channel: str | None
    latest: Card | None


ADMIN_ONLY = "Only admins can do that. Ask a server or workspace admin."


class UserError(Exception):
    """Bad input from a member: answered privately with the message, nothing changed."""


def answers_errors(
    method: Callable[Concatenate[DebateService, P], Awaitable[Reply]],
) -> Callable[Concatenate[DebateService, P], Awaitable[Reply]]:
    @functools.wraps(method)
    async def wrapper(self: DebateService, *args: P.args, **kwargs: P.kwargs) -> Reply:
        try:
            return await method(self, *args, **kwargs)
        except UserError as exc:
            return Reply(text=str(exc), error=True)

    return wrapper


def parse_poll_ref(ref: str) -> int:
    text = ref.strip().lstrip("#")
    if not text.isdigit() or len(text) > 18:
        raise UserError(f"'{ref}' is not a poll number. Use the number shown on the poll, e.g. 12 or #12.")
    return int(text)


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
            if poll is not None and for_vote:
                if len(self._polls) >= 4096:
                    self._polls.clear()
                self._polls[poll_id] = poll
        if poll is None or poll.space_id != actor.space_id:
            raise UserError(f"There is no poll #{poll_id} here.")
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

    async def results_for(self, poll: Poll) -> Results:
        tally = await self.store.tally(poll.id)
        settings = await self.channel_settings(poll.space_id, poll.channel_id)
        until_close = not settings.results_live and poll.is_open(self.clock())
        return compute_results(poll, self._prompt(poll), tally, settings.min_votes, hidden_until_close=until_close)

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
        now = self.clock()
        return await self.store.create_poll(space_id, channel_id, prompt.id, now, now + self.poll_duration, platform)

    async def outcome_card(self, poll_id: int) -> Card:
        poll = await self.store.get_poll(poll_id)
        if poll is None:
            raise UserError(f"There is no poll #{poll_id}.")
        results = await self.results_for(poll)
        return presenter.outcome_card(results, self.content.section(results.prompt.section_id))

    async def attach_message(self, poll_id: int, message_ref: str) -> None:
        await self.store.set_poll_message(poll_id, message_ref)

    # -- member use cases -----------------------------------------------------------------------

    @answers_errors
    async def today(self, actor: Actor) -> Reply:
        polls = await self.store.open_polls(actor.space_id, actor.channel_id)
        now = self.clock()
        current = [p for p in polls if p.is_open(now)]
        if current:
            card = await self.poll_card(current[0].id)
            return Reply(text="Today's question is open. Vote here or on the poll message.", card=card)
        poll = await self.open_poll(actor.space_id, actor.channel_id,
                                    await self.next_prompt(actor.space_id, actor.channel_id), actor.platform)
        return Reply(text=f"Today's question is posted (poll #{poll.id}).",
                     post=PollPost(poll.id, await self.poll_card(poll.id)))

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
        prompt = self._prompt(poll)
        option = prompt.option(option_id)
        if option is None:
            raise UserError("That choice is not part of this poll. Use the buttons on the poll message.")
        outcome = await self.store.record_vote(poll.id, self._key(actor), option.id, self.clock())
        label = f"{option.emoji} {option.label}".strip()
        until = f" until {presenter.when(poll.closes_at, self.tz)}" if poll.closes_at else " while the poll is open"
        retract = Button("Retract my vote", Action(ActionKind.RETRACT, poll_id=poll.id).encode(), "↩️", Style.DANGER)
        if outcome.kind is VoteKind.POLL_CLOSED:
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
        card = presenter.outcome_card(results, section) if not poll.is_open(self.clock()) else Card(
            title=f"Results so far: {results.prompt.question}",
            results=presenter.results_view(results),
            footer=f"Poll #{poll.id} · {presenter.ANONYMITY_NOTE}",
        )
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
        now = self.clock()
        current = [p for p in await self.store.open_polls(actor.space_id) if p.is_open(now)]
        closed = [p for p in await self.store.recent_polls(actor.space_id, limit=25) if not p.is_open(now)]
        stance = (await self.stance(actor)).card
        assert stance is not None
        return Home(
            stance=stance,
            today=await self.poll_card(current[0].id) if current else None,
            today_channel=current[0].channel_id if current else None,
            latest=await self.outcome_card(closed[0].id) if closed else None,
        )

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
        poll = await self.open_poll(actor.space_id, actor.channel_id, prompt, actor.platform)
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
        data = await self.export_csv(actor.space_id)
        return Reply(text="Aggregate results as CSV. It holds counts only, never who voted.",
                     attachment=Attachment("counterpoint-results.csv", data))

    async def export_csv(self, space_id: str) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["poll", "channel", "prompt", "question", "opened_at", "closed_at", "option",
                         "votes", "share", "first_votes", "total", "mean_lean"])
        for poll, tally in await self.store.polls_with_tallies(space_id):
            prompt = self.content.prompt(poll.prompt_id)
            if prompt is None:
                continue
            results = compute_results(poll, prompt, tally, 0)
            hidden = results.total < await self.min_votes(poll.space_id, poll.channel_id)
            for r in results.options:
                writer.writerow([_cell(v) for v in (
                    poll.id, poll.channel_id, prompt.id, prompt.question, poll.opened_at.isoformat(),
                    poll.closed_at.isoformat() if poll.closed_at else "", r.option.label,
                    "" if hidden else r.count, "" if hidden else round(r.share, 3),
                    "" if hidden else r.first_count, results.total,
                    "" if hidden or results.mean_lean is None else round(results.mean_lean, 2),
                )])
        return buffer.getvalue().encode("utf-8")

    @answers_errors
    async def settings(self, actor: Actor, min_votes: str | None = None) -> Reply:
        self._require_admin(actor)
        if min_votes is not None:
            try:
                k = int(min_votes)
            except ValueError:
                k = -1
            if not 1 <= k <= MAX_MIN_VOTES:
                raise UserError(f"min-votes must be a whole number from 1 to {MAX_MIN_VOTES}, got '{min_votes}'.")
            current = await self.channel_settings(actor.space_id, actor.channel_id)
            await self.store.save_channel_settings(replace(current, min_votes=k))
        settings = await self.channel_settings(actor.space_id, actor.channel_id)
        k = settings.min_votes
        when_shown = "live while the poll is open" if settings.results_live else "only once the poll closes"
        return Reply(text=f"Settings for this channel: results show after {k} votes (min-votes {k}), "
                          f"{when_shown}. Change with `{self.command} settings min-votes N`.")

    async def purge_expired(self) -> int:
        return await self.store.purge_votes_closed_before(retention_cutoff(self.clock(), self.retention_days))


def _cell(value: object) -> str:
    """Neutralise spreadsheet formulas: a cell starting with = + - @ (or tab/CR) is read as text."""
    text = str(value)
    if isinstance(value, int | float):
        return text
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text
