"""Pages kept for visitors: served again while nothing changed, never to members, never stale."""

from __future__ import annotations

import re
from dataclasses import replace

from fastapi.testclient import TestClient

from app import changes
from app.web.pagecache import RECHECK, Kept, Key, PageCache
from tests.conftest import csrf_token, log_in, post_form
from tests.factories import make_community, make_user
from tests.support.statements import counting


def cache_of(client: TestClient) -> PageCache:
    cache: PageCache = client.app.state.page_cache  # type: ignore[attr-defined]
    return cache


def visitor(client: TestClient) -> TestClient:
    """Another browser on the same app, with no cookies yet."""
    return TestClient(client.app, base_url="http://testserver", follow_redirects=False)


def meta_token(html: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', html)
    assert match
    return match.group(1)


def test_a_visitor_is_served_the_kept_page_with_their_own_csrf_token(client, db):
    make_community(db, "miku", name="Miku Fans")
    cache = cache_of(client)
    first = client.get("/c/miku")
    hits = cache.hits

    again = client.get("/c/miku")
    other = visitor(client).get("/c/miku")

    assert cache.hits == hits + 2
    assert again.text == first.text
    assert meta_token(again.text) == csrf_token(client)
    # The other browser's forms carry its own token, never the first visitor's.
    assert meta_token(other.text) == csrf_token(visitor_with(other, client))
    assert meta_token(other.text) != meta_token(first.text)
    assert other.text.replace(meta_token(other.text), "") == first.text.replace(
        meta_token(first.text), ""
    )
    assert other.headers["content-length"] == str(len(other.content))
    assert other.headers["cache-control"] == "private, no-cache"
    assert "content-security-policy" in other.headers


def visitor_with(response, client: TestClient) -> TestClient:
    """A client holding the CSRF cookie the response set (to compute its expected token)."""
    holder = visitor(client)
    holder.cookies.set("nf_csrf", response.cookies["nf_csrf"])
    return holder


def test_a_change_made_through_the_app_reaches_visitors_at_once(client, db):
    make_user(db, "site_admin", is_admin=True)
    reader = visitor(client)
    assert "Kagamine Fans" not in reader.get("/").text
    log_in(client, "site_admin")
    counter = changes.current(db)

    created = post_form(client, "/communities/new", {"name": "Kagamine Fans", "slug": "rin"})

    assert created.status_code == 303
    assert changes.current(db) == (counter or 0) + 1
    assert "Kagamine Fans" in reader.get("/").text


def test_members_are_never_served_kept_pages(client, db):
    make_community(db, "miku")
    make_user(db, "rin")
    log_in(client, "rin")
    cache = cache_of(client)
    client.get("/c/miku")
    before = (cache.hits, cache.misses)

    page = client.get("/c/miku")

    assert (cache.hits, cache.misses) == before
    assert "Sign out" in page.text or "rin" in page.text


def test_languages_are_kept_apart(client, db):
    make_community(db, "miku")
    english = client.get("/c/miku", headers={"Accept-Language": "en"})
    japanese = client.get("/c/miku", headers={"Accept-Language": "ja"})
    assert english.text != japanese.text
    assert '<html lang="ja"' in japanese.text
    assert '<html lang="en"' in client.get("/c/miku", headers={"Accept-Language": "en"}).text


def test_htmx_requests_and_pending_messages_are_rendered_afresh(client, db):
    make_community(db, "miku")
    cache = cache_of(client)
    client.get("/c/miku")
    client.get("/c/miku")
    hits = cache.hits

    client.get("/c/miku", headers={"HX-Request": "true"})
    client.cookies.set("nf_flash", "anything")
    client.get("/c/miku")

    assert cache.hits == hits


def test_any_cookie_but_the_csrf_and_language_ones_means_rendering_afresh(client, db):
    make_community(db, "miku")
    cache = cache_of(client)
    client.cookies.set("nf_lang", "ja")
    client.get("/c/miku")
    client.get("/c/miku")
    hits = cache.hits
    assert hits > 0

    # A sign-in under way (or any cookie this site does not know) may shape the page.
    client.cookies.set("nf_oidc_signup", "someone's pending account")
    client.get("/c/miku")

    assert cache.hits == hits


def test_a_kept_page_expires_after_its_time(client, db):
    make_community(db, "miku")
    cache = cache_of(client)
    client.get("/c/miku")
    key = next(iter(cache.pages))
    kept = cache.pages[key]
    hits = cache.hits

    cache.pages[key] = replace(kept, kept_at=kept.kept_at - cache.max_age - 1)
    client.get("/c/miku")

    assert cache.hits == hits


def test_kept_json_answers_if_none_match_with_304(client, db):
    make_community(db, "miku")
    first = client.get("/api/v1/communities/miku/guidelines")
    assert first.status_code == 200
    etag = first.headers["etag"]
    hits = cache_of(client).hits

    again = client.get("/api/v1/communities/miku/guidelines", headers={"If-None-Match": etag})

    assert cache_of(client).hits == hits + 1
    assert again.status_code == 304
    assert again.headers["etag"] == etag
    assert again.content == b""


def test_the_cache_keeps_to_its_byte_budget():
    cache = PageCache(max_bytes=100, max_age=30)

    def key(n: int) -> Key:
        return ("en", "http", "testserver", f"/p/{n}", "")

    for n in range(5):
        cache.put(key(n), Kept(1, 0.0, [], (b"x" * 20, b"x" * 20), None))

    assert cache.size <= 100
    assert list(cache.pages) == [key(3), key(4)]
    assert cache.get(key(4), 1, 1.0) is not None
    assert cache.get(key(4), 2, 1.0) is None


def test_pages_are_kept_apart_per_host(client, db):
    # Feeds and JSON hold absolute links built from the request's host: a page rendered for
    # a forged Host header must never be served to anyone else.
    make_community(db, "miku")
    url = "/c/miku/guidelines.atom"
    forged = client.get(url, headers={"Host": "evil.example"})
    assert "evil.example" in forged.text
    for _ in range(2):
        assert "evil.example" not in visitor(client).get(url).text


def test_content_that_looks_like_a_placeholder_is_served_as_written(client, db):
    tildes = "~" * 64
    make_community(db, "miku", description=f"A line of tildes: `{tildes}` ends here.")
    first = client.get("/c/miku")
    again = visitor(client).get("/c/miku")
    for page in (first, again):
        assert f"<code>{tildes}</code>" in page.text
        token = meta_token(page.text)
        assert page.text.count(token) == page.text.count(f'value="{token}"') + 1


def test_a_kept_page_with_forms_has_a_validator_per_visitor(client, db):
    # A browser whose CSRF cookie was renewed (restarted, cookies cleared) must get the page
    # with its new token, not a 304 for the copy holding the old one.
    make_community(db, "miku")
    rendered = client.get("/c/miku/guidelines")
    hits = cache_of(client).hits
    kept = client.get("/c/miku/guidelines")
    # Kept or rendered, a visitor's copy has the same validator.
    assert cache_of(client).hits == hits + 1
    assert kept.headers["etag"] == rendered.headers["etag"]
    other = visitor(client)
    theirs = other.get("/c/miku/guidelines")
    assert theirs.headers["etag"] != kept.headers["etag"]

    stale = other.get("/c/miku/guidelines", headers={"If-None-Match": kept.headers["etag"]})
    assert stale.status_code == 200
    assert meta_token(stale.text) == meta_token(theirs.text)
    fresh = other.get("/c/miku/guidelines", headers={"If-None-Match": theirs.headers["etag"]})
    assert fresh.status_code == 304


def test_a_kept_page_costs_one_statement_at_most(client, db, connection):
    make_community(db, "miku")
    client.get("/c/miku/proposals")
    cache_of(client).memo = None

    with counting(connection) as statements:
        response = client.get("/c/miku/proposals")

    assert response.status_code == 200
    # Besides the test's savepoint (the request's own transaction in production).
    queries = [s for s in statements if "SAVEPOINT" not in s]
    assert len(queries) == 1, statements
    assert "change_counter" in queries[0]


def test_the_counter_is_remembered_briefly_unless_this_process_changes_something(
    client, db, connection
):
    make_community(db, "miku")
    client.get("/c/miku")
    with counting(connection) as statements:
        client.get("/c/miku")
    assert statements == []

    make_community(db, "rin")  # counted here: the next page asks again
    with counting(connection) as statements:
        client.get("/c/miku")
    assert any("change_counter" in s for s in statements)


def test_a_remembered_counter_is_read_again_after_its_time(client, db, connection):
    make_community(db, "miku")
    client.get("/c/miku")
    cache = cache_of(client)
    assert cache.memo is not None
    cache.memo = replace(cache.memo, read_at=cache.memo.read_at - RECHECK)

    with counting(connection) as statements:
        client.get("/c/miku")

    assert any("change_counter" in s for s in statements)
