"""The guidelines where the rest of the forum meets them: amend and repeal proposals, the
proposal page before and after ratification, the community page and settings."""

from __future__ import annotations

from html import unescape

from sqlalchemy import select

from app.guidelines import service
from app.proposals.models import Proposal, ProposalKind
from tests.conftest import log_in, post_form
from tests.functional.polls.conftest import error
from tests.functional.proposals.conftest import textarea_value


def test_a_clause_prefills_an_amendment_and_the_target_is_checked(client, db, forum, rules):
    log_in(client, forum.fan.username)
    clause_page = client.get("/c/miku/guidelines/clauses/1.2").text
    link = "/c/miku/proposals/new?kind=amend&amp;target_clause=1.2"
    assert link in clause_page
    form = client.get(unescape(link))
    assert form.status_code == 200
    assert textarea_value(form.text, "norm_text") == "No gore in works shared here."
    assert 'value="1.2" selected' in form.text
    repeal = client.get("/c/miku/proposals/new?kind=repeal&target_clause=2.1").text
    assert "is repealed." in textarea_value(repeal, "norm_text")
    bad = post_form(
        client,
        "/c/miku/proposals/new",
        {"title": "Change it", "kind": "amend", "target_clause": "7.7", "norm_text": "x"},
    )
    assert bad.status_code == 422
    assert "Choose one of the clauses in force." in bad.text
    made = post_form(
        client,
        "/c/miku/proposals/new",
        {
            "title": "No gore, ever",
            "kind": "amend",
            "target_clause": "1.2",
            "norm_text": "Violence stays non-graphic: never gore.",
        },
    )
    assert made.status_code == 303
    proposal = db.scalar(select(Proposal).where(Proposal.title == "No gore, ever"))
    assert proposal is not None
    assert (proposal.kind, proposal.target_clause) == (ProposalKind.amend, "1.2")
    page = client.get(made.headers["location"]).text
    assert "Proposed amendment of clause 1.2" in page
    assert "<ins>" in page
    assert "guideline 1.2" in page


def test_before_any_guidelines_only_new_norms_are_offered(client, forum):
    log_in(client, forum.fan.username)
    form = client.get("/c/miku/proposals/new").text
    assert "become possible once the community has published guidelines" in form
    refused = post_form(
        client, "/c/miku/proposals/new", {"title": "Change it", "kind": "amend", "norm_text": "x"}
    )
    assert refused.status_code == 422
    assert "no published clause to amend or repeal yet" in refused.text


def test_the_api_creates_amend_proposals_against_clauses_in_force(client, forum, rules, bearer):
    headers = bearer(forum.fan)
    made = client.post(
        "/api/v1/communities/miku/proposals",
        json={"title": "Drop 2.1", "kind": "repeal", "target_clause": "2.1", "norm_text": "Gone."},
        headers=headers,
    )
    assert made.status_code == 201, made.text
    assert made.json()["target_clause"] == "2.1"
    bad = client.post(
        "/api/v1/communities/miku/proposals",
        json={"title": "Drop it", "kind": "repeal", "norm_text": "Gone."},
        headers=headers,
    )
    assert "target_clause" in error(bad, 422)["fields"]


def test_the_proposal_page_offers_ratification_then_links_to_its_clause(
    client, db, forum, rules, passed
):
    proposal = passed()
    url = f"/c/miku/proposals/{proposal.id}"
    assert "once a moderator ratifies it" in client.get(url).text
    log_in(client, forum.fan.username)
    assert "Return it" not in client.get(url).text
    client.cookies.clear()
    log_in(client, forum.moderator.username)
    page = client.get(url).text
    assert f"/c/miku/proposals/{proposal.id}/ratify" in page
    post_form(client, f"{url}/ratify", {"note": ""})
    ratified = client.get(url).text
    made = service.made_by(db, proposal)
    assert made is not None
    assert f"/c/miku/guidelines/clauses/{made.clause.number}/v2" in ratified
    assert "ratified it" in ratified


def test_the_community_page_shows_the_current_version_and_latest_changes(client, forum, rules):
    page = client.get("/c/miku").text
    assert "Read version 1" in page
    assert "Imported the community&#39;s existing rules" in page


def test_moderators_require_a_rights_holders_cosignature(client, db, forum):
    log_in(client, forum.moderator.username)
    settings = client.get("/c/miku/edit").text
    assert "Who ratifies a passed proposal" in settings
    saved = post_form(
        client,
        "/c/miku/edit",
        {
            "name": forum.community.name,
            "description": "",
            "min_deliberation_hours": "72",
            "flag_hide_threshold": "3",
            "ratification": "moderator_and_rights_holder",
        },
    )
    assert saved.status_code == 303
    db.refresh(forum.community)
    assert forum.community.ratification_requires_rights_holder


def test_the_api_sets_the_cosignature_rule(client, db, forum, bearer):
    response = client.patch(
        "/api/v1/communities/miku",
        json={"ratification_requires_rights_holder": True},
        headers=bearer(forum.moderator),
    )
    assert response.status_code == 200
    assert response.json()["ratification_requires_rights_holder"] is True
    db.refresh(forum.community)
    assert forum.community.ratification_requires_rights_holder
