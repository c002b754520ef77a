"""Editing in the browser: revisions, stale saves kept for the user, who may edit and when."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.proposals import service
from app.proposals.models import Proposal, Revision
from tests.conftest import log_in, post_form
from tests.functional.proposals.conftest import field_error, input_value, textarea_value


def form_of(proposal: Proposal, **changes: str) -> dict[str, str]:
    values = {
        "title": proposal.title,
        "summary": proposal.summary,
        "rationale": proposal.rationale,
        "norm_text": proposal.norm_text,
        "category": proposal.category.slug if proposal.category else "",
        "tags": ", ".join(proposal.tag_names),
        "message": "",
        "base_revision": str(proposal.revision_number),
    }
    return {**values, **changes}


def revision_count(db, proposal: Proposal) -> int:
    return (
        db.scalar(select(func.count(Revision.id)).where(Revision.proposal_id == proposal.id)) or 0
    )


def reload(db: Session, proposal: Proposal) -> Proposal:
    db.expire_all()
    fresh = db.get(Proposal, proposal.id)
    assert fresh is not None
    return fresh


def test_authors_get_the_edit_form_with_the_base_revision(client, cast, draft):
    proposal = draft(norm_text="Works credit <sources> & songs.", tags=["credits"])
    log_in(client, "author_kaito")

    response = client.get(f"/c/miku/proposals/{proposal.id}/edit")

    assert response.status_code == 200
    html = response.text
    assert f'action="/c/miku/proposals/{proposal.id}/edit"' in html
    assert '<input type="hidden" name="base_revision" value="1">' in html
    assert textarea_value(html, "norm_text") == "Works credit <sources> & songs."
    assert input_value(html, "title") == proposal.title
    assert input_value(html, "tags") == "credits"
    assert '<option value="depiction-rules" selected>' in html
    assert 'name="message"' in html
    assert 'name="kind"' not in html


def test_an_edit_makes_a_new_revision_and_redirects(client, db, cast, draft):
    proposal = draft(norm_text="Works credit the character.")
    log_in(client, "author_kaito")

    response = post_form(
        client,
        f"/c/miku/proposals/{proposal.id}/edit",
        form_of(
            proposal,
            norm_text="Works credit the character and the song.",
            category="ai-models",
            tags="credits, songs",
            message="Songs too",
        ),
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/c/miku/proposals/{proposal.id}"
    fresh = reload(db, proposal)
    assert fresh.revision_number == 2
    assert fresh.norm_text == "Works credit the character and the song."
    assert fresh.category_id == cast.ai.id
    assert fresh.tag_names == ["credits", "songs"]
    assert revision_count(db, proposal) == 2
    html = client.get(f"/c/miku/proposals/{proposal.id}").text
    assert "Saved as a new revision." in html
    timeline = html[html.index('class="timeline"') :]
    assert "revision 2</a>" in timeline
    assert "<q>Songs too</q>" in timeline
    assert "filed it under category AI models" in timeline
    assert f'/c/miku/proposals/{proposal.id}/revisions?from=1&amp;to=2"' in timeline
    assert (
        '<input type="hidden" name="base_revision" value="2">'
        in client.get(f"/c/miku/proposals/{proposal.id}/edit").text
    )


def test_saving_unchanged_text_makes_no_revision(client, db, cast, draft):
    proposal = draft()
    log_in(client, "author_kaito")
    response = post_form(client, f"/c/miku/proposals/{proposal.id}/edit", form_of(proposal))
    assert response.status_code == 303
    assert reload(db, proposal).revision_number == 1
    assert revision_count(db, proposal) == 1


def test_a_stale_save_is_refused_with_the_typed_text_kept_and_a_diff(client, db, cast, draft):
    proposal = draft(norm_text="Fan art is welcome.")
    service.add_coauthor(
        db, actor=cast.author, proposal=proposal, username="partner_meiko", now=utcnow()
    )
    # The co-author saves first, from revision 1.
    service.edit_proposal(
        db,
        actor=cast.partner,
        proposal=proposal,
        base_revision=1,
        values=service.ProposalDraft(
            title=proposal.title,
            summary=proposal.summary,
            rationale=proposal.rationale,
            norm_text="Fan art is welcome when credited.",
            category=cast.rules.slug,
        ),
        message="",
        now=utcnow(),
    )
    log_in(client, "author_kaito")
    mine = "Fan art <and> songs are welcome."

    response = post_form(
        client,
        f"/c/miku/proposals/{proposal.id}/edit",
        form_of(proposal, norm_text=mine, title="My new title", base_revision="1"),
    )

    assert response.status_code == 409
    html = response.text
    assert "<html" in html
    assert "Someone saved a newer version (revision 2) while you were editing." in html
    assert textarea_value(html, "norm_text") == mine
    assert input_value(html, "title") == "My new title"
    # What changed meanwhile, as a word diff.
    assert "What changed since you started editing (revision 1 → 2)" in html
    assert "<ins> when credited</ins>" in html or "<ins>when credited</ins>" in html
    # The form now says it is based on the current revision, so saving again is deliberate.
    assert '<input type="hidden" name="base_revision" value="2">' in html
    fresh = reload(db, proposal)
    assert fresh.revision_number == 2
    assert fresh.norm_text == "Fan art is welcome when credited."
    assert fresh.title == proposal.title

    response = post_form(
        client,
        f"/c/miku/proposals/{proposal.id}/edit",
        form_of(fresh, norm_text=mine, base_revision="2"),
    )
    assert response.status_code == 303
    assert reload(db, proposal).revision_number == 3


def test_a_missing_or_garbled_base_revision_is_refused_as_stale(client, db, cast, draft):
    proposal = draft()
    log_in(client, "author_kaito")
    for base in ("", "abc", "-1", "99999999999999999999999", "²", "1.0"):
        response = post_form(
            client,
            f"/c/miku/proposals/{proposal.id}/edit",
            form_of(proposal, norm_text="Changed.", base_revision=base),
        )
        assert response.status_code == 409, base
        assert textarea_value(response.text, "norm_text") == "Changed."
    assert reload(db, proposal).revision_number == 1


def test_edit_errors_are_422_with_the_typed_text(client, db, cast, draft):
    proposal = draft()
    log_in(client, "author_kaito")
    response = post_form(
        client,
        f"/c/miku/proposals/{proposal.id}/edit",
        form_of(proposal, title="x", norm_text="n" * 20_001, message="m" * 301),
    )
    assert response.status_code == 422
    html = response.text
    assert field_error(html, "f-title") == "Use 3 to 140 characters."
    assert field_error(html, "f-norm_text") == "Use at most 20,000 characters."
    assert field_error(html, "f-message") == "Use at most 300 characters."
    assert textarea_value(html, "norm_text") == "n" * 20_001
    assert '<input type="hidden" name="base_revision" value="1">' in html
    assert reload(db, proposal).revision_number == 1


def test_co_authors_may_edit(client, db, cast, draft):
    proposal = draft(publish=True)
    service.add_coauthor(
        db, actor=cast.author, proposal=proposal, username="partner_meiko", now=utcnow()
    )
    log_in(client, "partner_meiko")
    assert client.get(f"/c/miku/proposals/{proposal.id}/edit").status_code == 200
    response = post_form(
        client,
        f"/c/miku/proposals/{proposal.id}/edit",
        form_of(proposal, norm_text="Co-written text."),
    )
    assert response.status_code == 303
    fresh = reload(db, proposal)
    assert fresh.revision_number == 2
    revision = service.get_revision(db, fresh, 2)
    assert revision.author_id == cast.partner.id


def test_other_members_get_403_and_nothing_changes(client, db, cast, draft):
    proposal = draft(publish=True)
    for who in ("fan_luka", "mod_rin"):
        log_in(client, who)
        assert client.get(f"/c/miku/proposals/{proposal.id}/edit").status_code == 403
        response = post_form(
            client, f"/c/miku/proposals/{proposal.id}/edit", form_of(proposal, title="Hijacked")
        )
        assert response.status_code == 403
        assert "Only the proposal's authors may edit it." in unescape(response.text)
    assert reload(db, proposal).title == proposal.title
    assert "Edit text" not in client.get(f"/c/miku/proposals/{proposal.id}").text


def test_editing_someone_elses_draft_by_a_guessed_id_is_a_404(client, db, cast, draft):
    proposal = draft()
    log_in(client, "fan_luka")
    assert client.get(f"/c/miku/proposals/{proposal.id}/edit").status_code == 404
    response = post_form(
        client, f"/c/miku/proposals/{proposal.id}/edit", form_of(proposal, title="Hijacked")
    )
    assert response.status_code == 404
    assert proposal.title not in response.text
    assert reload(db, proposal).title == proposal.title


def test_anonymous_edits_go_to_sign_in(client, cast, draft):
    proposal = draft(publish=True)
    response = client.get(f"/c/miku/proposals/{proposal.id}/edit")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


def test_editing_a_withdrawn_proposal_is_a_clear_error_and_changes_nothing(client, db, cast, draft):
    proposal = draft(publish=True)
    service.withdraw(db, actor=cast.author, proposal=proposal, reason="", now=utcnow())
    log_in(client, "author_kaito")

    form = client.get(f"/c/miku/proposals/{proposal.id}/edit")
    assert form.status_code == 409
    assert "This proposal is withdrawn; its text can no longer be edited." in form.text

    response = post_form(
        client,
        f"/c/miku/proposals/{proposal.id}/edit",
        form_of(proposal, norm_text="Sneaky change."),
    )
    assert response.status_code == 409
    assert "This proposal is withdrawn; its text can no longer be edited." in response.text
    fresh = reload(db, proposal)
    assert fresh.norm_text == proposal.norm_text
    assert fresh.revision_number == 1
    assert revision_count(db, proposal) == 1
    html = client.get(f"/c/miku/proposals/{proposal.id}").text
    assert "Withdrawn by its author on" in html
    assert "Edit text" not in html


def test_a_locked_proposal_cannot_be_edited(client, db, cast, draft):
    proposal = draft(publish=True)
    service.set_locked(
        db, actor=cast.moderator, proposal=proposal, locked=True, reason="Cool off", now=utcnow()
    )
    log_in(client, "author_kaito")
    response = post_form(
        client, f"/c/miku/proposals/{proposal.id}/edit", form_of(proposal, norm_text="New.")
    )
    assert response.status_code == 409
    assert "A moderator locked this proposal" in response.text
    assert reload(db, proposal).revision_number == 1
    html = client.get(f"/c/miku/proposals/{proposal.id}").text
    assert "Locked" in html
    assert not re.search(r">\s*Edit text\s*<", html)


def archive(db, cast, category) -> None:
    from app.communities import service as communities_service

    communities_service.update_category(
        db,
        actor=cast.moderator,
        community=cast.community,
        category=category,
        archived=True,
        now=utcnow(),
    )


def test_a_proposal_in_an_archived_category_keeps_it_when_edited(client, db, cast, draft):
    proposal = draft(publish=True)
    archive(db, cast, cast.rules)
    log_in(client, "author_kaito")

    html = client.get(f"/c/miku/proposals/{proposal.id}/edit").text

    # The form still offers the proposal's own category, selected, so saving keeps it.
    assert '<option value="depiction-rules" selected>Depiction rules</option>' in html
    response = post_form(
        client,
        f"/c/miku/proposals/{proposal.id}/edit",
        form_of(proposal, norm_text="Edited after archiving."),
    )
    assert response.status_code == 303, response.text
    fresh = reload(db, proposal)
    assert (fresh.revision_number, fresh.category_id) == (2, cast.rules.id)
    # New proposals still may not be filed there.
    assert '<option value="depiction-rules"' not in client.get("/c/miku/proposals/new").text


def test_two_authors_saving_from_the_same_revision_lose_no_edit(app, client, db, cast, draft):
    from fastapi.testclient import TestClient

    proposal = draft(norm_text="Original text.")
    service.add_coauthor(
        db, actor=cast.author, proposal=proposal, username="partner_meiko", now=utcnow()
    )
    edit_url = f"/c/miku/proposals/{proposal.id}/edit"
    log_in(client, "author_kaito")
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as other:
        log_in(other, "partner_meiko")
        # Both open the form at revision 1.
        for browser in (client, other):
            assert 'name="base_revision" value="1"' in browser.get(edit_url).text

        first = post_form(client, edit_url, form_of(proposal, norm_text="Kaito's text."))
        second = post_form(other, edit_url, form_of(proposal, norm_text="Meiko's text."))

    assert first.status_code == 303
    assert second.status_code == 409
    assert textarea_value(second.text, "norm_text") == "Meiko's text."
    assert "<del>Original</del><ins>Kaito&#39;s</ins>" in second.text
    fresh = reload(db, proposal)
    assert (fresh.revision_number, fresh.norm_text) == (2, "Kaito's text.")
