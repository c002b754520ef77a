"""One world for the authorization matrix and the CSRF walk, and the way they send requests
into it.

A community ("miku") with a member of every role — fan, creator, rights holder, moderator —
and a suspended member; a moderator of another community ("kaito"); a site admin who belongs
to neither; and, for every kind of object a route acts on, one that belongs to someone none
of them is (the author): a draft, a published proposal (with a co-author, an exhibit, flags, a
comment anchored in a work and a comment a moderator hid), a proposal in voting (with the
author's objection), a passed one, an image work with a preview, a hidden work, guidelines
with a clause, a notification, a warning, an appeal, an access token, a linked provider
account, email links and an unsubscribe link.

The world is built once per test module inside a transaction rolled back at the end; every
request runs in a savepoint of its own that is rolled back after it, so no request sees what
another one did.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Protocol

from fastapi import FastAPI
from fastapi.testclient import TestClient
from itsdangerous import BadSignature, URLSafeSerializer
from pydantic import SecretStr
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from app.accounts import email_links
from app.accounts import service as accounts_service
from app.accounts.models import EmailTokenPurpose, Identity, User
from app.communities import service as communities_service
from app.communities.models import Role
from app.config import OIDCProvider, Settings
from app.db import utcnow
from app.discussion import anchors
from app.discussion import service as discussion_service
from app.guidelines import service as guidelines_service
from app.main import create_app
from app.moderation import appeals as appeals_service
from app.moderation import members as members_service
from app.moderation import service as moderation_service
from app.notifications import service as notifications_service
from app.notifications.models import Kind
from app.polls import service as polls_service
from app.proposals import exhibits as exhibits_service
from app.proposals import service as proposals_service
from app.proposals.models import Proposal, ProposalState
from app.web.cookies import SAFE_METHODS
from app.works import service as works_service
from app.works.models import Work
from tests.conftest import TEST_SECRET, _joined_session, make_settings
from tests.factories import add_member, make_community, make_user
from tests.support.images import image_bytes
from tests.support.live import free_port

ROLES = (
    "anonymous",
    "fan",
    "creator",
    "rights_holder",
    "other_moderator",
    "moderator",
    "admin",
    "suspended",
)
API = "/api/"

# Text of the world that only some may read.
DRAFT_TITLE = "A draft of the author"
HIDDEN_COMMENT = "Something rude."
HIDDEN_WORK_URL = "https://example.org/hidden-sketch"
WARNING_TEXT = "Mind your tone."
APPEAL_TEXT = "It was a joke."
AUTHOR_EMAIL = "author@example.org"
IDENTITY_SUBJECT = "author-at-provider"
#: Each secret, and the roles that may read it (none of them is the author).
SECRETS: dict[str, frozenset[str]] = {
    DRAFT_TITLE: frozenset(),
    HIDDEN_COMMENT: frozenset({"moderator", "admin"}),
    HIDDEN_WORK_URL: frozenset({"moderator", "admin"}),
    WARNING_TEXT: frozenset({"moderator", "admin"}),
    APPEAL_TEXT: frozenset({"moderator", "admin"}),
    AUTHOR_EMAIL: frozenset(),
    IDENTITY_SUBJECT: frozenset(),
}


class Outcome(enum.StrEnum):
    """What a request came to, as a visitor sees it."""

    #: 2xx, or a redirect that is neither to the sign-in page nor carries an error message.
    OK = "ok"
    #: 401, or a redirect to the sign-in page (which comes back here after).
    SIGN_IN = "sign-in"
    #: 403.
    DENIED = "denied"
    #: 404: the object is not there for this visitor (or not at all).
    HIDDEN = "hidden"
    #: 400, 409 or 422, or a redirect back with an error message: the state refuses.
    REFUSED = "refused"
    #: Anything else (a 5xx above all): never expected.
    BROKEN = "broken"


OK, SIGN_IN, DENIED, HIDDEN, REFUSED = (
    Outcome.OK,
    Outcome.SIGN_IN,
    Outcome.DENIED,
    Outcome.HIDDEN,
    Outcome.REFUSED,
)


class Answer(Protocol):
    """An HTTP response, from the test client or from httpx."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def cookies(self) -> Mapping[str, str]: ...

    @property
    def text(self) -> str: ...


def flash_level(response: Answer) -> str | None:
    """The level of the last flash message a response set, if any."""
    raw = response.cookies.get("nf_flash")
    if not raw:
        return None
    try:
        messages = URLSafeSerializer(TEST_SECRET, salt="flash").loads(raw)
    except BadSignature:
        return None
    return str(messages[-1]["level"]) if messages else None


def outcome_of(response: Answer) -> Outcome:
    status = response.status_code
    if status == 401:
        return SIGN_IN
    if 300 <= status < 400:
        if response.headers.get("location", "").startswith("/login?next="):
            return SIGN_IN
        return REFUSED if flash_level(response) == "error" else OK
    if 200 <= status < 300:
        return OK
    return {403: DENIED, 404: HIDDEN, 400: REFUSED, 409: REFUSED, 422: REFUSED}.get(
        status, Outcome.BROKEN
    )


def csrf_token_of(secret: str) -> str:
    """The CSRF token of the browser whose CSRF cookie is `secret`."""
    return hmac.new(TEST_SECRET.encode(), secret.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class World:
    """The ids of the world's objects (by name, for URL templates) and each role's cookies."""

    ids: Mapping[str, int | str]
    cookies: Mapping[str, Mapping[str, str]]

    def __getitem__(self, name: str) -> int | str:
        return self.ids[name]

    def csrf_token(self, role: str) -> str:
        return csrf_token_of(self.cookies[role]["nf_csrf"])


def matrix_settings(database_url: str) -> Settings:
    """Live streams end at once; one OpenID provider is configured, at an address where
    nothing listens (so sign-in starts and callbacks fail cleanly, without a network)."""
    provider = OIDCProvider(
        name="test",
        display_name="Test ID",
        issuer=f"http://127.0.0.1:{free_port()}",
        client_id="normsforum",
        client_secret=SecretStr("client-secret"),
    )
    return make_settings(
        database_url,
        live_poll_seconds=0.01,
        live_stream_seconds=0.03,
        oidc_providers=[provider],
    )


def build(db: Session, settings: Settings) -> World:
    """Build the world in `db` (flushed, not committed) and open a session for every role."""
    now = utcnow()
    long_ago = now - timedelta(days=30)

    def user(name: str, *, admin: bool = False) -> User:
        made = make_user(db, name, is_admin=admin, display_name=name.replace("_", " ").title())
        # No first-day limits: these are settled accounts.
        made.created_at = long_ago
        return made

    community = make_community(db, "miku", name="Hatsune Miku Fans")
    other = make_community(db, "kaito", name="Kaito Fans")
    people = {
        name: user(name)
        for name in (
            "author",
            "helper",
            "flagger",
            "fan",
            "creator",
            "rights_holder",
            "moderator",
            "other_moderator",
            "suspended",
        )
    }
    people["admin"] = user("admin", admin=True)
    roles = {
        "author": Role.fan,
        "helper": Role.fan,
        "flagger": Role.fan,
        "fan": Role.fan,
        "creator": Role.creator,
        "rights_holder": Role.rights_holder,
        "moderator": Role.moderator,
        "suspended": Role.fan,
    }
    for name, role in roles.items():
        add_member(db, community, people[name], role, joined_at=long_ago)
    add_member(db, other, people["other_moderator"], Role.moderator, joined_at=long_ago)
    author, moderator = people["author"], people["moderator"]
    db.info[Settings] = settings

    category = communities_service.add_category(
        db, actor=moderator, community=community, name="Fan art"
    )
    guidelines_service.import_rules(
        db,
        actor=moderator,
        community=community,
        markdown="## Fan art\n- **Credit.** Credit the original artist.\n",
        now=long_ago,
    )
    guidelines_service.save_translation(
        db,
        actor=moderator,
        community=community,
        clause=guidelines_service.get_clause(db, community, "1.1"),
        language="ja",
        title="クレジット",
        text="元の作者をクレジットします。",
        now=long_ago,
    )

    def proposal(title: str, at: timedelta) -> Proposal:
        return proposals_service.create_proposal(
            db,
            actor=author,
            community=community,
            values=proposals_service.ProposalDraft(
                title=title, norm_text=f"{title}: the norm.", category=category.slug
            ),
            now=now - at,
        )

    draft = proposal(DRAFT_TITLE, timedelta(days=20))
    published = proposal("Credit the illustrator", timedelta(days=20))
    proposals_service.publish(db, actor=author, proposal=published, now=now - timedelta(days=20))
    proposals_service.add_coauthor(
        db, actor=author, proposal=published, username="helper", now=now - timedelta(days=20)
    )

    def work(title: str, medium: str = "image") -> Work:
        return works_service.create_work(
            db,
            actor=author,
            community=community,
            values=works_service.WorkDraft(
                title=title,
                creator_name="Author",
                url="https://example.org/" + title.lower().replace(" ", "-"),
                medium=medium,
                license="CC BY 4.0",
            ),
            now=long_ago,
        )

    shown_work = work("Rin Sketch")
    works_service.set_preview(db, actor=author, work=shown_work, data=image_bytes(), now=long_ago)
    spare_work = work("Len Sketch")
    hidden_work = work("Hidden Sketch")
    exhibit = exhibits_service.add_exhibit(
        db,
        actor=author,
        proposal=published,
        work_id=shown_work.id,
        stance="acceptable",
        note="",
        now=long_ago,
    )
    # A draft cites a work: the work's page must not tell that the draft exists.
    exhibits_service.add_exhibit(
        db,
        actor=author,
        proposal=draft,
        work_id=shown_work.id,
        stance="borderline",
        note="",
        now=long_ago,
    )
    comment = discussion_service.post_comment(
        db,
        actor=author,
        proposal=published,
        draft=discussion_service.CommentDraft(
            body="Look at the hands here.",
            anchor=anchors.AnchorInput(work=shown_work.id, kind="region", x=10, y=10, w=20, h=20),
        ),
        now=now - timedelta(days=2),
    )
    hidden_comment = discussion_service.post_comment(
        db,
        actor=author,
        proposal=published,
        draft=discussion_service.CommentDraft(body=HIDDEN_COMMENT),
        now=now - timedelta(days=2),
    )
    discussion_service.hide_comment(
        db, actor=moderator, comment=hidden_comment, reason="Rude.", now=now - timedelta(days=1)
    )
    works_service.hide_work(
        db, actor=moderator, work=hidden_work, reason="Not a derivative.", now=now
    )
    appeal = appeals_service.appeal(
        db,
        actor=author,
        community=community,
        comment=hidden_comment,
        message=APPEAL_TEXT,
        now=now,
    )
    flagger = people["flagger"]
    moderation_service.flag_comment(db, actor=flagger, comment=comment, reason="Rude", now=now)
    moderation_service.flag_work(db, actor=flagger, work=shown_work, reason="Spam", now=now)
    moderation_service.flag_proposal(db, actor=flagger, proposal=published, reason="Spam", now=now)

    voting = proposal("Name the song", timedelta(days=10))
    proposals_service.publish(db, actor=author, proposal=voting, now=now - timedelta(days=10))
    poll = polls_service.open_poll(
        db, actor=moderator, proposal=voting, now=now - timedelta(days=1)
    )
    objection = polls_service.cast_ballot(
        db, actor=author, poll=poll, position="object", reason="Too strict.", now=now
    )

    passed = proposal("Tag AI works", timedelta(days=12))
    proposals_service.publish(db, actor=author, proposal=passed, now=now - timedelta(days=12))
    passed_poll = polls_service.open_poll(
        db, actor=moderator, proposal=passed, now=now - timedelta(days=5)
    )
    for voter in ("author", "helper", "fan", "creator", "rights_holder", "moderator"):
        polls_service.cast_ballot(
            db,
            actor=people[voter],
            poll=passed_poll,
            position="consent",
            reason="",
            now=now - timedelta(days=4),
        )
    polls_service.close_early(db, actor=moderator, poll=passed_poll, now=now - timedelta(days=3))
    assert passed.state == ProposalState.passed

    members_service.suspend(
        db,
        actor=moderator,
        community=community,
        username="suspended",
        days=7,
        reason="Spam links.",
        now=now,
    )
    # The co-author's: the author stays free to post (the CSRF tests post as them).
    warning = members_service.warn(
        db,
        actor=moderator,
        community=community,
        username="helper",
        message=WARNING_TEXT,
        now=now,
    )
    notifications_service.notify(
        db,
        recipients=[author],
        kind=Kind.moderation,
        text="Something happened.",
        url="/",
        now=now,
    )
    token, _ = accounts_service.create_token(db, actor=author, name="tools", scope="write", now=now)
    _, read_only = accounts_service.create_token(
        db, actor=moderator, name="reader", scope="read", now=now
    )
    identity = Identity(
        user_id=author.id,
        provider="test",
        issuer="https://id.example.org",
        subject=IDENTITY_SUBJECT,
        email=AUTHOR_EMAIL,
    )
    db.add(identity)
    db.flush()
    reset = email_links._issue(
        db,
        user=author,
        purpose=EmailTokenPurpose.password_reset,
        email=author.email,
        lifetime=timedelta(hours=1),
        # After the password was set: an older link is void.
        now=utcnow(),
        settings=settings,
    )
    verification = email_links._issue(
        db,
        user=author,
        purpose=EmailTokenPurpose.verify_email,
        email="author.new@example.org",
        lifetime=timedelta(hours=1),
        now=now,
        settings=settings,
    )

    cookies: dict[str, dict[str, str]] = {}
    # The roles, and the author: the owner, for tests that need one (CSRF).
    for who in (*ROLES, "author"):
        jar = {"nf_csrf": f"csrf-secret-of-{who}"}
        if who != "anonymous":
            jar["nf_session"] = accounts_service.start_session(
                db, user=people[who], now=now, settings=settings
            )
        cookies[who] = jar
    db.flush()
    latest = notifications_service.latest_id(db, author)
    assert latest is not None
    ids: dict[str, int | str] = {
        "slug": community.slug,
        "other_slug": other.slug,
        "author": author.username,
        "helper": "helper",
        "suspended": "suspended",
        "category": category.slug,
        "clause": "1.1",
        "translation": "ja",
        "first_version": 1,
        "provider": "test",
        "draft": draft.id,
        "published": published.id,
        "voting": voting.id,
        "passed": passed.id,
        "poll": poll.id,
        "passed_poll": passed_poll.id,
        "objection": objection.id,
        "work": shown_work.id,
        "spare_work": spare_work.id,
        "hidden_work": hidden_work.id,
        "exhibit": exhibit.id,
        "comment": comment.id,
        "hidden_comment": hidden_comment.id,
        "appeal": appeal.id,
        "warning": warning.id,
        "notification": latest,
        "token": token.id,
        "identity": identity.id,
        "reset_token": reset,
        "verify_token": verification,
        "read_only_token": read_only,
        "unsubscribe_token": notifications_service.unsubscribe_token(
            settings.secret, author.id, "all"
        ),
    }
    return World(ids=ids, cookies=cookies)


@contextmanager
def world_client(
    engine: Engine, settings: Settings
) -> Iterator[tuple[TestClient, Connection, World]]:
    """An app on `settings` whose requests join one outer transaction holding the world."""
    app: FastAPI = create_app(settings)
    with engine.connect() as connection:
        outer = connection.begin()
        db = _joined_session(connection)
        try:
            world = build(db, settings)
            db.commit()
        finally:
            db.close()
        app.state.session_factory = lambda write: _joined_session(connection)
        try:
            with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
                yield client, connection, world
        finally:
            if outer.is_active:
                outer.rollback()


@dataclass(frozen=True)
class Ref:
    """A world id in a JSON body, as the number it is."""

    name: str


def resolve(value: Any, world: World) -> Any:
    """A request value with `{name}` placeholders filled from the world's ids."""
    if isinstance(value, str):
        return value.format_map(world.ids)
    if isinstance(value, Ref):
        return world.ids[value.name]
    if isinstance(value, dict):
        return {k: resolve(v, world) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, world) for v in value]
    return value


@dataclass(frozen=True)
class Call:
    """One request: method, URL template, and the cheapest body the route accepts."""

    method: str
    url: str
    form: dict[str, Any] | None = None
    json: Any = None
    files: dict[str, tuple[str, bytes, str]] | None = None
    headers: dict[str, str] | None = None

    @property
    def is_api(self) -> bool:
        return self.url.startswith(API)

    @property
    def is_unsafe(self) -> bool:
        return self.method not in SAFE_METHODS


def send(
    client: TestClient,
    connection: Connection,
    world: World,
    role: str,
    call: Call,
    *,
    csrf: str = "valid",
    origin: str | None = None,
) -> Any:
    """Send `call` as `role` in a savepoint rolled back afterwards; the test client's response.

    `csrf` is "valid" (the token a page of this browser would carry), "missing" or "wrong";
    `origin` an Origin header to send (none by default, as older browsers do).
    """
    client.cookies.clear()
    for name, value in world.cookies[role].items():
        client.cookies.set(name, value)
    headers = {name: resolve(value, world) for name, value in (call.headers or {}).items()}
    if origin is not None:
        headers["Origin"] = origin
    form = resolve(call.form, world) if call.form is not None else None
    token = {"valid": world.csrf_token(role), "wrong": "0" * 64, "missing": None}[csrf]
    if call.is_unsafe and token is not None:
        if call.is_api:
            headers["X-CSRF-Token"] = token
        else:
            form = {**(form or {}), "csrf_token": token}
    savepoint = connection.begin_nested()
    try:
        return client.request(
            call.method,
            resolve(call.url, world),
            data=form,
            json=resolve(call.json, world) if call.json is not None else None,
            files=call.files,
            headers=headers,
        )
    finally:
        if savepoint.is_active:
            savepoint.rollback()


def cross_slug(call: Call) -> Call:
    """The same request addressed through the other community (where other_moderator moderates)."""
    return replace(call, url=call.url.replace("{slug}", "{other_slug}"))
