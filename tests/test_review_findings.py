"""Attacker's review of issues 10 and 11 (registry, catalogue, ask, forms, CLI, settings): one test per finding.

Each test failed on main when it was written (base 74845bd); its docstring names the finding. Real code
paths throughout: the real router and service on a real SqliteStore, the Slack adapter over signed HTTP
against FakeSlack, the real Discord renderer, the real settings loader and backup.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bots.discord import embeds
from core.commands import CommandRouter
from core.service import Actor, DebateService
from core.settings import SettingsError, load_settings
from core.store.sqlite_backup import BackupError, backup_database
from tests.fakes.slack_fake import FakeSlack
from tests.slack_helpers import LISTED_ADMIN, Harness, running

# -- helpers ---------------------------------------------------------------------------------------


def _fragments(secret: str, size: int = 8) -> list[str]:
    return [secret[i:i + size] for i in range(len(secret) - size + 1)]


def _echoes(secret: str, text: str) -> bool:
    """Whether `text` carries any 8 consecutive characters of `secret`."""
    return any(part in text for part in _fragments(secret))


def _settings_error(tmp_path: Path, dotenv_text: str) -> str:
    path = tmp_path / ".env"
    path.write_text(dotenv_text, encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_settings({}, dotenv=path)
    return str(caught.value)


def admin(platform: str = "slack") -> Actor:
    return Actor("S1", "C1", "boss", is_admin=True, platform=platform)


async def _question_of(service: DebateService, poll_id: int) -> tuple[str, list[str]]:
    poll = await service.poll(poll_id)
    assert poll is not None
    prompt = await service.find_prompt(poll.prompt_id)
    assert prompt is not None
    return prompt.question, [o.label for o in prompt.options]


# -- settings and .env: secrets in one-line errors -----------------------------------------------

TOKEN = "MTAxMjM0NTY3ODkwMTIzNDU2Nzg5.GAbCdE.q7Zx9LmN2pR4sT6vW8yB0cD"


@pytest.mark.parametrize("text", [
    f"DISCORD_TOKEN=\n{TOKEN}\n",  # the token pasted on the next line
    f"DISCORD_TOKEN: {TOKEN}\n",  # YAML habit
    f"{TOKEN}\n",  # a token on a line of its own
])
def test_a_dotenv_line_without_equals_never_echoes_the_token(tmp_path: Path, text: str) -> None:
    """Finding R1 (medium): a .env line with no '=' is quoted back in the error (`got '<first 40 chars>'`),
    so a token pasted on its own line, or written `KEY: value`, is printed to the terminal and to any
    journal capturing start-up. The error may name the file, the line and a key, never the value."""
    message = _settings_error(tmp_path, text)
    assert ".env:" in message  # still says where
    assert not _echoes(TOKEN, message), message


def test_text_after_a_closing_quote_never_echoes_the_secret(tmp_path: Path) -> None:
    """Finding R2 (medium): `unexpected text after the closing quote: '<20 chars>'` prints the rest of a
    secret that itself contains a double quote (`COUNTERPOINT_SECRET="k9v"Qz7W..."`)."""
    secret = 'k9v"Qz7WmP2xL8rT4nB6yH'
    message = _settings_error(tmp_path, f'COUNTERPOINT_SECRET="{secret}"\n')
    assert "COUNTERPOINT_SECRET" in message
    assert not _echoes(secret.split('"', 1)[1], message), message


@pytest.mark.parametrize("password", ["S3cr/etPW-9x", "S3cr#etPW-9x", "S3cr?etPW-9x"])
def test_a_postgres_password_with_a_reserved_character_is_never_echoed(password: str) -> None:
    """Finding R3 (medium): DATABASE_URL=postgresql://bot:S3cr/etPW@host/db (a generated password with an
    unencoded / # or ?) splits the URL before the '@', so redacted_url finds no password and the
    'cannot read' error prints the whole URL, password included - against 'never echo a password'."""
    url = f"postgresql://bot:{password}@db.example:5432/counterpoint"
    try:
        settings = load_settings({"DATABASE_URL": url}, dotenv=None)
    except SettingsError as exc:
        message = str(exc)
        assert "DATABASE_URL" in message
    else:
        message = settings.database_file
    assert "S3cr" not in message and "etPW" not in message, message


# -- db backup over the live database's own files ----------------------------------------------------


def test_backup_with_force_never_replaces_the_live_databases_wal(tmp_path: Path) -> None:
    """Finding R4 (medium): `counterpoint db backup <db>-wal --force` is accepted (samefile only guards
    the main file) and renames a database file over the live write-ahead log. Votes committed since the
    last checkpoint live only in that log: after the bot stops uncleanly they are gone (50 of 50 here).
    The same goes for `<db>-shm` and the one-writer `<db>.lock`."""
    db = tmp_path / "counterpoint.db"
    setup = sqlite3.connect(db)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE votes(n INTEGER)")
    setup.commit()
    setup.close()
    writer = subprocess.Popen([sys.executable, "-c", (
        "import sqlite3, sys\n"
        f"c = sqlite3.connect({str(db)!r})\n"
        "c.execute('PRAGMA journal_mode=WAL'); c.execute('PRAGMA wal_autocheckpoint=0')\n"
        "for i in range(50):\n"
        "    c.execute('INSERT INTO votes VALUES (?)', (i,)); c.commit()\n"
        "print('ready', flush=True)\n"
        "sys.stdin.read()\n"  # the running bot: holds the database open until killed
    )], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        wal = Path(f"{db}-wal")
        assert wal.exists()
        try:
            backup_database(str(db), str(wal), force=True)
        except BackupError:
            pass  # refusing is the fix
    finally:
        writer.send_signal(signal.SIGKILL)  # the bot dies before a checkpoint, as in a crash or OOM kill
        writer.wait()
    check = sqlite3.connect(db)
    try:
        assert check.execute("SELECT count(*) FROM votes").fetchone() == (50,)
    finally:
        check.close()


# -- ask typed in chat: the text router ------------------------------------------------------------


async def test_options_with_spaces_are_never_glued_onto_the_question(service: DebateService) -> None:
    """Finding R5 (medium): help shows `[options=A | B | C]`, but the router ends `options=` at the first
    space and appends the rest to the greedy question: `ask Lunch? options=Tea|Coffee | Water` posts
    "Lunch? | Water" with options Tea and Coffee - a poll nobody asked for, posted to the channel."""
    reply = await CommandRouter(service).handle(admin(), "ask Lunch? options=Tea|Coffee | Water")
    if reply.post is not None:
        question, labels = await _question_of(service, reply.post.poll_id)
        assert question == "Lunch?" and labels == ["Tea", "Coffee", "Water"], (question, labels)
    else:
        assert reply.error


async def test_the_word_options_inside_a_question_stays_in_the_question(service: DebateService) -> None:
    """Finding R6 (low): the `key value` form takes a bare word "options" in the middle of a typed question
    as the options argument: `ask Should stock options replace bonuses?` takes "replace" as the only
    option and is refused with "Give 2 to 5 options" although the facilitator gave none."""
    reply = await CommandRouter(service).handle(admin(), "ask Should stock options replace bonuses?")
    assert not reply.error, reply.text
    assert reply.post is not None
    question, labels = await _question_of(service, reply.post.poll_id)
    assert question == "Should stock options replace bonuses?"
    assert len(labels) == len(service.content.scale)


# -- ask: hostile text --------------------------------------------------------------------------------


async def test_a_question_of_invisible_characters_is_refused(service: DebateService) -> None:
    """Finding R7 (low): the ask filter removes U+200B-U+200F and the bidi controls but not the other
    invisible format characters (U+2060 word joiner, U+FEFF, U+180E, U+2061-2064, C1 controls): a question
    made only of them is posted as a poll with an empty-looking title."""
    reply = await service.ask(admin(), "\u2060\ufeff\u2060\u2063")
    assert reply.error and reply.post is None
    assert await service.poll(1) is None


async def test_two_options_that_look_the_same_are_refused(service: DebateService) -> None:
    """Finding R7b (low): "Yes" and "Yes\\u2060" pass the duplicate check (casefold differs) and show as two
    identical buttons, so members cannot tell which is which; also the C1 control U+009B (8-bit CSI, a
    terminal escape in the console) survives into labels."""
    reply = await service.ask(admin(), "Agree?", "Yes | Yes\u2060 | No")
    assert reply.error and reply.post is None
    reply = await service.ask(admin(), "Agree?", "Yes\u009b31m | No")
    if reply.post is not None:
        _, labels = await _question_of(service, reply.post.poll_id)
        assert not any("\u009b" in label for label in labels), labels


async def test_a_label_with_backticks_keeps_discords_results_in_one_code_block(service: DebateService) -> None:
    """Finding R8 (low): Discord's results field puts the bars in a ``` code block and labels go in raw, so
    a facilitator's option `Yes```` closes the block early: the rest of the bars render as text and the
    closing fence opens an empty block - the poll message looks broken."""
    boss = admin("discord")
    await service.settings(boss, results="live")
    reply = await service.ask(boss, "Ship it?", "Yes``` | No")
    assert reply.post is not None

    async def send(_card: object) -> str:
        return "message-1"

    await service.publish(reply.post, send)
    poll_id = reply.post.poll_id
    for i in range(3):
        voter = Actor("S1", "C1", f"m{i}", platform="discord")
        assert not (await service.vote(voter, poll_id, "o1" if i else "o2")).error
    embed = embeds.card_embed(await service.poll_card(poll_id))
    [results] = [f for f in embed.fields if f.name == embeds.t("discord.render.results")]
    assert results.value is not None and results.value.count("```") == 2, results.value


# -- Slack: a reply that spells a command the router cannot read ------------------------------------


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


async def test_the_expired_form_hint_spells_a_command_that_works(slack: FakeSlack, service: DebateService) -> None:
    """Finding R9 (low): when views.open says expired_trigger_id, the answer tells the facilitator to type
    `/debate ask "…" options=""A | B""`: spell() quotes a value that was already quoted, and typed as
    shown the router reads options="" and glues `A | B""` onto the question."""
    slack.expired_triggers.add("late.trigger")
    harness: Harness
    async with running(slack, service) as harness:
        view, [answer] = await harness.open_form("ask", user=LISTED_ADMIN, trigger="late.trigger")
    assert view is None
    assert '""' not in answer["text"], answer["text"]
