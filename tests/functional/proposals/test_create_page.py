"""Writing a proposal in the browser: the form, saving a draft, and field errors."""

from __future__ import annotations

from sqlalchemy import func, select

from app.proposals.models import Follow, Proposal, ProposalAuthor, ProposalState, Revision
from tests.conftest import log_in, post_form
from tests.functional.proposals.conftest import field_error, input_value, textarea_value

GOOD = {
    "title": "Credit the original creator",
    "summary": "Derivative works name what they derive from.",
    "rationale": "Remix culture runs on **acknowledgment**.",
    "norm_text": "Every shared work credits its sources.",
    "category": "depiction-rules",
    "tags": "Credits, fan art",
    "kind": "new",
}


def proposal_count(db) -> int:
    return db.scalar(select(func.count(Proposal.id))) or 0


def test_members_get_the_form(client, cast):
    log_in(client, "fan_luka")
    response = client.get("/c/miku/proposals/new")
    assert response.status_code == 200
    html = response.text
    assert 'action="/c/miku/proposals/new"' in html
    for name in ("title", "summary", "norm_text", "rationale", "category", "tags", "kind"):
        assert f'name="{name}"' in html
    assert '<option value="depiction-rules">Depiction rules</option>' in html
    assert '<option value="ai-models">AI models</option>' in html
    assert 'name="base_revision"' not in html
    assert 'name="csrf_token"' in html


def test_anonymous_visitors_are_sent_to_sign_in(client, cast):
    response = client.get("/c/miku/proposals/new")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/c/miku/proposals/new"


def test_non_members_may_not_write_proposals(client, db, cast):
    log_in(client, "outsider")
    response = client.get("/c/miku/proposals/new")
    assert response.status_code == 403
    assert "Join this community to write proposals." in response.text

    response = post_form(client, "/c/miku/proposals/new", GOOD)
    assert response.status_code == 403
    assert proposal_count(db) == 0


def test_anonymous_posts_are_refused(client, db, cast):
    response = post_form(client, "/c/miku/proposals/new", GOOD)
    assert response.status_code == 401
    assert proposal_count(db) == 0


def test_creating_a_draft_redirects_to_its_page_with_a_notice(client, db, cast):
    log_in(client, "fan_luka")

    response = post_form(client, "/c/miku/proposals/new", GOOD)

    assert response.status_code == 303
    proposal = db.scalars(select(Proposal)).one()
    assert response.headers["location"] == f"/c/miku/proposals/{proposal.id}"
    assert proposal.state == ProposalState.draft
    assert proposal.title == GOOD["title"]
    assert proposal.category_id == cast.rules.id
    assert proposal.tag_names == ["credits", "fan-art"]
    assert proposal.author_id == cast.fan.id
    assert db.scalar(select(func.count(Revision.id))) == 1
    assert db.scalars(select(ProposalAuthor.user_id)).all() == [cast.fan.id]
    assert db.scalars(select(Follow.user_id)).all() == [cast.fan.id]

    page = client.get(response.headers["location"])
    assert page.status_code == 200
    assert "Draft saved. Only you and your co-authors can see it." in page.text
    assert "This is a draft: only its authors can see it." in page.text
    assert "Remix culture runs on <strong>acknowledgment</strong>." in page.text


def test_field_errors_are_shown_next_to_the_fields_and_the_text_is_kept(client, db, cast):
    log_in(client, "fan_luka")
    typed = {
        **GOOD,
        "title": "No",
        "summary": "s" * 501,
        "norm_text": "Keep <this> & that\nexactly.",
        "rationale": "r" * 20_001,
        "category": "no-such-category",
        "tags": "fine, not ok!",
    }

    response = post_form(client, "/c/miku/proposals/new", typed)

    assert response.status_code == 422
    html = response.text
    assert "Please correct the marked fields." in html
    assert field_error(html, "f-title") == "Use 3 to 140 characters."
    assert field_error(html, "f-summary") == "Use at most 500 characters."
    assert field_error(html, "f-rationale") == "Use at most 20,000 characters."
    assert field_error(html, "f-category") == "Choose one of this community's categories."
    assert "Tags are words of up to 32 letters" in field_error(html, "f-tags")
    assert input_value(html, "title") == "No"
    assert input_value(html, "tags") == "fine, not ok!"
    assert textarea_value(html, "norm_text") == "Keep <this> & that\nexactly."
    assert textarea_value(html, "summary") == "s" * 501
    assert "Keep &lt;this&gt; &amp; that" in html
    assert proposal_count(db) == 0


def test_a_title_too_long_and_a_text_too_long_are_refused(client, db, cast):
    log_in(client, "fan_luka")
    response = post_form(
        client,
        "/c/miku/proposals/new",
        {**GOOD, "title": "t" * 141, "norm_text": "n" * 20_001},
    )
    assert response.status_code == 422
    assert field_error(response.text, "f-title") == "Use 3 to 140 characters."
    assert field_error(response.text, "f-norm_text") == "Use at most 20,000 characters."
    assert proposal_count(db) == 0


def test_a_missing_category_is_a_field_error(client, db, cast):
    log_in(client, "fan_luka")
    response = post_form(client, "/c/miku/proposals/new", {**GOOD, "category": ""})
    assert response.status_code == 422
    assert field_error(response.text, "f-category") == "Choose a category."


def test_amend_and_repeal_are_refused_with_a_field_error(client, db, cast):
    log_in(client, "fan_luka")
    for kind in ("amend", "repeal"):
        response = post_form(client, "/c/miku/proposals/new", {**GOOD, "kind": kind})
        assert response.status_code == 422
        assert "no published clause to amend or repeal" in response.text
        assert f'value="{kind}" checked' in response.text
    response = post_form(client, "/c/miku/proposals/new", {**GOOD, "kind": "merge"})
    assert response.status_code == 422
    assert "Choose new, amend or repeal." in response.text
    assert proposal_count(db) == 0


def test_an_archived_category_takes_no_new_proposals(client, db, cast):
    log_in(client, "mod_rin")
    post_form(
        client,
        "/c/miku/categories/ai-models",
        {"name": "AI models", "description": "", "archived": "1"},
    )
    log_in(client, "fan_luka")
    assert '<option value="ai-models">' not in client.get("/c/miku/proposals/new").text
    response = post_form(client, "/c/miku/proposals/new", {**GOOD, "category": "ai-models"})
    assert response.status_code == 422
    assert field_error(response.text, "f-category") == "Choose one of this community's categories."


def test_a_form_without_its_csrf_token_is_refused(client, db, cast):
    log_in(client, "fan_luka")
    response = client.post("/c/miku/proposals/new", data=GOOD)
    assert response.status_code == 403
    assert proposal_count(db) == 0
