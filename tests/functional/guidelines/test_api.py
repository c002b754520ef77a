"""The guidelines JSON API: the document with validators, versions, diffs, clauses, and the
writes (import, tags, ratify, return) with their refusals."""

from __future__ import annotations

from app.guidelines import service
from app.proposals.models import ProposalState
from tests.functional.guidelines.conftest import RULES
from tests.functional.polls.conftest import error


def test_the_document_as_json_with_etag_and_filters(client, db, forum, rules):
    response = client.get("/api/v1/communities/miku/guidelines")
    assert response.status_code == 200
    body = response.json()
    assert body["latest_version"] == 1
    assert body["version"]["number"] == 1
    assert body["version"]["source"] == "imported"
    first = body["sections"][0]
    assert (first["number"], first["title"]) == (1, "Depiction and age")
    clause = first["clauses"][0]
    assert clause["number"] == "1.1"
    assert clause["citation"].startswith("Guideline 1.1, version 1, in force since")
    assert clause["url"].endswith("/c/miku/guidelines/clauses/1.1/v1")
    cached = client.get(
        "/api/v1/communities/miku/guidelines", headers={"If-None-Match": response.headers["etag"]}
    )
    assert cached.status_code == 304
    clause_row = service.get_clause(db, forum.community, "2.1")
    service.set_tags(
        db, actor=forum.moderator, community=forum.community, clause=clause_row, tags=["commercial"]
    )
    changed = client.get(
        "/api/v1/communities/miku/guidelines", headers={"If-None-Match": response.headers["etag"]}
    )
    assert changed.status_code == 200


def test_bad_reads_are_clear_errors(client, forum, rules):
    assert error(client.get("/api/v1/communities/miku/guidelines?as_of=May"), 422)["fields"] == {
        "as_of": "Use a date like 2026-05-01."
    }
    early = error(client.get("/api/v1/communities/miku/guidelines?as_of=2000-01-01"), 422)
    assert "first published" in early["fields"]["as_of"]
    assert "tag" in error(client.get("/api/v1/communities/miku/guidelines?tag=x"), 422)["fields"]
    error(client.get("/api/v1/communities/miku/guidelines?version=5"), 404)
    error(client.get("/api/v1/communities/miku/guidelines?version=0"), 422)
    error(client.get("/api/v1/communities/miku/guidelines/clauses/4.4"), 404)
    error(client.get("/api/v1/communities/miku/guidelines/diff?from=1&to=3"), 404)
    error(client.get("/api/v1/communities/nowhere/guidelines"), 404)


def test_ratify_amend_and_read_history_diff_and_versions(client, db, forum, rules, passed, bearer):
    proposal = passed(
        "Gore is never fine",
        "Violence stays non-graphic, and gore is never shown.",
        kind="amend",
        target_clause="1.2",
    )
    fan = bearer(forum.fan)
    error(client.post(f"/api/v1/proposals/{proposal.id}/ratify", json={}, headers=fan), 403)
    moderator = bearer(forum.moderator)
    response = client.post(
        f"/api/v1/proposals/{proposal.id}/ratify", json={"note": "Agreed."}, headers=moderator
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["state"] == "ratified"
    assert body["published_version"]["number"] == 2
    assert body["missing_signatures"] == []
    history = client.get("/api/v1/communities/miku/guidelines/clauses/1.2").json()
    assert [v["change"] for v in history["versions"]] == ["amended", "imported"]
    latest = history["versions"][0]
    assert latest["provenance"]["proposal"] == proposal.id
    assert latest["provenance"]["tally"]["outcome"] == "passed"
    assert {c["credit"] for c in latest["credits"]} == {"proposer", "ratifier"}
    diff = client.get("/api/v1/communities/miku/guidelines/diff?from=1&to=2").json()
    assert [(c["number"], c["change"]) for c in diff["changes"]] == [("1.2", "amended")]
    versions = client.get("/api/v1/communities/miku/guidelines/versions?limit=1").json()
    assert [v["number"] for v in versions["items"]] == [2]
    older = client.get(
        f"/api/v1/communities/miku/guidelines/versions?limit=1&cursor={versions['next_cursor']}"
    ).json()
    assert [v["number"] for v in older["items"]] == [1]
    assert older["next_cursor"] is None
    again = client.post(f"/api/v1/proposals/{proposal.id}/ratify", json={}, headers=moderator)
    error(again, 409)


def test_return_and_rights_holder_cosignature(client, db, forum, passed, bearer):
    forum.community.ratification_requires_rights_holder = True
    proposal = passed()
    moderator, holder = bearer(forum.moderator), bearer(forum.rights_holder)
    first = client.post(f"/api/v1/proposals/{proposal.id}/ratify", headers=moderator)
    assert first.json()["missing_signatures"] == ["rights_holder"]
    assert first.json()["published_version"] is None
    second = client.post(f"/api/v1/proposals/{proposal.id}/ratify", headers=holder)
    assert second.json()["published_version"]["number"] == 1
    other = passed("Another one", "Something else entirely.")
    refused = client.post(
        f"/api/v1/proposals/{other.id}/return", json={"reason": ""}, headers=moderator
    )
    assert "reason" in error(refused, 422)["fields"]
    client.post(
        f"/api/v1/proposals/{other.id}/return", json={"reason": "Vague."}, headers=moderator
    )
    db.refresh(other)
    assert other.state == ProposalState.deliberation


def test_import_and_tags_through_the_api(client, db, forum, bearer):
    moderator = bearer(forum.moderator)
    error(
        client.post(
            "/api/v1/communities/miku/guidelines/import",
            json={"markdown": RULES},
            headers=bearer(forum.fan),
        ),
        403,
    )
    made = client.post(
        "/api/v1/communities/miku/guidelines/import", json={"markdown": RULES}, headers=moderator
    )
    assert made.status_code == 201
    assert made.json()["number"] == 1
    error(
        client.post(
            "/api/v1/communities/miku/guidelines/import",
            json={"markdown": RULES},
            headers=moderator,
        ),
        409,
    )
    tagged = client.put(
        "/api/v1/communities/miku/guidelines/clauses/2.1/tags",
        json={"tags": ["commercial"]},
        headers=moderator,
    )
    assert tagged.json() == {"number": "2.1", "tags": ["commercial"]}
    bad = client.put(
        "/api/v1/communities/miku/guidelines/clauses/2.1/tags",
        json={"tags": ["nope"]},
        headers=moderator,
    )
    assert "tags" in error(bad, 422)["fields"]
    assert client.get("/api/v1/communities/miku/guidelines?tag=commercial").status_code == 200
