"""The revisions page: the list, the default comparison, ?from=&to= word diffs, htmx fragment."""

from __future__ import annotations

import pytest

from app.db import utcnow
from app.proposals import service
from app.proposals.models import Proposal
from tests.conftest import log_in
from tests.functional.proposals.conftest import HTMX


def revise(db, cast, proposal: Proposal, norm_text: str, message: str = "") -> None:
    service.edit_proposal(
        db,
        actor=cast.author,
        proposal=proposal,
        base_revision=proposal.revision_number,
        values=service.ProposalDraft(
            title=proposal.title,
            summary=proposal.summary,
            rationale=proposal.rationale,
            norm_text=norm_text,
            category=cast.rules.slug,
        ),
        message=message,
        now=utcnow(),
    )


@pytest.fixture
def revised(db, cast, draft):
    proposal = draft(publish=True, norm_text="Fan art is welcome.")
    revise(db, cast, proposal, "Fan art is welcome when credited.", "Ask for credit")
    revise(db, cast, proposal, "Fan art and <songs> are welcome when credited.", "Songs too")
    return proposal


def test_the_default_comparison_is_the_latest_change(client, revised):
    response = client.get(f"/c/miku/proposals/{revised.id}/revisions")

    assert response.status_code == 200
    html = response.text
    assert "<html" in html
    assert "Revision 2 (" in html
    assert "→ revision 3 (" in html
    assert "Fan art <del>is</del><ins>and &lt;songs&gt; are</ins> welcome when credited." in html
    assert 'Title <span class="muted">— unchanged</span>' in html
    assert '<option value="2" selected>' in html
    assert '<option value="3" selected>' in html
    # Every revision is listed with its message and a link to its changes.
    assert "<q>Ask for credit</q>" in html
    assert "<q>Songs too</q>" in html
    assert 'href="?from=1&amp;to=2"' in html
    assert 'href="?from=2&amp;to=3"' in html
    assert "HX-Request" in response.headers["vary"]


def test_any_two_revisions_compare_with_ins_and_del(client, revised):
    html = client.get(f"/c/miku/proposals/{revised.id}/revisions?from=1&to=3").text
    assert (
        "Fan art <del>is</del><ins>and &lt;songs&gt; are</ins> welcome<ins> when credited</ins>."
        in html
    )
    reverse = client.get(f"/c/miku/proposals/{revised.id}/revisions?from=3&to=1").text
    assert "<del>and &lt;songs&gt; are</del><ins>is</ins>" in reverse
    assert "<del> when credited</del>" in reverse
    assert "<script" not in reverse.split("</head>")[1]


def test_a_proposal_with_one_revision_compares_it_with_itself(client, draft):
    proposal = draft(publish=True)
    response = client.get(f"/c/miku/proposals/{proposal.id}/revisions")
    assert response.status_code == 200
    assert "— unchanged" in response.text
    assert 'class="diff"' not in response.text


@pytest.mark.parametrize(
    "query",
    [
        "from=abc&to=2",
        "from=1&to=",
        "from=1&to=99",
        "from=0&to=1",
        "from=-5&to=1",
        "from=1&to=99999999999999999999999",
        "from=1.5&to=2",
        "from=²&to=2",
    ],
)
def test_bad_revision_numbers_are_a_422_message_not_a_500(client, revised, query):
    response = client.get(f"/c/miku/proposals/{revised.id}/revisions?{query}")
    assert response.status_code == 422, query
    assert "<html" in response.text
    assert 'class="form-error-summary"' in response.text
    assert "Choose two revision numbers." in response.text or "has no revision" in response.text


def test_htmx_gets_only_the_comparison_fragment(client, revised):
    response = client.get(f"/c/miku/proposals/{revised.id}/revisions?from=1&to=2", headers=HTMX)
    assert response.status_code == 200
    html = response.text
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="comparison"')
    assert "<ins> when credited</ins>" in html
    assert "All revisions" not in html


def test_the_compare_form_works_without_javascript_and_with_htmx(client, revised):
    html = client.get(f"/c/miku/proposals/{revised.id}/revisions").text
    form = html[html.index('<form class="card compare-form"') :]
    form = form[: form.index("</form>")]
    assert 'method="get"' in form
    assert f'action="/c/miku/proposals/{revised.id}/revisions"' in form
    assert 'hx-target="#comparison"' in form
    assert 'hx-push-url="true"' in form
    assert "<noscript>" in form


def test_revisions_of_someone_elses_draft_are_a_404(client, draft):
    proposal = draft()
    assert client.get(f"/c/miku/proposals/{proposal.id}/revisions").status_code == 404
    log_in(client, "fan_luka")
    assert client.get(f"/c/miku/proposals/{proposal.id}/revisions").status_code == 404
    log_in(client, "author_kaito")
    assert client.get(f"/c/miku/proposals/{proposal.id}/revisions").status_code == 200
