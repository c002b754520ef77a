"""The page checker itself: what it reports, what it lets through, and that it catches real
attacks when the renderer under it is unsafe."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from jinja2 import Environment
from markdown_it import MarkdownIt

from tests.security import corpus
from tests.security.html_checker import check_feed, check_html, is_same_site, url_scheme

SAFE_PAGE = """<!doctype html><html><head>
<meta charset="utf-8"><meta name="csrf-token" content="x">
<link rel="stylesheet" href="/static/css/site.css?v=1">
<script src="/static/vendor/htmx-2.0.11.min.js?v=1" integrity="sha384-x" defer></script>
</head><body>
<a href="/c/miku">Miku</a> <a href="https://example.org/a?b=1" rel="nofollow">x</a>
<a href="mailto:miku@example.org">mail</a> <a href="#comment-1">#</a> <a href="?page=2">next</a>
<form method="post" action="/c/miku/join" hx-post="/c/miku/join"><button>Join</button></form>
<div hx-ext="sse" sse-connect="/notifications/events"></div>
<p title="&lt;script&gt;alert(1)&lt;/script&gt;">&lt;script&gt;alert(1)&lt;/script&gt;</p>
<textarea name="body">&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;</textarea>
<svg viewBox="0 0 10 10"><rect x="0" y="0" width="10" height="10"></rect></svg>
<p class="x" data-parent="3">javascript:alert(1) as text is only text</p>
</body></html>"""


def test_a_page_like_the_sites_own_is_safe():
    assert check_html(SAFE_PAGE) == []


@pytest.mark.parametrize(
    ("html", "rule"),
    [
        ("<script>alert(1)</script>", "inline script"),
        ("<script src=https://evil.example/x.js></script>", "script not from the site's static"),
        ("<script src=//evil.example/static/x.js></script>", "script not from the site's static"),
        ("<script src=/c/miku/x.js></script>", "script not from the site's static"),
        ("<img src=x onerror=alert(1)>", "event handler attribute"),
        ("<svg onload=alert(1)>", "event handler attribute"),
        ("<details open ontoggle=alert(1)>", "event handler attribute"),
        ('<a hx-on:click="alert(1)">x</a>', "event handler attribute"),
        ('<a data-hx-on-click="alert(1)">x</a>', "event handler attribute"),
        ('<a href="javascript:alert(1)">x</a>', "dangerous URL in href"),
        ('<a href="JaVaScRiPt:alert(1)">x</a>', "dangerous URL in href"),
        ('<a href=" \tjava\nscript:alert(1)">x</a>', "dangerous URL in href"),
        ('<a href="&#106;avascript&#58;alert(1)">x</a>', "dangerous URL in href"),
        ('<a href="&#x01;javascript:alert(1)">x</a>', "dangerous URL in href"),
        ('<img src="data:image/svg+xml;base64,AAAA">', "dangerous URL in src"),
        ('<a href="vbscript:msgbox(1)">x</a>', "dangerous URL in href"),
        ('<form action="javascript:alert(1)"></form>', "dangerous URL in action"),
        ('<button formaction="javascript:alert(1)">x</button>', "dangerous URL in formaction"),
        ('<svg><a xlink:href="javascript:alert(1)">x</a></svg>', "dangerous URL in xlink:href"),
        ('<img srcset="/a.png 1x, javascript:alert(1) 2x">', "dangerous URL in srcset"),
        ('<div style="background:url(javascript:alert(1))">', "style that loads or runs"),
        ('<div style="width: expression(alert(1))">', "style that loads or runs"),
        ('<div style="background: u\\rl(x)">', "style that loads or runs"),
        ("<style>@import 'x.css'</style>", "forbidden element"),
        ("<iframe src=https://example.org></iframe>", "forbidden element"),
        ("<object data=x></object>", "forbidden element"),
        ("<embed src=x>", "forbidden element"),
        ("<base href=https://evil.example/>", "forbidden element"),
        ("<frameset><frame src=x></frameset>", "forbidden element"),
        ('<meta http-equiv="Refresh" content="0;url=https://evil.example">', "meta refresh"),
        ('<iframe srcdoc="<p>x</p>">', "dangerous attribute"),
        ("<link rel=stylesheet href=https://evil.example/x.css>", "link to another site"),
        ("<svg><animate attributeName=href values=javascript:alert(1) /></svg>", "SVG animation"),
        ('<div hx-get="https://evil.example/" hx-trigger="load">', "request to another site"),
        ('<div sse-connect="//evil.example/events">', "request to another site"),
    ],
)
def test_each_kind_of_attack_is_reported(html, rule):
    findings = check_html(html)
    assert any(f.rule.startswith(rule) for f in findings), (html, findings)


@pytest.mark.parametrize(
    ("url", "scheme", "same_site"),
    [
        ("/c/miku", None, True),
        ("?q=1", None, True),
        ("#top", None, True),
        ("comments/2", None, True),
        ("//evil.example/x", None, False),
        ("\\\\evil.example/x", None, False),
        ("https://example.org", "https", False),
        ("\x00\x1f javascript:alert(1)", "javascript", False),
        ("java\tscript:alert(1)", "javascript", False),
        ("%6Aavascript:alert(1)", None, True),
    ],
)
def test_urls_are_read_as_browsers_read_them(url, scheme, same_site):
    assert url_scheme(url) == scheme
    assert is_same_site(url) is same_site


def test_a_feed_with_html_content_is_checked_inside():
    feed = b"""<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns="http://www.w3.org/2005/Atom"><id>https://x/</id><title>t</title>
<link href="https://x/c/miku/guidelines"/>
<entry><id>https://x/1</id><title>&lt;script&gt;</title>
<content type="html">&lt;img src=x onerror=alert(1)&gt;</content>
<link href="javascript:alert(1)"/></entry></feed>"""
    rules = {f.rule for f in check_feed(feed)}
    assert rules == {"event handler attribute", "dangerous URL in href"}


def test_a_feed_that_is_not_xml_is_refused():
    with pytest.raises(ET.ParseError):
        check_feed(b"<feed><title>\x1b</title></feed>")


def caught(render) -> list[str]:
    """The strings of the whole corpus whose rendering the checker reports."""
    return [text for text in corpus.ALL if check_html(render(text))]


def test_the_checker_catches_attacks_through_markdown_with_raw_html_and_no_sanitizer():
    # The control of every hostile-input test: the same corpus, rendered unsafely, is caught.
    unsafe = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render
    found = caught(unsafe)
    expected = [
        f"<script>{corpus.JS}</script>",
        f"<img src=x onerror={corpus.JS}>",
        f"<svg onload={corpus.JS}>",
        f'<iframe src="javascript:{corpus.JS}"></iframe>',
        f'<div style="background:url(javascript:{corpus.JS})">x</div>',
        '<base href="https://evil.example/">',
        f'<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;{corpus.JS}">'
        "click</a>",
    ]
    for text in expected:
        assert text in found, text
    # Dozens of the corpus's strings, from blns as well as our own, get through such a renderer.
    assert len([t for t in found if t in corpus.BLNS]) >= 50
    assert len([t for t in found if t in corpus.ADDITIONS]) >= 40


def test_the_checker_catches_attacks_through_a_template_without_autoescape():
    env = Environment(autoescape=False)  # noqa: S701 - the deliberately unsafe control
    template = env.from_string('<p title="{{ s }}">{{ s }}</p><input value="{{ s }}">')
    found = caught(lambda text: template.render(s=text))
    assert f'" autofocus onfocus="{corpus.JS}' in found
    assert f'"><script>{corpus.JS}</script>' in found
    assert len(found) >= 100
