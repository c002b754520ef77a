"""htmx partial pages and one-time flash messages."""

from __future__ import annotations

from itsdangerous import URLSafeSerializer

from tests.conftest import TEST_SECRET, csrf_token, log_in, post_form
from tests.factories import make_community, make_user


def test_htmx_request_gets_the_fragment_only(client, db):
    make_community(db, "vocaloid", name="Vocaloid")
    full = client.get("/c/vocaloid")
    partial = client.get("/c/vocaloid", headers={"HX-Request": "true"})
    assert "<html" in full.text
    assert "<html" not in partial.text
    assert 'id="membership"' in partial.text
    assert "Vary" in partial.headers
    assert "HX-Request" in partial.headers["vary"]
    assert "HX-Request" in full.headers["vary"]


def test_history_restore_gets_the_whole_page(client, db):
    make_community(db, "vocaloid")
    response = client.get(
        "/c/vocaloid", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in response.text


def test_fragment_forms_carry_the_csrf_token(client, db):
    make_community(db, "vocaloid")
    make_user(db, "miku")
    log_in(client, "miku")
    partial = client.get("/c/vocaloid", headers={"HX-Request": "true"})
    assert f'name="csrf_token" value="{csrf_token(client)}"' in partial.text


def test_flash_is_shown_once(client, db):
    make_user(db, "miku", display_name="Miku")
    log_in(client, "miku")
    first = client.get("/")
    assert "Signed in as Miku." in first.text
    assert "nf_flash" not in client.cookies
    assert "Signed in as Miku." not in client.get("/").text


def test_user_text_in_the_page_is_escaped(client, db):
    make_user(db, "miku")
    log_in(client, "miku")
    post_form(client, "/profile", {"display_name": "<b>bold</b>"})
    html = client.get("/").text
    assert "<b>bold</b>" not in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


def test_forged_flash_cookie_is_ignored(client):
    forged = URLSafeSerializer("not-the-secret", salt="flash").dumps(
        [{"level": "error", "text": "Your account is suspended"}]
    )
    client.cookies.set("nf_flash", forged)
    assert "Your account is suspended" not in client.get("/").text


def test_signed_flash_cookie_is_shown(client):
    genuine = URLSafeSerializer(TEST_SECRET, salt="flash").dumps(
        [{"level": "info", "text": "Hello there"}]
    )
    client.cookies.set("nf_flash", genuine)
    assert '<p class="flash flash-info" role="status">Hello there</p>' in client.get("/").text
