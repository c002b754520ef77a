"""CSRF, route by route: every state-changing route of the app refuses a cookie-authenticated
request without a valid token or from a foreign Origin.

The routes come from walking the app, each exercised with its row of the authorization matrix
by a role that row lets through: so the same request, with the token and from the site's own
origin, is shown to succeed, and without them to be refused before anything happens. (The
mechanics of the token — the cookie, the HMAC, header or form field, lookalike origins — are
tested in tests/functional/web/test_csrf.py.)
"""

from __future__ import annotations

from collections.abc import Iterator

import fastapi.routing
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine

from app.main import create_app
from app.web.cookies import SAFE_METHODS
from tests.conftest import make_settings
from tests.security.test_authorization_matrix import ROWS, Row
from tests.security.world import (
    API,
    OK,
    REFUSED,
    ROLES,
    Answer,
    Outcome,
    World,
    matrix_settings,
    outcome_of,
    send,
    world_client,
)

FOREIGN = "https://evil.example"
SAME_SITE = "http://testserver"
TOKEN_REFUSED = "The form expired or was sent from elsewhere"
ORIGIN_REFUSED = "This request came from another site"

#: State-changing routes that take no CSRF token, and why that is safe.
EXEMPT = {
    "POST /notifications/unsubscribe/{token}": (
        "RFC 8058 one-click unsubscribe: mail programs post with no cookie and no form token; "
        "the token signed into the address is the only authority, and it can only stop mail"
    ),
}


def unsafe_routes() -> list[str]:
    """Every state-changing route of the app, as "METHOD /path"."""
    app = create_app(make_settings("sqlite://"))
    found = set()
    for route in fastapi.routing.iter_route_contexts(app.routes):
        for method in getattr(route, "methods", None) or ():
            if method not in SAFE_METHODS:
                found.add(f"{method} {route.path}")
    return sorted(found)


def html_routes() -> list[str]:
    return [r for r in unsafe_routes() if not r.split(" ", 1)[1].startswith(API)]


def api_routes() -> list[str]:
    return [r for r in unsafe_routes() if r.split(" ", 1)[1].startswith(API)]


def accepted(route: str) -> tuple[Row, str, Outcome | None]:
    """The route's matrix row, who sends it and the answer the row expects: a role that row
    lets through, else one the state refuses (authorization let them through), else the
    objects' author (whatever the state answers them)."""
    for wanted in (OK, REFUSED):
        for rule, entry in ROWS[route]:
            for role in ROLES[1:]:
                if rule.expect[role] == wanted:
                    return entry, role, wanted
    return ROWS[route][0][1], "author", None


def passed_csrf(answer: Answer, expected: Outcome | None) -> bool:
    """Whether a request with a valid token got the answer its row expects (any answer but
    a CSRF refusal or a failure, for the author)."""
    if expected is not None:
        return outcome_of(answer) == expected
    return not refused_for_csrf(answer) and outcome_of(answer) != Outcome.BROKEN


def refused_for_csrf(answer: Answer) -> bool:
    return answer.status_code == 403 and (
        TOKEN_REFUSED in answer.text or ORIGIN_REFUSED in answer.text
    )


@pytest.fixture(scope="module")
def csrf_world(engine: Engine, database_url: str) -> Iterator[tuple[TestClient, Connection, World]]:
    with world_client(engine, matrix_settings(database_url)) as built:
        yield built


def test_the_walk_finds_the_forms_and_every_one_has_a_row():
    routes = html_routes()
    assert "POST /profile" in routes
    assert "POST /c/{slug}/polls/{poll_id}/ballot" in routes
    assert len(routes) > 60
    assert set(EXEMPT) <= set(routes)
    assert [r for r in routes if r not in ROWS] == []


@pytest.mark.parametrize("route", [r for r in html_routes() if r not in EXEMPT])
def test_every_form_refuses_a_missing_or_wrong_token_and_a_foreign_origin(csrf_world, route):
    client, connection, world = csrf_world
    entry, role, expected = accepted(route)

    missing = send(client, connection, world, role, entry.call, csrf="missing")
    wrong = send(client, connection, world, role, entry.call, csrf="wrong")
    foreign = send(client, connection, world, role, entry.call, origin=FOREIGN)
    control = send(client, connection, world, role, entry.call, origin=SAME_SITE)

    for answer in (missing, wrong):
        assert answer.status_code == 403, (route, role, answer.status_code)
        assert TOKEN_REFUSED in answer.text
    assert foreign.status_code == 403, (route, role, foreign.status_code)
    assert ORIGIN_REFUSED in foreign.text
    # The same request with the token, from the site itself, gets through.
    assert passed_csrf(control, expected), (route, role, control.status_code)


@pytest.mark.parametrize("route", sorted(EXEMPT))
def test_the_exempt_routes_work_without_a_token(csrf_world, route):
    client, connection, world = csrf_world
    entry, role, _ = accepted(route)
    for sender in ("anonymous", role):
        answer = send(client, connection, world, sender, entry.call, csrf="missing", origin=FOREIGN)
        assert outcome_of(answer) == OK, (route, sender, answer.status_code)


def test_every_cookie_authenticated_api_write_needs_the_header(csrf_world):
    """The JSON API: a browser session without `X-CSRF-Token`, with a wrong one, or from a
    foreign Origin is refused on every write; the same request with it succeeds."""
    client, connection, world = csrf_world
    failures = []
    routes = api_routes()
    for route in routes:
        entry, role, expected = accepted(route)
        answers = {
            "missing": send(client, connection, world, role, entry.call, csrf="missing"),
            "wrong": send(client, connection, world, role, entry.call, csrf="wrong"),
            "foreign": send(client, connection, world, role, entry.call, origin=FOREIGN),
        }
        for name, answer in answers.items():
            if answer.status_code != 403 or answer.json()["error"]["code"] != "forbidden":
                failures.append(f"{route} ({name}): {answer.status_code}")
        control = send(client, connection, world, role, entry.call, origin=SAME_SITE)
        if not passed_csrf(control, expected):
            failures.append(f"{route} (valid): {control.status_code}")
    assert len(routes) > 40
    assert not failures
