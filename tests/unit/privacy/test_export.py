"""A member's export holds everything they wrote or that is about them, and no secret."""

from __future__ import annotations

import json

from app.db import utcnow
from app.privacy import export
from app.privacy.schemas import MemberExportOut
from tests.unit.polls.conftest import Town
from tests.unit.privacy.conftest import Life


def test_the_export_holds_what_they_wrote(db, town: Town, life: Life):
    data = export.export_member(db, life.person, now=utcnow())

    assert (data["format"], data["version"]) == ("normsforum-member-export", 1)
    account = data["account"]
    assert (account["username"], account["email"]) == (life.person.username, life.person.email)
    assert account["has_password"] is True
    assert data["communities"] == {str(town.community.id): town.community.slug}
    bodies = {c["body"] for c in data["comments"]}
    # Hidden ones too: it is their text.
    assert bodies == {"My second thought.", "I answer the fan.", "Something rude."}
    assert [v["body"] for v in data["comment_versions"]] == ["My first thought."]
    assert {p["title"] for p in data["proposals"]} >= {"Name the illustrator", "My private idea"}
    assert [r["number"] for r in data["revisions"] if r["proposal_id"] == life.ratified.id] == [
        1,
        2,
    ]
    assert {m["community_id"] for m in data["memberships"]} == {town.community.id}
    assert [w["title"] for w in data["works"]] == ["My remix"]
    assert [e["work_id"] for e in data["exhibits"]] == [life.work.id]
    assert [f["reason"] for f in data["flags"]] == ["Off topic, I think."]
    assert [t["name"] for t in data["access_tokens"]] == ["script"]
    assert [p["delivery"] for p in data["notification_preferences"]] == ["digest"]
    assert [c["credit"] for c in data["guideline_credits"]] == ["proposer"]
    # The language each was written in (the writer's interface language, English, here).
    for section in ("proposals", "comments", "works"):
        assert {row["language"] for row in data[section]} == {"en"}, section


def test_the_export_holds_their_ballots_in_anonymous_polls_too(db, life: Life):
    data = export.export_member(db, life.person, now=utcnow())

    ballots = {(b["poll_id"], b["position"], b["reason"]) for b in data["ballots"]}
    assert (life.anonymous_poll.id, "object", "A secret objection.") in ballots
    assert (life.closed_poll.id, "consent", "") in ballots
    assert {r["poll_id"] for r in data["poll_rolls"]} >= {
        life.closed_poll.id,
        life.anonymous_poll.id,
    }
    # The receipt proves a ballot in the published export of the poll.
    assert all(len(b["receipt"]) == 16 for b in data["ballots"])


def test_the_export_holds_nobody_elses_writing_and_no_secret(db, town: Town, life: Life):
    data = export.export_member(db, life.person, now=utcnow())
    text = json.dumps(data)

    assert "The fan's view." not in text
    assert life.person.password_hash is not None
    assert life.person.password_hash not in text
    assert life.token not in text
    assert "token_hash" not in text
    assert "password_hash" not in text
    # Others' ballots stay out, in anonymous polls above all.
    assert {b["voter_id"] for b in data["ballots"]} == {life.person.id}


def test_every_section_is_declared_in_the_api_schema(db, life: Life):
    data = export.export_member(db, life.person, now=utcnow())

    assert set(data) == set(MemberExportOut.model_fields)
    MemberExportOut.model_validate(data)
