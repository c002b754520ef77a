"""Anchors: time parsing and formatting, checking each kind against its work, labels."""

from __future__ import annotations

import math

import pytest

from app.discussion import anchors
from app.discussion.anchors import AnchorInput, AnchorProblems
from app.discussion.models import AnchorKind, CommentAnchor
from app.works.models import Medium, Work

EXCERPT = "She sings the chorus. Then she sings the chorus again, louder."


def works() -> dict[int, Work]:
    video = Work(
        id=1,
        title="Dance",
        medium=Medium.video,
        duration_seconds=215.5,
        url="https://v.example/d#x",
    )
    text = Work(id=2, title="Lyrics", medium=Medium.text, excerpt=EXCERPT, url="https://t.example")
    image = Work(id=3, title="Art", medium=Medium.image, url="https://i.example")
    audio_without_duration = Work(id=4, title="Song", medium=Medium.audio, url="https://a.example")
    return {w.id: w for w in (video, text, image, audio_without_duration)}


def problems(anchor: AnchorInput) -> dict[str, str]:
    with pytest.raises(AnchorProblems) as caught:
        anchors.check(anchor, works())
    return caught.value.fields


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [("83.5", 83.5), ("1:23", 83.0), ("1:02:03", 3723.0), (" 0:42.5 ", 42.5), ("0", 0.0)],
)
def test_parse_time_reads_seconds_minutes_and_hours(raw: str, seconds: float) -> None:
    assert anchors.parse_time(raw) == seconds


@pytest.mark.parametrize(
    "raw", ["", "abc", "1:60", "1:60:00", "-3", "\uff11:\uff12\uff13", "1:2:3:4", "nan"]
)
def test_parse_time_refuses_what_is_not_a_time(raw: str) -> None:
    assert anchors.parse_time(raw) is None


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (83, "1:23"),
        (3723, "1:02:03"),
        (42.5, "0:42.5"),
        (5, "0:05"),
        (59.99, "1:00"),
        (3599.96, "1:00:00"),
        (1.04, "0:01"),
    ],
)
def test_format_time(seconds: float, text: str) -> None:
    assert anchors.format_time(seconds) == text


def test_a_time_range_within_the_duration() -> None:
    checked = anchors.check(AnchorInput(work=1, kind="time", start=83.5, end=95), works())
    assert (checked.kind, checked.start, checked.end) == (AnchorKind.time, 83.5, 95)


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (300, 310, "start"),
        (-1, 10, "start"),
        (10, 216, "end"),
        (90, 90, "end"),
        (90, 80, "end"),
        (None, 10, "start"),
        (10, None, "end"),
        (math.nan, 10, "start"),
        (10, math.inf, "end"),
    ],
)
def test_a_time_range_outside_or_backwards_is_refused(start, end, field) -> None:
    assert field in problems(AnchorInput(work=1, kind="time", start=start, end=end))


def test_time_needs_audio_or_video_with_a_duration() -> None:
    assert "kind" in problems(AnchorInput(work=4, kind="time", start=1, end=2))
    assert "kind" in problems(AnchorInput(work=3, kind="time", start=1, end=2))


def test_the_work_must_be_exhibited_and_the_kind_known() -> None:
    assert problems(AnchorInput(work=99, kind="time", start=1, end=2)) == {
        "work": "Choose one of the works exhibited on this proposal."
    }
    assert "work" in problems(AnchorInput(work=None, kind="time"))
    assert "kind" in problems(AnchorInput(work=1, kind="page"))


def test_a_quote_fills_in_its_context() -> None:
    checked = anchors.check(AnchorInput(work=2, kind="quote", exact="louder"), works())
    assert checked.exact == "louder"
    assert checked.prefix == EXCERPT[EXCERPT.index("louder") - anchors.CONTEXT_STORED : -7]
    assert checked.suffix == "."


def test_a_quote_not_in_the_excerpt_is_refused() -> None:
    assert "exact" in problems(AnchorInput(work=2, kind="quote", exact="verse"))
    assert "exact" in problems(AnchorInput(work=2, kind="quote", exact="   "))
    assert "exact" in problems(AnchorInput(work=2, kind="quote", exact="x" * 1001))
    assert "prefix" in problems(AnchorInput(work=2, kind="quote", exact="louder", prefix="p" * 201))


def test_prefix_and_suffix_tell_repeats_apart() -> None:
    second = EXCERPT.index("the chorus again")
    checked = anchors.check(
        AnchorInput(work=2, kind="quote", exact="the chorus", suffix=" again"), works()
    )
    assert anchors.locate(EXCERPT, "the chorus", checked.prefix, checked.suffix) == second
    first = anchors.check(AnchorInput(work=2, kind="quote", exact="the chorus"), works())
    assert anchors.locate(EXCERPT, "the chorus", first.prefix, first.suffix) == EXCERPT.index(
        "the chorus"
    )
    assert "prefix" in problems(
        AnchorInput(work=2, kind="quote", exact="the chorus", prefix="nowhere ")
    )


def test_quotes_need_an_excerpt() -> None:
    assert "kind" in problems(AnchorInput(work=1, kind="quote", exact="Dance"))


def test_a_region_within_the_image() -> None:
    checked = anchors.check(AnchorInput(work=3, kind="region", x=10, y=20, w=30, h=25), works())
    assert (checked.x, checked.y, checked.w, checked.h) == (10, 20, 30, 25)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"x": -1, "y": 0, "w": 10, "h": 10}, "x"),
        ({"x": 0, "y": 101, "w": 10, "h": 10}, "y"),
        ({"x": 80, "y": 0, "w": 30, "h": 10}, "w"),
        ({"x": 0, "y": 95, "w": 10, "h": 10}, "h"),
        ({"x": 0, "y": 0, "w": 0, "h": 10}, "w"),
        ({"x": 0, "y": 0, "w": 10, "h": None}, "h"),
        ({"x": math.inf, "y": 0, "w": 10, "h": 10}, "x"),
    ],
)
def test_a_region_outside_the_image_is_refused(values, field) -> None:
    assert field in problems(AnchorInput(work=3, kind="region", **values))


def test_regions_need_an_image() -> None:
    assert "kind" in problems(AnchorInput(work=1, kind="region", x=1, y=1, w=1, h=1))


def test_labels_and_fragments() -> None:
    video = works()[1]
    time = CommentAnchor(kind=AnchorKind.time, start=83.5, end=95, work=video)
    assert anchors.label(time) == "▶ 1:23.5–1:35"
    assert anchors.fragment_url(time) == "https://v.example/d#t=83.5,95"
    region = CommentAnchor(kind=AnchorKind.region, x=10, y=20, w=30, h=25, work=works()[3])
    assert anchors.label(region) == "▢ region 30×25% at 10%, 20%"
    assert anchors.media_fragment(region) == "#xywh=percent:10,20,30,25"
    assert anchors.fragment_url(region) is None
    quote = CommentAnchor(kind=AnchorKind.quote, exact="a" * 70, work=works()[2])
    assert anchors.label(quote) == "“" + "a" * 60 + "…”"
