"""The console at a real terminal (a pty): prompt, line editing, history, Ctrl-C, Ctrl-D, no log noise."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pty_helpers import PtyConsole

PROMPT = "counterpoint> "


@pytest.fixture
def console(tmp_path: Path) -> Iterator[PtyConsole]:
    session = PtyConsole(tmp_path, columns=60)
    try:
        yield session
    finally:
        session.close()


def test_prompt_line_editing_up_arrow_history_and_tab(console: PtyConsole) -> None:
    console.expect(PROMPT)
    console.send("/whoami\r")
    console.expect("You are 'you' (admin).")
    console.expect(PROMPT)
    # Left arrow and a correction: the line is edited, not sent with escape codes in it.
    console.send("/as alixe\x1b[D\x7fc\r")
    console.expect("You are now 'alice'.")
    console.expect(PROMPT)
    console.send("\x1b[A\x1b[A\r")  # two lines back: /whoami again
    console.expect("You are 'alice'.")
    console.expect(PROMPT)
    console.send("/debate forg\t\r")  # Tab completes console and /debate commands
    console.expect("Type yes to confirm; anything else cancels.")
    console.expect(PROMPT)
    console.send("no\r")
    console.expect("Cancelled. Nothing was deleted.")
    assert "^[[" not in console.transcript and "Unknown command" not in console.transcript


def test_ctrl_c_clears_the_line_and_ctrl_d_leaves_with_code_0(console: PtyConsole) -> None:
    console.expect("Counterpoint console")
    console.send("/debate tod")
    console.expect("/debate tod")  # on the line, not yet entered
    console.send("\x03")
    console.send("/whoami\r")  # the console still runs, and the cleared text is not part of this line
    answer = console.expect("You are 'you' (admin).")
    assert "Unknown command" not in answer and "Today's question" not in answer
    console.expect(PROMPT)
    console.send("\x1b[A\r")  # the cleared line did not go into the history either
    assert "Today's question" not in console.expect("You are 'you' (admin).")
    console.expect(PROMPT)
    console.send("\x03")  # at an empty prompt: a fresh one
    console.expect(PROMPT)
    console.send("\x04")
    assert console.wait() == 0, console.transcript
    assert "Traceback" not in console.transcript and "KeyboardInterrupt" not in console.transcript


def test_no_info_logs_in_the_terminal_and_text_fits_its_width(console: PtyConsole) -> None:
    console.expect(PROMPT)  # the new database's migrations have run by now
    console.send("/debate post\r")
    console.expect("Type a number to vote.")
    console.expect(PROMPT)
    for name, vote in (("a", 1), ("b", 2), ("c", 4)):
        console.send(f"/as {name}\r")
        console.expect(PROMPT)
        console.send(f"{vote}\r")
        console.expect(PROMPT)
    console.send("\x04")
    assert console.wait() == 0
    out = console.transcript
    assert " INFO " not in out and "applying migration" not in out
    assert "Poll #1 now:" in out and "33%  🕶️ Lean privacy (1)" in out
    # Warnings still reach stderr (the same screen) unwrapped; here: "created a new, empty database".
    too_wide = [line for line in out.splitlines() if len(line) > 60 and " WARNING " not in line]
    assert not too_wide, out
