"""What facilitators do: post and close polls, ask their own question, settings, roles, channels, the deck."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from core import presenter
from core.cases.base import ServiceBase
from core.catalogue import count, t
from core.content.fields import LABEL_MAX, QUESTION_MAX
from core.durations import format_duration, parse_duration
from core.models import Option, ReasonsMode
from core.moments import mention
from core.privacy import MAX_MIN_VOTES, MIN_VOTES_FLOOR, check_min_votes
from core.render import PollPost, Reply
from core.roles import Access
from core.store.base import PollAlreadyOpen
from core.text import clean_typed
from core.usecase import Actor, UserError, answers_errors

_SWITCH = {"on": True, "yes": True, "true": True, "off": False, "no": False, "false": False}
_MENTION = re.compile(r"^<[@#][!&]?([A-Za-z0-9]{1,30})(?:\|[^>]{0,80})?>$")
_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
MAX_OPTIONS = 5


def _switch(value: str, name: str) -> bool:
    answer = _SWITCH.get(value.strip().lower())
    if answer is None:
        raise UserError(t("settings.bad_switch", name=name, value=value[:20]))
    return answer


def subject_id(value: str) -> str:
    """A member, role or channel as typed in chat: a mention (<@U1|ann>, <#C1|general>, <@&9>) or an id."""
    text = value.strip()
    match = _MENTION.match(text)
    if match:
        return match.group(1)
    text = text.lstrip("@#")
    if not _ID.match(text):
        raise UserError(t("roles.bad_subject", value=value[:40]))
    return text


_clean = clean_typed  # shared with reasons (core.text)


def _same_label(label: str) -> str:
    return unicodedata.normalize("NFKC", label).casefold()


class FacilitationCases(ServiceBase):
    @answers_errors
    async def post(self, actor: Actor, prompt_ref: str | None = None) -> Reply:
        await self.require(actor)
        await self.require_channel(actor)
        position = await self.deck_position(actor.space_id, actor.channel_id)
        prompt = position.next
        if prompt_ref:
            # Pack prompts only: a question typed in chat belongs to its own space, and its id must not
            # let another space read it.
            found = self.content.prompt(prompt_ref.strip().lower())
            if found is None:
                raise UserError(t("post.no_prompt", ref=prompt_ref[:40], deck=self.cmd(actor, "deck")))
            prompt = found
        try:
            poll = await self.open_poll(actor.space_id, actor.channel_id, prompt, actor.platform)
        except PollAlreadyOpen as exc:
            # One open poll per channel: a manual post never closes a poll members are voting on.
            raise UserError(t("post.still_open", poll_id=exc.poll.id, close=self.cmd(actor, "close"))) from None
        text = t("post.done", poll_id=poll.id)
        if not prompt_ref and position.last_of_round:
            text += " " + t("deck.last_of_round", size=position.size)
        return Reply(text=text, post=PollPost(poll.id, await self.poll_card(poll.id)))

    @answers_errors
    async def ask(self, actor: Actor, question: str, options: str | None = None) -> Reply:
        """A question of the facilitator's own: 2 to 5 options separated by | or new lines, or none for the scale."""
        await self.require(actor)
        await self.require_channel(actor)
        text = _clean(question or "")
        if not text:
            raise UserError(t("ask.no_question", ask=self.cmd(actor, "ask", question="…", options="A | B")))
        if len(text) > QUESTION_MAX:
            raise UserError(t("ask.question_long", limit=QUESTION_MAX, length=len(text)))
        labels = [_clean(o) for o in re.split(r"[|\n]", options or "")]
        labels = [label for label in labels if label]
        if labels and not 2 <= len(labels) <= MAX_OPTIONS:
            raise UserError(t("ask.option_count", most=MAX_OPTIONS))
        if any(len(label) > LABEL_MAX for label in labels):
            raise UserError(t("ask.option_long", limit=LABEL_MAX))
        if len({_same_label(label) for label in labels}) != len(labels):
            raise UserError(t("ask.option_twice"))
        chosen = (tuple(Option(id=f"o{i}", label=label) for i, label in enumerate(labels, start=1)) if labels
                  else self.content.scale)
        existing = await self.store.open_polls(actor.space_id, actor.channel_id)
        if existing:  # checked before the question is stored, so a refused ask leaves nothing behind
            raise UserError(t("post.still_open", poll_id=existing[0].id, close=self.cmd(actor, "close")))
        prompt = await self.store.create_custom_prompt(actor.space_id, actor.channel_id, text, chosen,
                                                       not labels, self.clock())
        try:
            poll = await self.open_poll(actor.space_id, actor.channel_id, prompt, actor.platform)
        except PollAlreadyOpen as exc:
            raise UserError(t("post.still_open", poll_id=exc.poll.id, close=self.cmd(actor, "close"))) from None
        return Reply(text=t("post.done", poll_id=poll.id), post=PollPost(poll.id, await self.poll_card(poll.id)))

    @answers_errors
    async def close(self, actor: Actor, poll_ref: str | None = None) -> Reply:
        await self.require(actor)
        poll = await self._pick_poll(actor, poll_ref, open_only=True)
        if not await self.store.close_poll(poll.id, self.clock()):
            raise UserError(t("close.already", poll_id=poll.id))
        return Reply(text=t("close.done", poll_id=poll.id), refresh_polls=(poll.id,))

    @answers_errors
    async def settings(self, actor: Actor, min_votes: str | None = None, *, results: str | None = None,
                       duration: str | None = None, members_post: str | None = None, reasons: str | None = None,
                       reports: str | None = None) -> Reply:
        """Show the channel's settings, or change any of them; with or without a schedule."""
        await self.require(actor)
        current = await self.channel_settings(actor.space_id, actor.channel_id)
        changed = current
        try:
            if min_votes is not None:
                changed = replace(changed, min_votes=check_min_votes(min_votes, "k"))
            if duration is not None:
                changed = replace(changed, poll_duration=parse_duration(duration))
        except ValueError as exc:
            raise UserError(str(exc)) from None
        if results is not None:
            mode = results.strip().lower().replace("_", "-")
            if mode not in ("live", "after-close"):
                raise UserError(t("settings.bad_results", value=results[:20]))
            changed = replace(changed, results_live=mode == "live")
        if members_post is not None:
            changed = replace(changed, members_post=_switch(members_post, "members-post"))
        if reasons is not None:
            if reasons.strip().lower() not in tuple(ReasonsMode):
                raise UserError(t("settings.bad_reasons", value=reasons[:20]))
            changed = replace(changed, reasons=ReasonsMode(reasons.strip().lower()))
        if reports is not None:
            if not (reports.isascii() and reports.isdigit()) or not 1 <= int(reports[:6]) <= 100:
                raise UserError(t("router.out_of_range", name="reports", value=reports[:20], low=1, high=100))
            changed = replace(changed, report_limit=int(reports))
        announce: list[str] = []
        refresh: tuple[int, ...] = ()
        if changed != current:
            await self.require_channel(actor)
            await self.store.save_channel_settings(changed)
            self.reasons_mode_changed(actor.space_id, actor.channel_id)  # type: ignore[attr-defined]
            if changed.min_votes != current.min_votes:
                announce.append(presenter.threshold_announcement(current.min_votes, changed.min_votes))
            if changed.results_live != current.results_live:
                announce.append(t("settings.announce_after_close") if not changed.results_live
                                else t("settings.announce_live"))
            if announce:
                refresh = tuple(p.id for p in await self.store.open_polls(actor.space_id, actor.channel_id))
        saved = await self.channel_settings(actor.space_id, actor.channel_id)
        text = presenter.settings_text(
            k=max(saved.min_votes, MIN_VOTES_FLOOR), live=saved.results_live,
            duration=format_duration(saved.poll_duration or self.poll_duration), members_post=saved.members_post,
            change=self.cmd(actor, "settings", k="5", results="after-close", duration="24h", **{"members-post": "on"}),
            floor=MIN_VOTES_FLOOR, most=MAX_MIN_VOTES, saved=changed != current)
        text += "\n" + t("settings.reasons_line", mode=saved.reasons.value,
                                   reports=count(saved.report_limit, "report"))
        return Reply(text=text, announce=" ".join(announce) or None, refresh_polls=refresh)

    @answers_errors
    async def facilitators(self, actor: Actor, add: str | None = None, remove: str | None = None) -> Reply:
        """Platform admins name facilitators: Discord roles, members elsewhere. Stored; no restart."""
        await self.require(actor, Access.ADMIN)
        space = await self.space_settings(actor.space_id)
        by_role = actor.platform == "discord"
        names = set(space.facilitator_roles if by_role else space.facilitators)
        if add:
            names.add(subject_id(add))
        if remove:
            names.discard(subject_id(remove))
        if add or remove:
            chosen = frozenset(names)
            await self.store.save_space_settings(replace(space, facilitator_roles=chosen) if by_role
                                                 else replace(space, facilitators=chosen))
        shown = (", ".join(mention("role" if by_role else "user", n) for n in sorted(names)) if names
                 else t("roles.none"))
        key = "roles.list_discord" if by_role else "roles.list"
        return Reply(text=t(key, names=shown, change=self.cmd(actor, "facilitators", add="@…")))

    @answers_errors
    async def channels(self, actor: Actor, add: str | None = None, remove: str | None = None,
                       every: str | None = None) -> Reply:
        """Keep the bot to chosen channels (polls, settings and schedules); empty means every channel."""
        await self.require(actor)
        space = await self.space_settings(actor.space_id)
        chosen = set(space.channels)
        if every is not None and _switch(every, "all"):
            chosen = set()
        if add:
            chosen.add(subject_id(add))
        if remove:
            chosen.discard(subject_id(remove))
        if chosen != set(space.channels):
            await self.store.save_space_settings(replace(space, channels=frozenset(chosen)))
        if not chosen:
            return Reply(text=t("channels.every", change=self.cmd(actor, "channels", add="#…")))
        listing = ", ".join(mention("channel", c) for c in sorted(chosen))
        return Reply(text=t("channels.list", channels=listing,
                            change=self.cmd(actor, "channels", add="#…", remove="#…"),
                            every=self.cmd(actor, "channels", all="on")))

    @answers_errors
    async def deck(self, actor: Actor) -> Reply:
        """The next questions of this channel's deck, and when it starts over."""
        await self.require(actor)
        schedule = await self.store.get_schedule(actor.space_id, actor.channel_id)
        order, seed = (schedule.deck_order, schedule.shuffle_seed) if schedule else ("section", "")
        position = await self.deck_position(actor.space_id, actor.channel_id, order, seed)
        return Reply(card=presenter.deck_card(position.upcoming[:5], position.used_in_round, position.size,
                                              self.cmd(actor, "post", prompt="ID")))
