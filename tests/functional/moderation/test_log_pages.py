"""The public moderation log, as a page and through the API: every action with who, when
and why; never who flagged, what a warning said or what an appeal argued."""

from __future__ import annotations

from html import unescape

from sqlalchemy import select

from app.communities import moderation_log
from app.communities import service as communities_service
from app.communities.models import LogAction, ModerationLogEntry
from app.db import utcnow
from app.moderation import appeals, members, service

API = "/api/v1/communities/miku/moderation-log"


def busy_day(db, cast) -> None:
    """A flag, a hide, a warning, a suspension and an appeal denied: all of it logged."""
    service.flag_comment(
        db, actor=cast.fans[0], comment=cast.comment, reason="Flagger's secret", now=utcnow()
    )
    service.resolve(
        db,
        actor=cast.moderator,
        community=cast.community,
        comment=cast.comment,
        action="hide",
        reason="Insults artists",
        now=utcnow(),
    )
    members.warn(
        db,
        actor=cast.moderator,
        community=cast.community,
        username="fan_kaito",
        message="The warning's private text",
        reason="Tone",
        now=utcnow(),
    )
    suspension = members.suspend(
        db,
        actor=cast.moderator,
        community=cast.community,
        username="fan_meiko",
        days=3,
        reason="Spam links",
        now=utcnow(),
    )
    appeal = appeals.appeal(
        db,
        actor=cast.fans[2],
        community=cast.community,
        suspension=suspension,
        message="The appeal's private message",
        now=utcnow(),
    )
    appeals.decide(
        db, actor=cast.moderator, appeal=appeal, decision="deny", reason="Three links", now=utcnow()
    )
    communities_service.change_role(
        db,
        actor=cast.moderator,
        community=cast.community,
        username="fan_meiko",
        role="creator",
        reason="Publishes covers",
        now=utcnow(),
    )


def test_the_log_page_is_public_and_linked(client, db, cast):
    busy_day(db, cast)
    assert 'href="/c/miku/moderation-log"' in client.get("/c/miku").text
    page = client.get("/c/miku/moderation-log")
    assert page.status_code == 200
    text = unescape(page.text)
    for expected in (
        "Rin Moderator",
        "hid a comment",
        "Insults artists",
        "warned a member",
        "Tone",
        "suspended a member",
        "Fan meiko",
        "Spam links",
        "denied an appeal",
        "Three links",
        "changed a member's role",
        "fan → creator",
        "Publishes covers",
    ):
        assert expected in text, expected
    for secret in (
        "Flagger's secret",
        "The warning's private text",
        "The appeal's private message",
        "Fan luka",  # who flagged
        "Fan kaito",  # who was warned
        "Len Member",  # whose comment was hidden
    ):
        assert secret not in text, secret
    assert f'href="/c/miku/proposals/{cast.proposal.id}/comments/{cast.comment.id}"' in page.text


def test_the_log_pages_and_filters(client, db, cast):
    for n in range(60):
        moderation_log.record(
            db,
            community=cast.community,
            action=LogAction.proposal_locked,
            actor=cast.moderator,
            now=utcnow(),
            reason=f"Entry {n}",
            proposal_id=cast.proposal.id,
        )
    first = client.get("/c/miku/moderation-log").text
    assert "Entry 59" in first
    assert "Entry 9<" not in first
    assert "Older entries" in first
    filtered = client.get("/c/miku/moderation-log", params={"action": "member_warned"}).text
    assert "No moderator action of this kind yet." in filtered
    for bad in ({"action": "nonsense"}, {"cursor": "zz"}, {"action": "a\x00"}):
        response = client.get("/c/miku/moderation-log", params=bad)
        assert response.status_code == 200
        assert "flash-error" in response.text
    assert client.get("/c/nowhere/moderation-log").status_code == 404


def test_the_log_through_the_api(client, db, cast):
    busy_day(db, cast)
    response = client.get(API)
    assert response.status_code == 200
    body = response.json()
    actions = [item["action"] for item in body["items"]]
    assert actions == [
        "role_changed",
        "appeal_denied",
        "member_suspended",
        "member_warned",
        "comment_hidden",
    ]
    by_action = {item["action"]: item for item in body["items"]}
    hidden = by_action["comment_hidden"]
    assert hidden["moderator"] == "mod_rin"
    assert hidden["member"] is None
    assert hidden["comment"]["url"] == (
        f"/c/miku/proposals/{cast.proposal.id}/comments/{cast.comment.id}"
    )
    assert hidden["proposal"]["title"] == cast.proposal.title
    assert hidden["summary"] == "hid a comment"
    assert by_action["member_warned"]["member"] is None
    assert by_action["member_suspended"]["member"] == "fan_meiko"
    assert by_action["appeal_denied"]["member"] == "fan_meiko"
    assert by_action["role_changed"]["detail"] == "fan → creator"
    assert "private" not in response.text
    assert "Flagger" not in response.text


def test_the_api_log_pages_by_key(client, db, cast):
    for n in range(5):
        moderation_log.record(
            db,
            community=cast.community,
            action=LogAction.work_hidden,
            actor=cast.moderator,
            now=utcnow(),
            reason=f"#{n}",
            work_id=cast.work.id,
        )
    first = client.get(API, params={"limit": 2}).json()
    assert [i["reason"] for i in first["items"]] == ["#4", "#3"]
    assert first["items"][0]["work"]["title"] == "Rin's Dance"
    second = client.get(API, params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [i["reason"] for i in second["items"]] == ["#2", "#1"]
    only = client.get(API, params={"action": "work_hidden", "limit": 100}).json()
    assert len(only["items"]) == 5
    for bad in ({"cursor": "zz"}, {"action": "nonsense"}, {"limit": 0}, {"limit": 101}):
        response = client.get(API, params=bad)
        assert response.status_code == 422, bad
        assert response.json()["error"]["code"] == "validation_failed"
    assert client.get("/api/v1/communities/nowhere/moderation-log").status_code == 404
    assert db.scalar(select(ModerationLogEntry.id).limit(1)) is not None
