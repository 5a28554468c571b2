"""Charts: exact pictures (docs/renderings), what they may show (core.visibility), and answers without a chart.

The PNG fixtures are the pictures a reader can open. After an intended change of the drawing, write
them again with `CHARTS_REGENERATE=1 .venv/bin/python -m pytest tests/test_charts.py` and look at them.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image

from core.charts import BarData, ResultData, TrendData, TrendPoint, canvas, draw_result, draw_trend, result_alt
from core.service import DebateService
from tests.conftest import FakeClock, member
from tests.fakes.images import image_problems, png_size

RENDERINGS = Path(__file__).resolve().parent.parent / "docs" / "renderings"
ADMIN = member("admin", admin=True)
QUESTION = ("Should the police be allowed to use live facial recognition cameras in public places, such as train "
            "stations and shopping streets, when they are looking for people suspected of serious crimes?")

SHIFT = ResultData(
    question=QUESTION, caption="Poll #12 · 14 voters · final",
    bars=(BarData("Yes, in any public place", 2, 2 / 14, 3, 3 / 14),
          BarData("Only to find serious-crime suspects", 5, 5 / 14, 6, 6 / 14),
          BarData("Only with a warrant", 4, 4 / 14, 3, 3 / 14), BarData("No, never", 3, 3 / 14, 2, 2 / 14)),
    total=14, low="security", high="privacy", mean=-0.1, first_mean=-0.5)
OWN_OPTIONS = ResultData(
    question="Which safeguard matters most?", caption="Poll #3 · 5 voters · so far",
    bars=(BarData("An independent audit every year", 3, 0.6), BarData("Public reports", 2, 0.4),
          BarData("A judge signs off", 0, 0.0)),
    total=5, low="security", high="privacy", final=False)
TREND = TrendData(
    "Where this channel stands, poll by poll",
    "8 polls · 2026-07-01 to 2026-07-10 · mean lean from -2 (security) to +2 (privacy)",
    tuple(TrendPoint(f"{day} Jul", lean, voters, changed) for day, lean, voters, changed in (
        (1, -1.2, 9, 0.33), (2, -0.8, 12, None), (3, -0.4, 7, 0.43), (6, 0.1, 15, 0.2), (7, 0.3, 11, None),
        (8, 0.9, 18, 0.28), (9, 0.6, 6, 0.5), (10, 1.1, 14, 0.21))),
    "security", "privacy")
FIXTURES = {"chart-result-shift.png": lambda: draw_result(SHIFT),
            "chart-result-own-options.png": lambda: draw_result(OWN_OPTIONS),
            "chart-trend.png": lambda: draw_trend(TREND)}


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_the_same_data_draws_the_same_bytes_as_the_fixture(name: str) -> None:
    drawn = FIXTURES[name]()
    assert drawn == FIXTURES[name](), "two drawings of the same data differ"
    path = RENDERINGS / name
    if os.environ.get("CHARTS_REGENERATE"):
        path.write_bytes(drawn)
    assert drawn == path.read_bytes(), f"{name} differs from docs/renderings; look at both, then regenerate"
    assert not image_problems(name, drawn)


def test_png_carries_no_time_or_text_metadata() -> None:
    data = draw_result(SHIFT)
    chunks, at = [], 8
    while at < len(data):
        length = int.from_bytes(data[at:at + 4], "big")
        chunks.append(data[at + 4:at + 8])
        at += 12 + length
    assert not {b"tIME", b"tEXt", b"iTXt", b"zTXt"} & set(chunks), chunks


def test_a_long_question_wraps_and_is_never_cut() -> None:
    long = " ".join(["privacy"] * 30 + ["Antidisestablishmentarianism" * 4])
    face = canvas.font(40, bold=True)
    lines = canvas.wrap(long, face, 1100)
    assert "".join(lines).replace(" ", "") == long.replace(" ", "")
    assert all(canvas.text_width(line, face) <= 1100 for line in lines)
    short = draw_result(OWN_OPTIONS)
    tall = draw_result(ResultData(**{**OWN_OPTIONS.__dict__, "question": long}))
    assert png_size(tall)[1] > png_size(short)[1]  # type: ignore[index]


def test_a_missing_font_falls_back_to_pillows_own(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(canvas, "FONT_DIR", tmp_path / "no-fonts-here")
    canvas.font.cache_clear()
    try:
        data = draw_result(SHIFT)
        assert not image_problems("x.png", data) and data != (RENDERINGS / "chart-result-shift.png").read_bytes()
    finally:
        canvas.font.cache_clear()


def test_the_palette_keeps_the_two_series_apart_in_greyscale() -> None:
    def grey(rgb: tuple[int, int, int]) -> float:
        return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]

    assert abs(grey(canvas.BLUE) - grey(canvas.ORANGE)) > 50
    image = Image.open(io.BytesIO(draw_result(SHIFT))).convert("RGB")
    colours = {c for _, c in image.getcolors(1 << 16) or []}
    assert canvas.BLUE in colours and canvas.ORANGE in colours


def test_alt_text_says_what_the_chart_shows() -> None:
    alt = result_alt(SHIFT, 12)
    assert QUESTION in alt and "14 voters" in alt and "Only with a warrant: 4 (29%), first votes 3" in alt
    assert "Mean lean -0.1" in alt and "first votes it was -0.5" in alt
    assert "first votes" not in result_alt(OWN_OPTIONS, 3)


# ------------------------------------------------------------------- through the service


async def _poll_with_votes(service: DebateService, votes: dict[str, int], changes: dict[str, int] | None = None,
                           channel: str = "C1") -> int:
    """A posted poll of the next prompt; votes name the option by its place (0 is the first, the low pole)."""
    admin = member("admin", admin=True, channel=channel)
    reply = await service.post(admin)
    assert reply.post is not None, reply.text
    poll_id = reply.post.poll_id
    await service.attach_message(poll_id, f"{channel}:{poll_id}")
    poll = await service.poll(poll_id)
    assert poll is not None
    options = (await service.prompt_of(poll)).options
    for name, place in [*votes.items(), *(changes or {}).items()]:
        answer = await service.vote(member(name, channel=channel), poll_id, options[place].id)
        assert not answer.error, answer.text
    return poll_id


async def test_no_chart_while_results_are_hidden(service: DebateService) -> None:
    poll = await _poll_with_votes(service, {"a": 0, "b": 3})  # below k=3
    reply = await service.results_chart(member("a"), str(poll))
    assert reply.card is not None and reply.card.image is None and not reply.error
    assert "No chart yet" in reply.text and "1 more vote needed" in reply.text
    await service.close(ADMIN)
    assert (await service.outcome_card(poll)).image is None  # closed below k: still no picture


async def test_after_close_mode_hides_the_chart_until_the_close(service: DebateService, clock: FakeClock) -> None:
    await service.settings(ADMIN, results="after-close")
    poll = await _poll_with_votes(service, {"a": 0, "b": 3, "c": 4})
    reply = await service.results_chart(member("a"))
    assert reply.card is not None and reply.card.image is None and "until the poll closes" in reply.text
    await service.close(ADMIN)
    outcome = await service.outcome_card(poll)
    assert outcome.image is not None and outcome.image.mime_type == "image/png"
    assert "3 voters" in outcome.image.alt_text and not image_problems(outcome.image.filename, outcome.image.content)


async def test_first_votes_are_drawn_only_when_k_members_changed(service: DebateService) -> None:
    few = await _poll_with_votes(service, {"a": 0, "b": 3, "c": 4}, {"a": 4})  # 1 changed < k
    image = (await service.results_chart(member("a"), str(few))).card.image  # type: ignore[union-attr]
    assert image is not None and "first votes" not in image.alt_text
    await service.close(ADMIN)
    many = await _poll_with_votes(service, {"a": 0, "b": 1, "c": 3}, {"a": 3, "b": 3, "c": 2})
    image = (await service.results_chart(member("a"), str(many))).card.image  # type: ignore[union-attr]
    assert image is not None and "first votes" in image.alt_text


async def test_trend_has_a_point_per_shown_closed_scale_poll_only(service: DebateService, clock: FakeClock) -> None:
    assert "no scale poll" in (await service.trend(member("a"))).text  # a channel with no polls
    shown = await _poll_with_votes(service, {"a": 0, "b": 3, "c": 4})
    await service.close(ADMIN)
    clock.advance(days=1)
    await _poll_with_votes(service, {"a": 3, "b": 2})  # below k: no point
    await service.close(ADMIN)
    clock.advance(days=1)
    await _poll_with_votes(service, {"a": 0, "b": 0, "c": 0, "d": 0})  # open: not yet a point
    await _poll_with_votes(service, {"x": 4, "y": 4, "z": 4}, channel="C2")  # another channel
    reply = await service.trend(member("a"))
    assert reply.card is not None and reply.card.image is not None, reply.text
    alt = reply.card.image.alt_text
    assert "over 1 poll," in alt and "+0.3 with 3 voters" in alt, alt
    assert shown == 1 and "1 poll, from 2026-03-02 to 2026-03-02." in reply.card.text


async def test_trend_date_range_is_for_facilitators_and_checked(service: DebateService, clock: FakeClock) -> None:
    await _poll_with_votes(service, {"a": 0, "b": 3, "c": 4})
    await service.close(ADMIN)
    refused = await service.trend(member("a"), "2026-03-01", "2026-03-05")
    assert refused.error and "Only facilitators" in refused.text
    assert "not a date" in (await service.trend(ADMIN, "yesterday")).text
    assert "ends (2026-03-01) before it starts" in (await service.trend(ADMIN, "2026-03-05", "2026-03-01")).text
    empty = await service.trend(ADMIN, "2026-04-01", "2026-04-30")
    assert empty.card is None and "between 2026-04-01 and 2026-04-30" in empty.text and not empty.error
    inside = await service.trend(ADMIN, "2026-03-02", "2026-03-02")
    assert inside.card is not None and inside.card.image is not None


async def test_a_drawing_failure_leaves_the_words(service: DebateService, monkeypatch: pytest.MonkeyPatch) -> None:
    import core.cases.charts as cases

    def broken(_: object) -> bytes:
        raise OSError("disk full")

    monkeypatch.setattr(cases, "draw_result", broken)
    monkeypatch.setattr(cases, "draw_trend", broken)
    poll = await _poll_with_votes(service, {"a": 0, "b": 3, "c": 4})
    reply = await service.results_chart(member("a"), str(poll))
    assert not reply.error and reply.card is not None and reply.card.image is None
    assert "could not be drawn" in reply.text
    await service.close(ADMIN)
    assert (await service.outcome_card(poll)).image is None
    trend = await service.trend(member("a"))
    assert trend.card is not None and trend.card.image is None and "+0.3 with 3 voters" in trend.card.text
