"""`counterpoint ...`: the entry point. Chat libraries are imported only by the commands that need them."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from core.content import ContentError, load_pack
from core.settings import Settings, SettingsError, load_settings
from core.store.base import StoreError

log = logging.getLogger("counterpoint")

DESCRIPTION = """Counterpoint: a daily debate on "AI in Law Enforcement: Security vs Privacy"
for Discord and Slack. Settings come from the environment and an optional .env file
(see .env.example)."""


def _fail(message: str, code: int = 2) -> int:
    # One line whatever the message holds: an exception's text may carry newlines.
    line = " ".join(str(message).split())
    print(f"counterpoint: {line}", file=sys.stderr)
    return code


def version() -> str:
    """The installed package's version; a source checkout run without `pip install` says so."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as package_version

    try:
        return package_version("counterpoint")
    except PackageNotFoundError:
        return "0+unknown (not installed; run 'pip install -e .')"


def _settings(args: argparse.Namespace | None = None) -> Settings:
    env_file = getattr(args, "env_file", None)
    if env_file is None:
        return load_settings()
    path = Path(env_file)
    if not path.is_file():
        raise SettingsError(f"--env-file: no file at {path.absolute()}")
    return load_settings(dotenv=path)


async def _console(args: argparse.Namespace, settings: Settings) -> int:
    from bots.console.repl import ConsoleAdapter, default_lines
    from bots.console.terminal import quiet_logs_for_console
    from bots.wiring import open_service

    quiet_logs_for_console()  # before the store opens: its migration lines must not land in the REPL
    lines = default_lines(sys.stdin, sys.stdout)
    with lines.session():  # from start-up on, Ctrl-C at a terminal clears the line instead of stopping us
        async with open_service(settings, exclusive=True) as service:
            return await ConsoleAdapter(service, sys.stdin, sys.stdout, user=args.user, lines=lines).run()


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    from bots.runner import run_adapters

    return await run_adapters(settings)


async def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from bots.wiring import open_store

    async with open_store(settings) as store:
        schema = await store.schema_version()
    print(f"database {settings.database_file} is at schema version {schema}")
    return 0


async def _backup(args: argparse.Namespace, settings: Settings) -> int:
    from core.store.sqlite_backup import BackupError, backup_database

    if settings.database_is_postgres:
        return _fail("db backup copies a SQLite file; back up PostgreSQL with pg_dump", 2)
    try:
        result = await asyncio.to_thread(backup_database, settings.database_file, args.file, args.force)
    except BackupError as exc:
        return _fail(str(exc), 1)
    print(f"backed up {result.source} to {result.target} ({result.size} bytes, schema version "
          f"{result.schema_version}); restore: stop the bot, copy it back to {result.source}, start")
    return 0


async def _copy(args: argparse.Namespace, settings: Settings) -> int:
    from core.store.copy import CopyError, copy_sqlite_to_postgres

    if settings.database_is_postgres:
        return _fail("db copy reads the SQLite database DATABASE_URL names, and it names PostgreSQL already", 2)
    try:
        report = await copy_sqlite_to_postgres(settings.database_file, args.to)
    except CopyError as exc:
        return _fail(str(exc), 1)
    for entry in report.tables:
        note = f" ({entry.note})" if entry.note else ""
        print(f"{entry.table}: {entry.rows} {'row' if entry.rows == 1 else 'rows'} copied{note}")
    print(f"copied {report.source} to {report.target}; now set DATABASE_URL to the PostgreSQL URL and start "
          "the bot (see docs/deploy.md, Moving to PostgreSQL)")
    return 0


def _spaces_hint(space: str | None, path: str, spaces: list[tuple[str, int]]) -> str:
    """Which spaces exist, so the operator can pick one: ids and poll counts only, never member data."""
    if not spaces:
        return f"the database at {path} has no polls yet; nothing to export"
    shown = ", ".join(f"{sid} ({n} poll{'' if n == 1 else 's'})" for sid, n in spaces[:20])
    more = f" and {len(spaces) - 20} more" if len(spaces) > 20 else ""
    if space is None:
        return f"name a space with --space; the database at {path} knows: {shown}{more}"
    return f"the database at {path} has no space '{space}'; it knows: {shown}{more}"


def _export_target(args: argparse.Namespace, settings: Settings) -> tuple[int, str] | Path | None:
    """What can be refused before the database is opened: (exit code, message), else the file (None: stdout)."""
    target = None if args.output == "-" else Path(args.output).absolute()
    if target is not None and (problem := _unwritable(target)):
        return 1, f"cannot write {target}: {problem}"
    if not settings.database_is_postgres and not os.path.isfile(settings.database_file):  # never create one
        return 2, f"no database at {settings.database_file} (check DATABASE_URL); nothing to export"
    return target


async def _export(args: argparse.Namespace, settings: Settings) -> int:
    from bots.wiring import open_service

    checked = await asyncio.to_thread(_export_target, args, settings)
    if isinstance(checked, tuple):
        return _fail(checked[1], checked[0])
    async with open_service(settings) as service:
        spaces = await service.known_spaces()
        if args.space is None or args.space not in dict(spaces):
            # Without this an unknown space gave an empty file and no hint why.
            return _fail(_spaces_hint(args.space, settings.database_file, spaces))
        data = await (service.reasons_csv if args.reasons else service.export_csv)(args.space)
    if checked is None:
        sys.stdout.write(data.decode("utf-8"))
        return 0
    try:
        await asyncio.to_thread(checked.write_bytes, data)
    except OSError as exc:
        return _fail(f"cannot write {checked}: {exc.strerror or exc}", 1)
    print(f"wrote {checked}")
    return 0


def _unwritable(target: Path) -> str | None:
    """Why `target` cannot be written, checked before the database is opened; None if it looks fine."""
    if target.is_dir():
        return "it is a directory"
    if not target.parent.is_dir():
        return f"the directory {target.parent} does not exist"
    if not os.access(target.parent, os.W_OK) and not (target.exists() and os.access(target, os.W_OK)):
        return f"the directory {target.parent} is not writable"
    return None


def _content_check(args: argparse.Namespace) -> int:
    try:
        pack = load_pack(args.file)
    except ContentError as exc:
        print(f"{exc.source}: {len(exc.problems)} {'problem' if len(exc.problems) == 1 else 'problems'}",
              file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    scale = sum(1 for p in pack.prompts if p.uses_scale)
    print(f"{args.file or 'default pack'}: ok - {len(pack.sections)} sections, {len(pack.prompts)} prompts "
          f"({scale} on the scale, {len(pack.prompts) - scale} with their own options)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="counterpoint", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"counterpoint {version()}")
    parser.add_argument("--env-file", metavar="FILE",
                        help="read settings from FILE instead of ./.env; a relative DATABASE_URL path is "
                             "relative to this file's directory")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    console = sub.add_parser("console", help="try the bot in this terminal, no tokens needed",
                             description="A REPL speaking the chat commands (/debate help). At a terminal: "
                                         "a prompt, line editing, history for the session (not kept on "
                                         "disk), Ctrl-C clears the line, Ctrl-D leaves. Also works with "
                                         "piped input. Log lines below WARNING are not shown.")
    console.add_argument("--user", default="you", help="your member name; this member is an admin (default: you)")
    console.set_defaults(handler=_console)

    run = sub.add_parser("run", help="start every chat adapter whose settings are present",
                         description="Starts Discord when DISCORD_TOKEN is set and Slack when SLACK_BOT_TOKEN "
                                     "is set. With neither, exits with a message.")
    run.set_defaults(handler=_run)

    content = sub.add_parser("content", help="content pack tools")
    content_sub = content.add_subparsers(dest="content_command", metavar="ACTION", required=True)
    check = content_sub.add_parser("check", help="validate a content pack and list every problem",
                                   description="Validate a content pack TOML file. Exits 1 and lists every "
                                               "problem (entry and field) when it is invalid.")
    check.add_argument("file", nargs="?", help="the TOML file (default: the built-in pack)")
    check.set_defaults(sync_handler=_content_check)

    db = sub.add_parser("db", help="database tools")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    migrate = db_sub.add_parser("migrate", help="apply pending schema migrations (start-up does this too)",
                                description="Apply pending migrations to DATABASE_URL and print the version.")
    migrate.set_defaults(handler=_migrate)
    backup = db_sub.add_parser(
        "backup", help="copy the database to FILE (safe while the bot runs)",
        description="A consistent copy of the SQLite database (sqlite3 online backup), safe while "
                    "'counterpoint run' is serving. Refuses an existing FILE unless --force. To restore: stop "
                    "the bot, copy FILE back to the database path, start it (see docs/deploy.md).")
    backup.add_argument("file", help="where to write the copy, e.g. backups/counterpoint-2026-01-31.db")
    backup.add_argument("--force", action="store_true", help="replace FILE if it exists")
    backup.set_defaults(handler=_backup)

    copy = db_sub.add_parser(
        "copy", help="copy the SQLite database into an empty PostgreSQL database",
        description="Copies everything in the SQLite database DATABASE_URL names (polls, votes, history, "
                    "schedules, settings, custom questions and the voter-key secret, ids kept) into the empty "
                    "PostgreSQL database --to names, in one transaction, and checks row counts and tallies. "
                    "Stop the bot first; refuses a target that holds any rows. Leave the password out of the "
                    "URL and set PGPASSWORD to keep it off the command line.")
    copy.add_argument("--to", required=True, metavar="URL", help="postgresql://user[:password]@host:5432/database")
    copy.set_defaults(handler=_copy)

    export = sub.add_parser("export", help="write aggregate results as CSV (never member data)",
                            description="Aggregate results per poll and option as CSV, as the visibility rule shows "
                                        "them now: figures a poll's threshold or after-close mode hides "
                                        "are left blank. Never member data.")
    export.add_argument("--space", default=None,
                        help="Discord server id, Slack team id, or 'console'; without it the spaces the "
                             "database knows are listed")
    export.add_argument("--output", "-o", default="-", help="file to write (default: standard output)")
    export.add_argument("--reasons", action="store_true",
                        help="the reasons of closed polls instead: words, side and marks as members may see "
                             "them, never an author")
    export.set_defaults(handler=_export)

    from bots.discord.cli import add_discord_commands  # registers parsers only; discord loads on use

    add_discord_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _dispatch(parser, args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the last net: an operator sees one line, never a traceback
        log.debug("unexpected failure", exc_info=True)
        return _fail(f"unexpected error: {type(exc).__name__}: {exc} (LOG_LEVEL=DEBUG logs the details)", 1)


def _dispatch(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if getattr(args, "sync_handler", None) is not None:
        return int(args.sync_handler(args))
    handler: Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]] | None = getattr(
        args, "handler", None
    )
    if handler is None:
        parser.print_help()
        return 2
    try:
        settings = _settings(args)
    except SettingsError as exc:
        return _fail(str(exc))
    from bots.logsafety import configure_logging

    configure_logging(settings.log_level)
    try:
        return asyncio.run(handler(args, settings))
    except ContentError as exc:
        return _fail(f"invalid content pack {exc.source}: {'; '.join(exc.problems[:3])}"
                     + (f" (and {len(exc.problems) - 3} more; run 'counterpoint content check')"
                        if len(exc.problems) > 3 else ""))
    except StoreError as exc:
        return _fail(str(exc))
    except SettingsError as exc:
        return _fail(str(exc))


if __name__ == "__main__":
    sys.exit(main())
