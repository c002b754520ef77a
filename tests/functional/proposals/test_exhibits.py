"""Exhibits on the proposal page and in the API: cards, the add form, removal, errors."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.communities.models import Community
from app.db import utcnow
from app.proposals import exhibits as ex
from app.proposals.models import Exhibit, Proposal, ProposalState
from app.works import service as works_service
from app.works.models import Work
from tests.conftest import log_in, post_form
from tests.factories import add_member, make_community
from tests.functional.proposals.conftest import Cast, Draft, field_error, textarea_value

MakeWork = Callable[..., Work]


@pytest.fixture
def work(db: Session, cast: Cast) -> MakeWork:
    def make(title: str = "Rin's Dance", community: Community | None = None) -> Work:
        return works_service.create_work(
            db,
            actor=cast.fan if community is None else cast.outsider,
            community=community or cast.community,
            values=works_service.WorkDraft(
                title=title,
                creator_name="Len",
                url="https://example.org/rins-dance",
                medium="video",
                license="CC BY 4.0",
            ),
            now=utcnow(),
        )

    return make


def count(db: Session) -> int:
    return db.scalar(select(func.count(Exhibit.id))) or 0


def attach(db: Session, cast: Cast, proposal: Proposal, work: Work, **kw: str) -> Exhibit:
    return ex.add_exhibit(
        db,
        actor=kw.pop("actor", None) or cast.fan,  # type: ignore[arg-type]
        proposal=proposal,
        work_id=work.id,
        stance=kw.get("stance", "unacceptable"),
        note=kw.get("note", "Crosses the line."),
        now=utcnow(),
    )


# HTML


def test_the_page_shows_exhibits_as_cards(client, db, cast, draft: Draft, work):
    proposal = draft(publish=True)
    rin = work()
    attach(db, cast, proposal, rin)
    html = client.get(f"/c/miku/proposals/{proposal.id}").text
    assert "Example works" in html
    assert f'href="/c/miku/works/{rin.id}"' in html
    assert "Rin&#39;s Dance" in html
    assert "by Len" in html
    assert "Video" in html
    assert "CC BY 4.0" in html
    assert "stance-unacceptable" in html
    assert "Crosses the line." in html
    # Anonymous visitors neither add nor remove.
    assert "Add an example work" not in html
    assert "/remove" not in html.split("exhibits-heading")[1].split("timeline-heading")[0]


def test_a_member_adds_an_exhibit_with_the_form(client, db, cast, draft: Draft, work):
    proposal = draft(publish=True)
    rin = work()
    log_in(client, "fan_luka")
    page = client.get(f"/c/miku/proposals/{proposal.id}").text
    assert "Add an example work" in page
    assert f'<option value="{rin.id}">' in page
    response = post_form(
        client,
        f"/c/miku/proposals/{proposal.id}/exhibits",
        {"work": str(rin.id), "stance": "borderline", "note": "Depends on context."},
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/c/miku/proposals/{proposal.id}#exhibits"
    html = client.get(f"/c/miku/proposals/{proposal.id}").text
    assert "added as borderline" in html
    assert "stance-borderline" in html
    assert "Depends on context." in html
    assert count(db) == 1


def test_form_errors_rerender_with_422_and_keep_the_input(client, db, cast, draft: Draft, work):
    proposal = draft(publish=True)
    rin = work()
    log_in(client, "fan_luka")
    response = post_form(
        client,
        f"/c/miku/proposals/{proposal.id}/exhibits",
        {"work": str(rin.id), "stance": "fine", "note": "My careful note."},
    )
    assert response.status_code == 422
    html = response.text
    assert "Choose acceptable, unacceptable or borderline." in html
    assert textarea_value(html, "note") == "My careful note."
    assert f'<option value="{rin.id}" selected>' in html

    attach(db, cast, proposal, rin, actor=cast.author)
    again = post_form(
        client,
        f"/c/miku/proposals/{proposal.id}/exhibits",
        {"work": str(rin.id), "stance": "acceptable", "note": "Again."},
    )
    assert again.status_code == 422
    assert "already exhibited" in field_error(again.text, "f-exhibit-work")
    assert textarea_value(again.text, "note") == "Again."

    for bad in ("", "abc", "99999999999999999999999"):
        response = post_form(
            client,
            f"/c/miku/proposals/{proposal.id}/exhibits",
            {"work": bad, "stance": "acceptable"},
        )
        assert response.status_code == 422, bad
        assert field_error(response.text, "f-exhibit-work")
    assert count(db) == 1


def test_a_foreign_work_is_refused(client, db, cast, draft: Draft, work):
    other = make_community(db, "kaito", name="Kaito Fans")
    add_member(db, other, cast.outsider)
    foreign = work(community=other)
    proposal = draft(publish=True)
    log_in(client, "fan_luka")
    response = post_form(
        client,
        f"/c/miku/proposals/{proposal.id}/exhibits",
        {"work": str(foreign.id), "stance": "acceptable"},
    )
    assert response.status_code == 422
    assert count(db) == 0


def test_outsiders_get_403_and_closed_proposals_a_message(client, db, cast, draft: Draft, work):
    proposal = draft(publish=True)
    rin = work()
    log_in(client, "outsider")
    assert "Add an example work" not in client.get(f"/c/miku/proposals/{proposal.id}").text
    response = post_form(
        client,
        f"/c/miku/proposals/{proposal.id}/exhibits",
        {"work": str(rin.id), "stance": "acceptable"},
    )
    assert response.status_code == 403

    proposal.state = ProposalState.rejected
    db.flush()
    log_in(client, "fan_luka")
    assert "Add an example work" not in client.get(f"/c/miku/proposals/{proposal.id}").text
    response = post_form(
        client,
        f"/c/miku/proposals/{proposal.id}/exhibits",
        {"work": str(rin.id), "stance": "acceptable"},
    )
    assert response.status_code == 303
    html = client.get(f"/c/miku/proposals/{proposal.id}").text
    assert "flash-error" in html
    assert "can no longer change" in html
    assert count(db) == 0


def test_drafts_take_exhibits_only_from_their_authors(client, db, cast, draft: Draft, work):
    proposal = draft()
    rin = work()
    log_in(client, "fan_luka")
    response = post_form(
        client,
        f"/c/miku/proposals/{proposal.id}/exhibits",
        {"work": str(rin.id), "stance": "acceptable"},
    )
    assert response.status_code == 404  # a draft someone else may not see does not exist
    log_in(client, "author_kaito")
    response = post_form(
        client,
        f"/c/miku/proposals/{proposal.id}/exhibits",
        {"work": str(rin.id), "stance": "acceptable"},
    )
    assert response.status_code == 303
    assert count(db) == 1


def test_removal_by_who_added_it_and_403_for_others(client, db, cast, draft: Draft, work):
    proposal = draft(publish=True)
    exhibit = attach(db, cast, proposal, work())
    url = f"/c/miku/proposals/{proposal.id}/exhibits/{exhibit.id}/remove"
    log_in(client, "partner_meiko")
    assert url not in client.get(f"/c/miku/proposals/{proposal.id}").text
    assert post_form(client, url).status_code == 403
    log_in(client, "fan_luka")
    assert url in client.get(f"/c/miku/proposals/{proposal.id}").text
    response = post_form(client, url)
    assert response.status_code == 303
    assert "Example work removed." in client.get(f"/c/miku/proposals/{proposal.id}").text
    assert count(db) == 0
    assert post_form(client, url).status_code == 404


def test_moderators_and_authors_may_remove(client, db, cast, draft: Draft, work):
    proposal = draft(publish=True)
    first, second = attach(db, cast, proposal, work("A")), attach(db, cast, proposal, work("B"))
    log_in(client, "mod_rin")
    url = f"/c/miku/proposals/{proposal.id}/exhibits/{{}}/remove"
    assert post_form(client, url.format(first.id)).status_code == 303
    log_in(client, "author_kaito")
    assert post_form(client, url.format(second.id)).status_code == 303
    assert count(db) == 0


def test_posts_without_csrf_are_refused(client, db, cast, draft: Draft, work):
    proposal = draft(publish=True)
    rin = work()
    log_in(client, "fan_luka")
    response = client.post(
        f"/c/miku/proposals/{proposal.id}/exhibits", data={"work": str(rin.id), "stance": "x"}
    )
    assert response.status_code in (400, 403)
    assert count(db) == 0


# API


def test_api_add_list_and_delete(client, db, cast, draft: Draft, work, bearer):
    proposal = draft(publish=True)
    rin = work()
    url = f"/api/v1/proposals/{proposal.id}/exhibits"
    response = client.post(
        url,
        json={"work": rin.id, "stance": "unacceptable", "note": "Too far."},
        headers=bearer(cast.fan),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["stance"] == "unacceptable"
    assert body["note"] == "Too far."
    assert body["added_by"] == "fan_luka"
    assert body["work"] == {
        "id": rin.id,
        "title": "Rin's Dance",
        "creator_name": "Len",
        "medium": "video",
        "url": "https://example.org/rins-dance",
        "page_url": body["work"]["page_url"],
    }
    assert body["work"]["page_url"].endswith(f"/c/miku/works/{rin.id}")
    listed = client.get(url).json()
    assert [e["id"] for e in listed["items"]] == [body["id"]]

    deleted = client.delete(f"{url}/{body['id']}", headers=bearer(cast.fan))
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert client.get(url).json() == {"items": []}
    assert client.delete(f"{url}/{body['id']}", headers=bearer(cast.fan)).status_code == 404


def test_api_errors(client, db, cast, draft: Draft, work, bearer):
    proposal = draft(publish=True)
    rin = work()
    url = f"/api/v1/proposals/{proposal.id}/exhibits"
    good = {"work": rin.id, "stance": "acceptable"}
    assert client.post(url, json=good).status_code == 401
    assert client.post(url, json=good, headers=bearer(cast.outsider)).status_code == 403
    assert client.post(url, json=good, headers=bearer(cast.fan)).status_code == 201
    duplicate = client.post(url, json=good, headers=bearer(cast.partner))
    assert duplicate.status_code == 422
    assert "work" in duplicate.json()["error"]["fields"]
    bad = client.post(url, json={"work": rin.id, "stance": "meh"}, headers=bearer(cast.partner))
    assert bad.status_code == 422
    assert "stance" in bad.json()["error"]["fields"]
    missing = client.post("/api/v1/proposals/999999/exhibits", json=good, headers=bearer(cast.fan))
    assert missing.status_code == 404
    hidden = draft()
    assert client.get(f"/api/v1/proposals/{hidden.id}/exhibits").status_code == 404

    exhibit_id = client.get(url).json()["items"][0]["id"]
    forbidden = client.delete(f"{url}/{exhibit_id}", headers=bearer(cast.partner))
    assert forbidden.status_code == 403
    assert client.delete(f"{url}/{exhibit_id}", headers=bearer(cast.moderator)).status_code == 204

    proposal.state = ProposalState.ratified
    db.flush()
    closed = client.post(url, json=good, headers=bearer(cast.fan))
    assert closed.status_code == 409


def test_openapi_declares_the_exhibit_operations(client):
    paths = client.get("/openapi.json").json()["paths"]
    collection = paths["/api/v1/proposals/{proposal_id}/exhibits"]
    assert set(collection) >= {"get", "post"}
    post = collection["post"]["responses"]
    assert {"201", "403", "404", "409", "422"} <= set(post)
    assert "already exhibited" in post["422"]["description"]
    delete = paths["/api/v1/proposals/{proposal_id}/exhibits/{exhibit_id}"]["delete"]
    assert {"204", "403", "404"} <= set(delete["responses"])
