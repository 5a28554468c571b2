"""Reasons through the real service and a real SQLite file (issue 13): add, keep/drop, visibility, marks,
reports, moderation, forget-me, purge, export, the channel switch, and every bad input's private answer."""

from __future__ import annotations

import csv
import io
import logging

import pytest

from core.actions import Action, ActionKind
from core.models import ReasonsMode
from core.presenter_reasons import ReasonForm
from core.render import Reply, render_reply
from core.service import Actor, DebateService
from tests.conftest import FakeClock, member

ADMIN = member("admin", admin=True)
ONE, TWO = "-2", "2"  # the scale's two ends: security and privacy


async def open_scale_poll(service: DebateService) -> int:
    reply = await service.post(ADMIN, "first-instinct")
    assert reply.post is not None, reply.text
    await service.attach_message(reply.post.poll_id, f"C1:{reply.post.poll_id}")
    return reply.post.poll_id


def buttons(reply: Reply) -> list[str]:
    return [b.payload for b in (reply.card.buttons if reply.card else ())]


def kinds(reply: Reply) -> set[ActionKind]:
    from core.actions import decode

    return {decode(p).kind for p in buttons(reply)}


async def crowd(service: DebateService, poll: int, option: str, names: list[str], words: str = "") -> None:
    for name in names:
        assert not (await service.vote(member(name), poll, option)).error
        if words:
            saved = await service.save_reason(member(name), poll, f"{words} {name}")
            assert not saved.error, saved.text


async def test_the_receipt_offers_a_reason_and_the_member_adds_changes_and_deletes_it(service: DebateService) -> None:
    poll = await open_scale_poll(service)
    receipt = await service.vote(member("a"), poll, ONE)
    assert ActionKind.REASON_FORM in kinds(receipt)
    form = await service.reason_form(member("a"), poll)
    assert isinstance(form, ReasonForm) and form.current == "" and form.max_length == 280
    assert not (await service.save_reason(member("a"), poll, "Cameras  deter\u200b crime")).error
    form = await service.reason_form(member("a"), poll)
    assert isinstance(form, ReasonForm) and form.current == "Cameras deter crime"  # invisible characters gone
    assert "updated" in (await service.save_reason(member("a"), poll, "Cameras deter crime ⟦t:1:f:UTC⟧")).text
    mine = await service.store.my_reason(poll, service._key(member("a")))
    assert mine is not None and "\u27e6" not in mine.text  # no forged moment token
    assert not (await service.delete_reason(member("a"))).error
    assert (await service.delete_reason(member("a"))).error  # nothing left: a private answer


@pytest.mark.parametrize("text, expected", [
    ("", "needs some words"), ("   \n\t ", "needs some words"), ("\u200b\u202e", "needs some words"),
    ("<!channel>", "only a mention"), ("@everyone <@U123|ann>", "only a mention"), ("<@&42> <#C1>", "only a mention"),
    ("x" * 281, "at most 280 characters (yours has 281)"),
])
async def test_bad_reasons_get_a_short_private_answer_and_change_nothing(service: DebateService, text: str,
                                                                          expected: str) -> None:
    poll = await open_scale_poll(service)
    await service.vote(member("a"), poll, ONE)
    reply = await service.save_reason(member("a"), poll, text)
    assert reply.error and reply.ephemeral and expected in reply.text
    assert await service.store.my_reason(poll, service._key(member("a"))) is None


async def test_no_reason_without_a_vote_on_a_closed_poll_or_where_reasons_are_off(service: DebateService,
                                                                                  clock: FakeClock) -> None:
    poll = await open_scale_poll(service)
    assert "Vote on poll" in (await service.save_reason(member("a"), poll, "why")).text
    await service.vote(member("a"), poll, ONE)
    await service.settings(ADMIN, reasons="off")
    assert "switched off" in (await service.save_reason(member("a"), poll, "why")).text
    assert ActionKind.REASON_FORM not in kinds(await service.vote(member("a"), poll, TWO))
    await service.settings(ADMIN, reasons="optional")
    await service.close(ADMIN)
    reply = await service.save_reason(member("a"), poll, "why")
    assert reply.error and "closed" in reply.text
    assert isinstance(await service.reason_form(member("a"), poll), Reply)


async def test_a_changed_vote_asks_keep_or_drop_and_the_reason_waits_unseen(service: DebateService) -> None:
    poll = await open_scale_poll(service)
    await service.vote(member("a"), poll, ONE)
    await service.save_reason(member("a"), poll, "Safety first")
    changed = await service.vote(member("a"), poll, TWO)
    assert {ActionKind.REASON_KEEP, ActionKind.REASON_DROP} <= kinds(changed)
    assert await service.store.reasons(poll) == []  # until the member answers, shown nowhere
    kept = await service.press(member("a"), Action(ActionKind.REASON_KEEP, poll_id=poll).encode())
    assert not kept.error and "Privacy" in kept.text
    assert [r.option_id for r in await service.store.reasons(poll)] == [TWO]
    await service.vote(member("a"), poll, ONE)
    dropped = await service.press(member("a"), Action(ActionKind.REASON_DROP, poll_id=poll).encode())
    assert not dropped.error and await service.store.my_reason(poll, service._key(member("a"))) is None


async def test_ask_mode_prompts_on_the_receipt(service: DebateService) -> None:
    await service.settings(ADMIN, reasons="ask")
    assert (await service.channel_settings("S1", "C1")).reasons is ReasonsMode.ASK
    poll = await open_scale_poll(service)
    receipt = await service.vote(member("a"), poll, ONE)
    assert receipt.card is not None and "Why did you choose this?" in receipt.card.text


async def test_nothing_shows_below_k_and_a_side_below_k_shows_its_count_only(service: DebateService) -> None:
    poll = await open_scale_poll(service)
    await crowd(service, poll, ONE, ["a", "b"], "security because")
    reply = await service.reasons(member("z"))
    assert "Results show from 3 votes" in render_reply(reply) and "security because" not in render_reply(reply)
    await crowd(service, poll, ONE, ["c"], "security because")
    await crowd(service, poll, TWO, ["d", "e"], "privacy because")
    text = render_reply(await service.reasons(member("z")))
    assert "security because a" in text and "security because c" in text
    assert "privacy because" not in text and "2 reasons (the words show from 3" in text


async def test_after_close_mode_shows_reasons_only_after_the_close(service: DebateService) -> None:
    await service.settings(ADMIN, results="after-close")
    poll = await open_scale_poll(service)
    await crowd(service, poll, ONE, ["a", "b", "c"], "because")
    assert "after it closes" in render_reply(await service.reasons(member("z")))
    await service.close(ADMIN)
    assert "because a" in render_reply(await service.reasons(member("z"), str(poll)))


async def test_marks_once_never_ones_own_withdrawn_and_the_outcome_shows_the_top_two(service: DebateService) -> None:
    poll = await open_scale_poll(service)
    await crowd(service, poll, ONE, ["a", "b", "c"], "security because")
    await crowd(service, poll, TWO, ["d", "e", "f"], "privacy because")
    by_text = {r.text: r.id for r in await service.store.reasons(poll)}
    c_id, a_id = by_text["security because c"], by_text["security because a"]
    assert not (await service.mark(member("d"), c_id)).error
    assert not (await service.mark(member("e"), c_id)).error
    twice = await service.mark(member("e"), c_id)
    assert twice.error and "already" in twice.text
    own = await service.mark(member("c"), c_id)
    assert own.error and "own" in own.text
    assert not (await service.mark(member("f"), a_id)).error
    assert not (await service.mark(member("f"), a_id, on=False)).error
    assert (await service.mark(member("f"), a_id, on=False)).error
    await service.close(ADMIN)
    outcome = render_reply(Reply(card=await service.outcome_card(poll)))
    assert "Most convincing reasons" in outcome
    lines = [line for line in outcome.splitlines() if "security because" in line]
    assert lines[0].endswith("(2 marks)") and "because c" in lines[0] and len(lines) == 2
    assert len([line for line in outcome.splitlines() if "privacy because" in line]) == 2
    results = render_reply(await service.results(member("z"), str(poll)))
    assert "security because c" in results


async def test_pages_give_new_reasons_a_place_and_count_views(service: DebateService) -> None:
    poll = await open_scale_poll(service)
    names = [f"m{i}" for i in range(9)]
    await crowd(service, poll, ONE, names, "reason of")
    first = await service.reasons(member("z"))
    assert ActionKind.REASONS_PAGE in kinds(first) and "Page 1 of 2" in render_reply(first)
    second = await service.press(member("z"), Action(ActionKind.REASONS_PAGE, poll_id=poll, number=2).encode())
    assert "Page 2 of 2" in render_reply(second)
    assert sorted(r.views for r in await service.store.reasons(poll)) == [1] * 9


async def test_reports_hide_at_the_limit_and_facilitators_restore_without_learning_the_author(
        service: DebateService, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="core")
    await service.settings(ADMIN, reports="2")
    poll = await open_scale_poll(service)
    await crowd(service, poll, ONE, ["a", "b", "c"], "words")
    rid = next(r.id for r in await service.store.reasons(poll) if r.text == "words a")
    assert "reported" in (await service.report(member("b"), rid)).text
    assert (await service.report(member("b"), rid)).error
    assert (await service.report(member("a"), rid)).error  # one's own
    assert "hidden" in (await service.report(member("c"), rid)).text
    gone = await service.report(member("z"), rid)
    assert gone.error and "no longer shown" in gone.text
    assert "words a" not in render_reply(await service.reasons(member("z")))
    assert (await service.moderate(member("b"))).error  # members do not moderate
    review = render_reply(await service.moderate(ADMIN))
    assert "words a" in review and "2 reports" in review
    assert service._key(member("a")) not in review and "member" not in review.lower().replace("members", "")
    restored = await service.press(ADMIN, Action(ActionKind.RESTORE, number=rid).encode())
    assert not restored.error and "words a" in render_reply(await service.reasons(member("z")))
    assert not (await service.press(ADMIN, Action(ActionKind.HIDE, number=rid).encode())).error
    assert "words a" not in render_reply(await service.reasons(member("z")))
    assert all("words a" not in r.getMessage() and service._key(member("a")) not in r.getMessage()
               for r in caplog.records if r.name.startswith(("core", "bots")))


async def test_forget_me_erases_reasons_and_marks(service: DebateService) -> None:
    poll = await open_scale_poll(service)
    await crowd(service, poll, ONE, ["a", "b", "c"], "words")
    by_text = {r.text: r.id for r in await service.store.reasons(poll)}
    await service.mark(member("a"), by_text["words b"])
    await service.forget_me(member("a"), confirmed=True)
    left = await service.store.reasons(poll)
    assert "words a" not in [r.text for r in left] and all(r.marks == 0 for r in left)


async def test_purge_keeps_counts_and_the_export_has_text_side_and_marks_never_an_author(
        service: DebateService, clock: FakeClock) -> None:
    poll = await open_scale_poll(service)
    await crowd(service, poll, ONE, ["a", "b", "c"], "=HYPERLINK(\"x\") said")
    await service.mark(member("b"), (await service.store.my_reason(poll, service._key(member("a")))).id)  # type: ignore[union-attr]
    await service.close(ADMIN)
    reply = await service.export(ADMIN, "reasons")
    assert reply.attachment is not None
    rows = list(csv.reader(io.StringIO(reply.attachment.content.decode())))
    assert rows[0] == ["poll", "question", "closed_at", "side", "reasons_on_side", "reason", "marks"]
    assert {r[5] for r in rows[1:]} == {f"'=HYPERLINK(\"x\") said {n}" for n in "abc"}
    assert rows[1][6] == "1" and all(r[3] == "Leaning security" for r in rows[1:])
    data = reply.attachment.content.decode()
    assert all(service._key(member(n)) not in data for n in "abc")
    clock.advance(days=service.retention_days + 1)
    await service.purge_expired()
    assert await service.store.reasons(poll) == []
    outcome = render_reply(Reply(card=await service.outcome_card(poll)))
    assert "3 reasons" in outcome  # the count stays once the words are gone


async def test_home_shows_the_open_polls_reasons_count(service: DebateService) -> None:
    poll = await open_scale_poll(service)
    await crowd(service, poll, ONE, ["a"], "words")
    async def sees(_channel: str) -> bool:
        return True

    home = await service.home(Actor("S1", "", "a", can_view=sees))  # App Home has no channel of its own
    # Below k not even the count shows (review: a count that drops while the votes stay says someone changed).
    assert home.today is not None and not any(f.value.endswith("reason") for f in home.today.fields)
    await crowd(service, poll, ONE, ["b", "c"], "more words")
    home = await service.home(Actor("S1", "", "a", can_view=sees))
    assert home.today is not None and any(f.value == "3 reasons" for f in home.today.fields)


async def test_the_console_types_its_reason(service: DebateService) -> None:
    from core.commands.router import CommandRouter

    poll = await open_scale_poll(service)
    console = member("a")
    await service.vote(console, poll, ONE)
    router = CommandRouter(service)
    assert not (await router.handle(console, "reason Cameras help find missing children")).error
    mine = await service.store.my_reason(poll, service._key(console))
    assert mine is not None and mine.text == "Cameras help find missing children"
    assert "Results show from 3" in render_reply(await router.handle(console, "reasons"))
    assert not (await router.handle(console, "delete-reason")).error
    assert not (await router.handle(ADMIN, "settings reasons=ask reports=4")).error
    settings = await service.channel_settings("S1", "C1")
    assert (settings.reasons, settings.report_limit) == (ReasonsMode.ASK, 4)


async def test_reasons_of_another_space_or_channel_cannot_be_marked_or_reported(service: DebateService) -> None:
    poll = await open_scale_poll(service)
    await crowd(service, poll, ONE, ["a", "b", "c"], "words")
    rid = (await service.store.reasons(poll))[0].id
    for outsider in (member("x", space="S2"), member("y", channel="C2")):
        for reply in (await service.mark(outsider, rid), await service.report(outsider, rid)):
            assert reply.error and "no longer shown" in reply.text and f"#{poll}" not in reply.text
    assert [(r.marks, r.reports) for r in await service.store.reasons(poll) if r.id == rid] == [(0, 0)]
