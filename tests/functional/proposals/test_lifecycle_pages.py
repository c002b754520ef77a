"""Publishing, withdrawing, co-authors and moderation through the proposal page's forms."""

from __future__ import annotations

from html import unescape

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.proposals import service
from app.proposals.models import EventKind, Proposal, ProposalEvent, ProposalState
from tests.conftest import log_in, post_form
from tests.functional.proposals.conftest import field_error, input_value


def reload(db: Session, proposal: Proposal) -> Proposal:
    db.expire_all()
    fresh = db.get(Proposal, proposal.id)
    assert fresh is not None
    return fresh


def events(db, proposal: Proposal) -> list[EventKind]:
    return list(
        db.scalars(
            select(ProposalEvent.kind)
            .where(ProposalEvent.proposal_id == proposal.id)
            .order_by(ProposalEvent.id)
        )
    )


# Publishing


def test_the_author_publishes_a_draft_for_deliberation(client, db, cast, draft):
    proposal = draft()
    log_in(client, "author_kaito")

    response = post_form(client, f"/c/miku/proposals/{proposal.id}/publish")

    assert response.status_code == 303
    assert response.headers["location"] == f"/c/miku/proposals/{proposal.id}"
    fresh = reload(db, proposal)
    assert fresh.state == ProposalState.deliberation
    assert fresh.published_at is not None
    assert fresh.voting_may_open_at is not None
    html = client.get(f"/c/miku/proposals/{proposal.id}").text
    assert "Published: the community can now read and discuss it." in html
    assert "Voting may open from" in html
    assert "published it for deliberation" in html
    # Now everyone can read it.
    log_in(client, "fan_luka")
    assert client.get(f"/c/miku/proposals/{proposal.id}").status_code == 200


def test_publishing_twice_or_without_norm_text_is_refused_with_a_message(client, db, cast, draft):
    published = draft(publish=True)
    empty = draft(norm_text="")
    log_in(client, "author_kaito")

    response = post_form(client, f"/c/miku/proposals/{published.id}/publish")
    assert response.status_code == 303
    html = client.get(f"/c/miku/proposals/{published.id}").text
    assert "A proposal in deliberation cannot move to deliberation." in html
    assert "flash-error" in html

    response = post_form(client, f"/c/miku/proposals/{empty.id}/publish")
    assert response.status_code == 303
    assert (
        "Write the norm text before publishing." in client.get(f"/c/miku/proposals/{empty.id}").text
    )
    assert reload(db, empty).state == ProposalState.draft


def test_others_cannot_publish(client, db, cast, draft):
    proposal = draft()
    log_in(client, "fan_luka")
    assert post_form(client, f"/c/miku/proposals/{proposal.id}/publish").status_code == 404
    assert reload(db, proposal).state == ProposalState.draft
    assert post_form(client, "/c/miku/proposals/424242/publish").status_code == 404


# Withdrawing


def test_the_author_withdraws_with_a_reason_and_the_proposal_stays_readable(
    client, db, cast, draft
):
    proposal = draft(publish=True)
    log_in(client, "author_kaito")

    response = post_form(
        client,
        f"/c/miku/proposals/{proposal.id}/withdraw",
        {"reason": "Merged into another proposal."},
    )

    assert response.status_code == 303
    fresh = reload(db, proposal)
    assert fresh.state == ProposalState.withdrawn
    assert fresh.withdrawn_at is not None
    html = client.get(f"/c/miku/proposals/{proposal.id}").text
    assert "Withdrawn. The proposal stays readable, marked as withdrawn." in html
    assert "Withdrawn by its author on" in html
    assert "state-withdrawn" in html
    assert "<q>Merged into another proposal.</q>" in html
    assert "/withdraw" not in html
    log_in(client, "fan_luka")
    assert client.get(f"/c/miku/proposals/{proposal.id}").status_code == 200


def test_a_withdraw_reason_too_long_changes_nothing(client, db, cast, draft):
    proposal = draft(publish=True)
    log_in(client, "author_kaito")
    response = post_form(client, f"/c/miku/proposals/{proposal.id}/withdraw", {"reason": "r" * 301})
    assert response.status_code == 303
    assert "Use at most 300 characters." in client.get(f"/c/miku/proposals/{proposal.id}").text
    assert reload(db, proposal).state == ProposalState.deliberation


def test_withdrawing_twice_is_refused_with_a_message(client, db, cast, draft):
    proposal = draft(publish=True)
    service.withdraw(db, actor=cast.author, proposal=proposal, reason="", now=utcnow())
    log_in(client, "author_kaito")
    response = post_form(client, f"/c/miku/proposals/{proposal.id}/withdraw", {"reason": ""})
    assert response.status_code == 303
    assert (
        "A proposal in withdrawn cannot move to withdrawn."
        in client.get(f"/c/miku/proposals/{proposal.id}").text
    )


def test_only_the_author_may_withdraw(client, db, cast, draft):
    proposal = draft(publish=True)
    service.add_coauthor(
        db, actor=cast.author, proposal=proposal, username="partner_meiko", now=utcnow()
    )
    for who in ("partner_meiko", "fan_luka", "mod_rin"):
        log_in(client, who)
        response = post_form(client, f"/c/miku/proposals/{proposal.id}/withdraw", {"reason": ""})
        assert response.status_code == 403, who
        assert "Only the proposal's author may withdraw it." in unescape(response.text)
    assert reload(db, proposal).state == ProposalState.deliberation


# Co-authors


def test_the_author_invites_a_co_author_who_is_credited_and_follows(client, db, cast, draft):
    proposal = draft()
    log_in(client, "author_kaito")

    response = post_form(
        client, f"/c/miku/proposals/{proposal.id}/coauthors", {"username": "partner_meiko"}
    )

    assert response.status_code == 303
    assert cast.partner.id in service.author_ids(db, proposal)
    assert service.is_following(db, proposal, cast.partner)
    html = client.get(f"/c/miku/proposals/{proposal.id}").text
    assert "Meiko Partner is now a co-author." in html
    # The co-author now sees the draft and may edit it.
    log_in(client, "partner_meiko")
    html = client.get(f"/c/miku/proposals/{proposal.id}").text
    assert "Meiko Partner" in html
    assert f'href="/c/miku/proposals/{proposal.id}/edit"' in html
    assert "step down" in html


def test_inviting_an_unknown_user_or_a_non_member_is_a_field_error(client, db, cast, draft):
    proposal = draft()
    log_in(client, "author_kaito")
    url = f"/c/miku/proposals/{proposal.id}/coauthors"

    response = post_form(client, url, {"username": "nobody_here"})
    assert response.status_code == 422
    assert field_error(response.text, "f-coauthor") == "There is no user called 'nobody_here'."
    assert input_value(response.text, "username") == "nobody_here"
    assert '<h1 lang="en">' in response.text

    response = post_form(client, url, {"username": "outsider"})
    assert response.status_code == 422
    assert field_error(response.text, "f-coauthor") == (
        "Passer By is not a member of this community."
    )

    response = post_form(client, url, {"username": "author_kaito"})
    assert response.status_code == 422
    assert field_error(response.text, "f-coauthor") == "Kaito Author is an author already."

    response = post_form(client, url, {"username": ""})
    assert response.status_code == 422
    assert service.author_ids(db, proposal) == {cast.author.id}


def test_only_the_author_invites_co_authors(client, db, cast, draft):
    proposal = draft(publish=True)
    log_in(client, "fan_luka")
    response = post_form(
        client, f"/c/miku/proposals/{proposal.id}/coauthors", {"username": "fan_luka"}
    )
    assert response.status_code == 403
    assert service.author_ids(db, proposal) == {cast.author.id}


def test_inviting_to_a_withdrawn_proposal_is_refused_with_a_message(client, db, cast, draft):
    proposal = draft(publish=True)
    service.withdraw(db, actor=cast.author, proposal=proposal, reason="", now=utcnow())
    log_in(client, "author_kaito")
    response = post_form(
        client, f"/c/miku/proposals/{proposal.id}/coauthors", {"username": "partner_meiko"}
    )
    assert response.status_code == 303
    assert "its authors are final" in client.get(f"/c/miku/proposals/{proposal.id}").text
    assert service.author_ids(db, proposal) == {cast.author.id}


def test_the_author_removes_a_co_author_and_a_co_author_steps_down(client, db, cast, draft):
    proposal = draft(publish=True)
    for name in ("partner_meiko", "fan_luka"):
        service.add_coauthor(db, actor=cast.author, proposal=proposal, username=name, now=utcnow())

    log_in(client, "author_kaito")
    response = post_form(client, f"/c/miku/proposals/{proposal.id}/coauthors/fan_luka/remove")
    assert response.status_code == 303
    assert "Co-author removed." in client.get(f"/c/miku/proposals/{proposal.id}").text
    assert cast.fan.id not in service.author_ids(db, proposal)

    log_in(client, "partner_meiko")
    response = post_form(client, f"/c/miku/proposals/{proposal.id}/coauthors/partner_meiko/remove")
    assert response.status_code == 303
    assert service.author_ids(db, proposal) == {cast.author.id}
    html = client.get(f"/c/miku/proposals/{proposal.id}").text
    assert "removed co-author @partner_meiko" in html


def test_others_cannot_remove_co_authors(client, db, cast, draft):
    proposal = draft(publish=True)
    service.add_coauthor(
        db, actor=cast.author, proposal=proposal, username="partner_meiko", now=utcnow()
    )
    log_in(client, "fan_luka")
    response = post_form(client, f"/c/miku/proposals/{proposal.id}/coauthors/partner_meiko/remove")
    assert response.status_code == 403
    assert cast.partner.id in service.author_ids(db, proposal)

    log_in(client, "author_kaito")
    for username in ("fan_luka", "nobody_here", "author_kaito"):
        response = post_form(client, f"/c/miku/proposals/{proposal.id}/coauthors/{username}/remove")
        assert response.status_code == 404, username
    assert service.author_ids(db, proposal) == {cast.author.id, cast.partner.id}


# Moderation


def test_moderators_see_the_moderation_form(client, cast, draft):
    proposal = draft(publish=True)
    log_in(client, "mod_rin")
    html = client.get(f"/c/miku/proposals/{proposal.id}").text
    assert f'action="/c/miku/proposals/{proposal.id}/moderate"' in html
    log_in(client, "fan_luka")
    assert "/moderate" not in client.get(f"/c/miku/proposals/{proposal.id}").text


def test_a_moderator_changes_category_and_tags(client, db, cast, draft):
    proposal = draft(publish=True, tags=["old"])
    log_in(client, "mod_rin")

    response = post_form(
        client,
        f"/c/miku/proposals/{proposal.id}/moderate",
        {"category": "ai-models", "tags": "lora, Fine Tune", "lock": "", "reason": ""},
    )

    assert response.status_code == 303
    fresh = reload(db, proposal)
    assert fresh.category_id == cast.ai.id
    assert fresh.tag_names == ["fine-tune", "lora"]
    assert fresh.revision_number == 1
    assert fresh.locked_at is None
    html = client.get(f"/c/miku/proposals/{proposal.id}").text
    assert "Moderation saved." in html
    assert "filed it under category AI models; tags fine-tune, lora" in html


def test_a_moderator_locks_with_a_reason_and_unlocks(client, db, cast, draft):
    proposal = draft(publish=True)
    log_in(client, "mod_rin")
    url = f"/c/miku/proposals/{proposal.id}/moderate"

    response = post_form(
        client,
        url,
        {"category": "depiction-rules", "tags": "", "lock": "lock", "reason": "Heated thread"},
    )
    assert response.status_code == 303
    assert reload(db, proposal).locked_at is not None
    html = client.get(f"/c/miku/proposals/{proposal.id}").text
    assert "locked it" in html
    assert "<q>Heated thread</q>" in html
    assert '<option value="unlock"' in html

    response = post_form(
        client, url, {"category": "depiction-rules", "tags": "", "lock": "unlock", "reason": ""}
    )
    assert response.status_code == 303
    assert reload(db, proposal).locked_at is None
    assert EventKind.unlocked in events(db, proposal)


def test_locking_without_a_reason_is_a_422_with_the_error_next_to_the_field(
    client, db, cast, draft
):
    proposal = draft(publish=True)
    log_in(client, "mod_rin")

    response = post_form(
        client,
        f"/c/miku/proposals/{proposal.id}/moderate",
        {"category": "ai-models", "tags": "kept", "lock": "lock", "reason": "  "},
    )

    assert response.status_code == 422
    html = response.text
    assert field_error(html, "f-mod-reason") == "Give a reason for the record."
    assert input_value(html, "tags", "f-mod-tags") == "kept"
    assert '<option value="lock" selected>' in html
    fresh = reload(db, proposal)
    assert fresh.locked_at is None
    assert fresh.category_id == cast.rules.id


def test_an_unknown_category_in_moderation_is_a_422(client, db, cast, draft):
    proposal = draft(publish=True)
    log_in(client, "mod_rin")
    response = post_form(
        client,
        f"/c/miku/proposals/{proposal.id}/moderate",
        {"category": "nope", "tags": "", "lock": "", "reason": ""},
    )
    assert response.status_code == 422
    assert "Choose one of this community&#39;s categories." in response.text
    assert reload(db, proposal).category_id == cast.rules.id


def test_fans_and_authors_posting_moderation_get_403(client, db, cast, draft):
    proposal = draft(publish=True)
    for who in ("fan_luka", "author_kaito"):
        log_in(client, who)
        response = post_form(
            client,
            f"/c/miku/proposals/{proposal.id}/moderate",
            {"category": "ai-models", "tags": "x", "lock": "lock", "reason": "Mine now"},
        )
        assert response.status_code == 403, who
    fresh = reload(db, proposal)
    assert fresh.category_id == cast.rules.id
    assert fresh.locked_at is None
    assert fresh.tag_names == []


def test_moderators_may_recategorize_a_withdrawn_proposal(client, db, cast, draft):
    proposal = draft(publish=True)
    service.withdraw(db, actor=cast.author, proposal=proposal, reason="", now=utcnow())
    log_in(client, "mod_rin")
    response = post_form(
        client,
        f"/c/miku/proposals/{proposal.id}/moderate",
        {"category": "ai-models", "tags": "archive", "lock": "", "reason": ""},
    )
    assert response.status_code == 303
    assert reload(db, proposal).category_id == cast.ai.id


def test_moderating_a_proposal_in_an_archived_category_keeps_it(client, db, cast, draft):
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
    log_in(client, "mod_rin")
    html = client.get(f"/c/miku/proposals/{proposal.id}").text
    moderation = html[html.index('id="f-mod-category"') :]
    assert (
        '<option value="depiction-rules" selected>' in moderation[: moderation.index("</select>")]
    )

    response = post_form(
        client,
        f"/c/miku/proposals/{proposal.id}/moderate",
        {"category": "depiction-rules", "tags": "", "lock": "lock", "reason": "Cool off"},
    )
    assert response.status_code == 303
    fresh = reload(db, proposal)
    assert fresh.locked_at is not None
    assert fresh.category_id == cast.rules.id


def test_a_co_author_stepping_down_from_a_draft_lands_on_the_list(client, db, cast, draft):
    proposal = draft()
    service.add_coauthor(
        db, actor=cast.author, proposal=proposal, username="partner_meiko", now=utcnow()
    )
    log_in(client, "partner_meiko")

    response = post_form(client, f"/c/miku/proposals/{proposal.id}/coauthors/partner_meiko/remove")

    assert response.status_code == 303
    # The draft is private again: its page would be a 404 for them now.
    assert response.headers["location"] == "/c/miku/proposals"
    assert "You are no longer a co-author of this draft." in client.get("/c/miku/proposals").text
    assert client.get(f"/c/miku/proposals/{proposal.id}").status_code == 404


def test_removing_a_co_author_of_a_withdrawn_proposal_is_refused_with_a_message(
    client, db, cast, draft
):
    proposal = draft(publish=True)
    service.add_coauthor(
        db, actor=cast.author, proposal=proposal, username="partner_meiko", now=utcnow()
    )
    service.withdraw(db, actor=cast.author, proposal=proposal, reason="", now=utcnow())
    log_in(client, "author_kaito")
    response = post_form(client, f"/c/miku/proposals/{proposal.id}/coauthors/partner_meiko/remove")
    assert response.status_code == 303
    assert "its authors are final" in client.get(f"/c/miku/proposals/{proposal.id}").text
    assert cast.partner.id in service.author_ids(db, proposal)
