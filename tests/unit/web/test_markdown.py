"""User-written Markdown: CommonMark without raw HTML, then an allow-list sanitizer."""

from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt
from markupsafe import Markup

from app.markdown import render_markdown

REL = 'rel="nofollow ugc noopener"'


def tags(html: str) -> list[str]:
    return [name.lower() for name in re.findall(r"<\s*/?\s*([a-zA-Z][a-zA-Z0-9]*)", html)]


def unsafe_urls(html: str) -> list[str]:
    urls = re.findall(r"(?:href|src)\s*=\s*[\"']?([^\"'> ]*)", html, flags=re.IGNORECASE)
    return [url for url in urls if not url.startswith(("http://", "https://", "mailto:"))]


def hrefs(html: str) -> list[str]:
    return re.findall(r'href="([^"]*)"', html)


def test_result_is_markup():
    assert isinstance(render_markdown("*hi*"), Markup)
    assert render_markdown("*hi*") == "<p><em>hi</em></p>\n"


def test_empty_text_is_empty_html():
    assert render_markdown("") == ""


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "before <script src=https://evil.example/x.js></script> after",
        "<img src=x onerror=alert(1)>",
        '<a href="https://example.org" onclick="alert(1)">x</a>',
        "<iframe src=https://evil.example></iframe>",
        "<svg onload=alert(1)>",
        "<style>body{display:none}</style>",
        '<div style="position:fixed">x</div>',
    ],
)
def test_raw_html_never_becomes_markup(text):
    html = str(render_markdown(text))
    # Only the paragraph itself is a tag; what the author typed is shown as escaped text.
    assert set(tags(html)) <= {"p"}, html
    assert "&lt;" in html


@pytest.mark.parametrize(
    "text",
    [
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](  javascript:alert(1) )",
        "[click](java\tscript:alert(1))",
        "[click](javascript&#58;alert(1))",
        "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "[click](vbscript:msgbox(1))",
        "<javascript:alert(1)>",
        "[click][ref]\n\n[ref]: javascript:alert(1)",
        "![pic](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=)",
        "[click](file:///etc/passwd)",
    ],
)
def test_dangerous_links_are_removed(text):
    html = str(render_markdown(text))
    # The text may still be shown, but never as a link or an image.
    assert set(tags(html)) <= {"p", "a"}, html
    assert unsafe_urls(html) == [], html


@pytest.mark.parametrize(
    ("text", "href"),
    [
        ("[site](https://example.org/a?b=1)", "https://example.org/a?b=1"),
        ("[site](http://example.org/)", "http://example.org/"),
        ("[write](mailto:miku@example.org)", "mailto:miku@example.org"),
        ("<https://example.org/auto>", "https://example.org/auto"),
    ],
)
def test_safe_links_are_kept_with_rel(text, href):
    html = str(render_markdown(text))
    assert hrefs(html) == [href]
    assert REL in html


def test_every_link_gets_the_rel_even_if_the_author_set_one():
    html = str(render_markdown('[a](https://a.example "t") and [b](https://b.example)'))
    assert html.count(REL) == 2
    assert 'title="t"' in html


def test_tables_render():
    html = str(render_markdown("| a | b |\n|:--|--:|\n| 1 | 2 |"))
    assert "<table>" in html
    assert "<th" in html
    assert "<td" in html
    assert ">1</td>" in html


def test_strikethrough_renders():
    assert "<s>gone</s>" in str(render_markdown("~~gone~~"))


def test_common_formatting_survives():
    html = str(render_markdown("# Title\n\n> quote\n\n- one\n- two\n\n`code`\n\n**bold**"))
    for tag in ("<h1>", "<blockquote>", "<ul>", "<li>", "<code>", "<strong>"):
        assert tag in html


def test_images_are_not_allowed():
    assert "<img" not in str(render_markdown("![pic](https://example.org/x.png)"))


def test_the_checks_catch_an_unsafe_renderer():
    # A control: the same checks on Markdown with raw HTML on and no sanitizer do find attacks.
    unsafe = MarkdownIt("commonmark", {"html": True}).render
    assert set(tags(unsafe("<script>alert(1)</script>"))) - {"p"}
    assert unsafe_urls(unsafe('<a href="javascript:alert(1)">x</a>'))
    assert unsafe_urls(unsafe("<img src=data:image/png;base64,AAAA>"))
