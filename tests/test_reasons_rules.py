"""The pure rules of reasons (core/reasons.py, core/visibility.visible_reasons): text, sides, rank, exposure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.actions import Action, ActionError, ActionKind, decode
from core.models import Option, Poll, Prompt, Reason, Tally
from core.reasons import (
    FRESH_EVERY,
    FRESH_VIEWS,
    PAGE_SIZE,
    ReasonTextError,
    check_text,
    group_keys,
    interleave,
    page_of,
    rank,
    side_of,
    with_exposure,
)
from core.visibility import Rule, visible_reasons, visible_results

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SCALE = tuple(Option(str(v), f"L{v}", lean=v) for v in (-2, -1, 0, 1, 2))
PROMPT = Prompt("p", "s", "Q?", SCALE, True)


def reason(rid: int, marks: int = 0, views: int = 0, option: str = "-2", age: int = 0) -> Reason:
    return Reason(rid, 1, option, f"r{rid}", T0 + timedelta(minutes=age or rid), marks, views)


@pytest.mark.parametrize("typed", ["<!here> <!channel>", "@everyone", "<@U1|ann> <@!2> <@&3> <#C4|x>",
                                   "<!subteam^S1>", "\u200b\u2066", " \n "])
def test_empty_or_only_mentions_is_refused(typed: str) -> None:
    with pytest.raises(ReasonTextError):
        check_text(typed)


def test_text_is_cleaned_and_a_mention_with_words_is_kept_for_the_renderer_to_defuse() -> None:
    assert check_text("  because\u202e  <@U1>\tsaid so \u27e6 ") == "because <@U1> said so"
    assert check_text("x" * 280) == "x" * 280
    with pytest.raises(ReasonTextError, match="too_long"):
        check_text("x" * 281)


def test_scale_options_fall_into_three_sides_and_other_options_are_their_own_group() -> None:
    assert [side_of(o, PROMPT) for o in SCALE] == ["low", "low", "balanced", "high", "high"]
    assert group_keys(PROMPT) == ["low", "balanced", "high"]
    custom = Prompt("c", "", "Q?", (Option("o1", "A"), Option("o2", "B")), False)
    assert group_keys(custom) == ["o1", "o2"] and side_of(custom.options[1], custom) == "o2"


def test_rank_is_by_marks_then_age_then_id_and_ignores_views() -> None:
    a, b, c, d = reason(1, marks=3), reason(2, marks=5), reason(3, marks=3, views=100), reason(4, marks=3, age=1)
    assert [r.id for r in rank([a, b, c, d])] == [2, 1, 4, 3]


def test_new_reasons_get_one_place_in_every_few_even_under_many_marked_ones() -> None:
    old = [reason(i, marks=10 - i, views=FRESH_VIEWS + 5) for i in range(1, 10)]
    new = [reason(100, views=0, age=500), reason(101, views=1, age=600)]
    ordered = with_exposure(rank(old + new))
    first_page = ordered[:PAGE_SIZE]
    assert {100, 101} <= {r.id for r in first_page}  # ranked alone they would come last
    assert ordered[FRESH_EVERY - 1].id == 101  # the newest first
    assert sorted(r.id for r in ordered) == sorted(r.id for r in old + new)  # each once


def test_pages_cover_everything_once_and_sides_alternate() -> None:
    low = [reason(i) for i in range(1, 6)]
    high = [reason(i, option="2") for i in range(10, 12)]
    ordered = interleave([low, high])
    assert [r.id for r in ordered[:4]] == [1, 10, 2, 11]
    pages = [page_of(ordered, p, 3)[0] for p in (1, 2, 3)]
    assert sum(len(p) for p in pages) == 7 and page_of(ordered, 99, 3)[1] == 3


def test_visible_reasons_show_nothing_below_k_and_counts_only_on_a_small_side() -> None:
    poll = Poll(1, "S", "C", "p", T0, T0 + timedelta(hours=1), None, "m")
    reasons = [reason(1), reason(2), reason(3), reason(4, option="2")]
    few = visible_results(poll, PROMPT, Tally(1, {("-2", "-2"): 2}), Rule(3, True), T0)
    assert not visible_reasons(few, reasons, {"-2": 3, "2": 1}).shown
    many = visible_results(poll, PROMPT, Tally(1, {("-2", "-2"): 3, ("2", "2"): 1}), Rule(3, True), T0)
    shown = visible_reasons(many, reasons, {"-2": 3, "2": 1})
    low, balanced, high = shown.groups
    assert (len(low.reasons), low.count) == (3, 3)
    assert high.count_only and high.count == 1 and balanced.count == 0
    after_close = visible_results(poll, PROMPT, Tally(1, {("-2", "-2"): 5}), Rule(3, False), T0)
    assert not visible_reasons(after_close, reasons, {"-2": 3}).shown


@pytest.mark.parametrize("payload", ["cp1:rmark:", "cp1:rmark:-1", "cp1:rpage:1:x", "cp1:rhide:1:2",
                                     "cp1:rform:1:2", "cp1:rreport:" + "9" * 19])
def test_tampered_reason_buttons_are_refused(payload: str) -> None:
    with pytest.raises(ActionError):
        decode(payload)


def test_reason_buttons_round_trip() -> None:
    for action in (Action(ActionKind.MARK, number=7), Action(ActionKind.REASONS_PAGE, poll_id=2, number=3),
                   Action(ActionKind.REASON_KEEP, poll_id=4), Action(ActionKind.RESTORE, number=1)):
        assert decode(action.encode()) == action
