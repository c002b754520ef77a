"""JSON shapes of the polls API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from app.communities.models import Role
from app.polls.models import Outcome, Position
from app.polls.policy import ObjectionRule, PollPolicy, Secrecy, Visibility, WeightPolicy
from app.polls.service import LIST_LIMIT
from app.web.api import MAX_ID

PollId = Annotated[int, Path(ge=1, le=MAX_ID, description="The poll's id.")]
BallotId = Annotated[int, Path(ge=1, le=MAX_ID, description="The objection's ballot id.")]


class PolicyOut(BaseModel):
    """The rules a poll is counted by (see DESIGN.md, "Weighted consent polls")."""

    weight_policy: WeightPolicy
    role_weights: dict[str, int] = Field(description="Weight per role (`role` weights).")
    constituency_shares: dict[str, int] = Field(
        description="Percent of the vote each group holds (`constituency` weights)."
    )
    moderators_vote_as: str = Field(description="The group moderators count in.")
    quorum: int = Field(description="Percent of the eligible weight that must take part.")
    threshold: int = Field(
        description="Percent of consent among consent, concern and objection needed to pass."
    )
    objection_rule: ObjectionRule
    results: Visibility
    ballots: Secrecy
    duration_days: int
    min_membership_days: int
    max_rounds: int

    @classmethod
    def of(cls, policy: PollPolicy) -> PolicyOut:
        return cls.model_validate(policy.to_json())


class ExplanationOut(BaseModel):
    setting: str
    value: str
    meaning: str


class PolicyDetailOut(PolicyOut):
    """A community's policy with each setting explained in plain words."""

    explanations: list[ExplanationOut]


class PolicyIn(BaseModel):
    """Settings to change; those left out keep their value.

    Weights and shares may be objects (`{"role_weights": {"creator": 2}}`) or flat keys as the
    policy form names them (`{"role_weights.creator": 2}`). Ranges are checked by the service,
    which names every wrong setting in `fields`.
    """

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={"examples": [{"quorum": 30, "role_weights": {"creator": 2}}]},
    )

    weight_policy: WeightPolicy | None = None
    role_weights: dict[str, StrictInt] | None = Field(default=None, max_length=len(Role))
    constituency_shares: dict[str, StrictInt] | None = Field(default=None, max_length=len(Role))
    moderators_vote_as: str | None = Field(default=None, max_length=24)
    quorum: StrictInt | None = None
    threshold: StrictInt | None = None
    objection_rule: ObjectionRule | None = None
    results: Visibility | None = None
    ballots: Secrecy | None = None
    duration_days: StrictInt | None = None
    min_membership_days: StrictInt | None = None
    max_rounds: StrictInt | None = None

    def settings(self) -> dict[str, object]:
        """The flat settings the polls service takes (`PollPolicy.to_form` names)."""
        flat: dict[str, object] = {}
        for name, value in self.model_dump(exclude_none=True, mode="json").items():
            if isinstance(value, dict) and name in ("role_weights", "constituency_shares"):
                flat.update({f"{name}.{key}": item for key, item in value.items()})
            else:
                flat[name] = value
        return flat


class RoundOut(BaseModel):
    number: int
    revision: int = Field(description="The proposal revision this round polls.")
    started_at: datetime
    started_by: str | None


class FigureOut(BaseModel):
    ballots: int
    weight: float


class ConstituencyTallyOut(BaseModel):
    name: str
    share: int | None
    eligible: int
    eligible_weight: float
    positions: dict[str, FigureOut]


class FrozenTallyOut(BaseModel):
    """A poll's count as frozen at close (and recounted from the export)."""

    weight_policy: str
    round: int
    revision: int
    positions: dict[str, FigureOut] = Field(description="Per position: ballots and weight.")
    constituencies: list[ConstituencyTallyOut]
    eligible: int
    eligible_weight: float
    participants: int
    participating_weight: float
    participation: float = Field(description="Percent of the eligible weight that took part.")
    quorum: int
    quorum_met: bool
    support: float | None = Field(
        description="Percent of consent (with concerns) among consent, concern and objection."
    )
    threshold: int
    threshold_met: bool
    objection_rule: str
    open_objections: int
    ruled_not_paramount: int
    outcome: str
    decided_by: str = Field(description="quorum, objection, threshold, or all_rules (passed).")


class TallyOut(FrozenTallyOut):
    final: bool = Field(description="The poll is closed: this count is its result.")
    sentence: str = Field(description="The outcome in a sentence a fan can read.")


class RulingOut(BaseModel):
    ballot_id: int
    ruling: Literal["not_paramount"] = "not_paramount"
    reason: str
    moderator: str | None
    created_at: datetime


class ObjectionOut(BaseModel):
    """An open objection of the current round; the voter is named only in named polls."""

    ballot_id: int
    reason: str
    voter: str | None
    cast_at: datetime | None = Field(description="Left out in anonymous polls.")
    ruling: RulingOut | None


class NamedBallotOut(BaseModel):
    """A counted ballot of a named poll, once the count is visible."""

    voter: str
    display_name: str
    position: Position
    reason: str
    ruled_not_paramount: bool
    cast_at: datetime


class ParticipantOut(BaseModel):
    username: str
    display_name: str


class BallotPageOut(BaseModel):
    visible: bool = Field(description="False while the poll's rules show no ballots yet.")
    named: bool = Field(description="Named polls list ballots; anonymous ones participants.")
    items: list[NamedBallotOut] | list[ParticipantOut]
    next_cursor: str | None


class VoterOut(BaseModel):
    """The viewer's place on the roll, frozen when the poll opened."""

    role: Role
    constituency: str
    weight: int


class ViewerOut(BaseModel):
    voter: VoterOut | None = Field(description="Null when the viewer is not on the roll.")
    can_vote: bool
    cannot_vote: str | None = Field(description="Why the viewer may not vote, if they may not.")
    voted: bool = Field(description="The viewer has a counted ballot in the current round.")
    missed_round: bool = Field(description="Voted in an earlier round, not yet in this one.")
    can_moderate: bool


class PollOut(BaseModel):
    id: int
    proposal: int
    community: str
    number: int = Field(description="1 for the proposal's first poll.")
    state: Literal["open", "closed"]
    outcome: Outcome | None
    round: int
    revision: int = Field(description="The revision the current round polls.")
    rounds: list[RoundOut]
    policy: PolicyOut
    opened_by: str | None
    opened_at: datetime
    closes_at: datetime
    closed_at: datetime | None
    closed_by: str | None = Field(description="The moderator who closed it early.")
    roll_size: int = Field(description="Members on the electoral roll.")
    results_visible: bool
    tally: TallyOut | None = Field(description="Null while results are hidden.")
    objections: list[ObjectionOut] = Field(
        description="While the poll runs: the open objections, oldest first "
        f"(the first {LIST_LIMIT})."
    )
    more_objections: bool = Field(description="More objections are open than listed.")
    viewer: ViewerOut | None = Field(description="Null when not signed in.")


class ResultsOut(BaseModel):
    poll: int
    state: Literal["open", "closed"]
    visible: bool = Field(description="False while the policy hides results until close.")
    outcome: Outcome | None
    closes_at: datetime
    message: str
    tally: TallyOut | None


class BallotIn(BaseModel):
    position: str = Field(
        max_length=24,
        description="consent, concern (consent with concerns), object or stand_aside.",
        examples=["concern"],
    )
    reason: str = Field(
        default="",
        max_length=10_000,
        description="Required for concern and object.",
        examples=["Fan art sold at events needs a clearer line."],
    )


class BallotOut(BaseModel):
    """One of the viewer's own ballots."""

    id: int
    round: int
    position: Position
    reason: str
    receipt: str = Field(description="The code that finds this ballot in the export.")
    cast_at: datetime
    counted: bool = Field(description="The latest ballot of the current round.")
    ruling: RulingOut | None


class MyBallotOut(BaseModel):
    poll: int
    round: int
    voter: VoterOut | None
    ballot: BallotOut | None = Field(description="The counted ballot in the current round.")
    history: list[BallotOut] = Field(description="Every ballot cast in this poll, newest first.")


class RulingIn(BaseModel):
    ruling: Literal["not_paramount"]
    reason: str = Field(max_length=2000, examples=["The concern is addressed by clause 3.2."])


class ExportPollOut(BaseModel):
    id: int
    proposal: int
    community: str
    number: int
    round: int
    revision: int
    opened_at: datetime
    closes_at: datetime
    closed_at: datetime | None
    outcome: Outcome | None


class RollGroupOut(BaseModel):
    constituency: str
    voters: int
    weight: int


class ExportBallotOut(BaseModel):
    receipt: str
    round: int
    position: Position
    ruled_not_paramount: bool
    weight: int
    constituency: str
    voter: str | None = Field(default=None, description="Named polls only.")
    reason: str | None = Field(default=None, description="Named polls only.")


class ExportOut(BaseModel):
    """A closed poll for independent recount (`normsforum verify-tally FILE`)."""

    poll: ExportPollOut
    policy: PolicyOut
    roll: list[RollGroupOut]
    ballots: list[ExportBallotOut]
    tally: FrozenTallyOut
