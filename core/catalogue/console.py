"""Wording of the console area (see core.catalogue)."""

from __future__ import annotations

from core.catalogue import Message

MESSAGES: dict[str, Message] = {
    "console.prompt": "counterpoint> ",
    "console.welcome": "Counterpoint console. You are '{name}' (admin). Type /debate help, or /quit.",
    "console.help": (
        "Console extras:\n"
        "  a number      vote for that option of the current poll\n"
        "  /retract      take back your vote on the current poll\n"
        "  /as NAME      act as another member (members are not admins; --user NAME is)\n"
        "  /tick         run the daily scheduler now: post what is due, close and report expired polls\n"
        "  /whoami       who you are acting as\n"
        "  /quit         leave (Ctrl-D works too)"
    ),
    "console.help_terminal": (
        "In a terminal: Tab completes commands, up and down arrows recall earlier lines (kept until you leave), "
        "Ctrl-C clears the line, Ctrl-D leaves."
    ),
    "console.unknown": "Unknown command '{text}'. Type /debate help (or /help for console extras).",
    "console.no_arguments": "{command} takes nothing after it. Type /help for console extras.",
    "console.as_usage": "Usage: /as NAME (one word, up to 64 characters)",
    "console.now": "You are now '{name}'.",
    "console.now_admin": "You are now '{name}' (admin).",
    "console.whoami": "You are '{name}'.",
    "console.whoami_admin": "You are '{name}' (admin).",
    "console.no_poll": "There is no current poll. Try /debate today.",
    "console.no_poll_to_vote": "There is no current poll to vote on. Try /debate today.",
    "console.choose_number": "Choose a number from 1 to {n}.",
    "console.vote_hint": "Type a number to vote.",
    "console.retract_hint": "Type /retract to take it back.",
    "console.confirm_hint": "Type yes to confirm; anything else cancels.",
    # The answers that confirm, space-separated; anything else typed at a confirmation cancels.
    "console.confirm_words": "yes y",
    "console.cancelled": "Cancelled. Nothing was deleted.",
    "console.nothing_due": "Nothing is due.",
    "console.failed": "Something went wrong handling that ({error}); nothing else changed.",
    "console.announce": "[to everyone in the channel] {text}",
    "console.attachment": "--- {filename} ---",
    "console.live_results": "Poll #{poll} now:",
    "console.poll_closed": "Poll #{poll} is closed.",
    # bots/console/repl.py: buttons of reasons (issue 13) pressed by number with /press N.
    "console.help_press": "  /press N      press button N of the last answer (reasons: keep, drop, convincing, report, "
                          "pages, hide, restore)",
    "console.press_hint": "Type /press N to press:",
    "console.press_line": "  /press {number}  {label}",
    "console.press_nothing": "The last answer has no buttons to press.",
    "console.press_usage": "Usage: /press N, with N from 1 to {n}.",
}
