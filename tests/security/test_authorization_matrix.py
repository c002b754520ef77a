"""The authorization matrix: every route of the app × eight kinds of visitor, on objects that
belong to someone else, with the answer each visitor must get.

The routes come from walking the app (`fastapi.routing.iter_route_contexts`), so a route
added without a row here fails `test_every_route_of_the_app_has_a_row`, by name. Rows are
grouped by the rule they follow; a route acting on objects in several states (a draft and a
published proposal) has a row in each rule. Every request carries the CSRF token its browser
would, and runs in a savepoint of the world's transaction that is rolled back after it.

Outcomes, as a visitor sees them (`world.Outcome`): OK (2xx, or a redirect without an error
message), SIGN_IN (401, or the sign-in page), DENIED (403), HIDDEN (404: not there for them),
REFUSED (400/409/422, or back to the page with an error: the state says no).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import fastapi.routing
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine

from app.main import create_app
from tests.factories import PASSWORD
from tests.security.world import (
    DENIED,
    HIDDEN,
    OK,
    REFUSED,
    ROLES,
    SECRETS,
    SIGN_IN,
    Call,
    Outcome,
    Ref,
    World,
    cross_slug,
    matrix_settings,
    outcome_of,
    send,
    world_client,
)
from tests.support.images import image_bytes

Expect = dict[str, Outcome]


def expect(default: Outcome, *, anonymous: Outcome = SIGN_IN, **roles: Outcome) -> Expect:
    """An answer per role: `default` for every signed-in role not named."""
    unknown = set(roles) - set(ROLES)
    assert not unknown, unknown
    return {"anonymous": anonymous, **dict.fromkeys(ROLES[1:], default), **roles}


# The rules. Members of "miku": fan, creator, rights_holder, moderator (and suspended, who may
# read but not write). other_moderator moderates "kaito"; admin is a site admin, member of none.
EVERYONE = expect(OK, anonymous=OK)
SIGNED_IN = expect(OK)
MEMBERS = expect(OK, other_moderator=DENIED, admin=DENIED, suspended=DENIED)
MEMBERS_AND_SUSPENDED = expect(OK, other_moderator=DENIED, admin=DENIED)
MODERATORS = expect(DENIED, moderator=OK, admin=OK)
ADMINS = expect(DENIED, admin=OK)
AUTHORS = expect(DENIED)
OWNER = expect(HIDDEN)


@dataclass(frozen=True)
class Row:
    """A route (as the app declares it) and the request that exercises it."""

    route: str
    call: Call
    label: str = ""


@dataclass(frozen=True)
class Rule:
    title: str
    expect: Expect
    rows: list[Row] = field(default_factory=list)


#: The world object each path parameter names, unless a row says otherwise: someone else's
#: published proposal, comment, work, poll...
DEFAULT_IDS = {
    "slug": "slug",
    "username": "author",
    "proposal_id": "published",
    "comment_id": "comment",
    "work_id": "work",
    "poll_id": "poll",
    "exhibit_id": "exhibit",
    "ballot_id": "objection",
    "appeal_id": "appeal",
    "warning_id": "warning",
    "notification_id": "notification",
    "token_id": "token",
    "identity_id": "identity",
    "category_slug": "category",
    "category": "category",
    "number": "clause",
    "lang": "translation",
    "from_version": "first_version",
    "token": "unsubscribe_token",
    "name": "provider",
}


def row(
    route: str,
    *,
    label: str = "",
    query: str = "",
    url: str = "",
    form: dict[str, Any] | None = None,
    json: Any = None,
    files: dict[str, tuple[str, bytes, str]] | None = None,
    **ids: str,
) -> Row:
    """`route` is "METHOD /path" as the app declares it; each path parameter names a world
    object (DEFAULT_IDS, or `parameter="object"`); the body is the cheapest the route takes."""
    method, path = route.split(" ", 1)
    names = {**DEFAULT_IDS, **ids}
    target = url or re.sub(r"\{(\w+)\}", lambda m: "{" + names[m.group(1)] + "}", path)
    call = Call(method, target + (f"?{query}" if query else ""), form, json, files)
    return Row(route, call, label)


def draft(route: str, **body: Any) -> Row:
    """A row acting on someone else's draft."""
    return row(route, proposal_id="draft", label="draft", **body)


PROPOSAL_FORM = {"title": "A new norm", "norm_text": "The norm.", "category": "{category}"}
WORK_FORM = {
    "title": "New sketch",
    "creator_name": "Somebody",
    "url": "https://example.org/new",
    "medium": "image",
}
PNG = {"file": ("preview.png", image_bytes(), "image/png")}
REASON = {"reason": "For the record."}
TRANSLATION = {"language": "ja", "title": "クレジット", "text": "元の作者を記します。"}

RULES: list[Rule] = [
    Rule(
        "Public reads: anyone, signed in or not",
        EVERYONE,
        [
            row("GET /openapi.json"),
            row("GET /static", url="/static/css/site.css"),
            row("GET /healthz"),
            row("GET /register"),
            row("GET /login"),
            row("GET /password/forgot"),
            row("GET /u/{username}"),
            row("GET /"),
            row("GET /c/{slug}"),
            row("GET /c/{slug}/members"),
            row("GET /c/{slug}/proposals"),
            row("GET /c/{slug}/proposals/{proposal_id}"),
            row("GET /c/{slug}/proposals/{proposal_id}/revisions"),
            row("GET /c/{slug}/proposals/{proposal_id}/events"),
            row("GET /c/{slug}/proposals/{proposal_id}/comments/{comment_id}"),
            row("GET /c/{slug}/proposals/{proposal_id}/comments/{comment_id}/history"),
            row("GET /c/{slug}/proposals/{proposal_id}/comments/{comment_id}/anchor"),
            row("GET /c/{slug}/works"),
            row("GET /c/{slug}/works/{work_id}"),
            row("GET /c/{slug}/works/{work_id}/preview"),
            row("GET /c/{slug}/works/{work_id}/preview/thumb"),
            row("GET /c/{slug}/moderation-log"),
            row("GET /c/{slug}/poll-policy"),
            row("GET /c/{slug}/polls/{poll_id}"),
            row("GET /c/{slug}/polls/{poll_id}/ballots"),
            row("GET /c/{slug}/guidelines"),
            row("GET /c/{slug}/guidelines.md"),
            row("GET /c/{slug}/guidelines.atom"),
            row("GET /c/{slug}/guidelines/versions"),
            row("GET /c/{slug}/guidelines/diff"),
            row("GET /c/{slug}/guidelines/clauses/{number}"),
            row("GET /c/{slug}/guidelines/clauses/{number}/v{from_version}"),
            row("GET /notifications/events"),
            row("GET /api/v1/communities"),
            row("GET /api/v1/communities/{slug}"),
            row("GET /api/v1/communities/{slug}/members"),
            row("GET /api/v1/communities/{slug}/role-changes"),
            row("GET /api/v1/communities/{slug}/proposals"),
            row("GET /api/v1/proposals/{proposal_id}"),
            row("GET /api/v1/proposals/{proposal_id}/revisions"),
            row("GET /api/v1/proposals/{proposal_id}/diff", query="from=1&to=1"),
            row("GET /api/v1/proposals/{proposal_id}/exhibits"),
            row("GET /api/v1/communities/{slug}/works"),
            row("GET /api/v1/works/{work_id}"),
            row("GET /api/v1/works/{work_id}/lineage"),
            row("GET /api/v1/works/{work_id}/attribution"),
            row("GET /api/v1/proposals/{proposal_id}/comments"),
            row("GET /api/v1/comments/{comment_id}"),
            row("GET /api/v1/comments/{comment_id}/replies"),
            row("GET /api/v1/comments/{comment_id}/versions"),
            row("GET /api/v1/communities/{slug}/moderation-log"),
            row("GET /api/v1/proposals/{proposal_id}/poll", proposal_id="voting"),
            row("GET /api/v1/polls/{poll_id}"),
            row("GET /api/v1/polls/{poll_id}/results"),
            row("GET /api/v1/polls/{poll_id}/ballots"),
            row("GET /api/v1/polls/{poll_id}/export", poll_id="passed_poll"),
            row("GET /api/v1/polls/{poll_id}/export.csv", poll_id="passed_poll"),
            row("GET /api/v1/communities/{slug}/poll-policy"),
            row("GET /api/v1/communities/{slug}/guidelines"),
            row("GET /api/v1/communities/{slug}/guidelines/versions"),
            row("GET /api/v1/communities/{slug}/guidelines/diff", query="from=1&to=1"),
            row("GET /api/v1/communities/{slug}/guidelines/clauses/{number}"),
            row("GET /api/v1/communities/{slug}/guidelines/clauses/{number}/translations"),
        ],
    ),
    Rule(
        "Signing up, in and out, and asking for a reset: open to everyone",
        EVERYONE,
        [
            row(
                "POST /register",
                form={
                    "username": "newcomer",
                    "display_name": "Newcomer",
                    "email": "newcomer@example.org",
                    "password": "a long enough passphrase",
                },
            ),
            row("POST /login", form={"login": "{author}", "password": PASSWORD}),
            row("POST /logout"),
            row("POST /password/forgot", form={"email": "author@example.org"}),
            row("POST /auth/oidc/signup/cancel"),
            row("POST /language", form={"language": "ja", "next": "/"}),
        ],
    ),
    Rule(
        "Links whose token is the authority (a reset, a confirmation, an unsubscribe link)",
        EVERYONE,
        [
            row("GET /password/reset", query="token={reset_token}"),
            row(
                "POST /password/reset",
                form={"token": "{reset_token}", "new_password": "another long passphrase"},
            ),
            row("GET /verify-email", query="token={verify_token}"),
            row("POST /verify-email", form={"token": "{verify_token}"}),
            row("GET /notifications/unsubscribe/{token}"),
            row("POST /notifications/unsubscribe/{token}"),
        ],
    ),
    Rule(
        "Sign-in with a provider: refused without a flow under way in this browser",
        expect(REFUSED, anonymous=REFUSED),
        [
            row("GET /auth/oidc/{name}/start"),
            row("GET /auth/oidc/{name}/callback", query="code=x&state=y"),
            row("POST /auth/oidc/signup", form={"username": "newcomer"}),
        ],
    ),
    Rule(
        "The provider sign-up page: signed-in visitors go to their profile",
        expect(OK, anonymous=REFUSED),
        [
            row("GET /auth/oidc/signup"),
        ],
    ),
    Rule(
        "Self only: one's own account, notifications and record (anyone signed in)",
        SIGNED_IN,
        [
            row("GET /profile"),
            row("POST /profile", form={"display_name": "A New Name"}),
            row(
                "POST /profile/password",
                form={
                    "current_password": PASSWORD,
                    "new_password": "another long passphrase",
                },
            ),
            row("POST /profile/tokens", form={"name": "cli", "scope": "read"}),
            row(
                "POST /profile/email",
                form={"email": "fresh@example.org", "current_password": PASSWORD},
            ),
            row("GET /notifications"),
            row("POST /notifications/read-all"),
            row("GET /notifications/preferences"),
            row("POST /notifications/preferences", form={"delivery": "in_app"}),
            row("GET /c/{slug}/moderation/mine"),
            row("POST /c/{slug}/proposals/{proposal_id}/follow"),
            row("GET /api/v1/me"),
            row("PUT /api/v1/me/language", json={"language": "ja"}),
            row("GET /api/v1/warnings"),
            row("GET /api/v1/notifications"),
            row("GET /api/v1/notifications/unread-count"),
            row("POST /api/v1/notifications/read", json={"all": True}),
            row("GET /api/v1/me/notification-preferences"),
            row("PUT /api/v1/me/notification-preferences", json={"delivery": "in_app"}),
            row("GET /api/v1/communities/{slug}/moderation/mine"),
            row("PUT /api/v1/proposals/{proposal_id}/follow"),
            row("DELETE /api/v1/proposals/{proposal_id}/follow"),
            row("GET /api/v1/polls/{poll_id}/ballot"),
            row("GET /profile/export"),
            row("GET /api/v1/me/export"),
        ],
    ),
    Rule(
        "Deleting one's own account: anyone signed in, but not a community's only moderator",
        expect(OK, moderator=REFUSED, other_moderator=REFUSED),
        [
            row("POST /profile/delete", form={"password": PASSWORD}),
            row("POST /api/v1/me/deletion", json={"password": PASSWORD}),
        ],
    ),
    Rule(
        "Self only, refused by the state: addresses confirmed already, passwords set already",
        expect(REFUSED),
        [
            row("POST /profile/verification"),
            row("POST /api/v1/me/verification-mail"),
            row("POST /profile/password-link"),
        ],
    ),
    Rule(
        "Someone else's token, linked account, notification or warning: not there",
        OWNER,
        [
            row("POST /profile/tokens/{token_id}/revoke"),
            row("POST /profile/identities/{identity_id}/unlink"),
            row("POST /notifications/{notification_id}/read"),
            row("POST /warnings/{warning_id}/acknowledge"),
            row("DELETE /api/v1/me/identities/{identity_id}"),
            row(
                "POST /api/v1/notifications/read", label="ids", json={"ids": [Ref("notification")]}
            ),
            row("POST /api/v1/warnings/{warning_id}/acknowledge"),
        ],
    ),
    Rule(
        "Someone else's draft: nobody but its authors knows it exists (reads)",
        expect(HIDDEN, anonymous=HIDDEN),
        [
            draft("GET /c/{slug}/proposals/{proposal_id}"),
            draft(
                "GET /c/{slug}/proposals/{proposal_id}/revisions",
            ),
            draft("GET /c/{slug}/proposals/{proposal_id}/events"),
            draft("GET /api/v1/proposals/{proposal_id}"),
            draft("GET /api/v1/proposals/{proposal_id}/revisions"),
            draft(
                "GET /api/v1/proposals/{proposal_id}/diff",
                query="from=1&to=1",
            ),
            draft("GET /api/v1/proposals/{proposal_id}/exhibits"),
            draft("GET /api/v1/proposals/{proposal_id}/comments"),
            draft("GET /api/v1/proposals/{proposal_id}/poll"),
        ],
    ),
    Rule(
        "Someone else's draft: nobody but its authors knows it exists (writes)",
        expect(HIDDEN),
        [
            draft("GET /c/{slug}/proposals/{proposal_id}/edit"),
            draft(
                "POST /c/{slug}/proposals/{proposal_id}/edit",
                form={**PROPOSAL_FORM, "base_revision": "1"},
            ),
            draft("POST /c/{slug}/proposals/{proposal_id}/publish"),
            draft(
                "POST /c/{slug}/proposals/{proposal_id}/withdraw",
            ),
            draft(
                "POST /c/{slug}/proposals/{proposal_id}/coauthors",
                form={"username": "fan"},
            ),
            draft(
                "POST /c/{slug}/proposals/{proposal_id}/coauthors/{username}/remove",
                username="helper",
            ),
            draft("POST /c/{slug}/proposals/{proposal_id}/follow"),
            draft(
                "POST /c/{slug}/proposals/{proposal_id}/moderate",
                form={"category": "{category}"},
            ),
            draft(
                "POST /c/{slug}/proposals/{proposal_id}/exhibits",
                form={"work": "{spare_work}", "stance": "acceptable"},
            ),
            draft(
                "POST /c/{slug}/proposals/{proposal_id}/comments",
                form={"body": "Hello"},
            ),
            draft(
                "POST /c/{slug}/proposals/{proposal_id}/flag",
                form=REASON,
            ),
            draft("POST /c/{slug}/proposals/{proposal_id}/poll"),
            draft("POST /c/{slug}/proposals/{proposal_id}/ratify"),
            draft(
                "POST /c/{slug}/proposals/{proposal_id}/return",
                form=REASON,
            ),
            draft(
                "PATCH /api/v1/proposals/{proposal_id}",
                json={"base_revision": 1, "title": "Changed"},
            ),
            draft("POST /api/v1/proposals/{proposal_id}/publish"),
            draft("POST /api/v1/proposals/{proposal_id}/withdraw"),
            draft(
                "POST /api/v1/proposals/{proposal_id}/lock",
                json=REASON,
            ),
            draft("POST /api/v1/proposals/{proposal_id}/unlock"),
            draft(
                "POST /api/v1/proposals/{proposal_id}/coauthors",
                json={"username": "fan"},
            ),
            draft(
                "DELETE /api/v1/proposals/{proposal_id}/coauthors/{username}",
                username="helper",
            ),
            draft("PUT /api/v1/proposals/{proposal_id}/follow"),
            draft("DELETE /api/v1/proposals/{proposal_id}/follow"),
            draft(
                "POST /api/v1/proposals/{proposal_id}/exhibits",
                json={"work": Ref("spare_work"), "stance": "acceptable"},
            ),
            draft(
                "POST /api/v1/proposals/{proposal_id}/comments",
                json={"body": "Hello"},
            ),
            draft(
                "POST /api/v1/proposals/{proposal_id}/flags",
                json=REASON,
            ),
            draft("POST /api/v1/proposals/{proposal_id}/poll"),
            draft("POST /api/v1/proposals/{proposal_id}/ratify"),
            draft(
                "POST /api/v1/proposals/{proposal_id}/return",
                json=REASON,
            ),
        ],
    ),
    Rule(
        "Member writes: members of the community who are not suspended",
        MEMBERS,
        [
            row("POST /c/{slug}/proposals/new", form=PROPOSAL_FORM),
            row("POST /c/{slug}/works/new", form=WORK_FORM),
            row(
                "POST /c/{slug}/proposals/{proposal_id}/exhibits",
                form={"work": "{spare_work}", "stance": "acceptable"},
            ),
            row("POST /c/{slug}/proposals/{proposal_id}/comments", form={"body": "Hello"}),
            row("POST /c/{slug}/polls/{poll_id}/ballot", form={"position": "consent"}),
            row("POST /api/v1/communities/{slug}/proposals", json=PROPOSAL_FORM),
            row("POST /api/v1/communities/{slug}/works", json=WORK_FORM),
            row(
                "POST /api/v1/proposals/{proposal_id}/exhibits",
                json={"work": Ref("spare_work"), "stance": "acceptable"},
            ),
            row("POST /api/v1/proposals/{proposal_id}/comments", json={"body": "Hello"}),
            row("PUT /api/v1/polls/{poll_id}/ballot", json={"position": "consent"}),
            row("POST /api/v1/comments/{comment_id}/flags", json=REASON),
            row("POST /api/v1/works/{work_id}/flags", json=REASON),
            row("POST /api/v1/proposals/{proposal_id}/flags", json=REASON),
        ],
    ),
    Rule(
        "Member forms: members read them, suspended ones too (their posts are refused)",
        MEMBERS_AND_SUSPENDED,
        [
            row("GET /c/{slug}/proposals/new"),
            row("GET /c/{slug}/works/new"),
        ],
    ),
    Rule(
        "A reply box's form: for those who may post the reply",
        MEMBERS,
        [
            row("GET /c/{slug}/proposals/{proposal_id}/comments/{comment_id}/reply"),
        ],
    ),
    Rule(
        "Member flags from a page: a refusal goes back to the page with the reason",
        expect(OK, other_moderator=REFUSED, admin=REFUSED, suspended=REFUSED),
        [
            row("POST /c/{slug}/proposals/{proposal_id}/comments/{comment_id}/flag", form=REASON),
            row("POST /c/{slug}/works/{work_id}/flag", form=REASON),
            row("POST /c/{slug}/proposals/{proposal_id}/flag", form=REASON),
        ],
    ),
    Rule(
        "Joining from a page: a member is told they are one; anyone else joins",
        SIGNED_IN,
        [
            row("POST /c/{slug}/join"),
        ],
    ),
    Rule(
        "Joining by the API: 409 for members, a membership for anyone else",
        expect(REFUSED, other_moderator=OK, admin=OK),
        [
            row("POST /api/v1/communities/{slug}/join"),
        ],
    ),
    Rule(
        "Leaving: members leave (suspended ones too), but not the only moderator",
        expect(OK, other_moderator=REFUSED, admin=REFUSED, moderator=REFUSED),
        [
            row("POST /c/{slug}/leave"),
            row("POST /api/v1/communities/{slug}/leave"),
        ],
    ),
    Rule(
        "Moderator-only: this community's moderators, and site admins",
        MODERATORS,
        [
            row(
                "POST /c/{slug}/members/{username}/role",
                form={"role": "creator", "reason": "Makes songs."},
            ),
            row("GET /c/{slug}/edit"),
            row("POST /c/{slug}/edit", form={"name": "Hatsune Miku Fans", "description": "Hi"}),
            row("POST /c/{slug}/categories", form={"name": "Songs"}),
            row("POST /c/{slug}/categories/{category_slug}", form={"name": "Fan art and comics"}),
            row(
                "POST /c/{slug}/proposals/{proposal_id}/moderate",
                form={"category": "{category}", "tags": "art"},
            ),
            row("POST /c/{slug}/proposals/{proposal_id}/exhibits/{exhibit_id}/remove"),
            row("GET /c/{slug}/works/{work_id}/edit"),
            row(
                "POST /c/{slug}/works/{work_id}/edit",
                form={**WORK_FORM, "title": "Rin Sketch, renamed"},
            ),
            row("POST /c/{slug}/works/{work_id}/preview", files=PNG),
            row("POST /c/{slug}/works/{work_id}/preview/remove"),
            row("POST /c/{slug}/works/{work_id}/hide", form=REASON),
            row("POST /c/{slug}/works/{work_id}/restore", work_id="hidden_work"),
            row("POST /c/{slug}/proposals/{proposal_id}/comments/{comment_id}/hide", form=REASON),
            row(
                "POST /c/{slug}/proposals/{proposal_id}/comments/{comment_id}/restore",
                comment_id="hidden_comment",
            ),
            row("GET /c/{slug}/moderation"),
            row("POST /c/{slug}/moderation/comments/{comment_id}", form={"action": "dismiss"}),
            row("POST /c/{slug}/moderation/works/{work_id}", form={"action": "dismiss"}),
            row("POST /c/{slug}/moderation/proposals/{proposal_id}", form={"action": "dismiss"}),
            row(
                "POST /c/{slug}/moderation/proposals/{proposal_id}/lock",
                form={"lock": "1", **REASON},
            ),
            row(
                "POST /c/{slug}/moderation/comments/{comment_id}/restore",
                comment_id="hidden_comment",
            ),
            row("POST /c/{slug}/moderation/works/{work_id}/restore", work_id="hidden_work"),
            row(
                "POST /c/{slug}/moderation/appeals/{appeal_id}", form={"decision": "deny", **REASON}
            ),
            row("GET /c/{slug}/moderation/members", query="username={author}"),
            row("GET /c/{slug}/moderation/members/{username}"),
            row(
                "POST /c/{slug}/moderation/members/{username}/warn",
                form={"message": "Mind the rules."},
            ),
            row(
                "POST /c/{slug}/moderation/members/{username}/suspend", form={"days": "3", **REASON}
            ),
            row(
                "POST /c/{slug}/moderation/members/{username}/lift",
                username="suspended",
                form=REASON,
            ),
            row("POST /c/{slug}/poll-policy", form={"quorum": "30"}),
            row("POST /c/{slug}/proposals/{proposal_id}/poll"),
            row("POST /c/{slug}/polls/{poll_id}/objections/{ballot_id}/ruling", form=REASON),
            row("POST /c/{slug}/polls/{poll_id}/close"),
            row("POST /c/{slug}/guidelines/clauses/{number}/tags", form={"tags": "image"}),
            row("POST /c/{slug}/guidelines/clauses/{number}/translations", form=TRANSLATION),
            row("POST /c/{slug}/guidelines/clauses/{number}/translations/{lang}/delete"),
            row("GET /c/{slug}/guidelines/import"),
            row("GET /c/{slug}/ratification"),
            row("POST /c/{slug}/proposals/{proposal_id}/ratify", proposal_id="passed"),
            row("POST /c/{slug}/proposals/{proposal_id}/return", proposal_id="passed", form=REASON),
            row("PATCH /api/v1/communities/{slug}", json={"description": "Hi"}),
            row("POST /api/v1/communities/{slug}/categories", json={"name": "Songs"}),
            row(
                "PATCH /api/v1/communities/{slug}/categories/{category}",
                json={"name": "Fan art and comics"},
            ),
            row(
                "PUT /api/v1/communities/{slug}/members/{username}",
                json={"role": "creator", "reason": "Makes songs."},
            ),
            row("PATCH /api/v1/proposals/{proposal_id}", label="re-file", json={"tags": ["art"]}),
            row("POST /api/v1/proposals/{proposal_id}/lock", json=REASON),
            row("POST /api/v1/proposals/{proposal_id}/unlock"),
            row("DELETE /api/v1/proposals/{proposal_id}/exhibits/{exhibit_id}"),
            row("PATCH /api/v1/works/{work_id}", json={"title": "Renamed"}),
            row("PUT /api/v1/works/{work_id}/preview", files=PNG),
            row("DELETE /api/v1/works/{work_id}/preview"),
            row("POST /api/v1/comments/{comment_id}/hide", json=REASON),
            row("POST /api/v1/comments/{comment_id}/restore", comment_id="hidden_comment"),
            row("GET /api/v1/communities/{slug}/flags"),
            row(
                "POST /api/v1/communities/{slug}/flags/resolve",
                json={"comment": Ref("comment"), "action": "dismiss"},
            ),
            row(
                "POST /api/v1/communities/{slug}/moderation/restore",
                json={"comment": Ref("hidden_comment")},
            ),
            row("POST /api/v1/works/{work_id}/hide", json=REASON),
            row("POST /api/v1/works/{work_id}/restore", work_id="hidden_work"),
            row(
                "POST /api/v1/communities/{slug}/members/{username}/warnings",
                json={"message": "Mind the rules."},
            ),
            row(
                "POST /api/v1/communities/{slug}/members/{username}/suspension",
                json={"days": 3, **REASON},
            ),
            row(
                "POST /api/v1/communities/{slug}/members/{username}/suspension/lift",
                username="suspended",
                json=REASON,
            ),
            row("GET /api/v1/communities/{slug}/suspensions"),
            row("GET /api/v1/communities/{slug}/appeals"),
            row("GET /api/v1/communities/{slug}/members/{username}/moderation"),
            row("POST /api/v1/proposals/{proposal_id}/poll"),
            row("POST /api/v1/polls/{poll_id}/close"),
            row(
                "POST /api/v1/polls/{poll_id}/objections/{ballot_id}/ruling",
                json={"ruling": "not_paramount", **REASON},
            ),
            row("PUT /api/v1/communities/{slug}/poll-policy", json={"quorum": 30}),
            row(
                "PUT /api/v1/communities/{slug}/guidelines/clauses/{number}/tags",
                json={"tags": ["image"]},
            ),
            row(
                "PUT /api/v1/communities/{slug}/guidelines/clauses/{number}/translations/{lang}",
                json={"title": "クレジット", "text": "元の作者を記します。"},
            ),
            row(
                "DELETE /api/v1/communities/{slug}/guidelines/clauses/{number}/translations/{lang}"
            ),
            row("POST /api/v1/proposals/{proposal_id}/ratify", proposal_id="passed"),
            row("POST /api/v1/proposals/{proposal_id}/return", proposal_id="passed", json=REASON),
        ],
    ),
    Rule(
        "Someone else's appeal: its appellant and the moderators; nobody else knows of it",
        expect(HIDDEN, moderator=OK, admin=OK),
        [
            row("GET /api/v1/appeals/{appeal_id}"),
            row("POST /api/v1/appeals/{appeal_id}/decision", json={"decision": "deny", **REASON}),
        ],
    ),
    Rule(
        "Moderator-only, then the state: the guidelines are imported once",
        expect(DENIED, moderator=REFUSED, admin=REFUSED),
        [
            row("POST /c/{slug}/guidelines/import", form={"markdown": "## Rules\n- One.\n"}),
            row(
                "POST /api/v1/communities/{slug}/guidelines/import",
                json={"markdown": "## Rules\n- One.\n"},
            ),
        ],
    ),
    Rule(
        "Admin-only: site administrators",
        ADMINS,
        [
            row("GET /communities/new"),
            row("POST /communities/new", form={"name": "Len Fans", "slug": "len"}),
            row("GET /admin/outbox"),
            row("POST /api/v1/communities", json={"name": "Len Fans", "slug": "len"}),
        ],
    ),
    Rule(
        "Author-only: someone else's proposal, comment or hidden post",
        AUTHORS,
        [
            row("GET /c/{slug}/proposals/{proposal_id}/edit"),
            row(
                "POST /c/{slug}/proposals/{proposal_id}/edit",
                form={**PROPOSAL_FORM, "base_revision": "1"},
            ),
            row("POST /c/{slug}/proposals/{proposal_id}/publish"),
            row("POST /c/{slug}/proposals/{proposal_id}/withdraw"),
            row("POST /c/{slug}/proposals/{proposal_id}/coauthors", form={"username": "fan"}),
            row(
                "POST /c/{slug}/proposals/{proposal_id}/coauthors/{username}/remove",
                username="helper",
            ),
            row("GET /c/{slug}/proposals/{proposal_id}/comments/{comment_id}/edit"),
            row(
                "POST /c/{slug}/proposals/{proposal_id}/comments/{comment_id}/edit",
                form={"body": "Changed"},
            ),
            row("POST /c/{slug}/proposals/{proposal_id}/comments/{comment_id}/delete"),
            row(
                "POST /c/{slug}/moderation/mine/appeals",
                form={"kind": "comment", "target": "{hidden_comment}", "message": "Please."},
            ),
            row(
                "PATCH /api/v1/proposals/{proposal_id}",
                label="text",
                json={"base_revision": 1, "title": "Changed"},
            ),
            row("POST /api/v1/proposals/{proposal_id}/publish"),
            row("POST /api/v1/proposals/{proposal_id}/withdraw"),
            row("POST /api/v1/proposals/{proposal_id}/coauthors", json={"username": "fan"}),
            row("DELETE /api/v1/proposals/{proposal_id}/coauthors/{username}", username="helper"),
            row("PATCH /api/v1/comments/{comment_id}", json={"body": "Changed"}),
            row("DELETE /api/v1/comments/{comment_id}"),
            row(
                "POST /api/v1/communities/{slug}/appeals",
                json={"comment": Ref("hidden_comment"), "message": "Please."},
            ),
        ],
    ),
]

#: Rows by route, in table order.
ROWS: dict[str, list[tuple[Rule, Row]]] = {}
for _rule in RULES:
    for _row in _rule.rows:
        ROWS.setdefault(_row.route, []).append((_rule, _row))


def app_routes() -> set[str]:
    """Every route of the app as "METHOD /path" (HEAD goes with GET; a mount is a GET)."""
    from tests.conftest import make_settings

    app = create_app(make_settings("sqlite://"))
    found: set[str] = set()
    for route in fastapi.routing.iter_route_contexts(app.routes):
        path = getattr(route, "path", None)
        if path is None:
            continue
        methods = getattr(route, "methods", None) or {"GET"}
        found.update(f"{method} {path}" for method in methods - {"HEAD"})
    return found


def test_every_route_of_the_app_has_a_row():
    missing = sorted(app_routes() - set(ROWS))
    assert not missing, "routes without a row in the authorization matrix:\n" + "\n".join(missing)


def test_every_row_is_a_route_of_the_app():
    stale = sorted(set(ROWS) - app_routes())
    assert not stale, "rows for routes the app no longer has:\n" + "\n".join(stale)


@pytest.fixture(scope="module")
def matrix(engine: Engine, database_url: str) -> Iterator[tuple[TestClient, Connection, World]]:
    with world_client(engine, matrix_settings(database_url)) as built:
        yield built


def _cases() -> list[Any]:
    return [
        pytest.param(
            rule, entry, id=f"{entry.route}{' [' + entry.label + ']' if entry.label else ''}"
        )
        for rule in RULES
        for entry in rule.rows
    ]


@pytest.mark.parametrize(("rule", "entry"), _cases())
def test_each_role_gets_the_answer_of_the_rule(matrix, rule: Rule, entry: Row):
    """Each role's answer is the rule's; and what a role reads holds no secret of the world
    it may not read (a draft's title, a hidden comment, a private warning, ...)."""
    client, connection, world = matrix
    wrong = {}
    for role in ROLES:
        response = send(client, connection, world, role, entry.call)
        got = outcome_of(response)
        if got != rule.expect[role]:
            wrong[role] = f"{got} ({response.status_code}), expected {rule.expect[role]}"
        if not entry.call.is_unsafe:
            leaked = [
                s for s, readers in SECRETS.items() if role not in readers and s in response.text
            ]
            if leaked:
                wrong[role] = f"reads {leaked}"
    assert not wrong, f"{rule.title}: {entry.call.method} {entry.call.url}: {wrong}"


def _unsafe_calls() -> list[Call]:
    return [entry.call for rule in RULES for entry in rule.rows if entry.call.is_unsafe]


def test_a_moderator_of_another_community_cannot_act_here_through_their_own(matrix):
    """The writes that name an object of "miku" (in the address or the body), addressed
    through "kaito", which other_moderator moderates: none may succeed."""
    client, connection, world = matrix
    succeeded = []
    crossed_count = 0
    for call in _unsafe_calls():
        if "{slug}" not in call.url:
            continue
        crossed = cross_slug(call)
        body = {**(call.form or {}), **(call.json if isinstance(call.json, dict) else {})}
        names_an_object = crossed.url.count("{") > 1 or any(
            isinstance(value, Ref) or "{" in str(value) for value in body.values()
        )
        if not names_an_object:
            continue  # a write to the community itself: theirs to make in their own
        crossed_count += 1
        response = send(client, connection, world, "other_moderator", crossed)
        if outcome_of(response) not in (HIDDEN, DENIED, REFUSED):
            succeeded.append(f"{call.method} {crossed.url}: {response.status_code}")
    assert crossed_count > 50
    assert not succeeded


def test_objects_are_found_under_their_own_parent_only(matrix):
    """A comment, exhibit or objection addressed under another proposal or poll than its
    own is not there, even for a moderator (or the other poll's state refuses first)."""
    client, connection, world = matrix
    found = []
    for rule in RULES:
        for entry in rule.rows:
            call = entry.call
            moved = None
            if "/proposals/{published}/" in call.url and any(
                part in call.url for part in ("{comment}", "{hidden_comment}", "{exhibit}")
            ):
                moved = replace(call, url=call.url.replace("{published}", "{voting}"))
            elif "/polls/{poll}/objections/" in call.url:
                moved = replace(call, url=call.url.replace("{poll}", "{passed_poll}"))
            if moved is None:
                continue
            response = send(client, connection, world, "moderator", moved)
            if outcome_of(response) not in (HIDDEN, REFUSED):
                found.append(f"{moved.method} {moved.url}: {response.status_code}")
    assert not found


def test_the_secrets_are_there_for_who_may_read_them(matrix):
    """The leak check of the matrix looks for text that is really there: the moderators read
    each secret they may read somewhere."""
    client, connection, world = matrix
    pages = [
        "/api/v1/comments/{hidden_comment}",
        "/api/v1/works/{hidden_work}",
        "/api/v1/communities/{slug}/members/{helper}/moderation",
        "/api/v1/appeals/{appeal}",
    ]
    seen = "".join(
        send(client, connection, world, "moderator", Call("GET", page)).text for page in pages
    )
    for secret, readers in SECRETS.items():
        assert ("moderator" in readers) == (secret in seen), secret


def test_a_read_only_token_writes_nothing(matrix):
    """Every write of the API, with the moderator's read-scope token: 403, whatever it is."""
    client, connection, world = matrix
    bearer = {"Authorization": "Bearer {read_only_token}"}
    wrote = []
    for call in _unsafe_calls():
        if not call.is_api:
            continue
        with_token = replace(call, headers={**(call.headers or {}), **bearer})
        response = send(client, connection, world, "anonymous", with_token, csrf="missing")
        if response.status_code != 403 or "read" not in response.json()["error"]["message"]:
            wrote.append(f"{call.method} {call.url}: {response.status_code}")
    assert not wrote
