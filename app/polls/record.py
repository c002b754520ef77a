"""What a closed poll leaves for the record: its objections, how each was resolved, and who
objected in a way that changed the text. The guidelines credit and cite from these."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.i18n import N_
from app.polls import service
from app.polls.models import Ballot, Poll, Position
from app.polls.policy import Secrecy

Resolution = Literal["withdrawn", "amended", "not_paramount", "open"]

RESOLUTION_LABELS: dict[Resolution, str] = {
    "withdrawn": N_("withdrawn by the objector"),
    "amended": N_("answered by amending the text (a new round began)"),
    "not_paramount": N_("ruled not paramount by a moderator"),
    "open": N_("still open when the poll closed (counted against the threshold)"),
}


@dataclass(frozen=True)
class ObjectionRecord:
    round: int
    reason: str
    #: The objector, in named polls only.
    voter: User | None
    resolution: Resolution
    ruling_reason: str = ""

    @property
    def resolution_label(self) -> str:
        return RESOLUTION_LABELS[self.resolution]

    def to_json(self) -> dict[str, object]:
        return {
            "round": self.round,
            "reason": self.reason,
            "voter": self.voter.username if self.voter else None,
            "voter_name": self.voter.display_name if self.voter else None,
            "resolution": self.resolution,
            "ruling_reason": self.ruling_reason,
        }


def objections(db: Session, poll: Poll) -> list[ObjectionRecord]:
    """Every objection of every round, once per voter and round, with how it ended."""
    named = service.policy_in(poll).ballots == Secrecy.named
    ballots = db.scalars(
        select(Ballot)
        .where(Ballot.poll_id == poll.id)
        .order_by(Ballot.round_number, Ballot.voter_id, Ballot.id)
    ).all()
    latest: dict[tuple[int, int], Ballot] = {}
    last_objection: dict[tuple[int, int], Ballot] = {}
    for ballot in ballots:
        key = (ballot.round_number, ballot.voter_id)
        if ballot.latest:
            latest[key] = ballot
        if ballot.position == Position.object:
            last_objection[key] = ballot
    records = []
    for key, objection in sorted(last_objection.items(), key=lambda item: item[1].id):
        round_number = key[0]
        final = latest.get(key)
        resolution: Resolution
        if final is None or final.position != Position.object:
            resolution = "withdrawn"
        elif final.ruling is not None:
            resolution = "not_paramount"
        elif round_number < poll.current_round:
            resolution = "amended"
        else:
            resolution = "open"
        records.append(
            ObjectionRecord(
                round=round_number,
                reason=objection.reason,
                voter=objection.voter if named else None,
                resolution=resolution,
                ruling_reason=final.ruling.reason if final and final.ruling else "",
            )
        )
    return records


def objectors_who_changed_the_text(db: Session, poll: Poll) -> list[User]:
    """Voters whose objection stood when the text was amended: credited for improving it.

    Never in anonymous polls, where naming them would tell how they voted.
    """
    seen: dict[int, User] = {}
    for record in objections(db, poll):
        if record.resolution == "amended" and record.voter is not None:
            seen.setdefault(record.voter.id, record.voter)
    return list(seen.values())
