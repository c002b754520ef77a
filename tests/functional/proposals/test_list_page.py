"""The community's proposal list: filters in the query string, search, sorts, paging, htmx."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs

from app.db import utcnow
from app.proposals import routes, service
from tests.conftest import log_in
from tests.functional.proposals.conftest import HTMX


def titles(html: str) -> list[str]:
    """The proposal titles of the list, in their order."""
    section = html[html.index('id="results"') :]
    return [unescape(t) for t in re.findall(r'<h2[^>]*><a href="[^"]+">([^<]+)</a></h2>', section)]


def older_link(html: str) -> dict[str, list[str]]:
    match = re.search(r'<a class="button button-secondary" href="\?([^"]+)"', html)
    assert match, "no 'Older proposals' link"
    return parse_qs(unescape(match.group(1)))


def test_anonymous_visitors_see_published_proposals_and_a_sign_in_link(client, cast, draft):
    draft(title="A published norm", publish=True)
    draft(title="A private draft")

    response = client.get("/c/miku/proposals")

    assert response.status_code == 200
    assert "<html" in response.text
    assert titles(response.text) == ["A published norm"]
    assert "Sign in to propose" in response.text
    assert "/proposals/new" not in response.text
    assert "HX-Request" in response.headers["vary"]


def test_members_see_their_own_drafts_but_never_other_peoples(client, cast, draft):
    draft(title="Kaito's draft")
    draft(cast.fan, title="Luka's draft")
    draft(title="Public one", publish=True)

    log_in(client, "fan_luka")
    html = client.get("/c/miku/proposals").text

    assert set(titles(html)) == {"Luka's draft", "Public one"}
    assert 'href="/c/miku/proposals/new"' in html

    log_in(client, "mod_rin")
    assert titles(client.get("/c/miku/proposals").text) == ["Public one"]


def test_filters_by_state_category_and_tag_from_the_query_string(client, db, cast, draft):
    draft(title="Rules in deliberation", publish=True, tags=["fan-art"])
    draft(title="AI in deliberation", publish=True, category=cast.ai.slug, tags=["lora"])
    withdrawn = draft(title="Withdrawn rules", publish=True, tags=["fan-art"])
    service.withdraw(db, actor=cast.author, proposal=withdrawn, reason="", now=utcnow())

    def listed(query: str) -> set[str]:
        response = client.get(f"/c/miku/proposals?{query}")
        assert response.status_code == 200, response.text
        return set(titles(response.text))

    assert listed("state=withdrawn") == {"Withdrawn rules"}
    assert listed("state=deliberation") == {"Rules in deliberation", "AI in deliberation"}
    assert listed(f"category={cast.ai.slug}") == {"AI in deliberation"}
    assert listed("tag=fan-art") == {"Rules in deliberation", "Withdrawn rules"}
    assert listed("tag=Fan+Art") == {"Rules in deliberation", "Withdrawn rules"}
    assert listed("tag=fan-art&state=deliberation") == {"Rules in deliberation"}
    assert listed("category=no-such-category") == set()
    # The form shows the filters in force.
    html = client.get(f"/c/miku/proposals?state=withdrawn&category={cast.ai.slug}").text
    assert '<option value="withdrawn" selected>' in html
    assert f'<option value="{cast.ai.slug}" selected>' in html


def test_full_text_search_over_title_summary_and_norm_text(client, cast, draft):
    draft(title="Vocal synthesis", publish=True, norm_text="Voicebanks may be remixed.")
    draft(title="Fan art credits", publish=True, summary="Credit the illustrator.")
    draft(title="Something else", publish=True)

    def found(q: str) -> set[str]:
        return set(titles(client.get("/c/miku/proposals", params={"q": q}).text))

    assert found("voicebank") == {"Vocal synthesis"}
    assert found("illustrator") == {"Fan art credits"}
    assert found("fan credits") == {"Fan art credits"}
    assert found("nothing-matches-this") == set()
    html = client.get("/c/miku/proposals", params={"q": "zzzz"}).text
    assert "No proposal matches these filters." in html
    assert 'value="zzzz"' in html


def test_search_with_only_punctuation_lists_everything(client, cast, draft):
    draft(title="Any proposal", publish=True)
    response = client.get("/c/miku/proposals", params={"q": "\"'*()"})
    assert response.status_code == 200
    assert titles(response.text) == ["Any proposal"]


def test_sorts_newest_active_and_closing(client, db, cast, draft):
    old = draft(title="Old one", publish=True, minutes_ago=60)
    new = draft(title="New one", publish=True, minutes_ago=5)
    draft(title="A draft of mine", minutes_ago=1)

    assert titles(client.get("/c/miku/proposals").text) == ["New one", "Old one"]
    # Activity on the old one brings it to the top of "recently active".
    service.edit_proposal(
        db,
        actor=cast.author,
        proposal=old,
        base_revision=1,
        values=service.ProposalDraft(
            title="Old one", norm_text="Changed text.", category=cast.rules.slug
        ),
        message="",
        now=utcnow(),
    )
    assert titles(client.get("/c/miku/proposals?sort=active").text) == ["Old one", "New one"]
    # Closing soon: the one whose deliberation ends first.
    assert old.deadline_at is not None
    assert new.deadline_at is not None
    assert titles(client.get("/c/miku/proposals?sort=closing").text) == ["Old one", "New one"]
    assert '<option value="closing" selected>' in client.get("/c/miku/proposals?sort=closing").text


def test_invalid_state_or_sort_is_a_422_page_with_a_message(client, cast, draft):
    draft(title="Listed", publish=True)

    response = client.get("/c/miku/proposals?state=banana")
    assert response.status_code == 422
    assert "<html" in response.text
    assert "The filter is not valid" in response.text
    assert "Choose one of: draft, deliberation" in response.text
    assert titles(response.text) == []

    response = client.get("/c/miku/proposals?sort=sideways")
    assert response.status_code == 422
    assert "Choose newest, active or closing." in response.text

    response = client.get("/c/miku/proposals", params={"q": "x" * 201})
    assert response.status_code == 422
    assert "Use at most 200 characters." in response.text


def test_a_malformed_cursor_is_a_422_not_a_500(client, cast, draft):
    draft(publish=True)
    for cursor in ("garbage!", "W10", "WyJ4IiwxXQ", "WyIyMDI0LTAxLTAxIiwieiJd"):
        response = client.get("/c/miku/proposals", params={"cursor": cursor})
        assert response.status_code == 422, cursor
        assert "The cursor is not valid." in response.text or "previous page" in response.text


def test_tag_filters_that_are_only_punctuation_are_no_500(client, cast, draft):
    draft(title="Tagged", publish=True, tags=["fan-art"])
    for tag in (",", "#", " , "):
        response = client.get("/c/miku/proposals", params={"tag": tag})
        assert response.status_code in (200, 422), tag
        assert "Something went wrong" not in response.text


def test_htmx_gets_only_the_results_fragment(client, cast, draft):
    draft(title="In the fragment", publish=True)

    response = client.get("/c/miku/proposals?q=fragment", headers=HTMX)

    assert response.status_code == 200
    assert "<html" not in response.text
    assert response.text.lstrip().startswith('<section id="results"')
    assert titles(response.text) == ["In the fragment"]
    assert 'class="filters' not in response.text
    assert "HX-Request" in response.headers["vary"]


def test_history_restore_gets_the_whole_list_page(client, cast):
    response = client.get(
        "/c/miku/proposals?q=x", headers={**HTMX, "HX-History-Restore-Request": "true"}
    )
    assert "<html" in response.text


def test_the_filter_form_works_without_javascript_and_pushes_the_url_with_htmx(client, cast):
    html = client.get("/c/miku/proposals").text
    form = html[html.index('<form class="filters') : html.index("</form>")]
    assert 'method="get"' in form
    assert 'action="/c/miku/proposals"' in form
    assert 'hx-get="/c/miku/proposals"' in form
    assert 'hx-target="#results"' in form
    assert 'hx-push-url="true"' in form
    for name in ("q", "state", "category", "tag", "sort"):
        assert f'name="{name}"' in form
    assert "<noscript>" in form


def test_older_proposals_link_carries_the_cursor_and_the_filters(client, cast, draft, monkeypatch):
    monkeypatch.setattr(routes, "PAGE_SIZE", 2)
    for n in range(5):
        draft(title=f"Tagged {n}", publish=True, tags=["fan-art"], minutes_ago=50 - n)
    draft(title="Untagged", publish=True)

    seen: list[str] = []
    url = "/c/miku/proposals?tag=fan-art&sort=newest"
    for _ in range(5):
        response = client.get(url)
        assert response.status_code == 200
        seen += titles(response.text)
        if "Older proposals" not in response.text:
            break
        params = older_link(response.text)
        assert params["tag"] == ["fan-art"]
        assert params["sort"] == ["newest"]
        assert params["cursor"]
        url = "/c/miku/proposals?" + "&".join(f"{k}={v[0]}" for k, v in params.items())
    assert seen == [f"Tagged {n}" for n in (4, 3, 2, 1, 0)]


def test_older_link_in_the_htmx_fragment_pushes_the_url(client, cast, draft, monkeypatch):
    monkeypatch.setattr(routes, "PAGE_SIZE", 1)
    draft(title="First", publish=True, minutes_ago=2)
    draft(title="Second", publish=True, minutes_ago=1)

    html = client.get("/c/miku/proposals?q=", headers=HTMX).text

    link = re.search(r"<a [^>]*>Older proposals", html)
    assert link
    assert 'hx-push-url="true"' in link.group(0)
    assert 'hx-target="#results"' in link.group(0)
    href = re.search(r'href="\?([^"]+)"', link.group(0))
    assert href
    assert parse_qs(unescape(href.group(1)))["cursor"]


def test_an_unknown_community_is_a_404_page(client):
    response = client.get("/c/nowhere/proposals")
    assert response.status_code == 404
    assert "<html" in response.text


def test_an_invalid_filter_through_htmx_is_a_422_fragment_with_the_message(client, cast):
    response = client.get("/c/miku/proposals?sort=sideways", headers=HTMX)
    assert response.status_code == 422
    assert "<html" not in response.text
    assert response.text.lstrip().startswith('<section id="results"')
    assert "Choose newest, active or closing." in response.text
