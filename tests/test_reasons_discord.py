"""Reasons on Discord end to end (issue 13): the real discord.py client against FakeDiscord, a real SqliteStore.

Covers the form as the press's first answer (never after a defer), keep/drop after a changed vote, pages,
marks, reports, moderation, hostile text shown literally with allowed_mentions none, the outcome's
reasons whole within Discord's field limits, visibility and forget-me."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bots.discord import embeds
from bots.discord import reasons as discord_reasons
from bots.discord.port import DiscordPort
from bots.reason_text import discord_literal, reason_parts
from core import presenter_reasons as cards
from core.models import ContentPack, Reason
from core.reasons import side_of
from core.render import Card, Field
from core.service import DebateService
from core.visibility import ReasonGroup, VisibleReasons
from tests.discord_helpers import answered, make_client, polls_in, running, text_of, vote_ids
from tests.fakes.discord_fake import FakeDiscord, InteractionRecord, StoredMessage

MEMBERS = [str(8200 + n) for n in range(1, 10)]
HOSTILE = ("<@&4242> <@8201> <#77> @everyone @here **bold** __under__ ~~gone~~ `code` ||spoiler|| "
           "> quote [click](https://evil.example/x) https://evil.example/y_z <t:1:R> \\")


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        with server.patch_discord():
            for uid in MEMBERS:
                server.add_member(uid, f"member{uid}", permissions=0)
            yield server


async def post_today(fake: FakeDiscord) -> str:
    await answered(await fake.slash("debate", subcommand="today", user_id=fake.owner.id))
    return polls_in(fake)[-1].id


def custom_id(message: StoredMessage, prefix: str) -> str:
    found = [c for c in message.custom_ids() if c.startswith(prefix)]
    assert found, (prefix, message.custom_ids())
    return found[0]


async def vote(fake: FakeDiscord, poll_message: str, option: int, user: str) -> StoredMessage:
    return await answered(await fake.click(poll_message, vote_ids(fake.message(poll_message))[option], user_id=user))


async def open_form(fake: FakeDiscord, on: StoredMessage, user: str) -> InteractionRecord:
    opened = await fake.click(on.id, custom_id(on, "cp1:rform:"), user_id=user)
    body = await opened.response()
    # The modal is the first and only answer: a defer before it would make Discord refuse it.
    assert body["type"] == 9, body
    assert [c.type for c in fake.callbacks if c.interaction_id == opened.id] == [9]
    return opened


async def give_reason(fake: FakeDiscord, poll_message: str, option: int, user: str, text: str) -> StoredMessage:
    receipt = await vote(fake, poll_message, option, user)
    opened = await open_form(fake, receipt, user)
    return await answered(await fake.submit_modal(opened, {discord_reasons.TEXT: text}, user_id=user))


async def command(fake: FakeDiscord, name: str, user: str, group: str = "debate", **options: object) -> StoredMessage:
    return await answered(await fake.slash(group, options or None, subcommand=name, user_id=user))


def assert_literal(message: StoredMessage) -> None:
    """Hostile reasons cannot ping, format or link: mentions defused, markdown escaped, links in <>."""
    shown = text_of(message)
    assert "evil.example" in shown
    for raw in ("<@&4242>", "<@8201>", "<#77>", "@everyone", "@here", "**bold**", "`code`", "||spoiler||",
                "[click](", " https://evil", "<t:1:R>"):
        assert raw not in shown, raw
    assert "<https://evil.example/y_z>" in shown


async def test_the_receipt_opens_the_form_first_and_the_reason_is_saved_changed_and_deleted(
    fake: FakeDiscord, service: DebateService
) -> None:
    async with running(make_client(service), fake):
        poll = await post_today(fake)
        receipt = await vote(fake, poll, 0, MEMBERS[0])
        assert "Add a reason" in text_of(receipt)
        opened = await open_form(fake, receipt, MEMBERS[0])
        modal = opened.callback.body["data"]  # type: ignore[union-attr]
        [text_input] = [row["components"][0] for row in modal["components"]]
        assert modal["custom_id"] == "cp1:reason:1" and text_input["max_length"] == 280
        assert "value" not in text_input or not text_input["value"]

        refused = await answered(await fake.submit_modal(opened, {"reason": "<@8202> @everyone"},
                                                         user_id=MEMBERS[0]))
        assert refused.ephemeral and "only a mention" in refused.content

        saved = await answered(await fake.submit_modal(opened, {"reason": "Cameras  deter crime"},
                                                       user_id=MEMBERS[0]))
        assert saved.ephemeral and "Your reason is saved" in saved.content and not saved.embeds
        again = await open_form(fake, saved, MEMBERS[0])
        [prefilled] = [row["components"][0] for row in again.callback.body["data"]["components"]]  # type: ignore
        assert prefilled["value"] == "Cameras deter crime"
        deleted = await answered(await fake.click(saved.id, custom_id(saved, "cp1:rdel:"), user_id=MEMBERS[0]))
        assert "is deleted" in deleted.content

        await answered(await fake.slash("debate-admin", subcommand="close", user_id=fake.owner.id))
        late = await answered(await fake.click(receipt.id, custom_id(receipt, "cp1:rform:"), user_id=MEMBERS[0]))
        assert late.ephemeral and "closed" in late.content  # no form for a closed poll
    assert not fake.violations


async def test_a_changed_vote_asks_to_keep_or_drop_the_reason(fake: FakeDiscord, service: DebateService) -> None:
    async with running(make_client(service), fake):
        poll = await post_today(fake)
        await give_reason(fake, poll, 0, MEMBERS[0], "Safety first")
        moved = await vote(fake, poll, 4, MEMBERS[0])
        assert "Keep it with your new vote" in text_of(moved)
        kept = await answered(await fake.click(moved.id, custom_id(moved, "cp1:rkeep:"), user_id=MEMBERS[0]))
        assert "now goes with your vote" in kept.content
        back = await vote(fake, poll, 0, MEMBERS[0])
        dropped = await answered(await fake.click(back.id, custom_id(back, "cp1:rdrop:"), user_id=MEMBERS[0]))
        assert "deleted" in dropped.content
    assert not fake.violations


async def test_pages_marks_reports_and_moderation_show_hostile_reasons_literally(
    fake: FakeDiscord, service: DebateService
) -> None:
    async with running(make_client(service), fake):
        poll = await post_today(fake)
        for i, user in enumerate(MEMBERS[:7]):
            await give_reason(fake, poll, 0, user, f"{HOSTILE} number {i}")
        reader = MEMBERS[8]
        await vote(fake, poll, 4, reader)
        page = await command(fake, "reasons", reader)
        assert page.ephemeral and "Page 1 of 2" in text_of(page)
        assert_literal(page)
        assert not any(f"member{u}" in text_of(page) for u in MEMBERS)  # never an author
        marked = await answered(await fake.click(page.id, custom_id(page, "cp1:rmark:"), user_id=reader))
        assert "Marked as convincing" in marked.content
        twice = await answered(await fake.click(page.id, custom_id(page, "cp1:rmark:"), user_id=reader))
        assert "already marked" in twice.content
        following = await answered(await fake.click(page.id, custom_id(page, "cp1:rpage:1:2"), user_id=reader))
        assert "Page 2 of 2" in text_of(following)

        await command(fake, "settings", fake.owner.id, group="debate-admin", reports=1)
        reported = await answered(await fake.click(page.id, custom_id(page, "cp1:rreport:"), user_id=reader))
        assert "now hidden" in reported.content
        refused = await command(fake, "moderate", reader, group="debate-admin")
        assert "Only facilitators" in refused.content
        review = await command(fake, "moderate", fake.owner.id, group="debate-admin")
        assert_literal(review)
        restored = await answered(await fake.click(review.id, custom_id(review, "cp1:rshow:"),
                                                   user_id=fake.owner.id))
        assert "shown again" in restored.content
    assert all(setting is not None and setting.get("parse") == [] for _, setting in fake.mention_settings)
    assert not fake.violations


async def test_no_reasons_while_results_are_hidden_and_forget_me_takes_them_away(
    fake: FakeDiscord, service: DebateService
) -> None:
    async with running(make_client(service), fake):
        poll = await post_today(fake)
        for user in MEMBERS[:2]:
            await give_reason(fake, poll, 0, user, f"Quiet words {user}")
        hidden = await command(fake, "reasons", MEMBERS[5])
        assert "from 3 votes" in text_of(hidden) and "Quiet words" not in text_of(hidden)
        for user in MEMBERS[2:4]:
            await give_reason(fake, poll, 0, user, f"Quiet words {user}")
        shown = text_of(await command(fake, "reasons", MEMBERS[5]))
        assert f"Quiet words {MEMBERS[0]}" in shown

        ask = await command(fake, "forget-me", MEMBERS[0])
        await answered(await fake.click(ask.id, custom_id(ask, "cp1:forget"), user_id=MEMBERS[0]))
        after = text_of(await command(fake, "reasons", MEMBERS[5]))
        assert f"Quiet words {MEMBERS[0]}" not in after and f"Quiet words {MEMBERS[1]}" in after
    assert not fake.violations


async def test_the_outcome_post_shows_the_top_reasons_whole(fake: FakeDiscord, service: DebateService) -> None:
    """Three sides, three reasons each (k = 3), near 280 characters apiece: more than one field holds."""
    async with running(make_client(service), fake) as bot:
        poll = await post_today(fake)
        words = {}
        for i, user in enumerate(MEMBERS):
            words[user] = (f"{HOSTILE[:50]} https://evil.example/y_z {user} " + "a fine point " * 20)[:270].strip()
            await give_reason(fake, poll, (0, 2, 4)[i % 3], user, words[user])
        await answered(await fake.slash("debate-admin", subcommand="close", user_id=fake.owner.id))
        stored = await service.store.get_poll(1)
        assert stored is not None
        await DiscordPort(bot).post_outcome(stored, await service.outcome_card(1))
    [outcome] = fake.channel_messages(poll)
    fields = outcome.embeds[0]["fields"]
    named = [i for i, f in enumerate(fields) if f["name"] == "Most convincing reasons"]
    assert named and fields[named[0] + 1]["name"] == "\u200b"  # continued in a second field
    reasons_text = "\n".join(f["value"] for f in fields[named[0]:])
    assert sum(discord_literal(text) in reasons_text for text in words.values()) == 6  # two per side, whole
    assert all(len(f["value"]) <= 1024 for f in fields)
    assert_literal(outcome)
    assert custom_id(outcome, "cp1:rpage:1:1")
    assert not fake.violations


def test_every_card_that_carries_reasons_is_recognised_and_made_literal(pack: ContentPack) -> None:
    """The adapters find reasons by the core's own markers; a card the core makes must never slip past."""
    prompt, axis = pack.prompts[0], pack.axis
    low = next(o for o in prompt.options if (o.lean or 0) < 0)
    reasons = tuple(Reason(i, 1, low.id, f"{HOSTILE} {i}", datetime(2026, 3, 2, tzinfo=UTC), mine=i == 1)
                    for i in range(1, 4))
    visible = VisibleReasons(True, (ReasonGroup(side_of(low, prompt), 3, reasons),), 3)
    only_mine = cards.reasons_card(prompt, axis, 1, visible, reasons[:1], 1, 1, False)  # no buttons at all
    page = cards.reasons_card(prompt, axis, 1, visible, reasons, 1, 2, False)
    review = cards.moderation_card(1, reasons)
    outcome = Card(title="Results: x", fields=(Field("Follow-up question", "**kept as markup**"),
                                               *cards.outcome_fields(prompt, axis, visible)))
    assert not only_mine.buttons and reason_parts(only_mine).fields == {0}
    assert reason_parts(page).fields == {0} and not reason_parts(page).text
    assert reason_parts(review).text
    assert reason_parts(outcome).fields == {1}  # the core's own follow-up field keeps its rendering
    assert not reason_parts(Card(title="Your vote", text="**x**"))
    for card in (only_mine, page, review, outcome):
        embed = embeds.card_embed(card)
        shown = "\n".join([embed.description or "", *(f.value or "" for f in embed.fields)])
        assert "<@&4242>" not in shown and "@everyone" not in shown and "**bold**" not in shown
        assert "<https://evil.example/y_z>" in shown


@pytest.mark.parametrize("typed, shown", [
    ("<@123> <@!123> <@&9> <#7> </cmd:1> <:e:1> <a:e:1> <t:1:R>",
     "<\u200b@123\\> <\u200b@!123\\> <\u200b@&9\\> <\u200b\\#7\\> <\u200b/cmd:1\\> <\u200b:e:1\\> <\u200ba:e:1\\> "
     "<\u200bt:1:R\\>"),
    ("@everyone @HERE", "@\u200beveryone @\u200bHERE"),
    ("**b** __u__ ~~s~~ `c` ||x|| > q # h \\",
     "\\*\\*b\\*\\* \\_\\_u\\_\\_ \\~\\~s\\~\\~ \\`c\\` \\|\\|x\\|\\| \\> q \\# h \\\\"),
    ("see https://a.example/x_y, and “https://b.example/z”.",
     "see <https://a.example/x_y>, and “<https://b.example/z>”."),
    ("[t](https://a.example)", "\\[t\\](<https://a.example>)"),
])
def test_discord_literal(typed: str, shown: str) -> None:
    assert discord_literal(typed) == shown
