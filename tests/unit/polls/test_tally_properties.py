"""Property-based tests of the tally rules (DESIGN.md, "Weighted consent polls"; issue 5).

Hypothesis generates policies, electoral rolls and ballots. Most properties run on the pure
counting functions (`tally.recount` sums ballots one by one and hands the sums to
`tally.decide`); the last two go through the database: the SQL aggregation
(`service.tally_of`) must agree with a recount of the same ballots, and the tally frozen at
close with a recount of the poll's export.

The examples are derandomized and no example database is kept, so every run (CI's included)
sees the same examples and nothing is written beside the tests.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.communities.models import Role
from app.polls import service
from app.polls.models import Poll, Position
from app.polls.policy import (
    CONSTITUENCIES,
    MAX_WEIGHT,
    ObjectionRule,
    PollPolicy,
    Secrecy,
    WeightPolicy,
)
from app.polls.tally import STANDS, ConstituencyTally, CountedBallot, RollGroup, Tally, recount
from app.proposals import service as proposals_service
from app.proposals.models import ProposalState
from tests.factories import add_member, make_user
from tests.unit.polls.conftest import JOINED, NOW, Town, publish, set_policy

# Pure properties are cheap: many examples. Database ones open, vote and close a real poll
# per example, each inside a savepoint rolled back afterwards, so the `db` and `town`
# fixtures (set up once per test, not per example) stay as they were.
PURE = settings(max_examples=150, derandomize=True, database=None, deadline=None)
THROUGH_DB = settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
#: Figures are rounded to 4 decimals; sums of a few of them stay within this of the truth.
TOLERANCE = 1e-3


# --- Generated polls ----------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """A member on the frozen roll and the ballot of theirs that counts (None: no ballot)."""

    role: Role
    position: Position | None = None
    #: An objection a moderator ruled not paramount (it counts as a concern).
    ruled: bool = False


@st.composite
def policies(
    draw: st.DrawFn,
    weight_policy: WeightPolicy | None = None,
    objection_rule: ObjectionRule | None = None,
    quorums: st.SearchStrategy[int] = st.integers(0, 100),
) -> PollPolicy:
    """Any policy the policy form accepts: shares of 0 to 100 adding up to 100, and so on."""
    low, high = sorted(draw(st.lists(st.integers(0, 100), min_size=2, max_size=2)))
    return PollPolicy(
        weight_policy=weight_policy or draw(st.sampled_from(WeightPolicy)),
        role_weights={role.value: draw(st.integers(1, MAX_WEIGHT)) for role in Role},
        constituency_shares={"fan": low, "creator": high - low, "rights_holder": 100 - high},
        moderators_vote_as=draw(st.sampled_from(CONSTITUENCIES)).value,
        quorum=draw(quorums),
        threshold=draw(st.integers(1, 100)),
        objection_rule=objection_rule or draw(st.sampled_from(ObjectionRule)),
        ballots=draw(st.sampled_from(Secrecy)),
    )


def _member(role: Role, position: Position | None, ruled: bool) -> Member:
    return Member(role, position, ruled and position == Position.object)


#: Positions as polls see them: mostly consent, some of each other, some members not voting.
positions = st.sampled_from(
    [Position.consent, Position.consent, Position.concern, Position.object, Position.stand_aside]
)
members = st.builds(_member, st.sampled_from(Role), st.none() | positions, st.booleans())
rolls = st.lists(members, min_size=0, max_size=25)


def count(policy: PollPolicy, roll: Sequence[Member]) -> Tally:
    """Freeze the roll as opening a poll does, then recount its ballots."""
    groups: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    ballots = []
    for member in roll:
        constituency = policy.constituency_of(member.role)
        weight = policy.weight_of(member.role)
        groups[constituency][0] += 1
        groups[constituency][1] += weight
        if member.position is not None:
            ballots.append(CountedBallot(constituency, member.position, weight, member.ruled))
    return recount(
        policy,
        round_number=1,
        revision=1,
        roll=[RollGroup(name, voters, weight) for name, (voters, weight) in groups.items()],
        ballots=ballots,
    )


def stand_weight(group: ConstituencyTally) -> float:
    """The weight of a constituency's ballots that take a stand (standing aside does not)."""
    return sum(group.positions[p.value].weight for p in STANDS)


def stands_in(group: ConstituencyTally) -> int:
    return sum(group.positions[p.value].ballots for p in STANDS)


def by_name(tally: Tally) -> dict[str, ConstituencyTally]:
    return {group.name: group for group in tally.constituencies}


# --- Constituency shares ------------------------------------------------------------------


@PURE
@given(policy=policies(WeightPolicy.constituency), roll=rolls)
def test_constituency_shares_of_those_who_took_a_stand_make_the_whole(policy, roll):
    """Each constituency where someone took a stand weighs its share renormalised over those
    constituencies; together they make 100, split equally among each one's ballots."""
    tally = count(policy, roll)
    shares = policy.constituency_shares
    standing = {g.name for g in tally.constituencies if stands_in(g)}
    held = sum(shares[name] for name in standing)
    whole = sum(tally.positions[p.value].weight for p in STANDS)
    if held == 0:
        # Nobody in a constituency with a share took a stand: there is nothing to weigh.
        assert whole == 0
        assert tally.support is None
        return
    assert whole == pytest.approx(100, abs=TOLERANCE)
    for group in tally.constituencies:
        expected = shares[group.name] * 100 / held if group.name in standing else 0
        assert group.share == shares[group.name]
        assert stand_weight(group) == pytest.approx(expected, abs=TOLERANCE)
        for position in STANDS:
            figure = group.positions[position.value]
            each = expected / stands_in(group) if stands_in(group) else 0
            assert figure.weight == pytest.approx(each * figure.ballots, abs=TOLERANCE)
        assert group.positions[Position.stand_aside.value].weight == 0


@PURE
@given(
    policy=policies(WeightPolicy.constituency),
    roll=rolls,
    silent=st.sampled_from(CONSTITUENCIES),
    stand_aside=st.booleans(),
)
def test_a_constituency_without_a_stand_gives_its_share_away_pro_rata(
    policy, roll, silent, stand_aside
):
    """Silence one constituency (no ballots, or only stand-asides): the others split its
    share among themselves in proportion, so their ratios to one another do not change."""
    silenced = [
        replace(m, position=Position.stand_aside if stand_aside else None, ruled=False)
        if policy.constituency_of(m.role) == silent.value and m.position is not None
        else m
        for m in roll
    ]
    before, after = count(policy, roll), count(policy, silenced)
    was, now = by_name(before), by_name(after)
    if silent.value in now:
        assert stand_weight(now[silent.value]) == 0
    others = [
        name for name, group in was.items() if name != silent.value and stand_weight(group) > 0
    ]
    if not others:
        return
    assert sum(stand_weight(now[name]) for name in others) == pytest.approx(100, abs=TOLERANCE)
    given_away = stand_weight(was[silent.value]) if silent.value in was else 0.0
    for name in others:
        # Pro rata: each one grows by the same factor, 100 / (100 - what the silent one held).
        assert stand_weight(now[name]) * (100 - given_away) == pytest.approx(
            stand_weight(was[name]) * 100, abs=100 * TOLERANCE
        )
        # Within a constituency nothing moves: its positions keep their proportions.
        for position in STANDS:
            assert now[name].positions[position.value].weight * stand_weight(
                was[name]
            ) == pytest.approx(
                was[name].positions[position.value].weight * stand_weight(now[name]),
                abs=100 * TOLERANCE,
            )
    for a, b in itertools.combinations(others, 2):
        assert stand_weight(now[a]) * stand_weight(was[b]) == pytest.approx(
            stand_weight(now[b]) * stand_weight(was[a]), abs=100 * TOLERANCE
        )
    # The roll did not change, so neither did what each constituency weighs for the quorum.
    assert [(g.name, g.eligible_weight) for g in before.constituencies] == [
        (g.name, g.eligible_weight) for g in after.constituencies
    ]


# --- Adding a ballot ----------------------------------------------------------------------


@PURE
@given(policy=policies(), roll=rolls, role=st.sampled_from(Role))
def test_another_consent_never_turns_a_pass_into_a_fail(policy, roll, role):
    """A member on the roll who had not voted consents: no rule gets further from passing."""
    before = count(policy, [*roll, Member(role)])
    after = count(policy, [*roll, Member(role, Position.consent)])
    if before.passed:
        assert after.passed
    assert before.quorum_met <= after.quorum_met
    assert before.threshold_met <= after.threshold_met
    assert after.open_objections == before.open_objections
    assert after.participation >= before.participation
    if before.support is not None:
        assert after.support is not None
        assert after.support >= before.support


def _on_the_stands(tally: Tally) -> tuple[object, ...]:
    """Everything of a tally but the quorum side: participation and the stand-asides."""
    return (
        tally.support,
        tally.threshold_met,
        tally.open_objections,
        tally.ruled_not_paramount,
        tally.eligible,
        tally.eligible_weight,
        {p.value: tally.positions[p.value] for p in STANDS},
        [
            (
                g.name,
                g.share,
                g.eligible,
                g.eligible_weight,
                {p.value: g.positions[p.value] for p in STANDS},
            )
            for g in tally.constituencies
        ],
    )


@PURE
@given(policy=policies(), roll=rolls, role=st.sampled_from(Role))
def test_standing_aside_changes_the_quorum_only(policy, roll, role):
    """A member on the roll who had not voted stands aside: they count towards the quorum,
    and nothing else moves (support, objections, the weights of the positions)."""
    before = count(policy, [*roll, Member(role)])
    after = count(policy, [*roll, Member(role, Position.stand_aside)])
    assert _on_the_stands(after) == _on_the_stands(before)
    assert after.participants == before.participants + 1
    stood_aside = Position.stand_aside.value
    assert after.positions[stood_aside].ballots == before.positions[stood_aside].ballots + 1
    assert after.participation >= before.participation
    assert before.quorum_met <= after.quorum_met
    if after.quorum_met == before.quorum_met:
        assert (after.outcome, after.decided_by) == (before.outcome, before.decided_by)


# --- Objections ---------------------------------------------------------------------------


def _ruled(roll: Sequence[Member]) -> list[Member]:
    """Every objection of the roll ruled not paramount: none stays open."""
    return [replace(m, ruled=m.position == Position.object) for m in roll]


def _as_concerns(roll: Sequence[Member]) -> list[Member]:
    return [
        replace(m, position=Position.concern, ruled=False) if m.position == Position.object else m
        for m in roll
    ]


@PURE
@given(
    policy=policies(objection_rule=ObjectionRule.any_blocks), roll=rolls, role=st.sampled_from(Role)
)
def test_under_any_blocks_one_open_objection_fails_the_poll(policy, roll, role):
    """Whatever else the ballots say, one open objection rejects the poll; ruled not
    paramount it counts as a concern, and the objection is no longer the reason."""
    others = _ruled(roll)
    blocked = count(policy, [*others, Member(role, Position.object)])
    assert blocked.open_objections == 1
    assert not blocked.passed
    assert blocked.decided_by == ("objection" if blocked.quorum_met else "quorum")

    released = count(policy, [*others, Member(role, Position.object, ruled=True)])
    assert released.open_objections == 0
    assert released.decided_by != "objection"
    assert released.passed == (released.quorum_met and released.threshold_met)
    # A ruled objection is counted exactly as a concern would be.
    concern = count(policy, [*_as_concerns(others), Member(role, Position.concern)])
    assert replace(released, ruled_not_paramount=0) == concern
    assert released.ruled_not_paramount == sum(m.position == Position.object for m in roll) + 1


@PURE
@given(policy=policies(objection_rule=ObjectionRule.threshold), roll=rolls)
def test_under_threshold_objections_only_count_against_the_threshold(policy, roll):
    """No objection blocks: the outcome is quorum and threshold, figured as any_blocks would."""
    tally = count(policy, roll)
    assert tally.passed == (tally.quorum_met and tally.threshold_met)
    assert tally.decided_by != "objection"
    blocking = count(replace(policy, objection_rule=ObjectionRule.any_blocks), roll)
    same = {"objection_rule", "outcome", "decided_by"}
    assert {k: v for k, v in tally.to_json().items() if k not in same} == {
        k: v for k, v in blocking.to_json().items() if k not in same
    }
    # An objection weighs against support; the same voter's concern would weigh for it.
    softened = count(policy, _as_concerns(roll))
    if tally.support is not None:
        assert softened.support is not None
        assert softened.support >= tally.support
    if tally.passed:
        assert softened.passed


# --- The rules as DESIGN.md states them ---------------------------------------------------


def _reference(policy: PollPolicy, roll: Sequence[Member]) -> tuple[Fraction, Fraction | None]:
    """Participation and support in percent, ballot by ballot with exact fractions, straight
    from DESIGN.md; independent of `decide`, which works from sums."""
    counted = [
        replace(m, position=Position.concern) if m.ruled else m
        for m in roll
        if m.position is not None
    ]
    if policy.weight_policy == WeightPolicy.constituency:
        shares = policy.constituency_shares
        group_of = policy.constituency_of
        on_roll = Counter(group_of(m.role) for m in roll)
        standing = Counter(group_of(m.role) for m in counted if m.position in STANDS)
        with_roll = sum(shares[c] for c in on_roll)
        held = sum(shares[c] for c in standing)

        def eligible(m: Member) -> Fraction:
            c = group_of(m.role)
            return Fraction(shares[c] * 100, with_roll * on_roll[c]) if with_roll else Fraction(0)

        def vote(m: Member) -> Fraction:
            c = group_of(m.role)
            if m.position not in STANDS or not held:
                return Fraction(0)
            return Fraction(shares[c] * 100, held * standing[c])

    else:

        def eligible(m: Member) -> Fraction:
            return Fraction(policy.weight_of(m.role))

        def vote(m: Member) -> Fraction:
            return eligible(m) if m.position in STANDS else Fraction(0)

    total = sum((eligible(m) for m in roll), Fraction(0))
    took_part = sum((eligible(m) for m in counted), Fraction(0))
    participation = took_part * 100 / total if total else Fraction(0)
    agree = sum((vote(m) for m in counted if m.position != Position.object), Fraction(0))
    stands = sum((vote(m) for m in counted), Fraction(0))
    return participation, (agree * 100 / stands if stands else None)


@PURE
@given(policy=policies(), roll=rolls, order=st.randoms(use_true_random=False))
def test_the_count_follows_the_rules_ballot_by_ballot(policy, roll, order):
    """Quorum, threshold and objection rule against an exact count of each ballot, in any
    order of the ballots; the tally survives its JSON form (as frozen and exported)."""
    tally = count(policy, roll)
    participation, support = _reference(policy, roll)
    assert tally.participation == pytest.approx(float(participation), abs=1e-4)
    assert tally.quorum_met == (participation >= policy.quorum)
    if support is None:
        assert tally.support is None
    else:
        assert tally.support == pytest.approx(float(support), abs=1e-4)
    assert tally.threshold_met == (support is not None and support >= policy.threshold)
    open_objections = sum(m.position == Position.object and not m.ruled for m in roll)
    assert tally.open_objections == open_objections
    blocked = policy.objection_rule == ObjectionRule.any_blocks and open_objections > 0
    assert tally.passed == (tally.quorum_met and tally.threshold_met and not blocked)
    assert tally.participants == sum(m.position is not None for m in roll)

    shuffled = list(roll)
    order.shuffle(shuffled)
    assert count(policy, shuffled) == tally
    assert Tally.from_json(json.loads(json.dumps(tally.to_json()))) == tally


# --- Through the database -----------------------------------------------------------------


@dataclass(frozen=True)
class Cast:
    """One ballot a voter casts; a moderator may rule it not paramount (objections only)."""

    position: Position
    ruled: bool = False


def _cast(position: Position, ruled: bool) -> Cast:
    return Cast(position, ruled and position == Position.object)


#: The ballots each member of the crowd casts, in order (the last one counts; none: no vote).
histories = st.lists(st.builds(_cast, positions, st.booleans()), min_size=0, max_size=3)
#: Members of the crowd: the town's eight on the roll and four more.
CROWD = 12
#: Policies for the database examples: quorums a dozen voters can meet, now and then.
db_policies = policies(quorums=st.integers(0, 60))
plans = st.lists(histories, min_size=CROWD, max_size=CROWD)


@dataclass
class Crowd:
    """The town's members on the roll, and four more, so every role has a few voters."""

    town: Town
    voters: list[tuple[User, Role]]


@pytest.fixture
def crowd(db: Session, town: Town) -> Crowd:
    extra = [Role.creator, Role.creator, Role.rights_holder, Role.moderator]
    voters = [
        (town.moderator, Role.moderator),
        (town.author, Role.fan),
        (town.creator, Role.creator),
        (town.rights_holder, Role.rights_holder),
        *((fan, Role.fan) for fan in town.fans),
    ]
    for role in extra:
        user = make_user(db)
        add_member(db, town.community, user, role, joined_at=JOINED)
        voters.append((user, role))
    assert len(voters) == CROWD
    return Crowd(town, voters)


@contextmanager
def undone(db: Session) -> Iterator[None]:
    """Run one example in a savepoint, then roll it back: the next starts from the same town."""
    savepoint = db.begin_nested()
    try:
        yield
    finally:
        if savepoint.is_active:
            savepoint.rollback()
        db.expire_all()


@dataclass
class Voted:
    poll: Poll
    #: What a recount of the same ballots says, computed without the database.
    expected: Tally
    counted: Counter[tuple[str, str, bool, int]]


def _vote_through_the_service(
    db: Session, crowd: Crowd, policy: PollPolicy, plan: list[list[Cast]], earlier_round: bool
) -> Voted:
    """Open a poll under `policy`, cast every history of `plan` (after a first round of
    objections that an amendment sets aside, if `earlier_round`), and recount the ballots
    that should count from the plan alone."""
    town = crowd.town
    set_policy(db, town, **policy.to_form())
    proposal = publish(db, town)
    poll = service.open_poll(db, actor=town.author, proposal=proposal, now=NOW)
    assert service.policy_in(poll) == policy
    at = iter(NOW + timedelta(minutes=n) for n in itertools.count(1))
    if earlier_round:
        for (user, _), history in zip(crowd.voters, plan, strict=True):
            if history:
                service.cast_ballot(
                    db, actor=user, poll=poll, position="object", reason="No.", now=next(at)
                )
        service.amend(
            db,
            actor=town.author,
            proposal=proposal,
            base_revision=proposal.revision_number,
            values=proposals_service.ProposalDraft(
                title=proposal.title, summary=proposal.summary, norm_text="Amended text."
            ),
            message="Answering the objections",
            now=next(at),
        )
    for (user, _), history in zip(crowd.voters, plan, strict=True):
        for cast in history:
            reason = "Because." if cast.position in (Position.concern, Position.object) else ""
            ballot = service.cast_ballot(
                db, actor=user, poll=poll, position=cast.position.value, reason=reason, now=next(at)
            )
            if cast.ruled:
                service.rule_not_paramount(
                    db,
                    actor=town.moderator,
                    poll=poll,
                    ballot_id=ballot.id,
                    reason="Covered elsewhere.",
                    now=next(at),
                )
    roll = [
        Member(role, h[-1].position, h[-1].ruled) if h else Member(role)
        for (_, role), h in zip(crowd.voters, plan, strict=True)
    ]
    expected = replace(
        count(policy, roll), round=poll.current_round, revision=proposal.revision_number
    )
    counted = Counter(
        (
            policy.constituency_of(m.role),
            m.position.value,
            m.ruled,
            policy.weight_of(m.role),
        )
        for m in roll
        if m.position is not None
    )
    # Shown by --hypothesis-show-statistics: how often each rule decided.
    event(f"decided by {expected.decided_by}")
    return Voted(poll, expected, counted)


@THROUGH_DB
@given(policy=db_policies, plan=plans, earlier_round=st.booleans())
def test_the_database_counts_as_a_recount_of_the_same_ballots(
    db, crowd, policy, plan, earlier_round
):
    """`service.tally_of` (sums in SQL by constituency and position) equals `tally.recount`
    of the ballots that count: latest ballots of the current round, rulings applied."""
    with undone(db):
        voted = _vote_through_the_service(db, crowd, policy, plan, earlier_round)
        poll = voted.poll
        assert service.roll_size(db, poll) == len(crowd.voters)
        assert service.tally_of(db, poll) == voted.expected


@THROUGH_DB
@given(policy=db_policies, plan=plans, earlier_round=st.booleans())
def test_the_frozen_tally_equals_a_recount_of_the_export(db, crowd, policy, plan, earlier_round):
    """Close the poll: the frozen tally is the recount, and `verify` recounts the exported
    ballots (as a file would carry them) to exactly the published tally."""
    with undone(db):
        voted = _vote_through_the_service(db, crowd, policy, plan, earlier_round)
        poll = voted.poll
        service.close_early(db, actor=crowd.town.moderator, poll=poll, now=NOW + timedelta(days=1))
        assert poll.tally is not None
        assert Tally.from_json(poll.tally) == voted.expected
        assert poll.outcome is not None
        assert poll.outcome.value == voted.expected.outcome
        assert poll.proposal.state == ProposalState(voted.expected.outcome)

        data = json.loads(json.dumps(service.export(db, poll)))
        exported = Counter(
            (b["constituency"], b["position"], b["ruled_not_paramount"], b["weight"])
            for b in data["ballots"]
        )
        assert exported == voted.counted
        assert all(("voter" in b) == (policy.ballots == Secrecy.named) for b in data["ballots"])
        verification = service.verify(data)
        assert verification.matches, verification.differences
        assert verification.recounted == voted.expected
