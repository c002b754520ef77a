"""A member's export and account deletion through the profile page and `/api/v1/me`."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import service as accounts_service
from app.accounts.models import User
from app.communities.models import Role
from app.db import utcnow
from app.discussion import service as discussion_service
from tests.conftest import csrf_token, log_in, post_form
from tests.factories import PASSWORD, add_member, make_community, make_user
from tests.unit.discussion.conftest import make_proposal


def bearer(db: Session, user: User, scope: str = "write") -> dict[str, str]:
    _, plain = accounts_service.create_token(
        db, actor=user, name=f"t-{scope}", scope=scope, now=utcnow()
    )
    return {"Authorization": f"Bearer {plain}"}


def setting(db: Session):
    """A community with a moderator and a member who commented on a proposal."""
    community = make_community(db, "miku")
    moderator, member = make_user(db, "mod_rin"), make_user(db, "fan_luka")
    add_member(db, community, moderator, Role.moderator)
    add_member(db, community, member)
    proposal = make_proposal(db, community, moderator)
    discussion_service.post_comment(
        db,
        actor=member,
        proposal=proposal,
        draft=discussion_service.CommentDraft(body="Luka's considered view."),
        now=utcnow(),
    )
    return community, moderator, member, proposal


def test_the_profile_offers_the_download_and_the_deletion(client, db):
    _, _, member, _ = setting(db)
    log_in(client, member.username)

    page = client.get("/profile").text

    assert 'href="/profile/export"' in page
    assert 'action="/profile/delete"' in page
    assert "only moderator" not in page


def test_the_download_is_the_members_data_as_json(client, db):
    _, _, member, _ = setting(db)
    log_in(client, member.username)

    response = client.get("/profile/export")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["content-disposition"].startswith(
        'attachment; filename="normsforum-fan_luka-'
    )
    data = response.json()
    assert data["account"]["username"] == "fan_luka"
    assert [c["body"] for c in data["comments"]] == ["Luka's considered view."]
    assert "password_hash" not in json.dumps(data)


def test_the_api_export_needs_a_sign_in_and_answers_the_same(client, db):
    _, _, member, _ = setting(db)
    assert client.get("/api/v1/me/export").status_code == 401

    response = client.get("/api/v1/me/export", headers=bearer(db, member, "read"))

    assert response.status_code == 200, response.text
    assert response.json()["comments"][0]["body"] == "Luka's considered view."
    assert "attachment" in response.headers["content-disposition"]


def test_deleting_from_the_profile_signs_out_and_keeps_the_comment(client, db):
    _, _, member, proposal = setting(db)
    log_in(client, member.username)

    response = post_form(client, "/profile/delete", {"password": PASSWORD})

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    db.expire_all()
    assert member.is_deleted
    # Signed out: the profile asks for a sign-in again.
    assert client.get("/profile").status_code == 303
    client.get(f"/c/miku/proposals/{proposal.id}")  # shows the pending messages
    thread = client.get(f"/c/miku/proposals/{proposal.id}").text
    assert "Luka&#39;s considered view." in thread or "Luka's considered view." in thread
    assert "[deleted user]" in thread
    assert "fan_luka" not in thread
    # Nobody can sign in as them, and their page is gone.
    failed = post_form(client, "/login", {"login": "fan_luka", "password": PASSWORD})
    assert failed.status_code == 400
    assert client.get("/u/fan_luka").status_code == 404
    assert client.get(f"/u/{member.username}").status_code == 404


def test_a_wrong_password_shows_the_form_again(client, db):
    _, _, member, _ = setting(db)
    log_in(client, member.username)

    response = post_form(client, "/profile/delete", {"password": "nope"})

    assert response.status_code == 422
    assert "This is not your password." in response.text
    assert "<details open>" in response.text
    db.expire_all()
    assert not member.is_deleted


def test_the_only_moderator_is_told_and_refused(client, db):
    community, moderator, _, _ = setting(db)
    log_in(client, moderator.username)

    page = client.get("/profile").text
    refused = post_form(client, "/profile/delete", {"password": PASSWORD})

    assert "You are the only moderator of" in page
    assert community.name in page
    assert refused.status_code == 409
    assert "Make another member a moderator first" in refused.text
    db.expire_all()
    assert not moderator.is_deleted


def test_an_account_without_a_password_confirms_with_its_username(client, db):
    _, _, member, _ = setting(db)
    log_in(client, member.username)
    member.password_hash = None
    db.flush()

    page = client.get("/profile").text
    wrong = post_form(client, "/profile/delete", {"confirm": "someone"})
    right = post_form(client, "/profile/delete", {"confirm": "fan_luka"})

    assert "Type your username, fan_luka, to confirm" in page
    assert wrong.status_code == 422
    assert right.status_code == 303
    db.expire_all()
    assert member.is_deleted


def test_the_api_deletes_the_account_and_its_token_stops_working(client, db):
    _, _, member, _ = setting(db)
    headers = bearer(db, member)

    wrong = client.post("/api/v1/me/deletion", json={"password": "nope"}, headers=headers)
    right = client.post("/api/v1/me/deletion", json={"password": PASSWORD}, headers=headers)

    assert wrong.status_code == 422
    assert wrong.json()["error"]["fields"] == {"password": "This is not your password."}
    assert right.status_code == 200, right.text
    assert right.json()["shown_as"] == "[deleted user]"
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_the_api_refuses_the_only_moderator(client, db):
    _, moderator, _, _ = setting(db)

    response = client.post(
        "/api/v1/me/deletion", json={"password": PASSWORD}, headers=bearer(db, moderator)
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


def test_a_cookie_deletion_needs_the_csrf_token(client, db):
    _, _, member, _ = setting(db)
    log_in(client, member.username)

    bare = client.post("/api/v1/me/deletion", json={"password": PASSWORD})
    sent = client.post(
        "/api/v1/me/deletion",
        json={"password": PASSWORD},
        headers={"X-CSRF-Token": csrf_token(client)},
    )

    assert bare.status_code == 403
    assert sent.status_code == 200


def test_nobody_registers_a_placeholder_name(client, db):
    response = post_form(
        client,
        "/register",
        {
            "username": "deleted-0a1b2c3d4e5f",
            "display_name": "Sneaky",
            "email": "sneaky@example.org",
            "password": "a long and unusual passphrase",
        },
    )

    assert response.status_code == 422
    assert "reserved" in response.text
    assert db.scalar(select(User).where(User.email == "sneaky@example.org")) is None
