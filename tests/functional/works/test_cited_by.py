"""The work page lists the proposals that exhibit the work, with their stance."""

from __future__ import annotations

from app.db import utcnow
from app.proposals import exhibits as ex
from app.proposals import service as proposals_service
from tests.conftest import log_in


def _proposal(db, cast, title: str, *, publish: bool):
    proposal = proposals_service.create_proposal(
        db,
        actor=cast.member,
        community=cast.community,
        values=proposals_service.ProposalDraft(
            title=title, norm_text="Works must credit the original creator."
        ),
        now=utcnow(),
    )
    if publish:
        proposals_service.publish(db, actor=cast.member, proposal=proposal, now=utcnow())
    return proposal


def test_the_work_page_lists_citing_proposals_but_not_others_drafts(client, db, cast, work):
    rin = work()
    public = _proposal(db, cast, "Credit remixes", publish=True)
    private = _proposal(db, cast, "Secret draft idea", publish=False)
    for proposal, stance in ((public, "unacceptable"), (private, "borderline")):
        ex.add_exhibit(
            db,
            actor=cast.member,
            proposal=proposal,
            work_id=rin.id,
            stance=stance,
            note="",
            now=utcnow(),
        )

    html = client.get(f"/c/miku/works/{rin.id}").text
    assert "Cited by proposals" in html
    assert "Credit remixes" in html
    assert f'href="/c/miku/proposals/{public.id}"' in html
    assert "stance-unacceptable" in html
    assert "Secret draft idea" not in html

    log_in(client, "member_len")
    html = client.get(f"/c/miku/works/{rin.id}").text
    assert "Secret draft idea" in html
    assert "stance-borderline" in html


def test_an_uncited_work_says_so(client, cast, work):
    rin = work()
    assert "No proposal cites it as an example yet." in client.get(f"/c/miku/works/{rin.id}").text
