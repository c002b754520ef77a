"""Cache-Control: pages per visitor, account pages never stored, hashed assets for a year."""

from __future__ import annotations

import re

import pytest

from app.web import caching
from tests.conftest import log_in, post_form
from tests.factories import make_community, make_user


@pytest.mark.parametrize(
    ("method", "path", "query", "status", "expected"),
    [
        ("GET", "/", "", 200, caching.PER_VISITOR),
        ("HEAD", "/c/miku/proposals", "", 200, caching.PER_VISITOR),
        ("GET", "/c/miku/proposals/3", "", 304, caching.PER_VISITOR),
        ("GET", "/profile", "", 200, caching.NO_STORE),
        ("GET", "/profile/tokens", "", 200, caching.NO_STORE),
        ("GET", "/admin/outbox", "", 200, caching.NO_STORE),
        ("GET", "/notifications", "", 200, caching.NO_STORE),
        ("GET", "/c/miku/moderation", "", 200, caching.NO_STORE),
        ("GET", "/c/miku/moderation-log", "", 200, caching.PER_VISITOR),
        ("GET", "/c/miku/ratification", "", 200, caching.NO_STORE),
        ("GET", "/api/v1/me", "", 200, caching.NO_STORE),
        ("GET", "/api/v1/me/export", "", 200, caching.NO_STORE),
        ("GET", "/api/v1/communities/miku/flags", "", 200, caching.NO_STORE),
        ("GET", "/api/v1/communities/miku/proposals", "", 200, caching.PER_VISITOR),
        ("GET", "/static/css/site.css", "v=0123abcd", 200, caching.IMMUTABLE),
        ("GET", "/static/css/site.css", "", 200, caching.REVALIDATE),
        ("GET", "/c/miku", "", 303, caching.NO_STORE),
        ("GET", "/c/nowhere", "", 404, caching.NO_STORE),
        ("POST", "/c/miku/join", "", 303, caching.NO_STORE),
        ("PUT", "/api/v1/polls/1/ballot", "", 200, caching.NO_STORE),
    ],
)
def test_policy(method, path, query, status, expected):
    assert caching.policy(method, path, query, status) == expected


def test_a_page_is_kept_by_the_browser_only_and_asked_for_again(client, db):
    make_community(db, "miku")
    response = client.get("/c/miku")
    assert response.headers["cache-control"] == "private, no-cache"


def test_account_pages_and_answers_to_writes_are_not_stored(client, db):
    make_user(db, "miku")
    log_in(client, "miku")
    assert client.get("/profile").headers["cache-control"] == "no-store"
    assert client.get("/api/v1/me").headers["cache-control"] == "no-store"
    response = post_form(client, "/profile", {"display_name": "Miku"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["cache-control"] == "no-store"


def test_hashed_assets_are_immutable_and_the_pages_link_to_them(client):
    page = client.get("/login").text
    [stylesheet] = re.findall(r'href="(/static/css/site\.css\?v=[^"]+)"', page)
    response = client.get(stylesheet)
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    plain = client.get("/static/css/site.css")
    assert plain.headers["cache-control"] == "public, no-cache"
    assert "etag" in plain.headers


def test_routes_that_set_their_own_policy_keep_it(client, db):
    """The guidelines for tools and feed readers may sit in shared caches, revalidated by
    ETag; the page itself names the visitor, so it stays private."""
    make_community(db, "miku")
    for url in (
        "/c/miku/guidelines.atom",
        "/c/miku/guidelines.md",
        "/api/v1/communities/miku/guidelines",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["cache-control"] == "public, no-cache", url
        assert "etag" in response.headers, url
    page = client.get("/c/miku/guidelines")
    assert page.headers["cache-control"] == "private, no-cache"
