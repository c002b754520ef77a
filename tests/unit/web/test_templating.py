"""Template filters and the htmx partial-request test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from starlette.requests import Request

from app import i18n
from app.web import templating

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)


def request_with(headers: dict[str, str]) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": raw})


@pytest.mark.parametrize(
    ("headers", "partial"),
    [
        ({}, False),
        ({"HX-Request": "true"}, True),
        ({"HX-Request": "false"}, False),
        ({"HX-Request": "true", "HX-History-Restore-Request": "true"}, False),
    ],
)
def test_is_htmx(headers, partial):
    assert templating.is_htmx(request_with(headers)) is partial


@pytest.mark.parametrize(
    ("language", "moment", "day"),
    [
        ("en", "May 1, 2030 00:30 UTC", "May 1, 2030"),
        ("ja", "2030年5月1日 0:30 UTC", "2030年5月1日"),
    ],
)
def test_datetime_filters_show_utc_in_the_readers_language(language, moment, day):
    tokyo = timezone(timedelta(hours=9))
    value = datetime(2030, 5, 1, 9, 30, tzinfo=tokyo)
    i18n.set_language(language)
    try:
        assert templating._datetime(value) == moment
        assert templating._date(value) == day
        assert templating._datetime(None) == ""
        assert templating._date(None) == ""
    finally:
        i18n.set_language("en")


@pytest.mark.parametrize(
    ("age", "text"),
    [
        (timedelta(seconds=-5), "in a moment"),
        (timedelta(hours=-5), "in 5 hours"),
        (timedelta(seconds=5), "just now"),
        (timedelta(minutes=1), "1 minute ago"),
        (timedelta(minutes=5), "5 minutes ago"),
        (timedelta(hours=2), "2 hours ago"),
        (timedelta(days=1), "1 day ago"),
        (timedelta(days=65), "2 months ago"),
        (timedelta(days=800), "2 years ago"),
    ],
)
def test_ago(monkeypatch, age, text):
    monkeypatch.setattr(templating, "utcnow", lambda: NOW)
    assert templating._ago(NOW - age) == text


def test_ago_in_japanese(monkeypatch):
    monkeypatch.setattr(templating, "utcnow", lambda: NOW)
    i18n.set_language("ja")
    try:
        assert templating._ago(NOW - timedelta(days=3)) == "3 日前"
        assert templating._ago(NOW + timedelta(hours=5)) == "5 時間後"
        assert templating._ago(NOW - timedelta(seconds=5)) == "たった今"
    finally:
        i18n.set_language("en")


def test_time_tag_is_escaped_markup():
    value = datetime(2030, 5, 1, 0, 30, tzinfo=UTC)
    html = str(templating._time_tag(value))
    assert html.startswith('<time datetime="2030-05-01T00:30:00+00:00"')
    assert 'title="May 1, 2030 00:30 UTC"' in html
    assert str(templating._time_tag(None)) == ""


def test_environment_autoescapes_and_is_strict():
    env = templating.make_environment()
    assert env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"
    with pytest.raises(Exception, match="undefined"):
        env.from_string("{{ missing }}").render()
    assert env.from_string("{{ text|markdown }}").render(text="<i>x</i>") == (
        "<p>&lt;i&gt;x&lt;/i&gt;</p>\n"
    )


def test_static_urls_carry_a_content_hash():
    url = templating._static_url("js/app.js")
    assert url.startswith("/static/js/app.js?v=")
    assert len(url.split("v=")[1]) == 10
    assert templating._static_url("no/such/file.js").endswith("?v=0")
