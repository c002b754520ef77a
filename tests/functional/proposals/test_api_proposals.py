"""The proposals JSON API: list and search with cursors, create, read and edit."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.db import utcnow
from app.proposals import service
from app.proposals.models import Proposal
from tests.conftest import csrf_token, log_in
from tests.functional.api.helpers import assert_error

LIST = "/api/v1/communities/miku/proposals"

NEW = {
    "title": "Credit the original creator",
    "summary": "Derivative works name their sources.",
    "rationale": "Because **credit** matters.",
    "norm_text": "Every shared work credits its sources.",
    "category": "depiction-rules",
    "tags": ["Credits", "fan art"],
    "kind": "new",
}


def all_pages(client: TestClient, params: dict[str, Any]) -> list[list[dict[str, Any]]]:
    pages: list[list[dict[str, Any]]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = client.get(LIST, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"items", "next_cursor"}
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 50, "paging does not end"


def proposal_count(db) -> int:
    return db.scalar(select(func.count(Proposal.id))) or 0


# List


def test_the_list_shows_published_proposals_to_anyone(client, cast, draft):
    published = draft(title="Published one", publish=True, tags=["credits"])
    draft(title="Private draft")

    response = client.get(LIST)

    assert response.status_code == 200
    body = response.json()
    assert body["next_cursor"] is None
    assert [item["title"] for item in body["items"]] == ["Published one"]
    item = body["items"][0]
    assert item["id"] == published.id
    assert item["state"] == "deliberation"
    assert item["category"] == "depiction-rules"
    assert item["tags"] == ["credits"]
    assert item["current_revision"] == 1
    assert item["url"] == f"http://testserver/c/miku/proposals/{published.id}"
    assert item["voting_may_open_at"] is not None


def test_authors_see_their_drafts_in_the_list_others_never(client, cast, draft, bearer):
    draft(title="Kaito's draft")
    titles = [
        i["title"] for i in client.get(LIST, headers=bearer(cast.author, "read")).json()["items"]
    ]
    assert titles == ["Kaito's draft"]
    for user in (cast.fan, cast.moderator):
        assert client.get(LIST, headers=bearer(user, "read")).json()["items"] == []


def test_filters_search_and_sort(client, db, cast, draft):
    a = draft(title="Voicebank remixes", publish=True, tags=["audio"], minutes_ago=30)
    b = draft(
        title="LoRA models", publish=True, category="ai-models", tags=["lora"], minutes_ago=20
    )
    c = draft(title="Credit fan art", publish=True, tags=["audio"], minutes_ago=10)
    service.withdraw(db, actor=cast.author, proposal=c, reason="", now=utcnow())

    def ids(**params: str) -> list[int]:
        response = client.get(LIST, params=params)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert ids() == [c.id, b.id, a.id]
    assert ids(state="withdrawn") == [c.id]
    assert ids(state="deliberation") == [b.id, a.id]
    assert ids(category="ai-models") == [b.id]
    assert ids(tag="audio") == [c.id, a.id]
    assert ids(q="voicebank") == [a.id]
    assert ids(q="lora", category="ai-models") == [b.id]
    assert ids(q="remixes models") == []
    assert ids(sort="active")[0] == c.id
    assert ids(sort="closing") == [a.id, b.id]


def test_cursor_paging_walks_every_proposal_once(client, cast, draft):
    made = [draft(publish=True, minutes_ago=100 - n, tags=["x"]) for n in range(7)]
    draft(publish=True)  # not tagged

    pages = all_pages(client, {"limit": 3, "tag": "x"})

    assert [len(p) for p in pages] == [3, 3, 1]
    ids = [item["id"] for page in pages for item in page]
    assert ids == [p.id for p in reversed(made)]


def test_cursor_paging_for_closing_soon_and_search(client, cast, draft):
    made = [
        draft(publish=True, minutes_ago=100 - n, norm_text=f"Shared word {n}") for n in range(5)
    ]
    ids = [i["id"] for page in all_pages(client, {"limit": 2, "sort": "closing"}) for i in page]
    assert ids == [p.id for p in made]
    ids = [i["id"] for page in all_pages(client, {"limit": 2, "q": "shared"}) for i in page]
    assert sorted(ids) == sorted(p.id for p in made)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"state": "banana"}, "state"),
        ({"sort": "sideways"}, "sort"),
        ({"cursor": "garbage!"}, "cursor"),
        ({"cursor": "W10"}, "cursor"),
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"q": "x" * 201}, "q"),
    ],
)
def test_an_invalid_filter_is_a_422_with_the_error_shape(client, cast, params, field):
    error = assert_error(client.get(LIST, params=params), 422, "validation_failed")
    assert field in error["fields"]


def test_listing_an_unknown_community_is_a_404(client):
    assert_error(client.get("/api/v1/communities/nowhere/proposals"), 404, "not_found")


# Create


def test_a_member_creates_a_draft(client, db, cast, bearer):
    response = client.post(LIST, json=NEW, headers=bearer(cast.fan))

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["state"] == "draft"
    assert body["current_revision"] == 1
    assert body["community"] == "miku"
    assert body["category"] == "depiction-rules"
    assert body["tags"] == ["credits", "fan-art"]
    assert body["kind"] == "new"
    assert body["authors"] == [
        {"username": "fan_luka", "display_name": "Luka Fan", "role": "author"}
    ]
    assert body["locked"] is False
    assert body["published_at"] is None
    assert body["url"] == f"http://testserver/c/miku/proposals/{body['id']}"
    proposal = db.get(Proposal, body["id"])
    assert proposal is not None
    assert proposal.norm_text == NEW["norm_text"]


def test_creating_through_the_browser_session_needs_the_csrf_header(client, db, cast):
    log_in(client, "fan_luka")
    assert client.post(LIST, json=NEW).status_code == 403
    response = client.post(LIST, json=NEW, headers={"X-CSRF-Token": csrf_token(client)})
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "No"}, "title"),
        ({"title": "t" * 141}, "title"),
        ({"summary": "s" * 501}, "summary"),
        ({"rationale": "r" * 20_001}, "rationale"),
        ({"norm_text": "n" * 20_001}, "norm_text"),
        ({"category": "nope"}, "category"),
        ({"category": ""}, "category"),
        ({"kind": "amend"}, "kind"),
        ({"kind": "repeal"}, "kind"),
        ({"kind": "merge"}, "kind"),
        ({"tags": ["not ok!"]}, "tags"),
        ({"tags": [f"t{n}" for n in range(11)]}, "tags"),
    ],
)
def test_validation_errors_are_422_with_fields(client, db, cast, bearer, changes, field):
    response = client.post(LIST, json={**NEW, **changes}, headers=bearer(cast.fan))
    error = assert_error(response, 422, "validation_failed")
    assert field in error["fields"]
    assert proposal_count(db) == 0


def test_malformed_bodies_are_422_not_500(client, db, cast, bearer):
    headers = bearer(cast.fan)
    for body in ({}, {"title": 5}, {"title": "ok title", "tags": "a,b"}, [1, 2]):
        response = client.post(LIST, json=body, headers=headers)
        assert_error(response, 422, "validation_failed")
    response = client.post(LIST, content=b"{not json", headers=headers)
    assert_error(response, 422, "validation_failed")
    assert proposal_count(db) == 0


def test_non_members_anonymous_and_read_tokens_cannot_create(client, db, cast, bearer):
    assert_error(client.post(LIST, json=NEW, headers=bearer(cast.outsider)), 403, "forbidden")
    anonymous = {"X-CSRF-Token": csrf_token(client)}
    assert_error(client.post(LIST, json=NEW, headers=anonymous), 401, "not_authenticated")
    assert_error(client.post(LIST, json=NEW, headers=bearer(cast.fan, "read")), 403, "forbidden")
    assert_error(
        client.post("/api/v1/communities/nowhere/proposals", json=NEW, headers=bearer(cast.fan)),
        404,
        "not_found",
    )
    assert proposal_count(db) == 0


# Read


def test_get_one_proposal(client, cast, draft, bearer):
    proposal = draft(publish=True)
    no_token: dict[str, str] = {}
    for headers in (no_token, bearer(cast.fan, "read")):
        response = client.get(f"/api/v1/proposals/{proposal.id}", headers=headers)
        assert response.status_code == 200
        body = response.json()
        assert body["id"] == proposal.id
        assert body["state"] == "deliberation"
        assert body["authors"][0]["username"] == "author_kaito"
        assert body["norm_text"] == proposal.norm_text


def test_someone_elses_draft_and_missing_proposals_are_404_json(client, cast, draft, bearer):
    secret = draft()
    no_token: dict[str, str] = {}
    for headers in (no_token, bearer(cast.fan, "read"), bearer(cast.moderator, "read")):
        error = assert_error(
            client.get(f"/api/v1/proposals/{secret.id}", headers=headers), 404, "not_found"
        )
        assert error["message"] == "There is no such proposal."
    missing = assert_error(client.get("/api/v1/proposals/987654"), 404, "not_found")
    assert missing["message"] == "There is no such proposal."
    response = client.get(f"/api/v1/proposals/{secret.id}", headers=bearer(cast.author, "read"))
    assert response.status_code == 200


def test_ids_that_are_not_numbers_or_out_of_range_are_no_500(client, cast):
    for path in ("/api/v1/proposals/abc", "/api/v1/proposals/99999999999999999999"):
        response = client.get(path)
        assert response.status_code in (404, 422), path
        assert response.json()["error"]["code"] in ("not_found", "validation_failed")


# Edit


def test_patch_with_the_base_revision_makes_a_new_revision(client, db, cast, draft, bearer):
    proposal = draft(norm_text="Old text.")

    response = client.patch(
        f"/api/v1/proposals/{proposal.id}",
        json={"base_revision": 1, "norm_text": "New text.", "message": "Clearer"},
        headers=bearer(cast.author),
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["current_revision"] == 2
    assert body["norm_text"] == "New text."
    assert body["title"] == proposal.title
    assert body["category"] == "depiction-rules"
    revisions = client.get(
        f"/api/v1/proposals/{proposal.id}/revisions", headers=bearer(cast.author, "read")
    ).json()["items"]
    assert [(r["number"], r["message"]) for r in revisions] == [(2, "Clearer"), (1, "First draft")]


def test_patch_of_text_without_base_revision_is_a_422(client, db, cast, draft, bearer):
    proposal = draft()
    response = client.patch(
        f"/api/v1/proposals/{proposal.id}", json={"title": "New title"}, headers=bearer(cast.author)
    )
    error = assert_error(response, 422, "validation_failed")
    assert "base_revision" in error["fields"]
    db.expire_all()
    assert db.get(Proposal, proposal.id).title == proposal.title


def test_a_stale_base_revision_is_a_409_stale_revision(client, db, cast, draft, bearer):
    proposal = draft(norm_text="One.")
    headers = bearer(cast.author)
    url = f"/api/v1/proposals/{proposal.id}"
    assert (
        client.patch(
            url, json={"base_revision": 1, "norm_text": "Two."}, headers=headers
        ).status_code
        == 200
    )

    response = client.patch(url, json={"base_revision": 1, "norm_text": "Three."}, headers=headers)

    error = assert_error(response, 409, "stale_revision")
    assert "revision 2" in error["message"]
    db.expire_all()
    fresh = db.get(Proposal, proposal.id)
    assert fresh is not None
    assert (fresh.revision_number, fresh.norm_text) == (2, "Two.")


def test_patch_validation_errors_are_422_with_fields(client, db, cast, draft, bearer):
    proposal = draft()
    url = f"/api/v1/proposals/{proposal.id}"
    headers = bearer(cast.author)
    for changes, field in (
        ({"title": "x"}, "title"),
        ({"norm_text": "n" * 20_001}, "norm_text"),
        ({"category": "nope"}, "category"),
        ({"message": "m" * 301}, "message"),
    ):
        response = client.patch(url, json={"base_revision": 1, **changes}, headers=headers)
        assert field in assert_error(response, 422, "validation_failed")["fields"]
    db.expire_all()
    assert db.get(Proposal, proposal.id).revision_number == 1


def test_co_authors_patch_too(client, db, cast, draft, bearer):
    proposal = draft()
    service.add_coauthor(
        db, actor=cast.author, proposal=proposal, username="partner_meiko", now=utcnow()
    )
    response = client.patch(
        f"/api/v1/proposals/{proposal.id}",
        json={"base_revision": 1, "summary": "Co-written."},
        headers=bearer(cast.partner),
    )
    assert response.status_code == 200, response.text
    assert response.json()["summary"] == "Co-written."


def test_a_moderator_patches_only_category_and_tags(client, db, cast, draft, bearer):
    proposal = draft(publish=True)
    url = f"/api/v1/proposals/{proposal.id}"
    headers = bearer(cast.moderator)

    response = client.patch(url, json={"category": "ai-models", "tags": ["lora"]}, headers=headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["category"], body["tags"], body["current_revision"]) == ("ai-models", ["lora"], 1)
    response = client.patch(url, json={"tags": ["lora", "models"]}, headers=headers)
    assert response.json()["tags"] == ["lora", "models"]
    assert response.json()["category"] == "ai-models"
    # Text stays the authors' own.
    response = client.patch(url, json={"base_revision": 1, "title": "Moderated"}, headers=headers)
    assert_error(response, 403, "forbidden")
    response = client.patch(url, json={"category": "nope"}, headers=headers)
    assert "category" in assert_error(response, 422, "validation_failed")["fields"]


def test_a_moderator_who_is_also_an_author_recategorizes_a_withdrawn_proposal(
    client, db, cast, draft, bearer
):
    proposal = draft(cast.moderator, publish=True)
    service.withdraw(db, actor=cast.moderator, proposal=proposal, reason="", now=utcnow())
    response = client.patch(
        f"/api/v1/proposals/{proposal.id}",
        json={"category": "ai-models"},
        headers=bearer(cast.moderator),
    )
    assert response.status_code == 200, response.text
    assert response.json()["category"] == "ai-models"


def test_a_fan_patching_someone_elses_proposal_gets_403(client, db, cast, draft, bearer):
    proposal = draft(publish=True)
    url = f"/api/v1/proposals/{proposal.id}"
    headers = bearer(cast.fan)
    for body in (
        {"base_revision": 1, "title": "Hijacked"},
        {"title": "Hijacked"},
        {"category": "ai-models"},
        {"tags": ["mine"]},
        {},
    ):
        assert_error(client.patch(url, json=body, headers=headers), 403, "forbidden")
    db.expire_all()
    fresh = db.get(Proposal, proposal.id)
    assert fresh is not None
    assert (fresh.title, fresh.category_id, fresh.tag_names) == (proposal.title, cast.rules.id, [])


def test_patching_someone_elses_draft_is_a_404(client, db, cast, draft, bearer):
    proposal = draft()
    response = client.patch(
        f"/api/v1/proposals/{proposal.id}",
        json={"base_revision": 1, "title": "Hijacked"},
        headers=bearer(cast.fan),
    )
    assert_error(response, 404, "not_found")


def test_patching_a_withdrawn_proposal_is_a_409_and_changes_nothing(
    client, db, cast, draft, bearer
):
    proposal = draft(publish=True)
    service.withdraw(db, actor=cast.author, proposal=proposal, reason="", now=utcnow())
    response = client.patch(
        f"/api/v1/proposals/{proposal.id}",
        json={"base_revision": 1, "norm_text": "Sneaky."},
        headers=bearer(cast.author),
    )
    error = assert_error(response, 409, "conflict")
    assert "withdrawn" in error["message"]
    db.expire_all()
    assert db.get(Proposal, proposal.id).norm_text == proposal.norm_text


def test_patch_with_a_read_token_is_403(client, cast, draft, bearer):
    proposal = draft()
    response = client.patch(
        f"/api/v1/proposals/{proposal.id}",
        json={"base_revision": 1, "title": "New title"},
        headers=bearer(cast.author, "read"),
    )
    assert_error(response, 403, "forbidden")


def test_a_text_edit_keeps_an_archived_category(client, db, cast, draft, bearer):
    from app.communities import service as communities_service

    proposal = draft(publish=True)
    communities_service.update_category(
        db,
        actor=cast.moderator,
        community=cast.community,
        category=cast.rules,
        archived=True,
        now=utcnow(),
    )
    response = client.patch(
        f"/api/v1/proposals/{proposal.id}",
        json={"base_revision": 1, "norm_text": "Edited after archiving."},
        headers=bearer(cast.author),
    )
    assert response.status_code == 200, response.text
    assert (response.json()["category"], response.json()["current_revision"]) == (
        "depiction-rules",
        2,
    )


def test_a_cursor_with_a_long_timestamp_and_id_is_accepted(client, cast, draft):
    from datetime import UTC, datetime

    from app import paging

    proposal = draft(publish=True, minutes_ago=5)
    cursor = paging.encode(datetime.now(UTC).isoformat(), 10**15)
    assert len(cursor) > 64
    response = client.get(LIST, params={"cursor": cursor})
    assert response.status_code == 200, response.text
    assert [item["id"] for item in response.json()["items"]] == [proposal.id]
