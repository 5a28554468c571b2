"""Contract suite: reasons, marks, reports, views and their erasure (every backend)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from core.models import ChannelSettings, ReasonKind, ReasonsMode
from core.store.base import Store

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


async def _poll_with_votes(store: Store, votes: dict[str, str]) -> int:
    poll = await store.create_poll("S1", "C1", "p", T0, T0 + HOUR)
    for key, option in votes.items():
        await store.record_vote(poll.id, key, option, T0)
    return poll.id


async def test_a_reason_needs_a_vote_and_an_open_poll(backend: Store) -> None:
    poll = await _poll_with_votes(backend, {"a": "o1"})
    assert (await backend.save_reason(poll, "nobody", "why", T0)).kind is ReasonKind.NO_VOTE
    assert (await backend.save_reason(poll, "a", "why", T0 + 2 * HOUR)).kind is ReasonKind.POLL_CLOSED
    saved = await backend.save_reason(poll, "a", "why", T0)
    assert saved.kind is ReasonKind.SAVED and saved.reason_id is not None
    await backend.close_poll(poll, T0 + HOUR / 2)
    assert (await backend.save_reason(poll, "a", "other", T0)).kind is ReasonKind.POLL_CLOSED
    assert (await backend.delete_reason(poll, "a", T0)).kind is ReasonKind.POLL_CLOSED
    assert [r.text for r in await backend.reasons(poll)] == ["why"]


async def test_one_reason_per_member_edited_in_place_and_never_with_its_author(backend: Store) -> None:
    poll = await _poll_with_votes(backend, {"a": "o1", "b": "o1"})
    first = await backend.save_reason(poll, "a", "first words", T0)
    assert (await backend.mark_reason(first.reason_id or 0, "b", T0)).kind is ReasonKind.MARKED
    second = await backend.save_reason(poll, "a", "second words", T0 + timedelta(minutes=1))
    assert second == first.__class__(ReasonKind.UPDATED, first.reason_id)
    (shown,) = await backend.reasons(poll, "a")
    assert (shown.text, shown.marks, shown.mine, shown.option_id) == ("second words", 0, True, "o1")
    assert not hasattr(shown, "voter_key")
    assert (await backend.my_reason(poll, "a")).text == "second words"  # type: ignore[union-attr]
    assert await backend.my_reason(poll, "b") is None
    assert (await backend.delete_reason(poll, "a", T0)).kind is ReasonKind.DELETED
    assert (await backend.delete_reason(poll, "a", T0)).kind is ReasonKind.NOTHING
    assert await backend.reasons(poll) == []


async def test_a_reason_follows_the_vote_only_when_kept(backend: Store) -> None:
    poll = await _poll_with_votes(backend, {"a": "o1"})
    await backend.save_reason(poll, "a", "why", T0)
    await backend.record_vote(poll, "a", "o2", T0)
    assert await backend.reasons(poll) == []  # left with the old choice: shown nowhere
    assert await backend.reason_counts(poll) == {}
    assert (await backend.keep_reason(poll, "a", T0)).kind is ReasonKind.MOVED
    assert [(r.option_id, r.text) for r in await backend.reasons(poll)] == [("o2", "why")]
    assert (await backend.keep_reason(poll, "a", T0)).kind is ReasonKind.NOTHING
    await backend.retract_vote(poll, "a", T0)
    assert await backend.reasons(poll) == []
    assert (await backend.keep_reason(poll, "a", T0)).kind is ReasonKind.NO_VOTE


async def test_marks_one_per_member_never_ones_own_withdrawn_and_counted_exactly(backend: Store) -> None:
    voters = {k: "o1" for k in ("a", "b", "c", "d")}
    poll = await _poll_with_votes(backend, voters)
    rid = (await backend.save_reason(poll, "a", "why", T0)).reason_id or 0
    assert (await backend.mark_reason(rid, "a", T0)).kind is ReasonKind.OWN
    outcomes = await asyncio.gather(*(backend.mark_reason(rid, k, T0) for k in ("b", "c", "d", "b", "c")))
    assert sorted(o.kind for o in outcomes).count(ReasonKind.MARKED) == 3
    (shown,) = await backend.reasons(poll, "b")
    assert (shown.marks, shown.marked) == (3, True)
    assert (await backend.unmark_reason(rid, "b")).kind is ReasonKind.UNMARKED
    assert (await backend.unmark_reason(rid, "b")).kind is ReasonKind.NOTHING
    assert [(r.marks, r.marked) for r in await backend.reasons(poll, "b")] == [(2, False)]
    assert (await backend.mark_reason(rid + 999, "b", T0)).kind is ReasonKind.GONE


async def test_reports_hide_at_the_limit_and_a_restore_answers_them(backend: Store) -> None:
    poll = await _poll_with_votes(backend, {k: "o1" for k in ("a", "b", "c", "d", "e")})
    rid = (await backend.save_reason(poll, "a", "rude", T0)).reason_id or 0
    assert (await backend.report_reason(rid, "a", 2, T0)).kind is ReasonKind.OWN
    assert (await backend.report_reason(rid, "b", 2, T0)).kind is ReasonKind.REPORTED
    assert (await backend.report_reason(rid, "b", 2, T0)).kind is ReasonKind.ALREADY
    assert (await backend.report_reason(rid, "c", 2, T0)).kind is ReasonKind.HIDDEN
    assert await backend.reasons(poll) == [] and await backend.reason_counts(poll) == {}
    assert (await backend.report_reason(rid, "d", 2, T0)).kind is ReasonKind.GONE  # hidden: nothing to report
    assert (await backend.mark_reason(rid, "d", T0)).kind is ReasonKind.GONE
    (review,) = await backend.reasons_for_review(poll)
    assert (review.hidden, review.reports, review.text) == ("reports", 2, "rude")
    assert (await backend.moderate_reason(rid, hide=False)).kind is ReasonKind.RESTORED
    assert [r.id for r in await backend.reasons(poll)] == [rid]
    assert await backend.reasons_for_review(poll) == []
    assert (await backend.report_reason(rid, "d", 2, T0)).kind is ReasonKind.REPORTED  # counted from the review
    assert (await backend.moderate_reason(rid, hide=True)).kind is ReasonKind.HIDDEN
    assert (await backend.moderate_reason(rid, hide=True)).kind is ReasonKind.NOTHING
    assert (await backend.get_reason(rid)).hidden == "facilitator"  # type: ignore[union-attr]
    assert await backend.get_reason(rid + 999) is None
    assert (await backend.moderate_reason(rid + 999, hide=True)).kind is ReasonKind.GONE


async def test_views_are_counted_per_reason(backend: Store) -> None:
    poll = await _poll_with_votes(backend, {"a": "o1", "b": "o2"})
    ra = (await backend.save_reason(poll, "a", "x", T0)).reason_id or 0
    rb = (await backend.save_reason(poll, "b", "y", T0)).reason_id or 0
    await backend.add_reason_views([ra, rb])
    await backend.add_reason_views([ra])
    await backend.add_reason_views([])
    assert {r.id: r.views for r in await backend.reasons(poll)} == {ra: 2, rb: 1}


async def test_forget_erases_reasons_marks_and_reports_but_not_a_closed_polls_counts(backend: Store) -> None:
    poll = await _poll_with_votes(backend, {k: "o1" for k in ("a", "b", "c")})
    ra = (await backend.save_reason(poll, "a", "mine", T0)).reason_id or 0
    rb = (await backend.save_reason(poll, "b", "theirs", T0)).reason_id or 0
    await backend.mark_reason(rb, "a", T0)
    await backend.report_reason(rb, "a", 5, T0)
    await backend.mark_reason(ra, "b", T0)
    await backend.close_poll(poll, T0 + HOUR / 2)
    assert await backend.reason_counts(poll) == {"o1": 2}
    assert await backend.forget_member("S1", "a") >= 4  # vote, its event, reason, mark, report
    assert [(r.id, r.marks, r.reports) for r in await backend.reasons(poll)] == [(rb, 0, 0)]
    assert await backend.get_reason(ra) is None
    assert await backend.reason_counts(poll) == {"o1": 2}  # a closed poll's counts never move


async def test_purge_removes_reasons_with_the_votes_and_keeps_counts(backend: Store) -> None:
    poll = await _poll_with_votes(backend, {"a": "o1", "b": "o1", "c": "o2"})
    for key in ("a", "b", "c"):
        await backend.save_reason(poll, key, f"reason {key}", T0)
    hidden = (await backend.my_reason(poll, "c")).id  # type: ignore[union-attr]
    await backend.moderate_reason(hidden, hide=True)  # hidden reasons are not counted, before or after
    await backend.close_poll(poll, T0 + HOUR / 2)
    await backend.purge_votes_closed_before(T0 + 2 * HOUR)
    assert await backend.reasons(poll) == [] and await backend.get_reason(hidden) is None
    assert await backend.reason_counts(poll) == {"o1": 2}


async def test_an_abandoned_poll_keeps_no_reasons(backend: Store) -> None:
    poll = await _poll_with_votes(backend, {"a": "o1"})
    rid = (await backend.save_reason(poll, "a", "why", T0)).reason_id or 0
    await backend.abandon_poll(poll, T0)
    assert await backend.get_reason(rid) is None and await backend.reason_counts(poll) == {}


async def test_channel_settings_keep_the_reasons_mode_and_report_limit(backend: Store) -> None:
    assert (await backend.save_channel_settings(ChannelSettings("S1", "C1", 3))) is None
    assert (await backend.channel_settings("S1", "C1")).reasons is ReasonsMode.OPTIONAL  # type: ignore[union-attr]
    await backend.save_channel_settings(ChannelSettings("S1", "C1", 3, reasons=ReasonsMode.ASK, report_limit=5))
    got = await backend.channel_settings("S1", "C1")
    assert got is not None and (got.reasons, got.report_limit) == (ReasonsMode.ASK, 5)
