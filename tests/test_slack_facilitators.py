"""Facilitators named in Slack chat (mentions arrive as ids), replies spelled the Slack way, and what the
adapter may touch: only the service's public methods, and only the catalogue's sentences."""

from __future__ import annotations

import ast
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.service import DebateService
from tests.fakes.slack_fake import FakeSlack
from tests.slack_helpers import CHANNEL, LISTED_ADMIN, Harness, running

ROOT = Path(__file__).parents[1]
SLACK_PACKAGE = ROOT / "bots" / "slack"
ADMIN, BEA, CY = "UADMIN", "U2", "U3"


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        fake.set_user(ADMIN, is_admin=True)
        fake.set_user(BEA, name="bea")
        fake.set_user(CY, name="cy")
        yield fake


@pytest.fixture
async def h(slack: FakeSlack, service: DebateService) -> AsyncIterator[Harness]:
    async with running(slack, service) as harness:
        yield harness


def test_the_manifest_sends_mentions_as_ids_and_the_docs_say_how_to_update() -> None:
    manifest = (SLACK_PACKAGE / "manifest.yaml").read_text(encoding="utf-8")
    command = re.search(r"- command: /debate\n(?:\s{6,}.*\n)+", manifest)
    assert command is not None
    assert re.search(r"^\s+should_escape: true$", command.group(0), re.M), command.group(0)
    docs = (ROOT / "docs" / "slack.md").read_text(encoding="utf-8")
    assert "should_escape: true" in docs and "App Manifest" in docs and "facilitators add=@" in docs


async def test_an_admin_names_a_facilitator_who_may_then_run_the_debate_without_a_restart(
    h: Harness, slack: FakeSlack
) -> None:
    assert "Only facilitators" in (await h.command("post", user=BEA))["text"]

    named = await h.command("facilitators add=<@U2|bea>", user=ADMIN)  # how Slack sends "@bea"
    # The id is listed (how Slack shows it, as a mention or not, is the renderer's; see the report).
    assert "@U2" in named["text"] and "Only" not in named["text"]
    posted = await h.command("post", user=BEA)
    assert posted["text"] == "Posted poll #1." and h.poll_message()
    changed = await h.command("settings k=5", user=BEA)
    assert "Saved" in changed["text"] and "Results show from 5 votes" in changed["text"]
    assert "`/debate settings k=5" in changed["text"]  # commands named the Slack way, not Discord's

    for text in ("post", "settings k=4", "close", "ask question=\"Mine?\""):
        assert "Only facilitators" in (await h.command(text, user=CY))["text"], text
    assert "Only server or workspace admins" in (await h.command("facilitators add=<@U3|cy>", user=BEA))["text"]

    # SLACK_ADMIN_USERS still makes an admin, who may name and unname facilitators.
    removed = await h.command("facilitators remove=<@U2|bea>", user=LISTED_ADMIN)
    assert "@U2" not in removed["text"] and "Only" not in removed["text"]
    assert "Only facilitators" in (await h.command("close", user=BEA))["text"]
    assert len([m for m in slack.messages[CHANNEL] if m.get("metadata")]) == 1 and not slack.violations


async def test_slack_escaped_text_is_read_as_typed(h: Harness, slack: FakeSlack) -> None:
    # Slack sends & < > in command text as entities; the question must not keep them.
    answer = await h.command('ask question="Tea &amp; biscuits &lt;now&gt;?" options="Yes | No"', user=ADMIN)
    assert answer["text"] == "Posted poll #1."
    header = h.poll_message()["blocks"][0]
    assert header["text"]["text"] == "Tea & biscuits <now>?"


def _modules() -> list[Path]:
    return sorted(SLACK_PACKAGE.glob("*.py"))


def test_no_module_under_bots_slack_reaches_into_the_store() -> None:
    found = [f"{path.name}:{node.lineno}" for path in _modules()
             for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(node, ast.Attribute) and node.attr in ("store", "_store")]
    assert found == []


def _sentences(tree: ast.AST) -> list[tuple[int, str]]:
    """String literals of three words or more, outside docstrings and log calls."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and isinstance(body[0].value,
                                                                                            ast.Constant):
            skip.add(id(body[0].value))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value,
                                                                                              ast.Name):
            if node.func.value.id in ("log", "logging"):
                skip.update(id(n) for n in ast.walk(node))
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
            and re.search(r"[A-Za-z]+[,.']? [A-Za-z]+[,.']? [A-Za-z]+", node.value)]


@pytest.mark.parametrize("name", ["app.py", "forms.py", "webapi.py"])
def test_the_adapters_own_sentences_come_from_the_catalogue(name: str) -> None:
    tree = ast.parse((SLACK_PACKAGE / name).read_text(encoding="utf-8"))
    assert _sentences(tree) == []
