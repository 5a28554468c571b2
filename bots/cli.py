"""`counterpoint ...`: the entry point. Chat libraries are imported only by the commands that need them."""

from __future__ import annotations

import argparse
import asyncio
import logging
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
    print(f"counterpoint: {message}", file=sys.stderr)
    return code


def _settings() -> Settings:
    return load_settings()


async def _console(args: argparse.Namespace, settings: Settings) -> int:
    from bots.console.repl import ConsoleAdapter
    from bots.wiring import open_service

    async with open_service(settings, exclusive=True) as service:
        return await ConsoleAdapter(service, sys.stdin, sys.stdout, user=args.user).run()


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    from bots.runner import run_adapters

    return await run_adapters(settings)


async def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from bots.wiring import make_store

    store = make_store(settings)
    await store.open()
    try:
        version = await store.schema_version()
    finally:
        await store.close()
    print(f"database {settings.sqlite_path} is at schema version {version}")
    return 0


async def _export(args: argparse.Namespace, settings: Settings) -> int:
    from bots.wiring import open_service

    async with open_service(settings) as service:
        data = await service.export_csv(args.space)
    if args.output == "-":
        sys.stdout.write(data.decode("utf-8"))
    else:
        target = await asyncio.to_thread(_absolute, args.output)
        try:
            await asyncio.to_thread(target.write_bytes, data)
        except OSError as exc:
            return _fail(f"cannot write {target}: {exc.strerror or exc}")
        print(f"wrote {target}")
    return 0


def _absolute(path: str) -> Path:
    return Path(path).absolute()


def _content_check(args: argparse.Namespace) -> int:
    try:
        pack = load_pack(args.file)
    except ContentError as exc:
        print(f"{exc.source}: {len(exc.problems)} problem(s)", file=sys.stderr)
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
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    console = sub.add_parser("console", help="try the bot in this terminal, no tokens needed",
                             description="A REPL speaking the chat commands (/debate help). "
                                         "Reads standard input, so it also works with piped input.")
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

    export = sub.add_parser("export", help="write aggregate results as CSV (never member data)",
                            description="Aggregate results per poll and option as CSV, as the visibility rule shows "
                                        "them now: figures a poll's threshold or after-close mode hides "
                                        "are left blank. Never member data.")
    export.add_argument("--space", default="console",
                        help="Discord server id or Slack team id (default: console)")
    export.add_argument("--output", "-o", default="-", help="file to write (default: standard output)")
    export.set_defaults(handler=_export)

    from bots.discord.cli import add_discord_commands  # registers parsers only; discord loads on use

    add_discord_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "sync_handler", None) is not None:
        return args.sync_handler(args)
    handler: Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]] | None = getattr(
        args, "handler", None
    )
    if handler is None:
        parser.print_help()
        return 2
    try:
        settings = _settings()
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
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
