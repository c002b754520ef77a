"""Whatever is typed or forged into the moderation pages and API is an answer, never a 500:
NUL characters (which PostgreSQL refuses), huge numbers, strange names and cursors."""

from __future__ import annotations

import pytest

from app.db import utcnow
from app.discussion import service as discussion_service
from tests.conftest import log_in, post_form

NUL = "a\x00b"
HUGE = str(2**70)


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/c/miku/moderation/members/fan_luka/warn", {"message": NUL, "reason": NUL}),
        ("/c/miku/moderation/members/fan_luka/suspend", {"days": NUL, "reason": NUL}),
        ("/c/miku/moderation/members/fan_luka/suspend", {"days": HUGE, "reason": "x"}),
        ("/c/miku/moderation/members/fan_luka/lift", {"reason": NUL}),
        ("/c/miku/moderation/members/a%00b/warn", {"message": "x"}),
        ("/c/miku/moderation/comments/1/restore", {"reason": NUL}),
        (f"/c/miku/moderation/comments/{HUGE}/restore", {}),
        (f"/c/miku/moderation/works/{HUGE}/restore", {}),
        (f"/c/miku/moderation/proposals/{HUGE}", {"action": "lock"}),
        ("/c/miku/moderation/proposals/1/lock", {"lock": NUL, "reason": NUL, "key": NUL}),
        (f"/c/miku/moderation/appeals/{HUGE}", {"decision": "grant", "reason": "x"}),
        ("/c/miku/moderation/appeals/1", {"decision": NUL, "reason": NUL}),
        ("/c/miku/moderation/mine/appeals", {"kind": "comment", "target": HUGE, "message": "x"}),
        ("/c/miku/moderation/mine/appeals", {"kind": NUL, "target": NUL, "message": NUL}),
        (f"/warnings/{HUGE}/acknowledge", {"next": NUL}),
        ("/warnings/1/acknowledge", {"next": "//evil.example"}),
        ("/c/a%00b/moderation-log", {}),
    ],
)
def test_forms_never_fail(client, db, cast, path, data):
    discussion_service.hide_comment(
        db, actor=cast.moderator, comment=cast.comment, reason="x", now=utcnow()
    )
    log_in(client, "mod_rin")
    response = post_form(client, path, data)
    assert response.status_code < 500, (path, response.text[:300])


@pytest.mark.parametrize(
    "params",
    [
        {"action": NUL},
        {"cursor": NUL},
        {"cursor": "WyJ4Il0"},
        {"cursor": "W" * 60},
        {"action": "x" * 1000},
    ],
)
def test_the_log_never_fails(client, cast, params):
    assert client.get("/c/miku/moderation-log", params=params).status_code == 200
    assert client.get("/api/v1/communities/miku/moderation-log", params=params).status_code == 422


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/communities/miku/members/fan_luka/warnings", {"message": NUL}),
        ("POST", "/api/v1/communities/miku/members/a%00b/warnings", {"message": "x"}),
        (
            "POST",
            "/api/v1/communities/miku/members/fan_luka/suspension",
            {"days": 2**70, "reason": "x"},
        ),
        (
            "POST",
            "/api/v1/communities/miku/members/fan_luka/suspension",
            {"days": 2, "reason": NUL},
        ),
        ("POST", "/api/v1/communities/miku/appeals", {"comment": 2**70, "message": "x"}),
        ("POST", "/api/v1/communities/miku/appeals", {"suspension": 1, "message": NUL}),
        ("POST", "/api/v1/communities/miku/flags/resolve", {"proposal": 2**70, "action": "lock"}),
        ("POST", "/api/v1/communities/miku/moderation/restore", {"work": -1}),
        ("POST", f"/api/v1/appeals/{HUGE}/decision", {"decision": "grant", "reason": "x"}),
        ("POST", f"/api/v1/warnings/{HUGE}/acknowledge", None),
        ("GET", f"/api/v1/appeals/{HUGE}", None),
        ("GET", "/api/v1/communities/miku/appeals?cursor=zz", None),
        ("POST", f"/api/v1/proposals/{HUGE}/flags", {"reason": "x"}),
        ("POST", "/api/v1/works/1/hide", {"reason": NUL}),
    ],
)
def test_the_api_never_fails(client, cast, bearer, method, path, body):
    response = client.request(method, path, json=body, headers=bearer(cast.moderator))
    assert 400 <= response.status_code < 500, (path, response.text[:300])
    assert set(response.json()) == {"error"}
