"""The reader's language: the browser's, the footer's choice, a member's saved preference."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import select

from app import i18n
from app.accounts.models import User
from app.web.deps import OptionalUser
from tests.conftest import csrf_token, log_in, post_form
from tests.factories import make_user

JAPANESE = {"Accept-Language": "ja-JP,ja;q=0.9,en;q=0.5"}


def nav(html: str) -> str:
    return html.split('<nav class="site-nav"', 1)[1].split("</nav>", 1)[0]


def test_the_browsers_language_is_used_when_the_visitor_chose_none(client):
    page = client.get("/", headers=JAPANESE)
    assert '<html lang="ja">' in page.text
    assert "ログイン" in nav(page.text)
    assert "Accept-Language" in page.headers["vary"]
    english = client.get("/", headers={"Accept-Language": "fr-FR, en;q=0.3"})
    assert '<html lang="en">' in english.text
    assert "Sign in" in nav(english.text)
    assert '<html lang="en">' in client.get("/", headers={"Accept-Language": "de"}).text


def test_a_visitor_switches_in_the_footer_and_the_choice_sticks(client):
    page = client.get("/login")
    assert 'action="/language"' in page.text
    switched = post_form(
        client,
        "/language",
        {"language": "ja", "next": "/login?next=/c/miku"},
        follow_redirects=False,
    )
    assert switched.status_code == 303
    assert switched.headers["location"] == "/login?next=/c/miku"
    cookie = switched.headers["set-cookie"]
    assert cookie.startswith("nf_lang=ja;")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    again = client.get("/login", headers={"Accept-Language": "en"})
    assert '<html lang="ja">' in again.text
    assert 'aria-current="true">日本語</button>' in again.text


def test_a_members_choice_is_saved_and_beats_the_browser(client, db):
    make_user(db, "miku")
    log_in(client, "miku")
    post_form(client, "/language", {"language": "ja", "next": "/"})
    user = db.scalar(select(User).where(User.username == "miku"))
    assert user is not None
    assert user.locale == "ja"
    client.cookies.clear()
    log_in(client, "miku")
    assert '<html lang="ja">' in client.get("/", headers={"Accept-Language": "en"}).text


def test_an_unknown_language_or_a_foreign_next_are_refused(client):
    refused = post_form(client, "/language", {"language": "xx", "next": "/"}, follow_redirects=True)
    assert "Choose one of the languages offered." in refused.text
    assert '<html lang="en">' in refused.text
    away = post_form(
        client, "/language", {"language": "ja", "next": "//evil.example/"}, follow_redirects=False
    )
    assert away.headers["location"] == "/"


def test_the_switcher_needs_the_csrf_token(client):
    response = client.post("/language", data={"language": "ja", "next": "/"})
    assert response.status_code == 403


def test_the_api_reads_and_sets_the_language(client, db):
    make_user(db, "miku")
    log_in(client, "miku")
    headers = {"X-CSRF-Token": csrf_token(client)}
    assert client.get("/api/v1/me").json()["language"] is None
    chosen = client.put("/api/v1/me/language", json={"language": "ja"}, headers=headers)
    assert chosen.status_code == 200
    assert chosen.json()["language"] == "ja"
    assert '<html lang="ja">' in client.get("/").text
    wrong = client.put("/api/v1/me/language", json={"language": "fr"}, headers=headers)
    assert wrong.status_code == 422
    assert "language" in wrong.json()["error"]["fields"]
    reset = client.put("/api/v1/me/language", json={"language": None}, headers=headers)
    assert reset.json()["language"] is None
    assert '<html lang="en">' in client.get("/", headers={"Accept-Language": "en"}).text


def test_python_code_serving_a_request_speaks_its_language(make_app, client_for, db):
    """Routes and services translate before any page renders: the language is chosen as the
    request starts, and the member's preference replaces it as soon as they are known (in
    the thread that resolves them, for the threads that follow)."""
    app: FastAPI = make_app()

    @app.get("/_language")
    def language(user: OptionalUser) -> dict[str, str]:
        return {"language": i18n.current(), "said": i18n.gettext("Sign in")}

    client = client_for(app)
    visitor = client.get("/_language", headers=JAPANESE).json()
    assert visitor == {"language": "ja", "said": "ログイン"}
    member = make_user(db, "miku")
    member.locale = "en"
    db.flush()
    log_in(client, "miku")
    assert client.get("/_language", headers=JAPANESE).json()["language"] == "en"
