"""The poll's outcome in a sentence speaks the reader's language, in the API as on the pages;
the proposal's history keeps it in English, whoever closed the poll."""

from __future__ import annotations

from sqlalchemy import select

from app.proposals.models import EventKind, ProposalEvent
from tests.functional.polls.conftest import vote

JAPANESE = {"Accept-Language": "ja"}


def test_the_outcome_sentence_is_in_the_readers_language(client, db, forum, poll, bearer):
    for user in forum.voters[1:]:
        assert vote(client, bearer(user), poll.id, "consent").status_code == 200
    url = f"/api/v1/polls/{poll.id}"
    closed = client.post(f"{url}/close", headers={**bearer(forum.moderator), **JAPANESE})
    assert closed.status_code == 200, closed.text

    english = client.get(f"{url}/results").json()
    assert english["tally"]["sentence"].startswith("Passed: consent made up 100% of the weighted")
    japanese = client.get(f"{url}/results", headers=JAPANESE).json()
    assert japanese["tally"]["sentence"].startswith("可決：同意は重みづけした投票の100%")  # noqa: RUF001
    assert japanese["message"] == japanese["tally"]["sentence"]
    assert japanese["outcome"] == "passed"

    detail = db.scalar(
        select(ProposalEvent.detail).where(
            ProposalEvent.proposal_id == forum.proposal.id,
            ProposalEvent.kind == EventKind.poll_closed,
        )
    )
    assert detail == english["tally"]["sentence"]
