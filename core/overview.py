"""Overviews across a space's polls: a member's App Home and the CSV export.

Both go through the same rules as single-poll outputs: channel scope (core.visibility.may_see) and
the redacted results (core.visibility.visible_results).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from core.catalogue import t
from core.export import results_csv
from core.models import Poll, Prompt, Results
from core.render import Field
from core.roles import Access
from core.usecase import Actor, Home
from core.visibility import may_see, visible_results

if TYPE_CHECKING:
    from core.service import DebateService


async def home(service: DebateService, actor: Actor) -> Home:
    """App Home has no channel of its own: without `actor.can_view` it shows the member's own stance only."""
    now = service.clock()

    async def visible(polls: list[Poll]) -> list[Poll]:
        return [p for p in polls if await may_see(p, actor.space_id, "", actor.can_view)]

    store = service.store
    # A poll still being posted takes no votes yet, so Home does not offer its buttons either.
    current = await visible([p for p in await store.open_polls(actor.space_id)
                             if p.is_open(now) and p.message_ref is not None])
    closed = await visible([p for p in await store.recent_polls(actor.space_id, limit=25) if not p.is_open(now)])
    stance = (await service.stance(actor)).card
    assert stance is not None
    notices: tuple[str, ...] = ()
    if await service.access(actor) >= Access.FACILITATOR:
        notices = tuple(n.text for n in await store.notices(actor.space_id))
    today = await service.poll_card(current[0].id) if current else None
    if today is not None and today.results is not None and today.results.visible:
        # The count alone, and only once results show: below k (or before an after-close poll closes) a count
        # that drops while the votes stay the same would say that someone changed their mind.
        reasons = sum((await store.reason_counts(current[0].id)).values())
        today = replace(today, fields=(*today.fields, Field(t("home.reasons_field"), t("reasons.count", n=reasons))))
    return Home(
        stance=stance,
        today=today,
        today_channel=current[0].channel_id if current else None,
        latest=await service.outcome_card(closed[0].id) if closed else None,
        notices=notices,
    )


async def space_csv(service: DebateService, space_id: str, viewer: Actor | None = None) -> bytes:
    """From chat (`viewer` given) only polls of channels the admin can see; from the command line, run by
    whoever holds the database, every poll of the space."""
    rows: list[tuple[Poll, Prompt, Results]] = []
    for poll, tally in await service.store.polls_with_tallies(space_id):
        prompt = await service.find_prompt(poll.prompt_id)
        if prompt is None or poll.abandoned:
            continue
        if viewer is not None and not await may_see(poll, viewer.space_id, viewer.channel_id, viewer.can_view):
            continue
        rule = await service.rule(poll)
        rows.append((poll, prompt, visible_results(poll, prompt, tally, rule, service.clock())))
    return results_csv(rows)
