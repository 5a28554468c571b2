"""The CSV export of aggregate results, safe to open in any spreadsheet.

Figures come already redacted by core.visibility; this module only lays them out and neutralises
cells a spreadsheet could run as formulas (OWASP's CSV-injection guidance).
"""

from __future__ import annotations

import csv
import io
import re

from core.models import Axis, Poll, Prompt, Results
from core.presenter_reasons import group_title
from core.reasons import rank
from core.visibility import VisibleReasons

HEADER = ("poll", "channel", "prompt", "question", "opened_at", "closed_at", "option", "votes", "share",
          "first_votes", "total", "min_votes", "mean_lean")
# Full-width forms too: some spreadsheets fold "＝" to "=".
FORMULA_START = "=+-@\t\r\n|%＝＋－＠"
# A separator a spreadsheet might split on (comma, semicolon, tab, pipe), then a formula start:
# "x;=1+1" becomes a cell "=1+1" where ';' separates.
_HIDDEN_FORMULA = re.compile(r"[,;\t|][\s\"']*[=+\-@|%＝＋－＠]")


def cell(value: object) -> str:
    """A cell as text, with a leading quote when any part of it could be read as a formula."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    lead = text.lstrip(" \u00a0\u3000")  # spreadsheets skip leading spaces before a formula
    if lead and (lead[0] in FORMULA_START or text[0] in FORMULA_START or _HIDDEN_FORMULA.search(text)):
        return "'" + text
    return text


def results_csv(rows: list[tuple[Poll, Prompt, Results]]) -> bytes:
    """One line per poll and option. Hidden figures are blank; every cell is quoted."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
    writer.writerow(HEADER)
    for poll, prompt, results in rows:
        shown, shift = results.visible, results.shift_shown
        for r in results.options:
            writer.writerow([cell(v) for v in (
                poll.id, poll.channel_id, prompt.id, prompt.question, poll.opened_at.isoformat(),
                poll.closed_at.isoformat() if poll.closed_at else "", r.option.label,
                r.count if shown else "", round(r.share, 3) if shown else "",
                r.first_count if shown and shift else "",
                results.total,  # shown on the poll message too, whatever the threshold
                results.min_votes,
                "" if not shown or results.mean_lean is None else round(results.mean_lean, 2),
            )])
    return buffer.getvalue().encode("utf-8")


REASONS_HEADER = ("poll", "question", "closed_at", "side", "reasons_on_side", "reason", "marks")


def reasons_csv(rows: list[tuple[Poll, Prompt, VisibleReasons]], axis: Axis) -> bytes:
    """Closed polls' reasons, aggregates only: one line per reason that may show (text, side, marks), and
    one line with the count alone for a side whose words may not show. Never an author, never a view count."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
    writer.writerow(REASONS_HEADER)
    for poll, prompt, visible in rows:
        if not visible.shown:
            continue
        head = (poll.id, prompt.question, poll.closed_at.isoformat() if poll.closed_at else "")
        for group in visible.groups:
            side = group_title(group.key, prompt, axis)
            if group.count_only and group.count:
                writer.writerow([cell(v) for v in (*head, side, group.count, "", "")])
            for r in rank(group.reasons):
                writer.writerow([cell(v) for v in (*head, side, group.count, r.text, r.marks)])
    return buffer.getvalue().encode("utf-8")
