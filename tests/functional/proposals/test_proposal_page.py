"""A proposal's page: safe Markdown, state, authors, following, timeline; drafts hidden."""

from __future__ import annotations

import re
from datetime import timedelta

from app import i18n
from app.db import utcnow
from app.proposals import service
from tests.conftest import log_in, post_form
from tests.factories import make_community
from tests.functional.proposals.conftest import HTMX


def test_a_published_proposal_shows_its_text_state_authors_and_timeline(client, db, cast, draft):
    proposal = draft(
        title="Credit remixes",
        publish=True,
        summary="Name your sources.",
        norm_text="Works **must** credit:\n\n- the character\n- the original song",
        rationale="See [the guidelines](https://example.org/guide).",
        tags=["credits"],
    )
    service.add_coauthor(
        db, actor=cast.author, proposal=proposal, username="partner_meiko", now=utcnow()
    )

    response = client.get(f"/c/miku/proposals/{proposal.id}")

    assert response.status_code == 200
    html = response.text
    assert '<h1 lang="en">Credit remixes</h1>' in html
    assert "Name your sources." in html
    assert "Works <strong>must</strong> credit:" in html
    assert "<li>the original song</li>" in html
    assert '<a href="https://example.org/guide" rel="nofollow ugc noopener">' in html
    assert "state-deliberation" in html
    assert "Deliberation is open. Voting may open from" in html
    assert "Kaito Author" in html
    assert "Meiko Partner" in html
    assert "co-author" in html
    assert "#credits" in html
    assert "Depiction rules" in html
    timeline = html[html.index('class="timeline"') :]
    assert "started the draft" in timeline
    assert "published it for deliberation" in timeline
    assert "as co-author" in timeline
    assert "@partner_meiko" in timeline
    # Anonymous readers see the follower count but no follow form, nor any author action.
    assert "2 followers" in html
    assert "/follow" not in html
    assert "Edit text" not in html


def test_the_page_shows_when_voting_may_open(client, db, cast, draft):
    proposal = draft(publish=True)
    assert proposal.voting_may_open_at is not None
    when = i18n.date_time(proposal.voting_may_open_at)
    assert (
        f"Voting may open from <strong>{when}</strong>"
        in client.get(f"/c/miku/proposals/{proposal.id}").text
    )


def test_once_the_period_is_over_the_page_says_voting_may_open_now(client, db, cast, draft):
    proposal = draft(publish=True)
    proposal.voting_may_open_at = utcnow() - timedelta(days=2)
    db.flush()
    when = i18n.date_time(proposal.voting_may_open_at)

    html = client.get(f"/c/miku/proposals/{proposal.id}").text

    assert f"minimum deliberation period ended <strong>{when}</strong>: voting may open now" in html
    assert "Voting may open from" not in html


def test_scripts_in_norm_text_or_rationale_are_never_rendered_as_tags(client, cast, draft):
    proposal = draft(
        publish=True,
        title="<script>alert('title')</script>",
        norm_text="<script>alert('norm')</script>\n\n[x](javascript:alert(1))",
        rationale='<img src=x onerror="alert(2)"> <script>alert("why")</script>',
        summary="<b>summary</b>",
    )

    html = client.get(f"/c/miku/proposals/{proposal.id}").text

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert('norm')&lt;/script&gt;" in html
    assert "&lt;script&gt;alert" in html
    assert "<img" not in html
    assert 'href="javascript' not in html.lower()
    assert "<b>summary</b>" not in html


def test_someone_elses_draft_is_a_404_page_like_a_missing_proposal(client, cast, draft):
    proposal = draft()
    for who in (None, "fan_luka", "mod_rin"):
        if who:
            log_in(client, who)
        response = client.get(f"/c/miku/proposals/{proposal.id}")
        assert response.status_code == 404, who
        assert "<html" in response.text
        assert "There is no such proposal." in response.text
        assert proposal.title not in response.text
        for suffix in ("/revisions", "/edit"):
            assert client.get(f"/c/miku/proposals/{proposal.id}{suffix}").status_code in (
                303,
                404,
            )
    missing = client.get("/c/miku/proposals/999999")
    assert missing.status_code == 404
    assert "There is no such proposal." in missing.text


def test_authors_see_their_draft_with_the_author_actions(client, cast, draft):
    proposal = draft()
    log_in(client, "author_kaito")
    html = client.get(f"/c/miku/proposals/{proposal.id}").text
    assert "This is a draft: only its authors can see it." in html
    assert f'href="/c/miku/proposals/{proposal.id}/edit"' in html
    assert f'action="/c/miku/proposals/{proposal.id}/publish"' in html
    assert f'action="/c/miku/proposals/{proposal.id}/withdraw"' in html
    assert f'action="/c/miku/proposals/{proposal.id}/coauthors"' in html
    # The author follows their proposal from the start.
    follow = html[html.index('id="follow"') :]
    assert 'aria-pressed="true"' in follow
    assert ">Following<" in follow


def test_a_proposal_is_only_found_under_its_own_community(client, db, cast, draft):
    make_community(db, "other")
    proposal = draft(publish=True)
    assert client.get(f"/c/other/proposals/{proposal.id}").status_code == 404


def test_ids_out_of_range_or_not_numbers_are_no_500(client, cast):
    for path in ("/c/miku/proposals/99999999999999999999", "/c/miku/proposals/abc"):
        response = client.get(path)
        assert response.status_code in (404, 422), path
        assert "<html" in response.text


def test_members_follow_and_unfollow_with_a_form(client, db, cast, draft):
    proposal = draft(publish=True)
    log_in(client, "fan_luka")
    html = client.get(f"/c/miku/proposals/{proposal.id}").text
    assert 'aria-pressed="false"' in html
    assert "1 follower<" in html

    response = post_form(client, f"/c/miku/proposals/{proposal.id}/follow", {"following": "1"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/c/miku/proposals/{proposal.id}"
    assert service.is_following(db, proposal, cast.fan)
    html = client.get(f"/c/miku/proposals/{proposal.id}").text
    assert "You follow this proposal." in html
    assert "2 followers" in html

    # Following twice changes nothing.
    post_form(client, f"/c/miku/proposals/{proposal.id}/follow", {"following": "1"})
    assert service.follower_count(db, proposal) == 2

    response = post_form(client, f"/c/miku/proposals/{proposal.id}/follow", {"following": "0"})
    assert response.status_code == 303
    assert not service.is_following(db, proposal, cast.fan)
    assert "You stopped following it." in client.get(f"/c/miku/proposals/{proposal.id}").text


def test_htmx_follow_returns_the_follow_fragment(client, db, cast, draft):
    proposal = draft(publish=True)
    log_in(client, "fan_luka")

    response = post_form(
        client, f"/c/miku/proposals/{proposal.id}/follow", {"following": "1"}, headers=HTMX
    )

    assert response.status_code == 200
    html = response.text
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="follow"')
    assert 'aria-pressed="true"' in html
    assert 'name="following" value="0"' in html
    assert "2 followers" in html
    assert 'name="csrf_token"' in html
    assert "HX-Request" in response.headers["vary"]

    response = post_form(
        client, f"/c/miku/proposals/{proposal.id}/follow", {"following": "0"}, headers=HTMX
    )
    assert 'aria-pressed="false"' in response.text
    assert "1 follower<" in response.text


def test_anonymous_visitors_cannot_follow_and_drafts_cannot_be_followed_by_others(
    client, db, cast, draft
):
    published = draft(publish=True)
    response = post_form(client, f"/c/miku/proposals/{published.id}/follow", {"following": "1"})
    assert response.status_code == 401

    secret = draft()
    log_in(client, "fan_luka")
    response = post_form(client, f"/c/miku/proposals/{secret.id}/follow", {"following": "1"})
    assert response.status_code == 404
    assert not service.is_following(db, secret, cast.fan)


def test_the_community_page_lists_recent_proposals(client, cast, draft):
    draft(title="Recent public proposal", publish=True)
    draft(title="Hidden draft")

    html = client.get("/c/miku").text

    section = html[html.index('id="proposals-heading"') :]
    assert "Recent public proposal" in section
    assert "Hidden draft" not in html
    assert 'href="/c/miku/proposals"' in section
    assert "Voting on a proposal may open 72 hours after it is published." in section
    assert re.search(r'href="/c/miku/proposals/\d+">Recent public proposal</a>', section)
    log_in(client, "author_kaito")
    assert "Hidden draft" in client.get("/c/miku").text
