"""A suspended member is refused on every write path, through the pages and the API alike;
reading, leaving, appealing and acknowledging stay open to them.

The write paths, each refused with "You are suspended in this community until …":
comments (post, reply, edit), proposals (create, edit, amend, publish, invite co-authors),
exhibits (attach, remove), works (register, edit, upload and remove a preview), polls (open,
cast a ballot), flags (comments, works, proposals), ratification and return (as a rights
holder), and joining the community again after leaving it.
"""

from __future__ import annotations

from collections.abc import Callable
from html import unescape
from typing import Any

import pytest
from sqlalchemy import func, select

from app.communities.models import Membership
from app.db import utcnow
from app.discussion.models import Comment
from app.moderation import members
from app.moderation.models import Flag
from app.proposals.models import Proposal
from app.works.models import Work
from tests.conftest import log_in, post_form
from tests.functional.moderation.conftest import Stage
from tests.support.images import image_bytes

SUSPENDED = "You are suspended in this community until"


def suspend(db, stage: Stage) -> None:
    members.suspend(
        db,
        actor=stage.cast.moderator,
        community=stage.cast.community,
        username=stage.member.username,
        days=7,
        reason="Spam links",
        now=utcnow(),
    )


def counts(db) -> dict[str, int]:
    return {
        name: db.scalar(select(func.count(model.id))) or 0
        for name, model in (
            ("comments", Comment),
            ("proposals", Proposal),
            ("works", Work),
            ("flags", Flag),
        )
    }


def api_paths(stage: Stage) -> list[tuple[str, str, dict[str, Any]]]:
    """Every write a member makes through the API, with a body the service would accept."""
    s, c = stage, stage.cast
    proposal = {"title": "A new norm", "norm_text": "Text.", "summary": "Why."}
    work = {
        "title": "New work",
        "creator_name": "Luka",
        "url": "https://e.org/w",
        "medium": "image",
    }
    return [
        ("POST", f"/api/v1/proposals/{c.proposal.id}/comments", {"json": {"body": "Hi"}}),
        (
            "POST",
            f"/api/v1/proposals/{c.proposal.id}/comments",
            {"json": {"body": "A reply", "parent": c.comment.id}},
        ),
        ("PATCH", f"/api/v1/comments/{s.own_comment.id}", {"json": {"body": "Edited"}}),
        ("POST", "/api/v1/communities/miku/proposals", {"json": proposal}),
        (
            "PATCH",
            f"/api/v1/proposals/{s.draft.id}",
            {"json": {"base_revision": 1, "title": "Changed title"}},
        ),
        ("POST", f"/api/v1/proposals/{s.draft.id}/publish", {}),
        ("POST", f"/api/v1/proposals/{s.draft.id}/coauthors", {"json": {"username": "fan_kaito"}}),
        (
            "POST",
            f"/api/v1/proposals/{s.own_proposal.id}/exhibits",
            {"json": {"work": s.own_work.id, "stance": "borderline"}},
        ),
        ("DELETE", f"/api/v1/proposals/{c.proposal.id}/exhibits/{s.exhibit.id}", {}),
        ("POST", "/api/v1/communities/miku/works", {"json": work}),
        ("PATCH", f"/api/v1/works/{s.own_work.id}", {"json": {"title": "Renamed"}}),
        (
            "PUT",
            f"/api/v1/works/{s.own_work.id}/preview",
            {"files": {"file": ("a.png", image_bytes(), "image/png")}},
        ),
        ("DELETE", f"/api/v1/works/{s.own_work.id}/preview", {}),
        ("POST", f"/api/v1/proposals/{s.own_proposal.id}/poll", {"json": {}}),
        ("PUT", f"/api/v1/polls/{s.poll.id}/ballot", {"json": {"position": "consent"}}),
        ("POST", f"/api/v1/comments/{c.comment.id}/flags", {"json": {"reason": "Rude"}}),
        ("POST", f"/api/v1/works/{c.work.id}/flags", {"json": {"reason": "Traced"}}),
        ("POST", f"/api/v1/proposals/{c.proposal.id}/flags", {"json": {"reason": "Off"}}),
        ("POST", f"/api/v1/proposals/{s.passed.id}/ratify", {"json": {"note": ""}}),
        ("POST", f"/api/v1/proposals/{s.passed.id}/return", {"json": {"reason": "Not yet"}}),
    ]


def page_paths(stage: Stage) -> list[tuple[str, dict[str, Any]]]:
    """Every write a member makes through the pages' forms."""
    s, c = stage, stage.cast
    base = "/c/miku"
    work = {
        "title": "New work",
        "creator_name": "Luka",
        "url": "https://e.org/w",
        "medium": "image",
    }
    return [
        (f"{base}/proposals/{c.proposal.id}/comments", {"data": {"body": "Hi"}}),
        (
            f"{base}/proposals/{c.proposal.id}/comments",
            {"data": {"body": "A reply", "parent": str(c.comment.id)}},
        ),
        (
            f"{base}/proposals/{c.proposal.id}/comments/{s.own_comment.id}/edit",
            {"data": {"body": "Edited"}},
        ),
        (f"{base}/proposals/new", {"data": {"title": "A new norm", "norm_text": "Text."}}),
        (
            f"{base}/proposals/{s.draft.id}/edit",
            {"data": {"title": "Changed title", "norm_text": "T", "base_revision": "1"}},
        ),
        (f"{base}/proposals/{s.draft.id}/publish", {}),
        (f"{base}/proposals/{s.draft.id}/coauthors", {"data": {"username": "fan_kaito"}}),
        (
            f"{base}/proposals/{s.own_proposal.id}/exhibits",
            {"data": {"work": str(s.own_work.id), "stance": "borderline"}},
        ),
        (f"{base}/proposals/{c.proposal.id}/exhibits/{s.exhibit.id}/remove", {}),
        (f"{base}/works/new", {"data": work}),
        (f"{base}/works/{s.own_work.id}/edit", {"data": {**work, "title": "Renamed"}}),
        (
            f"{base}/works/{s.own_work.id}/preview",
            {"files": {"file": ("a.png", image_bytes(), "image/png")}},
        ),
        (f"{base}/works/{s.own_work.id}/preview/remove", {}),
        (f"{base}/proposals/{s.own_proposal.id}/poll", {}),
        (f"{base}/polls/{s.poll.id}/ballot", {"data": {"position": "consent"}}),
        (
            f"{base}/proposals/{c.proposal.id}/comments/{c.comment.id}/flag",
            {"data": {"reason": "x"}},
        ),
        (f"{base}/works/{c.work.id}/flag", {"data": {"reason": "Traced"}}),
        (f"{base}/proposals/{c.proposal.id}/flag", {"data": {"reason": "Off"}}),
        (f"{base}/proposals/{s.passed.id}/ratify", {"data": {"note": ""}}),
        (f"{base}/proposals/{s.passed.id}/return", {"data": {"reason": "Not yet"}}),
    ]


def test_every_api_write_is_refused_with_the_suspension(client, db, stage, bearer):
    suspend(db, stage)
    headers = bearer(stage.member)
    before = counts(db)
    for method, path, kwargs in api_paths(stage):
        response = client.request(method, path, headers=headers, **kwargs)
        assert response.status_code == 403, (method, path, response.text)
        error = response.json()["error"]
        assert error["code"] == "suspended", (method, path)
        assert error["message"].startswith(SUSPENDED), (method, path)
    assert counts(db) == before


def refused_on_page(client, response) -> bool:
    """Refused with the suspension's message: as an error page, or back with an error flash."""
    if response.status_code == 403:
        return SUSPENDED in unescape(response.text)
    if response.status_code == 303:
        return SUSPENDED in unescape(client.get("/").text)
    return False


def test_every_page_write_is_refused_with_the_suspension(client, db, stage):
    suspend(db, stage)
    log_in(client, stage.member.username)  # the suspension ended the earlier sessions
    before = counts(db)
    for path, kwargs in page_paths(stage):
        response = post_form(client, path, **kwargs)
        assert refused_on_page(client, response), (path, response.status_code, response.text[:300])
    assert counts(db) == before


def test_joining_again_is_refused_on_both(client, db, stage, bearer):
    suspend(db, stage)
    headers = bearer(stage.member)
    assert client.post("/api/v1/communities/miku/leave", headers=headers).status_code == 204
    api = client.post("/api/v1/communities/miku/join", headers=headers)
    assert api.status_code == 403
    assert api.json()["error"]["code"] == "suspended"
    log_in(client, stage.member.username)
    page = post_form(client, "/c/miku/join")
    assert refused_on_page(client, page)
    assert (
        db.scalar(
            select(Membership.id).where(
                Membership.user_id == stage.member.id,
                Membership.community_id == stage.cast.community.id,
            )
        )
        is None
    )


def test_a_suspended_member_still_reads_and_may_appeal(client, db, stage, bearer):
    suspend(db, stage)
    log_in(client, stage.member.username)
    for path in (
        "/c/miku",
        f"/c/miku/proposals/{stage.cast.proposal.id}",
        "/c/miku/moderation-log",
        "/c/miku/moderation/mine",
    ):
        assert client.get(path).status_code == 200, path
    mine = client.get("/c/miku/moderation/mine").text
    assert "You are suspended until" in mine
    headers = bearer(stage.member)
    record = client.get("/api/v1/communities/miku/moderation/mine", headers=headers).json()
    response = client.post(
        "/api/v1/communities/miku/appeals",
        json={"suspension": record["suspensions"][0]["id"], "message": "I posted by mistake."},
        headers=headers,
    )
    assert response.status_code == 201, response.text


def test_the_suspension_ends_the_members_sessions(client, db, stage):
    log_in(client, stage.member.username)
    assert client.get("/c/miku/moderation/mine").status_code == 200
    suspend(db, stage)
    signed_out = client.get("/c/miku/moderation/mine")
    assert signed_out.status_code == 303
    assert signed_out.headers["location"].startswith("/login")


@pytest.mark.parametrize("who", ["other_fan", "moderator"])
def test_others_are_not_refused(client, db, stage, bearer, who: str):
    suspend(db, stage)
    actor = stage.cast.fans[1] if who == "other_fan" else stage.cast.moderator
    response = client.post(
        f"/api/v1/proposals/{stage.cast.proposal.id}/comments",
        json={"body": "Still talking"},
        headers=bearer(actor),
    )
    assert response.status_code == 201, response.text


WritePaths = Callable[[Stage], list[Any]]


def test_both_lists_cover_the_same_writes(stage):
    # A write path added to one list and not the other would leave a hole in one of them.
    assert len(api_paths(stage)) == len(page_paths(stage))
