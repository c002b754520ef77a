"""The proposals JSON API: publish, withdraw, lock, co-authors, follow, revisions and diffs."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from app.db import utcnow
from app.proposals import service
from app.proposals.models import Proposal, ProposalState
from tests.functional.api.helpers import assert_error


def url(proposal: Proposal, suffix: str = "") -> str:
    return f"/api/v1/proposals/{proposal.id}{suffix}"


def state_of(db: Session, proposal: Proposal) -> ProposalState:
    db.expire_all()
    fresh = db.get(Proposal, proposal.id)
    assert fresh is not None
    return fresh.state


# Publish and withdraw


def test_the_author_publishes(client, db, cast, draft, bearer):
    proposal = draft()

    response = client.post(url(proposal, "/publish"), headers=bearer(cast.author))

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["state"] == "deliberation"
    assert body["published_at"] is not None
    assert body["voting_may_open_at"] is not None
    assert client.get(url(proposal)).status_code == 200


def test_publish_refusals(client, db, cast, draft, bearer):
    published = draft(publish=True)
    error = assert_error(
        client.post(url(published, "/publish"), headers=bearer(cast.author)), 409, "conflict"
    )
    assert "deliberation" in error["message"]

    empty = draft(norm_text="")
    error = assert_error(
        client.post(url(empty, "/publish"), headers=bearer(cast.author)), 422, "validation_failed"
    )
    assert "norm_text" in error["fields"]

    secret = draft()
    assert_error(client.post(url(secret, "/publish"), headers=bearer(cast.fan)), 404, "not_found")
    assert_error(
        client.post(url(secret, "/publish"), headers=bearer(cast.author, "read")), 403, "forbidden"
    )
    assert state_of(db, secret) == ProposalState.draft


def test_the_author_withdraws_with_or_without_a_reason(client, db, cast, draft, bearer):
    first, second = draft(publish=True), draft()

    response = client.post(
        url(first, "/withdraw"), json={"reason": "Superseded."}, headers=bearer(cast.author)
    )
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "withdrawn"
    assert response.json()["withdrawn_at"] is not None

    response = client.post(url(second, "/withdraw"), headers=bearer(cast.author))
    assert response.status_code == 200, response.text
    assert state_of(db, second) == ProposalState.withdrawn

    # It stays readable, and it cannot be withdrawn twice.
    assert client.get(url(first)).json()["state"] == "withdrawn"
    assert_error(
        client.post(url(first, "/withdraw"), json={}, headers=bearer(cast.author)), 409, "conflict"
    )


def test_withdraw_refusals(client, db, cast, draft, bearer):
    proposal = draft(publish=True)
    service.add_coauthor(
        db, actor=cast.author, proposal=proposal, username="partner_meiko", now=utcnow()
    )
    for user in (cast.partner, cast.fan, cast.moderator):
        assert_error(
            client.post(url(proposal, "/withdraw"), json={}, headers=bearer(user)),
            403,
            "forbidden",
        )
    error = assert_error(
        client.post(
            url(proposal, "/withdraw"), json={"reason": "r" * 301}, headers=bearer(cast.author)
        ),
        422,
        "validation_failed",
    )
    assert "reason" in error["fields"]
    assert state_of(db, proposal) == ProposalState.deliberation


# Lock and unlock


def test_a_moderator_locks_with_a_reason_and_unlocks(client, db, cast, draft, bearer):
    proposal = draft(publish=True)
    headers = bearer(cast.moderator)

    error = assert_error(
        client.post(url(proposal, "/lock"), json={"reason": " "}, headers=headers),
        422,
        "validation_failed",
    )
    assert "reason" in error["fields"]

    response = client.post(url(proposal, "/lock"), json={"reason": "Cool off"}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["locked"] is True
    # Locked: the author's edits are refused.
    response = client.patch(
        url(proposal), json={"base_revision": 1, "title": "New title"}, headers=bearer(cast.author)
    )
    assert_error(response, 409, "conflict")

    response = client.post(url(proposal, "/unlock"), headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["locked"] is False


def test_fans_and_authors_cannot_lock(client, db, cast, draft, bearer):
    proposal = draft(publish=True)
    for user in (cast.fan, cast.author):
        assert_error(
            client.post(url(proposal, "/lock"), json={"reason": "Mine"}, headers=bearer(user)),
            403,
            "forbidden",
        )
        assert_error(
            client.post(url(proposal, "/unlock"), json={}, headers=bearer(user)), 403, "forbidden"
        )
    db.expire_all()
    assert db.get(Proposal, proposal.id).locked_at is None


# Co-authors


def test_the_author_adds_and_removes_co_authors(client, db, cast, draft, bearer):
    proposal = draft()
    headers = bearer(cast.author)

    response = client.post(
        url(proposal, "/coauthors"), json={"username": "partner_meiko"}, headers=headers
    )

    assert response.status_code == 201, response.text
    assert [(a["username"], a["role"]) for a in response.json()["authors"]] == [
        ("author_kaito", "author"),
        ("partner_meiko", "coauthor"),
    ]
    # The co-author now reads the draft, edits it, and follows it.
    assert client.get(url(proposal), headers=bearer(cast.partner, "read")).status_code == 200
    assert service.is_following(db, proposal, cast.partner)

    response = client.delete(url(proposal, "/coauthors/partner_meiko"), headers=headers)
    assert response.status_code == 200, response.text
    assert [a["username"] for a in response.json()["authors"]] == ["author_kaito"]
    assert_error(client.get(url(proposal), headers=bearer(cast.partner, "read")), 404, "not_found")


def test_a_co_author_steps_down(client, db, cast, draft, bearer):
    proposal = draft(publish=True)
    service.add_coauthor(
        db, actor=cast.author, proposal=proposal, username="partner_meiko", now=utcnow()
    )
    response = client.delete(
        url(proposal, "/coauthors/partner_meiko"), headers=bearer(cast.partner)
    )
    assert response.status_code == 200, response.text
    assert service.author_ids(db, proposal) == {cast.author.id}


@pytest.mark.parametrize(
    ("username", "problem"),
    [
        ("nobody_here", "There is no user called"),
        ("outsider", "is not a member of this community"),
        ("author_kaito", "is an author already"),
    ],
)
def test_inviting_unknown_users_or_non_members_is_a_422(
    client, db, cast, draft, bearer, username, problem
):
    proposal = draft()
    response = client.post(
        url(proposal, "/coauthors"), json={"username": username}, headers=bearer(cast.author)
    )
    error = assert_error(response, 422, "validation_failed")
    assert problem in error["fields"]["username"]


def test_co_author_refusals(client, db, cast, draft, bearer):
    proposal = draft(publish=True)
    service.add_coauthor(
        db, actor=cast.author, proposal=proposal, username="partner_meiko", now=utcnow()
    )
    # Only the author invites; others may not remove a co-author.
    assert_error(
        client.post(
            url(proposal, "/coauthors"), json={"username": "fan_luka"}, headers=bearer(cast.partner)
        ),
        403,
        "forbidden",
    )
    assert_error(
        client.delete(url(proposal, "/coauthors/partner_meiko"), headers=bearer(cast.fan)),
        403,
        "forbidden",
    )
    assert_error(
        client.delete(url(proposal, "/coauthors/fan_luka"), headers=bearer(cast.author)),
        404,
        "not_found",
    )
    assert_error(
        client.delete(url(proposal, "/coauthors/nobody_here"), headers=bearer(cast.author)),
        404,
        "not_found",
    )
    assert service.author_ids(db, proposal) == {cast.author.id, cast.partner.id}


# Follow


def test_follow_and_unfollow(client, db, cast, draft, bearer):
    proposal = draft(publish=True)
    headers = bearer(cast.fan)

    response = client.put(url(proposal, "/follow"), headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"following": True, "followers": 2}
    # Idempotent.
    assert client.put(url(proposal, "/follow"), headers=headers).json() == {
        "following": True,
        "followers": 2,
    }

    response = client.delete(url(proposal, "/follow"), headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"following": False, "followers": 1}
    assert client.delete(url(proposal, "/follow"), headers=headers).json()["followers"] == 1


def test_follow_refusals(client, cast, draft, bearer):
    secret = draft()
    assert_error(client.put(url(secret, "/follow"), headers=bearer(cast.fan)), 404, "not_found")
    published = draft(publish=True)
    assert_error(
        client.put(url(published, "/follow"), headers=bearer(cast.fan, "read")), 403, "forbidden"
    )
    assert_error(
        client.put("/api/v1/proposals/55555/follow", headers=bearer(cast.fan)), 404, "not_found"
    )


# Revisions and diffs


@pytest.fixture
def revised(db, cast, draft):
    proposal = draft(publish=True, norm_text="Fan art is welcome.")
    service.edit_proposal(
        db,
        actor=cast.author,
        proposal=proposal,
        base_revision=1,
        values=service.ProposalDraft(
            title="A better title",
            summary=proposal.summary,
            rationale=proposal.rationale,
            norm_text="Fan art is welcome when credited.",
            category=cast.rules.slug,
        ),
        message="Ask for credit",
        now=utcnow(),
    )
    return proposal


def test_revisions_newest_first(client, revised):
    response = client.get(url(revised, "/revisions"))
    assert response.status_code == 200
    items = response.json()["items"]
    assert [r["number"] for r in items] == [2, 1]
    assert items[0]["norm_text"] == "Fan art is welcome when credited."
    assert items[0]["message"] == "Ask for credit"
    assert items[0]["author"] == "author_kaito"
    assert items[1]["norm_text"] == "Fan art is welcome."


def test_a_word_diff_between_two_revisions(client, revised):
    response = client.get(url(revised, "/diff"), params={"from": 1, "to": 2})

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["from_revision"], body["to_revision"]) == (1, 2)
    fields = {f["field"]: f for f in body["fields"]}
    assert set(fields) == {"title", "summary", "norm_text", "rationale"}
    assert fields["summary"]["changed"] is False
    assert fields["summary"]["pieces"] == [{"op": "equal", "text": revised.summary}]
    norm = fields["norm_text"]
    assert norm["changed"] is True
    assert norm["pieces"] == [
        {"op": "equal", "text": "Fan art is welcome"},
        {"op": "insert", "text": " when credited"},
        {"op": "equal", "text": "."},
    ]
    assert {p["op"] for p in fields["title"]["pieces"]} >= {"delete", "insert"}
    back = client.get(url(revised, "/diff"), params={"from": 2, "to": 1}).json()
    ops = {f["field"]: [p["op"] for p in f["pieces"]] for f in back["fields"]}
    assert ops["norm_text"] == ["equal", "delete", "equal"]


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"from": 1, "to": 9}, 404, "not_found"),
        ({"from": 7, "to": 2}, 404, "not_found"),
        ({"from": 0, "to": 2}, 422, "validation_failed"),
        ({"from": "abc", "to": 2}, 422, "validation_failed"),
        ({"to": 2}, 422, "validation_failed"),
        ({"from": 1, "to": 99999999999999999999999}, 422, "validation_failed"),
    ],
)
def test_bad_diffs_are_json_errors(client, revised, params, status, code):
    assert_error(client.get(url(revised, "/diff"), params=params), status, code)


def test_revisions_and_diffs_of_someone_elses_draft_are_404(client, cast, draft, bearer):
    secret = draft()
    for suffix in ("/revisions", "/diff?from=1&to=1"):
        assert_error(client.get(url(secret, suffix)), 404, "not_found")
        assert_error(
            client.get(url(secret, suffix), headers=bearer(cast.fan, "read")), 404, "not_found"
        )
        assert (
            client.get(url(secret, suffix), headers=bearer(cast.author, "read")).status_code == 200
        )
