"""bots/discord/rendered.py: a Reply object handed to many members is rendered once, and nothing leaks between them."""

from __future__ import annotations

import discord

from bots.discord.embeds import StaticView, reply_message
from bots.discord.rendered import RenderedReplies
from core.render import Attachment, Button, Card, Reply, Style

RETRACT = Button("Retract my vote", "cp1:retract:1", "↩️", Style.DANGER)


def receipt(choice: str) -> Reply:
    return Reply(text=f"You chose {choice}.", card=Card(title="Your vote", text="Only you can see this.",
                                                        buttons=(RETRACT,)))


def test_the_same_reply_is_rendered_once_and_each_answer_gets_its_own_arguments() -> None:
    rendered = RenderedReplies()
    reply = receipt("Balanced")
    first, second = rendered.kwargs(reply), rendered.kwargs(reply)
    assert first is not second  # the caller may add a file or a chart to its own copy
    assert first["embed"] is second["embed"] and first["view"] is second["view"]  # built once
    first["file"] = "added by one caller"
    assert "file" not in rendered.kwargs(reply)
    fresh = reply_message(reply)
    assert first["content"] == fresh["content"] and first["embed"].to_dict() == fresh["embed"].to_dict()
    assert first["view"].to_components() == fresh["view"].to_components()


def test_equal_looking_but_different_replies_are_never_confused() -> None:
    rendered = RenderedReplies(keep=2)
    replies = [receipt(c) for c in ("Security first", "Balanced", "Privacy first", "Balanced")]
    for _ in range(3):  # more replies than it keeps: the oldest are dropped and rendered again
        for reply in replies:
            assert rendered.kwargs(reply)["content"] == reply.text


def test_replies_with_files_are_rendered_every_time() -> None:
    chart = Attachment("chart.png", b"\x89PNG", "image/png", "a chart")
    rendered = RenderedReplies()
    with_image = Reply(text="Results", card=Card(title="Results", text="…", image=chart))
    with_file = Reply(text="Export", attachment=Attachment("votes.csv", b"a,b\n"))
    for reply in (with_image, with_file):
        assert rendered.kwargs(reply) is not rendered.kwargs(reply)
        if reply.card is not None:
            assert rendered.kwargs(reply)["embed"] is not rendered.kwargs(reply)["embed"]


def test_a_kept_answer_builds_its_embed_and_buttons_payloads_once() -> None:
    """discord.py asks for them at every send; one receipt is sent to every member who made the same choice."""
    rendered = RenderedReplies()
    reply = receipt("Balanced")
    first, second = rendered.kwargs(reply), rendered.kwargs(reply)
    assert first["embed"].to_dict() is second["embed"].to_dict()
    assert first["view"].to_components() is second["view"].to_components()
    fresh = reply_message(reply)
    assert first["embed"].to_dict() == fresh["embed"].to_dict()
    assert first["view"].to_components() == fresh["view"].to_components()


def test_a_view_still_being_filled_shows_every_button_added() -> None:
    view = StaticView()
    view.add_item(discord.ui.Button(label="one", custom_id="cp1:a"))
    assert len(view.to_components()[0]["components"]) == 1
    view.add_item(discord.ui.Button(label="two", custom_id="cp1:b"))
    assert len(view.seal().to_components()[0]["components"]) == 2
