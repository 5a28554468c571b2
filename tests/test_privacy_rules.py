"""The visibility rule, held by every output: table-driven over modes, thresholds and poll states.

Each case runs the real service on a real SQLite file. The outputs are the poll message, `results`,
the outcome post, App Home and the CSV export; they must agree on what is shown, case by case.
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from pathlib import Path

import pytest

from core.export import cell, results_csv
from core.models import ChannelSettings, Option, Poll, Prompt, Tally
from core.render import Card
from core.scheduler.commands import ScheduleCommands
from core.service import Actor, DebateService
from core.settings import SettingsError, load_settings
from core.store.sqlite import SqliteStore
from core.visibility import Rule, visible_results
from tests.conftest import FakeClock, member

ADMIN = member("admin", admin=True)


async def sees_everything(_channel: str) -> bool:
    return True


async def sees_nothing(_channel: str) -> bool:
    return False


async def broken_check(_channel: str) -> bool:
    raise RuntimeError("the platform did not answer")


def everywhere(actor: Actor) -> Actor:
    return replace(actor, can_view=sees_everything)


async def open_poll(service: DebateService, actor: Actor = ADMIN) -> int:
    reply = await service.post(actor)
    assert reply.post is not None, reply.text
    await service.attach_message(reply.post.poll_id, f"{actor.channel_id}:{reply.post.poll_id}")
    return reply.post.poll_id


def shown(card: Card | None) -> bool:
    assert card is not None and card.results is not None
    return bool(card.results.bars)


def csv_rows(data: bytes, poll_id: int) -> list[dict[str, str]]:
    return [r for r in csv.DictReader(io.StringIO(data.decode())) if r["poll"] == str(poll_id)]


@pytest.mark.parametrize("live", [True, False], ids=["live", "after-close"])
@pytest.mark.parametrize("votes", [2, 3], ids=["below-k", "at-k"])
@pytest.mark.parametrize("is_open", [True, False], ids=["open", "closed"])
async def test_every_output_agrees(service: DebateService, clock: FakeClock, live: bool, votes: int,
                                   is_open: bool) -> None:
    await service.store.save_channel_settings(ChannelSettings("S1", "C1", 3, results_live=live))
    poll = await open_poll(service)
    for i in range(votes):
        assert not (await service.vote(member(f"m{i}"), poll, ["-2", "1", "2"][i])).error
    if not is_open:
        assert not (await service.close(ADMIN, str(poll))).error
    expected = votes >= 3 and (live or not is_open)

    home = await service.home(everywhere(member("m0")))
    outputs = {
        "poll message": shown(await service.poll_card(poll)),
        "results": shown((await service.results(member("m1"), str(poll))).card),
        "outcome": shown(await service.outcome_card(poll)),
        "App Home": shown(home.today if is_open else home.latest),
        "export (chat)": all(r["votes"] != "" for r in csv_rows((await service.export(ADMIN)).attachment.content,
                                                                 poll)),  # type: ignore[union-attr]
        "export (CLI)": all(r["votes"] != "" for r in csv_rows(await service.export_csv("S1"), poll)),
    }
    assert outputs == dict.fromkeys(outputs, expected)


async def test_export_before_and_after_a_vote_reveals_nothing_in_after_close_mode(service: DebateService) -> None:
    """Finding 2: the export kept its own threshold, so two exports around one vote revealed it."""
    await service.store.save_channel_settings(ChannelSettings("S1", "C1", 3, results_live=False))
    poll = await open_poll(service)
    for i, option in enumerate(["-2", "1", "2"]):
        await service.vote(member(f"m{i}"), poll, option)
    before = csv_rows(await service.export_csv("S1"), poll)
    await service.vote(member("late"), poll, "-1")
    after = csv_rows(await service.export_csv("S1"), poll)
    for row in before + after:
        assert row["votes"] == row["share"] == row["first_votes"] == row["mean_lean"] == ""
    assert [r["votes"] for r in before] == [r["votes"] for r in after]


async def test_threshold_cannot_go_below_three_anywhere(service: DebateService, tmp_path: Path) -> None:
    """Finding 3: min-votes 1, schedule k=1 and RESULTS_MIN_VOTES=1 were accepted."""
    for value in ("1", "2", "0", "-1", "³", "٣"):
        reply = await service.settings(ADMIN, value)
        assert reply.error, value
        assert "cannot be below 3" in reply.text or "whole number from 3" in reply.text
    schedule = ScheduleCommands(service)
    reply = await schedule.handle(ADMIN, ["set", "time=09:00", "k=1"])
    assert reply.error and "cannot be below 3" in reply.text
    assert await service.store.get_schedule("S1", "C1") is None
    for raw in ("1", "2"):
        with pytest.raises(SettingsError, match=r"RESULTS_MIN_VOTES: .* below 3"):
            load_settings({"RESULTS_MIN_VOTES": raw}, dotenv=None)
    assert load_settings({"RESULTS_MIN_VOTES": "3"}, dotenv=None).min_votes == 3
    assert (await service.channel_settings("S1", "C1")).min_votes == 3


async def test_lowering_k_never_reveals_an_open_polls_votes(service: DebateService) -> None:
    """Finding 3: lowering k on an open poll revealed the votes already cast."""
    assert not (await service.settings(ADMIN, "5")).error
    poll = await open_poll(service)
    for i, option in enumerate(["-2", "1", "2"]):
        await service.vote(member(f"m{i}"), poll, option)
    lowered = await service.settings(ADMIN, "3")
    assert lowered.announce and "from 5 to 3" in lowered.announce and "next poll" in lowered.announce
    card = await service.poll_card(poll)
    assert not shown(card) and "Results show from 5 votes" in card.footer
    assert not shown((await service.results(member("m0"))).card)
    # Raising applies at once: stricter is always safe.
    raised = await service.settings(ADMIN, "4")
    assert raised.announce and raised.refresh_polls == (poll,)
    assert "Results show from 5 votes" in (await service.poll_card(poll)).footer
    await service.close(ADMIN)
    await service.settings(ADMIN, "3")
    next_poll = await open_poll(service)
    assert "Results show from 3 votes" in (await service.poll_card(next_poll)).footer


async def test_switching_to_live_never_reveals_an_open_after_close_poll(service: DebateService) -> None:
    schedule = ScheduleCommands(service)
    assert not (await schedule.handle(ADMIN, ["set", "time=09:00", "results=after-close"])).error
    poll = await open_poll(service)
    for i, option in enumerate(["-2", "1", "2"]):
        await service.vote(member(f"m{i}"), poll, option)
    assert not (await schedule.handle(ADMIN, ["set", "results=live"])).error
    assert not shown(await service.poll_card(poll))


async def test_a_single_change_is_never_shown_as_old_and_new_choice(service: DebateService) -> None:
    """Finding 4: with one member changing, results showed their old and new choice for good."""
    poll = await open_poll(service)
    for i, option in enumerate(["-2", "-1", "1"]):
        await service.vote(member(f"m{i}"), poll, option)
    await service.vote(member("m1"), poll, "2")
    outputs = [await service.poll_card(poll), (await service.results(member("x"))).card]
    await service.close(ADMIN)
    outputs.append(await service.outcome_card(poll))
    for card in outputs:
        assert card is not None and card.results is not None
        text = " ".join(card.results.summary)
        assert "→" not in text and "toward privacy," not in text and "net shift" not in text
        assert "1 changed" not in text and "Some members changed their mind" in text
    exported = csv_rows(await service.export_csv("S1"), poll)
    assert all(r["first_votes"] == "" for r in exported)
    assert [r["votes"] for r in exported] == ["1", "0", "0", "1", "1"]


async def test_shift_shows_once_k_members_changed(service: DebateService) -> None:
    poll = await open_poll(service)
    for i, option in enumerate(["-2", "-2", "-2", "1"]):
        await service.vote(member(f"m{i}"), poll, option)
    for i in range(3):
        await service.vote(member(f"m{i}"), poll, "2")
    text = " ".join((await service.poll_card(poll)).results.summary)  # type: ignore[union-attr]
    assert "3 members changed their mind (3 toward privacy, 0 toward security" in text
    assert "Security first from 3 to 0" in text


async def test_other_channels_polls_are_refused_without_echoing_the_question(service: DebateService) -> None:
    """Finding 1 at the core: `results N` from elsewhere answered with the question and results."""
    private = await open_poll(service, member("admin", admin=True, channel="PRIVATE"))
    for i, option in enumerate(["-2", "1", "2"]):
        await service.vote(member(f"m{i}", channel="PRIVATE"), private, option)
    question = (await service.poll_card(private)).title
    outsider = member("eve", channel="C1")
    for actor in (outsider, replace(outsider, can_view=sees_nothing), replace(outsider, can_view=broken_check)):
        reply = await service.results(actor, str(private))
        assert reply.error and reply.text == f"There is no poll #{private} here." and reply.card is None
        vote = await service.vote(actor, private, "2")
        assert vote.error and question not in vote.text
        home = await service.home(actor)
        assert home.today is None and home.latest is None
        export = await service.export(replace(actor, is_admin=True))
        assert question not in export.attachment.content.decode()  # type: ignore[union-attr]
        assert await service.visible_polls(actor) == []
    assert (await service.store.tally(private)).total == 3  # the outsider's votes were refused
    allowed = await service.results(everywhere(outsider), str(private))
    assert not allowed.error and allowed.card is not None and question in allowed.card.title
    # A member's own stance still shows their own votes wherever they ask.
    stance = await service.stance(member("m0", channel="C1"))
    assert stance.card is not None and question in stance.card.fields[0].value


@pytest.mark.parametrize("ref", ["²", "٣", "#٣", "3²", "１", "99999999999999999999", "-1", "3.0"])
async def test_only_ascii_digits_are_poll_numbers(service: DebateService, ref: str) -> None:
    await open_poll(service)
    await open_poll(service, member("admin", admin=True, channel="C2"))
    await open_poll(service, member("admin", admin=True, channel="C3"))
    reply = await service.results(member("a"), ref)
    assert reply.error and "is not a poll number" in reply.text


def test_csv_cells_never_become_formulas() -> None:
    """Finding 7: `x;=1+1` was written unquoted and ran where spreadsheets split on ';'."""
    for hostile in ("=1+1", "+1", "-1+2", "@SUM(A1)", "\t=1", "x;=1+1", "x,=1+1", "a|=cmd", "x; =1", "x;\"=1",
                    " =1+1", "\u3000=1", "＝1+1", "x;＝1"):
        assert cell(hostile).startswith("'"), hostile
    for harmless in ("Security first", "x; y", "3", "AI in law enforcement"):
        assert cell(harmless) == harmless
    assert cell(-2) == "-2" and cell(0.25) == "0.25"
    option = Option("=HYPERLINK(\"http://x\")", "=HYPERLINK(\"http://x\")")
    prompt = Prompt("p", "s", "x;=1+1", (option,), uses_scale=False)
    poll = Poll(1, "S1", "C;=2+2", "p", FakeClock().now, None, None, None)
    results = visible_results(poll, prompt, Tally(1, {(option.id, option.id): 3}), Rule(3, True), FakeClock().now)
    text = results_csv([(poll, prompt, results)]).decode()
    lines = text.splitlines()
    assert lines[1].startswith('"') and lines[1].endswith('"')
    assert lines[1].count('","') == len(next(csv.reader(io.StringIO(lines[1])))) - 1  # every cell quoted
    for value in ("'x;=1+1", "'C;=2+2", "'=HYPERLINK"):
        assert value in text
    for row in csv.reader(io.StringIO(text)):
        for field in row:
            assert not field.startswith(("=", "+", "@", "-")) or field.lstrip("-").replace(".", "").isdigit(), field


async def test_min_votes_floor_holds_for_old_rows(tmp_path: Path, pack: object, clock: FakeClock) -> None:
    """A channel row saved with k=1 by an older version is read as 3."""
    store = SqliteStore(tmp_path / "old.db")
    await store.open()
    try:
        await store.save_channel_settings(ChannelSettings("S1", "C1", 1))
        service = DebateService(pack, store, "test-secret-0123456789", clock=clock)  # type: ignore[arg-type]
        poll = await open_poll(service)
        for i, option in enumerate(["-2", "1"]):
            await service.vote(member(f"m{i}"), poll, option)
        assert not shown(await service.poll_card(poll))
    finally:
        await store.close()
