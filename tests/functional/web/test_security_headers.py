"""Security headers on every page, and no inline scripts for the CSP to forbid."""

from __future__ import annotations

import re

import pytest

from tests.conftest import log_in
from tests.factories import add_member, make_community, make_user

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc\s*=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


@pytest.fixture
def pages(client, db) -> list[str]:
    miku = make_user(db, "miku")
    add_member(db, make_community(db, "vocaloid"), miku)
    return ["/", "/login", "/register", "/u/miku", "/c/vocaloid", "/no-such-page"]


def check_headers(response) -> None:
    csp = csp_directives(response.headers["content-security-policy"])
    assert csp["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in csp["script-src"]
    assert "'unsafe-eval'" not in csp["script-src"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["default-src"] == ["'self'"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert response.headers["x-frame-options"] == "DENY"


def check_no_inline_script(html: str) -> None:
    assert INLINE_SCRIPT.findall(html) == []
    assert INLINE_HANDLER.findall(html) == []
    assert "javascript:" not in html.lower()


def test_anonymous_pages(client, pages):
    for path in pages:
        response = client.get(path)
        assert response.headers["content-type"].startswith("text/html"), path
        check_headers(response)
        check_no_inline_script(response.text)


def test_signed_in_pages(client, db, pages):
    log_in(client, "miku")
    for path in [*pages, "/profile"]:
        response = client.get(path)
        check_headers(response)
        check_no_inline_script(response.text)


def test_scripts_are_same_origin_files(client):
    html = client.get("/").text
    sources = re.findall(r'<script[^>]*\bsrc="([^"]+)"', html)
    assert sources
    for source in sources:
        assert source.startswith("/static/")
        assert client.get(source).status_code == 200


def test_json_and_redirects_get_the_headers_too(client):
    for response in (client.get("/api/v1/me"), client.get("/profile"), client.get("/healthz")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_html_responses_vary_on_htmx(client):
    assert "HX-Request" in client.get("/login").headers["vary"]
