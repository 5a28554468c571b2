"""The use cases through the real service and a real SQLite file."""

from __future__ import annotations

import csv
import io

from core.actions import Action, ActionKind
from core.service import DebateService
from core.store.sqlite import SqliteStore
from tests.conftest import FakeClock, member

ADMIN = member("admin", admin=True)


async def post(service: DebateService, prompt: str | None = None) -> int:
    """Post a new poll, closing the channel's open one first (one open poll per channel)."""
    if (await service.store.open_polls("S1", "C1")):
        await service.close(ADMIN)
    reply = await service.post(ADMIN, prompt)
    assert reply.post is not None, reply.text
    await service.attach_message(reply.post.poll_id, f"C1:{reply.post.poll_id}")  # posted: it takes votes
    return reply.post.poll_id


def vote_payload(poll: int, option: str) -> str:
    return Action(ActionKind.VOTE, poll_id=poll, option_id=option).encode()


async def test_today_opens_one_poll_then_shows_it(service: DebateService) -> None:
    first = await service.today(ADMIN)
    assert first.post is not None and not first.error
    pending = await service.today(member("b"))  # not posted yet: no buttons to vote with
    assert pending.post is None and pending.card is None and "still being posted" in pending.text
    await service.attach_message(first.post.poll_id, "C1:1")
    again = await service.today(member("b"))
    assert again.post is None and again.card is not None
    assert again.card.marker == first.post.card.marker


async def test_results_hidden_below_threshold_then_shown(service: DebateService) -> None:
    poll = await post(service)
    for name, option in (("a", "-2"), ("b", "1")):
        reply = await service.vote(member(name), poll, option)
        assert reply.refresh_polls == (poll,)
    card = await service.poll_card(poll)
    assert card.results is not None and not card.results.visible
    assert "1 more vote is in" in (card.results.hidden_note or "")
    await service.vote(member("c"), poll, "2")
    card = await service.poll_card(poll)
    assert card.results is not None and card.results.visible
    assert [b.count for b in card.results.bars] == [1, 0, 0, 1, 1]
    assert any("Mean lean +0.3" in line for line in card.results.summary)


async def test_change_shows_shift_and_same_choice_changes_nothing(service: DebateService) -> None:
    poll = await post(service)
    for name, option in (("a", "-2"), ("b", "-1"), ("c", "1"), ("d", "-1"), ("e", "-1")):
        await service.vote(member(name), poll, option)
    same = await service.vote(member("b"), poll, "-1")
    assert "Nothing changed" in same.text and same.refresh_polls == ()
    for name in ("b", "d", "e"):  # k = 3 members change: only then may the shift show
        changed = await service.vote(member(name), poll, "2")
        assert "changed your vote" in changed.text
    card = await service.poll_card(poll)
    summary = " ".join(card.results.summary)  # type: ignore[union-attr]
    assert "3 members changed their mind (3 toward privacy, 0 toward security; net shift +1.80)" in summary
    assert "Lean security from 3 to 0" in summary and "Privacy first from 0 to 3" in summary
    assert "→" not in summary, "no meaning carried by an arrow alone"


async def test_tampered_and_stale_payloads_record_nothing(service: DebateService, store: SqliteStore) -> None:
    poll = await post(service)
    for payload in ("cp1:vote:999:1", f"cp1:vote:{poll}:7", "cp1:vote:x:1", "nonsense", f"cp1:vote:{poll}:1:extra",
                    "cp1:explode", "cp1:vote:" + "9" * 30 + ":1"):
        reply = await service.press(member("a"), payload)
        assert reply.error, payload
    assert (await store.tally(poll)).total == 0


async def test_poll_from_another_space_is_not_found(service: DebateService, store: SqliteStore) -> None:
    poll = await post(service)
    reply = await service.press(member("a", space="S2"), vote_payload(poll, "1"))
    assert reply.error and "no poll" in reply.text
    assert (await store.tally(poll)).total == 0


async def test_closed_poll_refuses_late_votes(service: DebateService, clock: FakeClock, store: SqliteStore) -> None:
    poll = await post(service)
    clock.advance(hours=25)
    reply = await service.vote(member("a"), poll, "1")
    assert reply.error and "closed" in reply.text
    assert (await store.tally(poll)).total == 0
    card = await service.poll_card(poll)
    assert all(not b.payload.startswith("cp1:vote") for b in card.buttons)


async def test_admin_commands_refuse_members(service: DebateService, store: SqliteStore) -> None:
    for call in (service.post(member("m")), service.close(member("m")), service.export(member("m")),
                 service.settings(member("m"), "5")):
        reply = await call
        assert reply.error and "Only facilitators" in reply.text
    assert await store.recent_polls("S1") == []
    assert await store.channel_settings("S1", "C1") is None


async def test_close_and_retract(service: DebateService) -> None:
    poll = await post(service)
    await service.vote(member("a"), poll, "1")
    retract = await service.press(member("a"), Action(ActionKind.RETRACT, poll_id=poll).encode())
    assert "retracted" in retract.text
    nothing = await service.retract(member("a"), poll)
    assert "no vote" in nothing.text
    closed = await service.close(ADMIN)
    assert closed.refresh_polls == (poll,)
    assert (await service.close(ADMIN)).error


async def test_post_named_prompt_and_unknown_prompt(service: DebateService) -> None:
    poll = await post(service, "who-audits")
    card = await service.poll_card(poll)
    assert len([b for b in card.buttons if b.payload.startswith("cp1:vote")]) == 4
    bad = await service.post(ADMIN, "no-such-prompt")
    assert bad.error and "no question 'no-such-prompt'" in bad.text


async def test_deck_walks_in_order_without_repeats(service: DebateService, pack) -> None:
    seen = []
    for _ in range(len(pack.prompts) + 2):
        poll = await post(service)
        seen.append((await service.store.get_poll(poll)).prompt_id)  # type: ignore[union-attr]
    ids = [p.id for p in pack.prompts]
    assert seen[: len(ids)] == ids
    assert seen[len(ids):] == ids[:2]


async def test_stance_is_private_and_forget_me_erases(service: DebateService, store: SqliteStore) -> None:
    poll = await post(service)
    await service.vote(member("a"), poll, "2")
    await service.vote(member("a"), poll, "1")
    await service.vote(member("b"), poll, "-2")
    stance = await service.stance(member("a"))
    assert stance.ephemeral and "Lean privacy" in stance.card.fields[0].value  # type: ignore[union-attr]
    assert "+1.0" in stance.card.text  # type: ignore[union-attr]
    ask = await service.forget_me(member("a"))
    assert ask.card is not None and (await store.tally(poll)).total == 2
    done = await service.press(member("a"), Action(ActionKind.FORGET).encode())
    assert "2 records" in done.text and done.refresh_polls == (poll,)  # the vote row and its change
    assert (await store.tally(poll)).total == 1
    empty = await service.stance(member("a"))
    assert "no current votes" in empty.card.text  # type: ignore[union-attr]


async def test_no_reply_names_another_member(service: DebateService) -> None:
    poll = await post(service)
    names = ["alice-secret-name", "bob-secret-name", "carol-secret-name"]
    texts = []
    for _i, name in enumerate(names):
        texts.append((await service.vote(member(name), poll, "1")).text)
        texts.append(str(await service.poll_card(poll)))
    texts.append(str(await service.results(ADMIN)))
    texts.append((await service.export(ADMIN)).attachment.content.decode())  # type: ignore[union-attr]
    blob = "\n".join(texts)
    for name in names:
        assert name not in blob


async def test_export_csv_has_aggregates_only_and_escapes_formulas(service: DebateService, pack) -> None:
    poll = await post(service)
    for name, option in (("a", "-2"), ("b", "1"), ("c", "1")):
        await service.vote(member(name), poll, option)
    hidden = await post(service, "who-audits")
    await service.vote(member("a"), hidden, (await service.poll_card(hidden)).buttons[0].payload.split(":")[3])
    reply = await service.export(ADMIN)
    rows = list(csv.reader(io.StringIO(reply.attachment.content.decode())))  # type: ignore[union-attr]
    assert rows[0][:3] == ["poll", "channel", "prompt"]
    first = [r for r in rows[1:] if r[0] == str(poll)]
    assert [r[7] for r in first] == ["1", "0", "0", "2", "0"]
    below = [r for r in rows[1:] if r[0] == str(hidden)]
    assert all(r[7] == "" for r in below), "counts under the threshold must stay blank"
    from core.export import cell

    assert cell("=HYPERLINK(1)") == "'=HYPERLINK(1)" and cell("@x") == "'@x" and cell(-0.5) == "-0.5"


async def test_settings_change_threshold(service: DebateService) -> None:
    poll = await post(service)
    await service.vote(member("a"), poll, "1")
    assert (await service.settings(ADMIN, "0")).error
    assert (await service.settings(ADMIN, "x")).error
    assert (await service.settings(ADMIN, "1")).error
    reply = await service.settings(ADMIN, "5")
    assert "show from 5 votes" in reply.text and reply.announce and reply.refresh_polls == (poll,)
    for name in ("b", "c", "d"):
        await service.vote(member(name), poll, "1")
    assert not (await service.poll_card(poll)).results.visible  # type: ignore[union-attr]
    await service.vote(member("e"), poll, "1")
    assert (await service.poll_card(poll)).results.visible  # type: ignore[union-attr]


async def test_article_and_sections(service: DebateService, pack) -> None:
    overview = await service.article(member("a"))
    assert overview.card is not None and overview.card.title == pack.article.title
    section = await service.press(member("a"), Action(ActionKind.SECTION, section_id="privacy").encode())
    assert section.card is not None and section.card.title == "Privacy Concerns"
    assert (await service.article(member("a"), "nope")).error


async def test_retention_purge_keeps_results(service: DebateService, clock: FakeClock, store: SqliteStore) -> None:
    poll = await post(service)
    for name in ("a", "b", "c"):
        await service.vote(member(name), poll, "0")
    await service.close(ADMIN)
    clock.advance(days=181)
    assert await service.purge_expired() == 3  # three vote rows (a first vote writes no event)
    results = await service.results_for(await store.get_poll(poll))  # type: ignore[arg-type]
    assert results.total == 3 and results.visible


async def test_results_after_close_are_final_even_after_votes_were_cached(service: DebateService) -> None:
    poll = await post(service)
    for name in ("a", "b", "c"):
        await service.vote(member(name), poll, "1")
    await service.close(ADMIN)
    reply = await service.results(member("a"), str(poll))
    assert reply.card is not None and reply.card.title.startswith("Results: ")
    late = await service.vote(member("d"), poll, "1")
    assert late.error and "closed" in late.text


async def test_twenty_members_at_once_get_one_poll(service: DebateService, store: SqliteStore) -> None:
    """Finding (reliability 3): 20 concurrent `today` gave 20 open polls and 20 messages."""
    import asyncio

    await service.settings(ADMIN, members_post="on")
    replies = await asyncio.gather(*(service.today(member(f"m{i}")) for i in range(20)))
    posts = [r for r in replies if r.post is not None]
    assert len(posts) == 1 and all(not r.error for r in replies)
    assert all(f"Poll #{posts[0].post.poll_id} is still being posted" in r.text  # type: ignore[union-attr]
               for r in replies if r.post is None)
    assert len(await store.open_polls("S1", "C1")) == 1


async def test_manual_post_never_replaces_an_open_poll(service: DebateService) -> None:
    first = await service.post(ADMIN)
    again = await service.post(ADMIN)
    assert again.error and again.post is None and f"Poll #{first.post.poll_id} is still open" in again.text  # type: ignore[union-attr]


async def test_a_refused_post_abandons_the_poll_and_frees_its_prompt(service: DebateService,
                                                                    store: SqliteStore) -> None:
    """Finding (reliability 4): a refused post left an open poll with no message that blocked `today`."""
    reply = await service.today(ADMIN)
    assert reply.post is not None

    async def refuse(_card: object) -> str:
        raise PermissionError("the platform said no")

    import pytest

    with pytest.raises(PermissionError):
        await service.publish(reply.post, refuse)
    abandoned = await store.get_poll(reply.post.poll_id)
    assert abandoned is not None and abandoned.abandoned and abandoned.closed_at is not None
    assert (await service.results(member("a"), str(abandoned.id))).error
    assert (await service.vote(member("a"), abandoned.id, "1")).error
    again = await service.today(ADMIN)
    assert again.post is not None and again.post.poll_id != abandoned.id
    assert (await store.get_poll(again.post.poll_id)).prompt_id == abandoned.prompt_id  # type: ignore[union-attr]

    async def accept(_card: object) -> str:
        return "C1:100"

    assert await service.publish(again.post, accept) == "C1:100"
    assert (await store.get_poll(again.post.poll_id)).message_ref == "C1:100"  # type: ignore[union-attr]
    csv_text = (await service.export(ADMIN)).attachment.content.decode()  # type: ignore[union-attr]
    assert f'"{abandoned.id}"' not in csv_text


async def test_no_vote_is_confirmed_on_a_poll_that_may_yet_be_abandoned(service: DebateService,
                                                                        store: SqliteStore) -> None:
    """Review finding: votes confirmed on a poll still being posted were wiped when its post was refused."""
    reply = await service.today(ADMIN)
    assert reply.post is not None
    early = await service.vote(member("b"), reply.post.poll_id, "1")
    assert early.error and "still being posted" in early.text
    await store.abandon_poll(reply.post.poll_id, service.clock())
    late = await service.vote(member("b"), reply.post.poll_id, "1")
    assert late.error and late.text == f"There is no poll #{reply.post.poll_id} here."


async def test_forget_me_leaves_closed_polls_final_counts(service: DebateService, store: SqliteStore) -> None:
    """Review finding: erasing changed closed polls' counts, so results before and after revealed the vote."""
    closed = await post(service)
    for name, option in (("a", "-2"), ("b", "1"), ("c", "2"), ("d", "2")):
        await service.vote(member(name), closed, option)
    await service.close(ADMIN)
    open_poll = await post(service, "first-instinct")  # the same scale, so the same option ids
    for name, option in (("a", "-2"), ("b", "1"), ("c", "2")):
        assert not (await service.vote(member(name), open_poll, option)).error
    before = (await service.results(member("x"), str(closed))).card
    done = await service.press(member("a"), Action(ActionKind.FORGET).encode())
    assert not done.error
    assert (await service.results(member("x"), str(closed))).card == before
    assert (await store.tally(closed)).total == 4 and (await store.tally(open_poll)).total == 2
    assert await store.stance("S1", service._key(member("a"))) == []


async def test_undoing_a_stricter_setting_never_loosens_an_open_poll(service: DebateService) -> None:
    """Review finding: raise k (or after-close), vote, then undo it - the open poll showed results again."""
    from core.scheduler.commands import ScheduleCommands

    poll = await post(service)
    assert not (await service.settings(ADMIN, "10")).error
    for i, option in enumerate(["-2", "1", "2", "2"]):
        await service.vote(member(f"m{i}"), poll, option)
    assert not (await service.settings(ADMIN, "3")).error
    assert not (await service.poll_card(poll)).results.visible  # type: ignore[union-attr]
    schedule = ScheduleCommands(service)
    assert not (await schedule.handle(ADMIN, ["set", "time=09:00", "results=after-close", "k=3"])).error
    assert not (await schedule.handle(ADMIN, ["set", "results=live"])).error
    card = await service.poll_card(poll)
    assert not card.results.visible and "Results show from 10 votes" in card.footer  # type: ignore[union-attr]
    assert "when the poll closes" in (card.results.hidden_note or "")  # type: ignore[union-attr]
