"""Headers on every page, cookies with the right flags, rate limits that answer 429.

The page walk takes every GET route of the app that is not under /api/ (found by walking the
app's routes, so a new page is walked too, or fails here for want of a value for its address),
as a visitor and as a signed-in moderator, and checks the security headers of each answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import fastapi.routing
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy.orm import Session
from starlette.responses import Response as StarletteResponse

import app as app_package
from app.accounts import oidc
from app.accounts.identities import ProviderAccount
from app.db import utcnow
from app.discussion import service as discussion_service
from app.guidelines import service as guidelines_service
from app.moderation import service as moderation_service
from app.notifications import service as notifications_service
from app.polls import service as polls_service
from app.proposals import exhibits as exhibits_service
from app.works import service as works_service
from tests.conftest import TEST_SECRET
from tests.factories import PASSWORD, add_member, make_user
from tests.functional.web.apps import client_for, form_token, make_app
from tests.oidc.fixtures import LoopbackProvider, oidc_provider
from tests.security.stage import Stage, make_stage

__all__ = ["client_for", "make_app", "oidc_provider"]

HTTPS = "https://forum.example"
#: Answers that are not pages: JSON for machines.
NOT_PAGES = {"openapi", "healthz"}
#: Server-sent event streams; the app under test ends each one quickly.
STREAMS = {"thread_events", "notification_events"}
SAFE_REFERRER_POLICIES = {
    "no-referrer",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
}


# --- The headers --------------------------------------------------------------------------


def csp_directives(header: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def header_problems(response: Response) -> list[str]:
    """What is missing or weak in the security headers of an answer."""
    headers = response.headers
    problems = []
    if headers.get("x-content-type-options") != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    if headers.get("referrer-policy") not in SAFE_REFERRER_POLICIES:
        problems.append(f"Referrer-Policy {headers.get('referrer-policy')!r}")
    csp = csp_directives(headers.get("content-security-policy", ""))
    if csp.get("frame-ancestors") != ["'none'"]:
        problems.append("CSP frame-ancestors is not 'none'")
    if headers.get("x-frame-options") != "DENY":
        problems.append("no X-Frame-Options: DENY")
    if headers.get("content-type", "").startswith("text/html"):
        scripts = csp.get("script-src", csp.get("default-src"))
        if scripts != ["'self'"]:
            problems.append(f"CSP script-src {scripts}")
        for name, sources in csp.items():
            weak = {"'unsafe-inline'", "'unsafe-eval'", "*", "http:", "https:"} & set(sources)
            if weak:
                problems.append(f"CSP {name} allows {sorted(weak)}")
        for name, expected in (
            ("default-src", ["'self'"]),
            ("object-src", ["'none'"]),
            ("base-uri", ["'self'"]),
            ("form-action", ["'self'"]),
        ):
            if csp.get(name) != expected:
                problems.append(f"CSP {name} is {csp.get(name)}, not {expected}")
    return problems


@dataclass
class Walk:
    """Values for the addresses of every page, from a stage with one of everything."""

    stage: Stage
    values: dict[str, str]


@pytest.fixture
def walk(db: Session) -> Walk:
    stage = make_stage(db)
    now = utcnow()
    guidelines_service.import_rules(
        db,
        actor=stage.moderator,
        community=stage.community,
        markdown="## Rules\n\n- **Credit** the original creator.\n",
        now=now - timedelta(days=1),
    )
    work = works_service.create_work(
        db,
        actor=stage.author,
        community=stage.community,
        values=works_service.WorkDraft(
            title="A song", creator_name="Len", url="https://example.org/song", medium="audio"
        ),
        now=now,
    )
    exhibits_service.add_exhibit(
        db,
        actor=stage.author,
        proposal=stage.proposal,
        work_id=work.id,
        stance="acceptable",
        note="",
        now=now,
    )
    comment = discussion_service.post_comment(
        db,
        actor=stage.fan,
        proposal=stage.proposal,
        draft=discussion_service.CommentDraft(body="A comment."),
        now=now,
    )
    poll = polls_service.open_poll(db, actor=stage.author, proposal=stage.proposal, now=now)
    token = notifications_service.unsubscribe_token(TEST_SECRET, stage.fan.id, "all")
    values = {
        "slug": stage.community.slug,
        "proposal_id": str(stage.proposal.id),
        "comment_id": str(comment.id),
        "work_id": str(work.id),
        "poll_id": str(poll.id),
        "number": "1.1",
        "from_version": "1",
        "username": stage.fan.username,
        "token": token,
        "name": "testid",
    }
    return Walk(stage, values)


def page_routes(app: FastAPI) -> list[Any]:
    """Every GET route outside the API, with included routers walked into."""
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)
    routes = list(flatten(app.routes)) if flatten is not None else list(app.routes)
    return [
        route
        for route in routes
        if "GET" in (getattr(route, "methods", None) or ())
        and not (getattr(route, "path", "") or "").startswith("/api/")
        and getattr(route, "name", None) not in NOT_PAGES
    ]


def address(path: str, values: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in values, f"no value for {{{name}}} in {path}: add one to the walk"
        return values[name]

    return re.sub(r"\{(\w+)(?::\w+)?\}", value, path)


@pytest.fixture
def quick_app(make_app: Callable[..., FastAPI]) -> FastAPI:
    """An app whose event streams end after a moment, so that a walk can read them."""
    return make_app(live_poll_seconds=0.05, live_stream_seconds=0.2)


def get(client: TestClient, url: str, stream: bool) -> Response:
    if not stream:
        return client.get(url)
    with client.stream("GET", url) as response:
        response.read()
        return response


def test_every_page_has_the_security_headers(quick_app, client_for, walk, db):
    routes = page_routes(quick_app)
    names = {route.name for route in routes}
    # The walk found the pages of every part of the site, and its lists are not stale.
    assert {"home", "proposal", "work", "poll", "guidelines", "moderation_log"} <= names
    assert names >= STREAMS
    visitor = client_for(quick_app)
    moderator = client_for(quick_app)
    sign_in(moderator, walk.stage.admin.username)
    problems = []
    pages = 0
    for route in routes:
        url = address(route.path, walk.values)
        for client in (visitor, moderator):
            response = get(client, url, route.name in STREAMS)
            pages += response.headers.get("content-type", "").startswith("text/html")
            if response.status_code >= 500:
                problems.append(f"{url}: {response.status_code}")
            problems += [f"{url} ({response.status_code}): {p}" for p in header_problems(response)]
    assert problems == []
    # Most of the pages really are pages (not redirects or errors) for one of the two.
    assert pages >= len(routes)


def test_error_pages_and_other_answers_have_them_too(client, db):
    for url in ("/no-such-page", "/c/no-such-community", "/api/v1/me", "/static/css/site.css"):
        assert header_problems(client.get(url)) == [], url
    assert header_problems(client.post("/logout")) == []


def sign_in(client: TestClient, username: str, cookie: str = "nf_csrf") -> None:
    response = client.post(
        "/login",
        data={"csrf_token": form_token(client, cookie), "login": username, "password": PASSWORD},
    )
    assert response.status_code == 303, response.text


# --- Cookies -------------------------------------------------------------------------------


def cookie_attributes(response: Response | StarletteResponse, name: str) -> dict[str, str]:
    """The attributes of the Set-Cookie header for `name`, lower-cased, flags as ""."""
    headers = response.headers
    lines = (
        headers.get_list("set-cookie")
        if hasattr(headers, "get_list")
        else headers.getlist("set-cookie")
    )
    line = next((c for c in lines if c.startswith(name + "=")), None)
    assert line is not None, f"no Set-Cookie for {name} in {lines}"
    attributes = {}
    for part in line.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        attributes[key.lower()] = value.lower()
    return attributes


def check_cookie(
    response: Response | StarletteResponse,
    name: str,
    *,
    https: bool,
    path: str = "/",
    httponly: bool = True,
) -> None:
    attributes = cookie_attributes(response, name)
    assert attributes.get("samesite") in ("lax", "strict"), (name, attributes)
    assert ("httponly" in attributes) is httponly, (name, attributes)
    assert attributes.get("path") == path, (name, attributes)
    assert "domain" not in attributes, (name, attributes)
    assert ("secure" in attributes) is https, (name, attributes)
    if https:
        # __Host- pins a cookie to this host and path "/"; __Secure- at least to https.
        prefix = "__Host-" if path == "/" else "__Secure-"
        assert name.startswith(prefix), name


@pytest.mark.parametrize("base", ["http://testserver", HTTPS])
def test_the_sites_cookies_have_the_right_flags(make_app, client_for, db, base):
    https = base == HTTPS
    host = "__Host-" if https else ""
    app = make_app(base_url=base)
    client = client_for(app, base_url=base)
    make_user(db, "miku", display_name="Miku")
    first = client.get("/login")
    check_cookie(first, f"{host}nf_csrf", https=https)
    response = client.post(
        "/login",
        data={
            "csrf_token": form_token(client, f"{host}nf_csrf"),
            "login": "miku",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 303, response.text
    check_cookie(response, f"{host}nf_session", https=https)
    check_cookie(response, f"{host}nf_flash", https=https)
    # Showing the message deletes the cookie, with the flags a browser needs to accept that.
    shown = client.get("/")
    assert "Signed in as Miku" in shown.text
    check_cookie(shown, f"{host}nf_flash", https=https)
    assert f"{host}nf_flash" not in client.cookies
    logout = client.post("/logout", data={"csrf_token": form_token(client, f"{host}nf_csrf")})
    check_cookie(logout, f"{host}nf_session", https=https)
    language = client.post(
        "/language",
        data={"csrf_token": form_token(client, f"{host}nf_csrf"), "language": "ja", "next": "/"},
    )
    assert language.status_code == 303
    check_cookie(language, f"{host}nf_lang", https=https)


@pytest.mark.parametrize("base", ["http://testserver", HTTPS])
def test_the_sign_in_flow_cookies_have_the_right_flags(
    make_app, client_for, db, base, oidc_provider: LoopbackProvider
):
    https = base == HTTPS
    app = make_app(base_url=base, oidc_providers=[oidc_provider.settings_for(base)])
    settings = app.state.settings
    client = client_for(app, base_url=base)
    response = client.get("/auth/oidc/testid/start")
    assert response.status_code in (302, 303, 307), response.text
    check_cookie(response, oidc.flow_cookie(settings), https=https, path=oidc.COOKIE_PATH)
    signup = StarletteResponse()
    account = ProviderAccount(
        provider="testid",
        issuer="https://id.example",
        subject="s",
        email="",
        email_verified=False,
        name="",
        preferred_username="",
    )
    oidc.remember_signup(signup, settings, account)
    check_cookie(signup, oidc.signup_cookie(settings), https=https, path=oidc.COOKIE_PATH)
    forgotten = StarletteResponse()
    oidc.forget(forgotten, settings, oidc.signup_cookie(settings))
    check_cookie(forgotten, oidc.signup_cookie(settings), https=https, path=oidc.COOKIE_PATH)


# --- Rate limits ---------------------------------------------------------------------------

#: Every rate limit of the site (bucket: what it limits), each shown below to answer 429.
RATE_LIMITS = {
    "login-account": "failed sign-ins to one account",
    "login-ip": "sign-in attempts (password or OpenID Connect callback) from one network",
    "register-ip": "new accounts from one network (form or OpenID Connect sign-up)",
    "reset-ip": "password reset requests from one network",
    "account-mail": "mail to one address (verification, reset, change of address)",
    "comment": "comments by one member a minute; and for new accounts, an hour",
    "proposal": "proposals by a new account an hour",
    "flag": "flags by one member an hour",
}


def limited(response: Response, what: str) -> None:
    assert response.status_code == 429, (what, response.status_code, response.text[:300])
    assert int(response.headers["retry-after"]) >= 1, what
    assert header_problems(response) == [], what


@pytest.fixture
def strict(make_app: Callable[..., FastAPI], client_for: Any) -> Callable[[], TestClient]:
    """`strict()`: a new browser on an app whose limits are small."""
    app = make_app(
        login_attempts_per_ip=4,
        login_failures_per_account=2,
        registrations_per_ip=1,
        password_resets_per_ip=2,
        account_mails_per_hour=1,
        new_account_proposals_per_hour=1,
        new_account_comments_per_hour=1,
    )
    return lambda: client_for(app)


def post(client: TestClient, url: str, data: dict[str, str] | None = None, **kw: Any) -> Response:
    return client.post(url, data={"csrf_token": form_token(client), **(data or {})}, **kw)


def test_sign_in_limits(strict, db):
    make_user(db, "miku")
    client = strict()
    wrong = {"login": "miku", "password": "wrong password"}
    assert post(client, "/login", wrong).status_code == 400
    assert post(client, "/login", wrong).status_code == 400
    limited(post(client, "/login", wrong), "failed sign-ins to one account")
    for name in ("rin", "len"):
        post(client, "/login", {"login": name, "password": "x"})
    limited(post(client, "/login", {"login": "kaito", "password": "x"}), "sign-ins per network")


def test_registration_and_reset_limits(strict, db):
    make_user(db, "miku")
    client = strict()
    form = {"display_name": "Rin", "password": "a long enough passphrase 2026"}
    registered = post(client, "/register", {**form, "username": "rin", "email": "rin@example.org"})
    assert registered.status_code == 303
    client.cookies.clear()
    again = post(client, "/register", {**form, "username": "len", "email": "len@example.org"})
    limited(again, "registrations per network")
    assert post(client, "/password/forgot", {"email": "miku@example.org"}).status_code == 303
    limited(post(client, "/password/forgot", {"email": "miku@example.org"}), "mail per address")
    assert post(client, "/password/forgot", {"email": "a@example.org"}).status_code == 303
    limited(post(client, "/password/forgot", {"email": "b@example.org"}), "resets per network")


def test_account_mail_limits(strict, db):
    user = make_user(db, "miku")
    user.email_verified_at = None
    db.flush()
    client = strict()
    sign_in(client, "miku")
    assert post(client, "/profile/verification").status_code == 303
    limited(post(client, "/profile/verification"), "verification mail")
    change = {"email": "miku@example.net", "current_password": PASSWORD}
    limited(post(client, "/profile/email", change), "change of address mail")
    # A member who signs in only through a provider may be mailed a link to set a password.
    user.password_hash = None
    db.flush()
    assert post(client, "/profile/password-link").status_code == 303
    limited(post(client, "/profile/password-link"), "password link mail")


def test_posting_limits(strict, db, monkeypatch):
    stage = make_stage(db)
    monkeypatch.setattr(discussion_service, "POST_LIMIT", 1)
    monkeypatch.setattr(moderation_service, "FLAG_LIMIT", 1)
    client = strict()
    sign_in(client, stage.fan.username)
    url = f"/c/hostile/proposals/{stage.proposal.id}"
    assert post(client, f"{url}/comments", {"body": "First."}).status_code == 303
    limited(post(client, f"{url}/comments", {"body": "Second."}), "comments a minute")
    htmx = post(client, f"{url}/comments", {"body": "Third."}, headers={"HX-Request": "true"})
    limited(htmx, "comments a minute, posted in place")
    comment = discussion_service.post_comment(
        db,
        actor=stage.author,
        proposal=stage.proposal,
        draft=discussion_service.CommentDraft(body="Flag me."),
        now=utcnow(),
    )
    assert post(client, f"{url}/flag", {"reason": "Off topic."}).status_code == 303
    limited(post(client, f"{url}/comments/{comment.id}/flag", {"reason": "Rude."}), "flags")

    newcomer = make_user(db, "newcomer")
    add_member(db, stage.community, newcomer)
    fresh = strict()
    sign_in(fresh, "newcomer")
    draft = {"title": "A new norm", "norm_text": "Text.", "category": stage.category.slug}
    assert post(fresh, "/c/hostile/proposals/new", draft).status_code == 303
    limited(post(fresh, "/c/hostile/proposals/new", draft), "proposals of a new account")


def test_every_limit_is_listed_and_tested():
    # Each bucket the app counts hits in is listed above, and so answers 429 in a test here;
    # the new-account limits count in the bucket named after what they limit.
    package = Path(app_package.__file__).parent
    source = "\n".join(path.read_text() for path in package.rglob("*.py"))
    buckets = set(re.findall(r'bucket="([\w-]+)"', source))
    assert "bucket=what" in source
    assert buckets == set(RATE_LIMITS)
