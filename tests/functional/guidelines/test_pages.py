"""The guidelines pages: reading, filtering, history, provenance, import, tags, ratification."""

from __future__ import annotations

from html import unescape

import feedparser
from sqlalchemy.orm import Session

from app.db import utcnow
from app.guidelines import service
from app.proposals.models import ProposalState
from tests.conftest import form_token_in, log_in, post_form
from tests.functional.guidelines.conftest import RULES

HTMX = {"HX-Request": "true"}


def test_before_publication_moderators_are_offered_the_import(client, forum):
    page = client.get("/c/miku/guidelines")
    assert page.status_code == 200
    assert "has not published guidelines yet" in page.text
    assert "Import the rules you already have" not in page.text
    log_in(client, forum.moderator.username)
    assert "Import the rules you already have" in client.get("/c/miku/guidelines").text


def test_a_moderator_imports_the_rules_once(client, db: Session, forum):
    log_in(client, forum.moderator.username)
    form = client.get("/c/miku/guidelines/import")
    assert form.status_code == 200
    bad = post_form(client, "/c/miku/guidelines/import", {"markdown": "no rules here\x00"})
    assert bad.status_code == 422
    assert "no rules here" in unescape(bad.text)
    done = post_form(client, "/c/miku/guidelines/import", {"markdown": RULES})
    assert done.status_code == 303
    assert service.latest_number(db, forum.community) == 1
    again = post_form(client, "/c/miku/guidelines/import", {"markdown": RULES})
    assert again.status_code == 409


def test_fans_may_not_import(client, forum):
    log_in(client, forum.fan.username)
    assert client.get("/c/miku/guidelines/import").status_code == 403
    assert post_form(client, "/c/miku/guidelines/import", {"markdown": RULES}).status_code == 403


def test_the_document_has_a_table_of_contents_anchors_and_citations(client, forum, rules):
    html = client.get("/c/miku/guidelines").text
    assert 'id="section-1"' in html
    assert 'id="clause-1.2"' in html
    assert 'href="#clause-2.1"' in html
    assert "Violence stays non-graphic" in html
    assert "/c/miku/guidelines/clauses/1.1/v1" in html
    assert "Version 1" in html


def test_filters_search_and_as_of(client, db, forum, rules):
    clause = service.get_clause(db, forum.community, "2.1")
    service.set_tags(
        db, actor=forum.moderator, community=forum.community, clause=clause, tags=["commercial"]
    )
    other = service.get_clause(db, forum.community, "1.2")
    service.set_tags(
        db, actor=forum.moderator, community=forum.community, clause=other, tags=["video"]
    )
    commercial = client.get("/c/miku/guidelines?tag=commercial").text
    assert "Small print runs" in commercial
    assert "Violence stays" not in commercial
    assert "No sexualised depictions" in commercial  # untagged: applies to every work
    found = client.get("/c/miku/guidelines?q=gore", headers=HTMX)
    assert "<html" not in found.text
    assert "Violence stays non-graphic" in found.text
    assert "Small print runs" not in found.text
    bad = client.get("/c/miku/guidelines?as_of=2026-02-30")
    assert bad.status_code == 422
    assert "Use a date like 2026-05-01." in bad.text
    early = client.get("/c/miku/guidelines?as_of=2001-01-01")
    assert early.status_code == 422
    assert "first published" in early.text
    assert client.get("/c/miku/guidelines?tag=nope").status_code == 422
    assert client.get("/c/miku/guidelines?version=7").status_code == 404


def test_conditional_requests_answer_304(client, forum, rules):
    first = client.get("/c/miku/guidelines.md")
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("text/markdown")
    assert "### 1.1 No sexualised depictions" in first.text
    assert "Guideline 1.1, version 1, in force since" in first.text
    again = client.get("/c/miku/guidelines.md", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    since = client.get(
        "/c/miku/guidelines.md", headers={"If-Modified-Since": first.headers["last-modified"]}
    )
    assert since.status_code == 304
    page = client.get("/c/miku/guidelines")
    assert (
        client.get(
            "/c/miku/guidelines", headers={"If-None-Match": page.headers["etag"]}
        ).status_code
        == 304
    )


def test_ratifying_from_the_queue_publishes_and_links_everywhere(client, db, forum, rules, passed):
    proposal = passed()
    log_in(client, forum.moderator.username)
    queue = client.get("/c/miku/ratification")
    assert queue.status_code == 200
    assert proposal.title in queue.text
    response = post_form(
        client,
        f"/c/miku/proposals/{proposal.id}/ratify",
        {"note": "Clear and kind.", "back": "/c/miku/ratification"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/c/miku/ratification"
    db.refresh(proposal)
    assert proposal.state == ProposalState.ratified
    made = service.made_by(db, proposal)
    assert made is not None
    provenance = client.get(f"/c/miku/guidelines/clauses/{made.clause.number}/v2").text
    assert f"Guideline {made.clause.number}, version 2, in force since" in provenance
    assert f"/c/miku/proposals/{proposal.id}" in provenance
    assert "Proposed by" in provenance
    assert "Ratified by" in provenance
    assert "Clear and kind." in unescape(provenance)
    assert forum.moderator.display_name in provenance
    history = client.get(f"/c/miku/guidelines/clauses/{made.clause.number}").text
    assert "Added" in history
    changes = client.get("/c/miku/guidelines/versions").text
    assert "Version 2" in changes
    diff = client.get("/c/miku/guidelines/diff?from=1&to=2").text
    assert "<ins>Every derivative drawing credits the illustrator.</ins>" in diff


def test_returning_needs_a_reason_and_only_moderators_decide(client, db, forum, passed):
    proposal = passed()
    log_in(client, forum.fan.username)
    assert client.get("/c/miku/ratification").status_code == 403
    refused = post_form(client, f"/c/miku/proposals/{proposal.id}/ratify", {"note": ""})
    assert refused.status_code == 403
    client.cookies.clear()
    log_in(client, forum.moderator.username)
    empty = post_form(client, f"/c/miku/proposals/{proposal.id}/return", {"reason": ""})
    assert empty.status_code == 303
    db.refresh(proposal)
    assert proposal.state == ProposalState.passed
    post_form(client, f"/c/miku/proposals/{proposal.id}/return", {"reason": "Too vague."})
    db.refresh(proposal)
    assert proposal.state == ProposalState.deliberation


def test_moderators_tag_clauses_from_the_clause_page(client, db, forum, rules):
    log_in(client, forum.moderator.username)
    page = client.get("/c/miku/guidelines/clauses/2.1")
    assert "Save tags" in page.text
    response = client.post(
        "/c/miku/guidelines/clauses/2.1/tags",
        data={"csrf_token": form_token_in(page.text), "tags": ["commercial", "image"]},
    )
    assert response.status_code == 303
    clause = service.get_clause(db, forum.community, "2.1")
    assert service.tags_of(db, [clause.id])[clause.id] == ["commercial", "image"]


def test_unknown_clauses_and_versions_are_404(client, forum, rules):
    assert client.get("/c/miku/guidelines/clauses/9.9").status_code == 404
    assert client.get("/c/miku/guidelines/clauses/1.1/v9").status_code == 404
    assert client.get("/c/miku/guidelines/clauses/nonsense").status_code == 404


def test_the_atom_feed_validates(client, db, forum, rules, passed):
    service.ratify(db, actor=forum.moderator, proposal=passed(), note="", now=utcnow())
    response = client.get("/c/miku/guidelines.atom")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert feed.bozo == 0, feed.bozo_exception
    assert feed.version == "atom10"
    titles = [entry.title for entry in feed.entries]
    assert titles[0].startswith("Version 2: Added")
    assert titles[1].startswith("Version 1: Imported")
    assert feed.entries[0].link.endswith("/c/miku/guidelines?version=2")
    cached = client.get(
        "/c/miku/guidelines.atom", headers={"If-None-Match": response.headers["etag"]}
    )
    assert cached.status_code == 304


def test_the_atom_feed_stays_xml_with_control_characters_in_names(client, db, forum, rules, passed):
    # Names and titles may hold control characters (a pasted terminal escape), which XML cannot
    # carry: the feed leaves them out instead of failing.
    forum.community.name = "Miku \x1b[31mFans\x07"
    proposal = passed(title="Credit the \x08illustrator\x1b[0m")
    service.ratify(db, actor=forum.moderator, proposal=proposal, note="", now=utcnow())
    response = client.get("/c/miku/guidelines.atom")
    assert response.status_code == 200
    feed = feedparser.parse(response.content)
    assert feed.bozo == 0, feed.bozo_exception
    assert feed.feed.title == "Miku [31mFans: guideline changes"
    assert "Credit the illustrator[0m" in feed.entries[0].title
