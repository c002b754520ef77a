"""End to end on real servers: the app under uvicorn (its worker mailing through a real SMTP
server), the test OpenID provider, and httpx as the browser, following every redirect."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app import migrate
from app.accounts import passwords
from app.accounts import service as accounts_service
from app.accounts.models import Identity, User
from app.db import create_db_engine, utcnow
from tests.conftest import form_token_in
from tests.factories import PASSWORD
from tests.oidc.fixtures import ACCOUNTS, LoopbackProvider, login_form_action, through_provider
from tests.support import live
from tests.support.smtp import Inbox, body, smtp_server

NEW_PASSWORD = "a brand new pass phrase"


@dataclass
class Site:
    base: str
    engine: Engine
    inbox: Inbox

    def users(self) -> int:
        with Session(self.engine) as db:
            return db.scalar(select(func.count(User.id))) or 0

    def user(self, username: str) -> User | None:
        with Session(self.engine) as db:
            return db.scalar(select(User).where(User.username == username))

    def link(self, address: str, path: str, timeout: float = 15) -> str:
        """The link to `path` in the newest mail to `address`, once the worker sent it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in reversed(self.inbox.to(address)):
                found = re.search(re.escape(self.base) + r"(/\S+)", body(message))
                if found and urlsplit(found.group(1)).path == path:
                    return found.group(1)
            time.sleep(0.1)
        raise AssertionError(f"no mail with a link to {path} reached {address}")


@pytest.fixture(scope="module")
def site(make_database_url, oidc_provider: LoopbackProvider) -> Iterator[Site]:
    url = make_database_url("oidc_live")
    migrate.upgrade(url)
    engine = create_db_engine(url)
    with Session(engine) as db:
        accounts_service.create_user(
            db,
            username="rin",
            email="rin@example.org",
            password=PASSWORD,
            display_name="Rin Local",
            now=utcnow(),
        )
        db.commit()
    entry = oidc_provider.new_client()
    with smtp_server() as (port, inbox):
        settings = {
            "oidc_providers": json.dumps([entry]),
            "smtp_host": "127.0.0.1",
            "smtp_port": str(port),
            "smtp_security": "none",
            "worker_in_process": "true",
            "worker_interval_seconds": "0.2",
            "sweep_interval_seconds": "0",
        }
        with live.serve(url, **settings) as base:
            oidc_provider.allow(entry, base)
            yield Site(base=base, engine=engine, inbox=inbox)
    engine.dispose()


@pytest.fixture
def browser(site: Site) -> Iterator[httpx.Client]:
    """One browser: the app's cookies and the provider's, following redirects."""
    with httpx.Client(base_url=site.base, follow_redirects=True, timeout=15) as client:
        yield client


def post(browser: httpx.Client, page: httpx.Response, url: str, data: dict[str, str]):
    return browser.post(url, data={"csrf_token": form_token_in(page.text), **data})


def provider_form(browser: httpx.Client, start: str = "/auth/oidc/testid/start") -> httpx.Response:
    page = browser.get(start)
    assert page.status_code == 200
    assert "Test provider" in page.text
    return page


def test_full_sign_in_following_redirects(site: Site, browser: httpx.Client):
    started = time.monotonic()
    page = provider_form(browser)
    account = ACCOUNTS["hatsune"]
    signup = browser.post(
        login_form_action(page), data={"login": "hatsune", "password": account["password"]}
    )
    assert signup.url.path == "/auth/oidc/signup"
    assert 'value="hatsune"' in signup.text
    home = post(
        browser,
        signup,
        "/auth/oidc/signup",
        {"username": "hatsune", "display_name": "Hatsune", "email": account["email"]},
    )
    assert home.url.path == "/"
    assert "Welcome, Hatsune! Your account is ready." in home.text
    assert time.monotonic() - started < 10
    me = browser.get("/api/v1/me").json()
    assert me["username"] == "hatsune"
    assert me["email_verified"] is True
    assert [i["provider"] for i in me["identities"]] == ["testid"]

    # Signed out and back in: the same account, no new one.
    users = site.users()
    profile = browser.get("/profile")
    post(browser, profile, "/logout", {})
    home = browser.get("/auth/oidc/testid/start")
    assert "Signed in as Hatsune." in home.text
    assert site.users() == users


def test_wrong_password_at_the_provider(site: Site, browser: httpx.Client):
    users = site.users()
    page = provider_form(browser)
    answer = browser.post(
        login_form_action(page), data={"login": "hatsune", "password": "wrong password"}
    )
    assert answer.status_code == 400
    assert "Sign-in with Test ID failed" in answer.text
    assert "The login or password was wrong" in answer.text
    assert site.users() == users


def test_tampered_state_and_replayed_callback(site: Site, browser: httpx.Client):
    users = site.users()
    start = browser.get("/auth/oidc/testid/start", follow_redirects=False)
    back = through_provider(browser, start.headers["location"], "len", ACCOUNTS["len"]["password"])
    parts = urlsplit(back)
    query = parse_qs(parts.query)
    tampered = dict(query, state=["forged-state"])
    answer = browser.get(urlunsplit(parts._replace(query=urlencode(tampered, doseq=True))))
    assert answer.status_code == 400
    assert "its state does not match" in answer.text
    # The tampered answer ended the flow; the genuine one cannot be played after it.
    replay = browser.get(back)
    assert replay.status_code == 400
    assert "does not belong to a sign-in started in this browser" in replay.text
    assert site.users() == users


def test_replayed_callback_after_success(site: Site, browser: httpx.Client):
    start = browser.get("/auth/oidc/testid/start", follow_redirects=False)
    back = through_provider(browser, start.headers["location"], "len", ACCOUNTS["len"]["password"])
    first = browser.get(back)
    assert first.url.path == "/auth/oidc/signup"
    users = site.users()
    replay = browser.get(back)
    assert replay.status_code == 400
    assert site.users() == users


def test_email_of_a_local_account_then_linking_it(site: Site, browser: httpx.Client):
    page = provider_form(browser)
    signup = browser.post(
        login_form_action(page), data={"login": "rin", "password": ACCOUNTS["rin"]["password"]}
    )
    assert 'value="rin@example.org"' in signup.text
    refused = post(
        browser,
        signup,
        "/auth/oidc/signup",
        {"username": "rin_elsewhere", "display_name": "Rin", "email": "rin@example.org"},
    )
    assert refused.status_code == 422
    assert "An account with this email address exists already" in refused.text
    assert site.user("rin_elsewhere") is None
    post(browser, refused, "/auth/oidc/signup/cancel", {})

    # Rin signs in with the password and links the provider account from the profile.
    login = browser.get("/login")
    profile = post(
        browser, login, "/login", {"login": "rin", "password": PASSWORD, "next": "/profile"}
    )
    assert 'href="/auth/oidc/testid/start">Link Test ID</a>' in profile.text
    linked = browser.get("/auth/oidc/testid/start")
    assert linked.url.path == "/profile"
    assert "Test ID is linked" in linked.text
    with Session(site.engine) as db:
        owner = db.scalar(
            select(User.username).join(Identity).where(Identity.subject == ACCOUNTS["rin"]["sub"])
        )
    assert owner == "rin"


def test_verification_and_reset_mailed_by_the_worker(site: Site, browser: httpx.Client):
    # Len's provider does not vouch for the address: a confirmation link is mailed.
    page = provider_form(browser)
    signup = browser.post(
        login_form_action(page), data={"login": "len", "password": ACCOUNTS["len"]["password"]}
    )
    home = post(
        browser,
        signup,
        "/auth/oidc/signup",
        {"username": "len", "display_name": "Len", "email": ACCOUNTS["len"]["email"]},
    )
    assert "We sent a link to len.unverified@example.org" in home.text
    link = site.link(ACCOUNTS["len"]["email"], "/verify-email")
    confirm = browser.get(link)
    profile = post(browser, confirm, "/verify-email", {"token": link.split("token=")[1]})
    assert profile.url.path == "/profile"
    assert "is confirmed as your address" in profile.text
    user = site.user("len")
    assert user is not None
    assert user.email_verified_at is not None

    # Len, without a password, sets one by the reset link and signs in with it.
    forgot = browser.get("/password/forgot")
    post(browser, forgot, "/password/forgot", {"email": ACCOUNTS["len"]["email"]})
    link = site.link(ACCOUNTS["len"]["email"], "/password/reset")
    form = browser.get(link)
    done = post(
        browser,
        form,
        "/password/reset",
        {"token": link.split("token=")[1], "new_password": NEW_PASSWORD},
    )
    assert "Your new password is set, Len." in done.text
    user = site.user("len")
    assert user is not None
    assert passwords.verify_password(user.password_hash, NEW_PASSWORD)
