"""JSON shapes of the polls API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic.config import JsonDict

from app.communities.models import Role
from app.polls.models import Outcome, Position
from app.polls.policy import (
    CONSTITUENCIES,
    MAX_DURATION_DAYS,
    MAX_MEMBERSHIP_DAYS,
    MAX_ROUNDS,
    MAX_WEIGHT,
    ObjectionRule,
    PollPolicy,
    Secrecy,
    Visibility,
    WeightPolicy,
)
from app.polls.service import LIST_LIMIT, REASON_MAX
from app.text import REASON_MAX as PUBLIC_REASON_MAX
from app.web.api import MAX_ID, WholeNumber, trimmed

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


def _settings(roles: tuple[Role, ...], low: int, high: int) -> JsonDict:
    """A whole number from `low` to `high` for each of `roles`, and for nothing else."""
    number: JsonDict = {"type": "integer", "minimum": low, "maximum": high}
    return {
        "type": "object",
        "properties": {role.value: dict(number) for role in roles},
        "additionalProperties": False,
    }


ROLE_WEIGHTS = _settings(tuple(Role), 1, MAX_WEIGHT)
CONSTITUENCY_SHARES = _settings(CONSTITUENCIES, 0, 100)
WEIGHT = f"A whole number from 1 to {MAX_WEIGHT}."
SHARE = "A whole percent from 0 to 100; the shares must add up to 100."


def _between(low: int, high: int) -> JsonDict:
    return {"minimum": low, "maximum": high}


def _flat(role: Role, *, share: bool = False) -> Any:
    """A setting of one role as the policy form names it (`role_weights.creator`)."""
    group = "constituency_shares" if share else "role_weights"
    return Field(
        default=None,
        alias=f"{group}.{role.value}",
        description=SHARE if share else WEIGHT,
        json_schema_extra=_between(0, 100) if share else _between(1, MAX_WEIGHT),
    )


def _no_other_settings(schema: JsonDict) -> None:
    # Extra keys are read, to be refused by name: the service says "There is no such setting".
    schema["additionalProperties"] = False
    schema["examples"] = [{"quorum": 30, "role_weights": {"creator": 2}}]


class PolicyIn(BaseModel):
    """Settings to change; those left out (or null) keep their value.

    Weights and shares may be objects (`{"role_weights": {"creator": 2}}`) or flat keys as the
    policy form names them (`{"role_weights.creator": 2}`). The service checks the settings and
    names every wrong one in `fields`; the constituency shares, with those left as they are,
    must add up to 100.
    """

    model_config = ConfigDict(extra="allow", json_schema_extra=_no_other_settings)

    weight_policy: WeightPolicy | None = None
    role_weights: (
        Annotated[dict[str, WholeNumber], WithJsonSchema(ROLE_WEIGHTS, mode="validation")] | None
    ) = Field(default=None, max_length=len(Role), description=WEIGHT)
    constituency_shares: (
        Annotated[dict[str, WholeNumber], WithJsonSchema(CONSTITUENCY_SHARES, mode="validation")]
        | None
    ) = Field(default=None, max_length=len(Role), description=SHARE)
    moderators_vote_as: str | None = Field(
        default=None,
        max_length=24,
        description="The constituency moderators vote in.",
        json_schema_extra={"enum": [*(role.value for role in CONSTITUENCIES), None]},
    )
    quorum: WholeNumber | None = Field(default=None, json_schema_extra=_between(0, 100))
    threshold: WholeNumber | None = Field(default=None, json_schema_extra=_between(1, 100))
    objection_rule: ObjectionRule | None = None
    results: Visibility | None = None
    ballots: Secrecy | None = None
    duration_days: WholeNumber | None = Field(
        default=None, json_schema_extra=_between(1, MAX_DURATION_DAYS)
    )
    min_membership_days: WholeNumber | None = Field(
        default=None, json_schema_extra=_between(0, MAX_MEMBERSHIP_DAYS)
    )
    max_rounds: WholeNumber | None = Field(default=None, json_schema_extra=_between(1, MAX_ROUNDS))
    role_weights_fan: WholeNumber | None = _flat(Role.fan)
    role_weights_creator: WholeNumber | None = _flat(Role.creator)
    role_weights_rights_holder: WholeNumber | None = _flat(Role.rights_holder)
    role_weights_moderator: WholeNumber | None = _flat(Role.moderator)
    constituency_shares_fan: WholeNumber | None = _flat(Role.fan, share=True)
    constituency_shares_creator: WholeNumber | None = _flat(Role.creator, share=True)
    constituency_shares_rights_holder: WholeNumber | None = _flat(Role.rights_holder, share=True)

    def settings(self) -> dict[str, object]:
        """The flat settings the polls service takes (`PollPolicy.to_form` names)."""
        extra = self.model_extra or {}
        flat: dict[str, object] = {}
        given = self.model_dump(exclude_none=True, mode="json", by_alias=True)
        for name, value in given.items():
            if name in extra:
                continue
            if isinstance(value, dict) and name in ("role_weights", "constituency_shares"):
                flat.update({f"{name}.{key}": item for key, item in value.items()})
            else:
                flat[name] = value
        # Whatever else was sent is no setting, null or not: the service refuses it by name.
        flat.update(extra)
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
    # The service's rule, in the schema: a concern or an objection says why.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"properties": {"position": {"enum": ["consent", "stand_aside"]}}},
                {
                    "required": ["reason"],
                    "properties": {"reason": {"pattern": trimmed(REASON_MAX)}},
                },
            ]
        }
    )

    position: str = Field(
        max_length=24,
        description="consent, concern (consent with concerns), object or stand_aside.",
        examples=["concern"],
        json_schema_extra={"enum": [p.value for p in Position]},
    )
    reason: str = Field(
        default="",
        max_length=10_000,
        description=f"Required for concern and object; at most {REASON_MAX:,} characters (after "
        "trimming).",
        examples=["Fan art sold at events needs a clearer line."],
        json_schema_extra={"pattern": trimmed(REASON_MAX, min_length=0)},
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
    reason: str = Field(
        max_length=2000,
        description=f"Public: 1 to {PUBLIC_REASON_MAX} characters (after trimming).",
        examples=["The concern is addressed by clause 3.2."],
        json_schema_extra={"pattern": trimmed(PUBLIC_REASON_MAX)},
    )


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
