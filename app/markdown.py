"""Markdown for user-written text: CommonMark without raw HTML, then an allow-list sanitizer."""

from __future__ import annotations

import functools

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = {
    "a",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "strong",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}


@functools.cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
        ["table", "strikethrough"]
    )


#: Short texts are rendered once per process: the guidelines page shows 200 clauses, and
#: rendering them again on every view was over half its time under load (bench/load). The
#: bounds keep the cache to a few MB.
CACHED_TEXTS = 1024
CACHED_LENGTH = 2000


def render_markdown(text: str) -> Markup:
    """Safe HTML for `text`: no raw HTML, no scripts, only http(s) and mailto links."""
    text = text or ""
    return _cached(text) if len(text) <= CACHED_LENGTH else _render(text)


@functools.lru_cache(maxsize=CACHED_TEXTS)
def _cached(text: str) -> Markup:
    return _render(text)


def _render(text: str) -> Markup:
    html = _parser().render(text)
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow ugc noopener",
    )
    return Markup(cleaned)  # noqa: S704 - sanitized by nh3 just above
