"""Hostile input through every proposals route: NUL characters never make a 500."""

from __future__ import annotations

import pytest

from tests.conftest import log_in, post_form

NUL = "a\x00b"


@pytest.mark.parametrize("param", ["category", "tag", "q", "state", "sort", "cursor"])
def test_nul_in_list_filters(client, cast, draft, param):
    draft(publish=True)
    response = client.get("/c/miku/proposals", params={param: NUL})
    assert response.status_code in (200, 422), param
    response = client.get("/api/v1/communities/miku/proposals", params={param: NUL})
    assert response.status_code in (200, 422), param


@pytest.mark.parametrize("field", ["title", "summary", "rationale", "norm_text"])
def test_nul_in_proposal_text_is_a_field_error(client, cast, draft, bearer, field):
    log_in(client, "author_kaito")
    form = {"title": "A fine title", "category": "depiction-rules", field: "Text " + NUL}
    response = post_form(client, "/c/miku/proposals/new", form)
    assert response.status_code == 422
    assert 'class="field-error"' in response.text

    response = client.post(
        "/api/v1/communities/miku/proposals", json=form, headers=bearer(cast.author)
    )
    assert response.status_code == 422
    assert field in response.json()["error"]["fields"]

    proposal = draft()
    response = post_form(
        client,
        f"/c/miku/proposals/{proposal.id}/edit",
        {**form, "base_revision": "1"},
    )
    assert response.status_code == 422


def test_nul_in_reasons_and_messages(client, cast, draft):
    proposal = draft(publish=True)
    log_in(client, "author_kaito")
    response = post_form(
        client,
        f"/c/miku/proposals/{proposal.id}/edit",
        {
            "title": proposal.title,
            "norm_text": "Changed.",
            "category": "depiction-rules",
            "message": NUL,
            "base_revision": "1",
        },
    )
    assert response.status_code == 422
    response = post_form(client, f"/c/miku/proposals/{proposal.id}/withdraw", {"reason": NUL})
    assert response.status_code in (303, 422)
    log_in(client, "mod_rin")
    response = post_form(
        client,
        f"/c/miku/proposals/{proposal.id}/moderate",
        {"category": "depiction-rules", "tags": "", "lock": "lock", "reason": NUL},
    )
    assert response.status_code in (303, 422)


def test_nul_in_co_author_usernames(client, cast, draft):
    proposal = draft(publish=True)
    log_in(client, "author_kaito")
    response = post_form(client, f"/c/miku/proposals/{proposal.id}/coauthors", {"username": NUL})
    assert response.status_code == 422
    response = post_form(client, f"/c/miku/proposals/{proposal.id}/coauthors/a%00b/remove")
    assert response.status_code == 404
