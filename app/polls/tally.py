"""Counting a poll: the rules of DESIGN.md ("Weighted consent polls") as pure functions.

The database sums ballots by constituency and position (`service.tally_of`); a recount sums an
export's ballots here (`recount`); both hand their sums to `decide`, which applies quorum,
threshold and objection rule with exact fractions, so a recount agrees to the last digit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Any

from app.i18n import gettext as _
from app.i18n import ngettext, number
from app.polls.models import Position
from app.polls.policy import ObjectionRule, PollPolicy, WeightPolicy

#: Positions that take a stand on the text (standing aside counts towards quorum only).
STANDS = (Position.consent, Position.concern, Position.object)
DIGITS = 4


@dataclass(frozen=True)
class RollGroup:
    """The voters of one constituency on the frozen roll."""

    constituency: str
    voters: int
    weight: int


@dataclass(frozen=True)
class BallotGroup:
    """Counted ballots of one constituency in one position (a ruled objection is a concern)."""

    constituency: str
    position: Position
    ballots: int
    weight: int


@dataclass(frozen=True)
class Figure:
    ballots: int
    weight: float


@dataclass(frozen=True)
class ConstituencyTally:
    name: str
    #: The share of the vote the policy gives it (constituency weights only).
    share: int | None
    eligible: int
    eligible_weight: float
    positions: dict[str, Figure]


@dataclass(frozen=True)
class Tally:
    """A poll's count: what is frozen at close, exported, recounted and drawn."""

    weight_policy: str
    round: int
    revision: int
    positions: dict[str, Figure]
    constituencies: list[ConstituencyTally]
    eligible: int
    eligible_weight: float
    participants: int
    participating_weight: float
    #: Percent of the eligible weight that took part.
    participation: float
    quorum: int
    quorum_met: bool
    #: Percent of consent (with concerns) among consent, concern and objection; None if nobody
    #: took a stand.
    support: float | None
    threshold: int
    threshold_met: bool
    objection_rule: str
    open_objections: int
    ruled_not_paramount: int
    outcome: str
    #: The rule that decided: "quorum", "objection", "threshold", or "all_rules" when it passed.
    decided_by: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Tally:
        def figures(raw: Mapping[str, Any]) -> dict[str, Figure]:
            return {name: Figure(**figure) for name, figure in raw.items()}

        values = dict(data)
        values["positions"] = figures(data["positions"])
        values["constituencies"] = [
            ConstituencyTally(**{**c, "positions": figures(c["positions"])})
            for c in data["constituencies"]
        ]
        return cls(**values)

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"

    @property
    def ballots(self) -> int:
        return self.participants

    def sentence(self) -> str:
        """The outcome as a fan would say it, in the current language."""
        participation = _percent(self.participation)
        took_part = _(
            "%(participation)s of the eligible weight took part (quorum %(quorum)s%%)",
            participation=participation,
            quorum=number(self.quorum),
        )
        if self.decided_by == "quorum":
            return _(
                "Rejected: the quorum was not met. Only %(participation)s of the eligible weight "
                "took part, and %(quorum)s%% was needed.",
                participation=participation,
                quorum=number(self.quorum),
            )
        if self.decided_by == "objection":
            return ngettext(
                "Rejected: %(num)d objection stayed open, and under this poll's rules any open "
                "objection blocks the proposal. %(took_part)s.",
                "Rejected: %(num)d objections stayed open, and under this poll's rules any open "
                "objection blocks the proposal. %(took_part)s.",
                self.open_objections,
                took_part=took_part[:1].upper() + took_part[1:],
            )
        if self.support is None:
            return _(
                "Rejected: no ballot that holds a share of the vote consented, raised a concern "
                "or objected."
            )
        support = _percent(self.support)
        if self.decided_by == "threshold":
            return _(
                "Rejected: the threshold was not met. Consent made up %(support)s of the "
                "weighted vote, and %(threshold)s%% was needed.",
                support=support,
                threshold=number(self.threshold),
            )
        consent = _(
            "consent made up %(support)s of the weighted vote (threshold %(threshold)s%%)",
            support=support,
            threshold=number(self.threshold),
        )
        if self.open_objections == 0:
            return _(
                "Passed: %(consent)s, %(took_part)s, and no objection stayed open.",
                consent=consent,
                took_part=took_part,
            )
        return ngettext(
            "Passed: %(consent)s, %(took_part)s, and %(num)d objection counted against the "
            "threshold.",
            "Passed: %(consent)s, %(took_part)s, and %(num)d objections counted against the "
            "threshold.",
            self.open_objections,
            consent=consent,
            took_part=took_part,
        )


def _percent(value: float) -> str:
    """A percent for a sentence: whole when it is whole, else one decimal, the reader's way."""
    shown = round(value) if abs(value - round(value)) < 0.05 else round(value, 1)
    return f"{number(shown)}%"


def _num(value: Fraction) -> float:
    return round(float(value), DIGITS)


def decide(
    policy: PollPolicy,
    *,
    round_number: int,
    revision: int,
    roll: Iterable[RollGroup],
    groups: Iterable[BallotGroup],
    ruled_not_paramount: int = 0,
) -> Tally:
    """Apply the policy's weights, quorum, threshold and objection rule to summed ballots."""
    roll_by = {g.constituency: g for g in roll if g.voters > 0}
    counts: dict[tuple[str, Position], BallotGroup] = {}
    for group in groups:
        key = (group.constituency, group.position)
        before = counts.get(key)
        counts[key] = (
            group
            if before is None
            else BallotGroup(
                group.constituency,
                group.position,
                before.ballots + group.ballots,
                before.weight + group.weight,
            )
        )
    names = sorted(set(roll_by) | {c for c, _ in counts})

    def n(name: str, position: Position) -> int:
        group = counts.get((name, position))
        return group.ballots if group else 0

    weights: dict[tuple[str, Position], Fraction] = {}
    eligible_weight: dict[str, Fraction] = {}
    if policy.weight_policy == WeightPolicy.constituency:
        shares = {name: Fraction(policy.constituency_shares.get(name, 0)) for name in names}
        # Quorum: each constituency's share of the whole, among those with anyone to vote.
        with_roll = sum((shares[name] for name in roll_by), Fraction(0))
        for name in names:
            eligible_weight[name] = (
                shares[name] * 100 / with_roll if with_roll and name in roll_by else Fraction(0)
            )
        # The vote: each share split among the constituency's stands; a constituency where
        # nobody took a stand gives its share to the others pro rata.
        stands = {name: sum(n(name, p) for p in STANDS) for name in names}
        with_stands = sum((shares[name] for name in names if stands[name]), Fraction(0))
        for name in names:
            share = (
                shares[name] * 100 / with_stands if with_stands and stands[name] else Fraction(0)
            )
            for position in STANDS:
                weights[name, position] = (
                    share * n(name, position) / stands[name] if stands[name] else Fraction(0)
                )
            weights[name, Position.stand_aside] = Fraction(0)
        participating = sum(
            (
                eligible_weight[name] * sum(n(name, p) for p in Position) / roll_by[name].voters
                for name in names
                if name in roll_by
            ),
            Fraction(0),
        )
    else:
        for name in names:
            eligible_weight[name] = Fraction(roll_by[name].weight if name in roll_by else 0)
            for position in Position:
                found = counts.get((name, position))
                weights[name, position] = Fraction(found.weight if found else 0)
        participating = sum(weights.values(), Fraction(0))

    total_eligible = sum(eligible_weight.values(), Fraction(0))
    participation = participating / total_eligible if total_eligible else Fraction(0)

    def total(position: Position) -> Fraction:
        return sum((weights[name, position] for name in names), Fraction(0))

    agree = total(Position.consent) + total(Position.concern)
    taking_a_stand = agree + total(Position.object)
    support = agree / taking_a_stand if taking_a_stand else None
    quorum_met = participation * 100 >= policy.quorum
    threshold_met = support is not None and support * 100 >= policy.threshold
    open_objections = sum(n(name, Position.object) for name in names)
    blocked = policy.objection_rule == ObjectionRule.any_blocks and open_objections > 0
    if not quorum_met:
        outcome, decided_by = "rejected", "quorum"
    elif blocked:
        outcome, decided_by = "rejected", "objection"
    elif not threshold_met:
        outcome, decided_by = "rejected", "threshold"
    else:
        outcome, decided_by = "passed", "all_rules"

    return Tally(
        weight_policy=policy.weight_policy.value,
        round=round_number,
        revision=revision,
        positions={
            p.value: Figure(sum(n(name, p) for name in names), _num(total(p))) for p in Position
        },
        constituencies=[
            ConstituencyTally(
                name=name,
                share=policy.constituency_shares.get(name)
                if policy.weight_policy == WeightPolicy.constituency
                else None,
                eligible=roll_by[name].voters if name in roll_by else 0,
                eligible_weight=_num(eligible_weight[name]),
                positions={p.value: Figure(n(name, p), _num(weights[name, p])) for p in Position},
            )
            for name in names
        ],
        eligible=sum(g.voters for g in roll_by.values()),
        eligible_weight=_num(total_eligible),
        participants=sum(g.ballots for g in counts.values()),
        participating_weight=_num(participating),
        participation=_num(participation * 100),
        quorum=policy.quorum,
        quorum_met=quorum_met,
        support=None if support is None else _num(support * 100),
        threshold=policy.threshold,
        threshold_met=threshold_met,
        objection_rule=policy.objection_rule.value,
        open_objections=open_objections,
        ruled_not_paramount=ruled_not_paramount,
        outcome=outcome,
        decided_by=decided_by,
    )


@dataclass(frozen=True)
class CountedBallot:
    """A ballot as an export lists it."""

    constituency: str
    position: Position
    weight: int
    ruled_not_paramount: bool = False

    @property
    def counted_as(self) -> Position:
        return Position.concern if self.ruled_not_paramount else self.position


def recount(
    policy: PollPolicy,
    *,
    round_number: int,
    revision: int,
    roll: Iterable[RollGroup],
    ballots: Iterable[CountedBallot],
) -> Tally:
    """Count exported ballots one by one, as anyone can, and decide."""
    sums: dict[tuple[str, Position], list[int]] = defaultdict(lambda: [0, 0])
    ruled = 0
    for ballot in ballots:
        figures = sums[ballot.constituency, ballot.counted_as]
        figures[0] += 1
        figures[1] += ballot.weight
        ruled += ballot.ruled_not_paramount
    groups = [BallotGroup(c, p, n, w) for (c, p), (n, w) in sums.items()]
    return decide(
        policy,
        round_number=round_number,
        revision=revision,
        roll=roll,
        groups=groups,
        ruled_not_paramount=ruled,
    )
