"""Weighted consent polls: policy, opening, ballots, objections, rounds, closing, export.

A poll is counted by the database (`tally_of`: sums by constituency and position) and the
rules in `app.polls.tally`. A poll past its closing time is closed the moment anyone reads
it (`is_open` says no, and its result is the count as it stood), and for good by `sweep`.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, case, func, insert, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from app import i18n
from app.accounts.models import User
from app.communities import moderation_log
from app.communities import permissions as community_permissions
from app.communities import service as communities_service
from app.communities.models import Community, LogAction, Membership, Role
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.i18n import N_, gettext, ngettext
from app.notifications import tell
from app.polls import permissions as perms
from app.polls import policy as policies
from app.polls import tally as counting
from app.polls.models import (
    REASONED,
    Ballot,
    ObjectionRuling,
    Outcome,
    PolicyChange,
    Poll,
    PollRound,
    Position,
    Voter,
)
from app.polls.policy import PollPolicy, Secrecy, Visibility
from app.proposals import lifecycle
from app.proposals import service as proposals_service
from app.proposals.models import EventKind, Proposal, ProposalState
from app.text import NUL_PROBLEM, public_reason

REASON_MAX = 2000
#: The most ballots, objections or participants a page lists: pages cost the same for a poll
#: of ten ballots and of a hundred thousand (the frozen tally has the totals).
LIST_LIMIT = 200


# --- Policy -------------------------------------------------------------------------------


def policy_of(db: Session, community: Community) -> PollPolicy:
    """The community's policy in force: as moderators last saved it, else the defaults."""
    saved = db.scalar(
        select(PolicyChange.policy)
        .where(PolicyChange.community_id == community.id)
        .order_by(PolicyChange.id.desc())
        .limit(1)
    )
    return PollPolicy.from_json(saved)


def set_policy(
    db: Session,
    *,
    actor: User | None,
    community: Community,
    settings: dict[str, object],
    now: datetime,
) -> PollPolicy:
    """Moderators change the community's poll policy; running polls keep theirs."""
    user = community_permissions.ensure_can_moderate(
        actor, communities_service.membership_of(db, community, actor)
    )
    current = policy_of(db, community)
    policy = policies.changed(current, settings)
    if policy != current:
        db.add(
            PolicyChange(
                community_id=community.id,
                policy=policy.to_json(),
                changed_by_id=user.id,
                created_at=now,
            )
        )
        db.flush()
    return policy


def policy_changes(db: Session, community: Community, *, limit: int = 20) -> list[PolicyChange]:
    return list(
        db.scalars(
            select(PolicyChange)
            .where(PolicyChange.community_id == community.id)
            .order_by(PolicyChange.id.desc())
            .limit(limit)
        )
    )


# --- Reading polls ------------------------------------------------------------------------


def policy_in(poll: Poll) -> PollPolicy:
    """The policy frozen on the poll when it opened."""
    return PollPolicy.from_json(poll.policy)


def is_open(poll: Poll, now: datetime) -> bool:
    """Open until closed, until its closing time, or until its proposal leaves voting."""
    return (
        poll.closed_at is None
        and now < poll.closes_at
        and poll.proposal.state == ProposalState.voting
    )


def get_poll(db: Session, poll_id: int, *, viewer: User | None) -> Poll:
    poll = db.get(Poll, poll_id)
    if poll is None:
        raise NotFound(gettext("There is no such poll."))
    # A poll is as visible as its proposal (always published, but the rule lives there).
    proposals_service.get_proposal(db, poll.proposal_id, viewer=viewer)
    return poll


def current_poll(db: Session, proposal: Proposal) -> Poll | None:
    """The proposal's latest poll, if it was ever polled."""
    return db.scalar(
        select(Poll).where(Poll.proposal_id == proposal.id).order_by(Poll.number.desc()).limit(1)
    )


def rounds(db: Session, poll: Poll) -> list[PollRound]:
    return list(
        db.scalars(select(PollRound).where(PollRound.poll_id == poll.id).order_by(PollRound.number))
    )


def voter_of(db: Session, poll: Poll, user: User | None) -> Voter | None:
    if user is None:
        return None
    return db.get(Voter, (poll.id, user.id))


def my_ballot(db: Session, poll: Poll, user: User | None) -> Ballot | None:
    """The viewer's counted ballot in the current round."""
    if user is None:
        return None
    return db.scalar(
        select(Ballot).where(
            Ballot.poll_id == poll.id,
            Ballot.round_number == poll.current_round,
            Ballot.voter_id == user.id,
            Ballot.latest,
        )
    )


def my_history(db: Session, poll: Poll, user: User | None) -> list[Ballot]:
    """Every ballot the viewer cast in the poll, newest first (only they see it)."""
    if user is None:
        return []
    return list(
        db.scalars(
            select(Ballot)
            .where(Ballot.poll_id == poll.id, Ballot.voter_id == user.id)
            .order_by(Ballot.id.desc())
        )
    )


def _counted(poll: Poll) -> Select[Ballot]:
    # Rulings by the ids of the page: a join let PostgreSQL merge the page with every ruling
    # of every poll (32 ms beside 50,000 rulings, for a page of 50 ballots).
    return (
        select(Ballot)
        .options(selectinload(Ballot.ruling))
        .where(Ballot.poll_id == poll.id, Ballot.round_number == poll.current_round, Ballot.latest)
    )


def objections(db: Session, poll: Poll, *, limit: int | None = None) -> list[Ballot]:
    """The counted objections of the current round, oldest first, with any ruling."""
    return list(
        db.scalars(
            _counted(poll)
            .where(Ballot.position == Position.object)
            .order_by(Ballot.id)
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class BallotPage:
    """A page of who voted how (named polls) or who took part (anonymous polls, after close).

    `visible` is False while the poll's rules show neither; `next_after` pages on.
    """

    visible: bool
    named: bool
    ballots: list[Ballot]
    participants: list[User]
    next_after: int | None


def ballot_page(
    db: Session,
    poll: Poll,
    now: datetime,
    *,
    after: int | None = None,
    limit: int = 50,
    position: Position | None = None,
) -> BallotPage:
    """The counted ballots of the current round, a page at a time, as far as anyone may see.

    Named polls list ballots with their voters once the count is visible, in the order they
    were cast. Anonymous polls list only who took part, once closed, in the order of their
    accounts: never in the order of voting, which could tell who cast which ballot.
    """
    named = policy_in(poll).ballots == Secrecy.named
    hidden = results(db, poll, now) is None if named else is_open(poll, now)
    if hidden:
        return BallotPage(False, named, [], [], None)
    counted = _counted(poll)
    if named:
        if position is not None:
            counted = counted.where(Ballot.position == position)
        if after is not None:
            counted = counted.where(Ballot.id > after)
        ballots = list(db.scalars(counted.order_by(Ballot.id).limit(limit + 1)))
        more = len(ballots) > limit
        ballots = ballots[:limit]
        return BallotPage(True, True, ballots, [], ballots[-1].id if more else None)
    query = (
        select(User)
        .join(Ballot, Ballot.voter_id == User.id)
        .where(
            Ballot.poll_id == poll.id,
            Ballot.round_number == poll.current_round,
            Ballot.latest,
        )
    )
    if after is not None:
        query = query.where(Ballot.voter_id > after)
    people = list(db.scalars(query.order_by(Ballot.voter_id).limit(limit + 1)))
    more = len(people) > limit
    people = people[:limit]
    return BallotPage(True, False, [], people, people[-1].id if more else None)


def roll_size(db: Session, poll: Poll) -> int:
    return db.scalar(select(func.count()).where(Voter.poll_id == poll.id)) or 0


def tally_of(db: Session, poll: Poll) -> counting.Tally:
    """The current round counted by the database: sums by constituency and position."""
    policy = policy_in(poll)
    roll = [
        counting.RollGroup(constituency, int(voters), int(weight or 0))
        for constituency, voters, weight in db.execute(
            select(Voter.constituency, func.count(), func.sum(Voter.weight))
            .where(Voter.poll_id == poll.id)
            .group_by(Voter.constituency)
        )
    ]
    ruled = ObjectionRuling.id.is_not(None)
    # An objection ruled not paramount counts as a concern.
    counted_as = case((ruled, literal(Position.concern.value)), else_=Ballot.position)
    rows = db.execute(
        select(Voter.constituency, counted_as, ruled, func.count(), func.sum(Voter.weight))
        .select_from(Ballot)
        .join(Voter, (Voter.poll_id == Ballot.poll_id) & (Voter.user_id == Ballot.voter_id))
        .outerjoin(ObjectionRuling, ObjectionRuling.ballot_id == Ballot.id)
        .where(
            Ballot.poll_id == poll.id,
            Ballot.round_number == poll.current_round,
            Ballot.latest,
        )
        .group_by(Voter.constituency, counted_as, ruled)
    ).all()
    revision = db.scalar(
        select(PollRound.revision_number).where(
            PollRound.poll_id == poll.id, PollRound.number == poll.current_round
        )
    )
    return counting.decide(
        policy,
        round_number=poll.current_round,
        revision=revision or 0,
        roll=roll,
        groups=[
            counting.BallotGroup(c, Position(p), int(n), int(w or 0)) for c, p, _, n, w in rows
        ],
        ruled_not_paramount=sum(int(n) for _, _, is_ruled, n, _ in rows if is_ruled),
    )


def results(db: Session, poll: Poll, now: datetime) -> counting.Tally | None:
    """The count anyone may see now: frozen after close, as it stands once the poll is past
    its time, live where the policy says so; None while results are hidden."""
    if poll.tally is not None:
        return counting.Tally.from_json(poll.tally)
    if not is_open(poll, now) or policy_in(poll).results == Visibility.live:
        return tally_of(db, poll)
    return None


def outcome_of(poll: Poll, tally: counting.Tally | None, now: datetime) -> Outcome | None:
    """How the poll ended (also before the sweep records it), or None while it runs."""
    if poll.outcome is not None:
        return poll.outcome
    if is_open(poll, now):
        return None
    if poll.proposal.state == ProposalState.withdrawn:
        return Outcome.withdrawn
    return Outcome(tally.outcome) if tally is not None else None


# --- Opening ------------------------------------------------------------------------------


def open_poll(
    db: Session,
    *,
    actor: User | None,
    proposal: Proposal,
    now: datetime,
    overrides: dict[str, object] | None = None,
) -> Poll:
    """Open a poll on the current revision: roll and weights frozen, the proposal in voting."""
    community = proposal.community
    membership = communities_service.membership_of(db, community, actor)
    author_ids = proposals_service.author_ids(db, proposal)
    user = perms.ensure_can_open(actor, membership, author_ids)
    community_permissions.ensure_can_participate(db, actor=user, community=community, now=now)
    overrides = overrides or {}
    if not community_permissions.is_moderator(user, membership) and (
        set(overrides) - policies.AUTHOR_OVERRIDES
    ):
        raise PermissionDenied(
            gettext("Only moderators may change a poll's rules; authors may set its duration.")
        )
    # Serialize opening (two clicks, an author and a moderator at once) on the proposal's row.
    db.execute(select(Proposal.id).where(Proposal.id == proposal.id).with_for_update())
    db.refresh(proposal)
    lifecycle.ensure_can_move(proposal.state, ProposalState.voting)
    if proposal.locked_at is not None:
        raise Conflict(gettext("A moderator locked this proposal; a poll cannot open on it now."))
    if proposal.voting_may_open_at is not None and now < proposal.voting_may_open_at:
        raise Conflict(
            gettext(
                "The minimum deliberation period is not over: voting may open from %(when)s.",
                when=i18n.date_time(proposal.voting_may_open_at),
            )
        )
    policy = policies.changed(policy_of(db, community), overrides)
    number = (
        db.scalar(select(func.max(Poll.number)).where(Poll.proposal_id == proposal.id)) or 0
    ) + 1
    poll = Poll(
        community_id=community.id,
        proposal_id=proposal.id,
        number=number,
        policy=policy.to_json(),
        current_round=1,
        opened_by_id=user.id,
        opened_at=now,
        closes_at=now + timedelta(days=policy.duration_days),
    )
    try:
        with db.begin_nested():
            db.add(poll)
            db.flush()
    except IntegrityError:
        raise Conflict(gettext("A poll on this proposal has just opened.")) from None
    db.add(
        PollRound(
            poll_id=poll.id,
            number=1,
            revision_number=proposal.revision_number,
            started_by_id=user.id,
            started_at=now,
        )
    )
    if _freeze_roll(db, poll, policy, now) == 0:
        raise Conflict(
            ngettext(
                "Nobody could vote: no member has belonged to the community for %(num)d day.",
                "Nobody could vote: no member has belonged to the community for %(num)d days.",
                policy.min_membership_days,
            )
        )
    proposal.state = ProposalState.voting
    proposal.voting_opened_at = now
    proposal.deadline_at = poll.closes_at
    proposal.last_activity_at = now
    proposals_service.record_event(
        db, proposal, EventKind.poll_opened, user, now, revision=proposal.revision_number
    )
    tell.poll_opened(db, proposal=proposal, poll=poll, actor=user, now=now)
    db.flush()
    return poll


def _freeze_roll(db: Session, poll: Poll, policy: PollPolicy, now: datetime) -> int:
    """Copy the eligible members, with role, constituency and weight, onto the poll's roll."""
    constituency = case(
        *[(Membership.role == role, literal(policy.constituency_of(role))) for role in Role]
    )
    weight = case(*[(Membership.role == role, literal(policy.weight_of(role))) for role in Role])
    eligible = select(
        literal(poll.id), Membership.user_id, Membership.role, constituency, weight
    ).where(
        Membership.community_id == poll.community_id,
        Membership.joined_at <= now - timedelta(days=policy.min_membership_days),
    )
    # SQLAlchemy keeps an INSERT's rowcount only when asked: psycopg's is -1 once the cursor
    # closes, which read as "somebody may vote" when nobody could.
    result = db.execute(
        insert(Voter)
        .from_select(["poll_id", "user_id", "role", "constituency", "weight"], eligible)
        .execution_options(preserve_rowcount=True)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# --- Ballots ------------------------------------------------------------------------------


def _receipt() -> str:
    """Sixteen base32 characters (80 random bits): the voter's proof of what they cast."""
    return base64.b32encode(secrets.token_bytes(10)).decode()


def format_receipt(receipt: str) -> str:
    return "-".join(receipt[i : i + 4] for i in range(0, len(receipt), 4))


def _ensure_open(poll: Poll, now: datetime) -> None:
    if not is_open(poll, now):
        raise Conflict(gettext("This poll is closed."))


def cast_ballot(
    db: Session,
    *,
    actor: User | None,
    poll: Poll,
    position: str,
    reason: str,
    now: datetime,
) -> Ballot:
    """A member on the roll takes a position; a new ballot replaces theirs, history kept."""
    user = community_permissions.require_user(actor)
    _ensure_open(poll, now)
    membership = communities_service.membership_of(db, poll.proposal.community, user)
    # The roll row is locked: one voter's ballots are cast one at a time.
    voter = db.scalar(
        select(Voter).where(Voter.poll_id == poll.id, Voter.user_id == user.id).with_for_update()
    )
    perms.ensure_can_vote(membership, voter, policy_in(poll))
    community_permissions.ensure_can_participate(
        db, actor=user, community=poll.community_id, now=now
    )
    problems: dict[str, str] = {}
    chosen = Position.__members__.get(position)
    reason = reason.strip()
    if chosen is None:
        problems["position"] = gettext(
            "Choose consent, consent with concerns, object or stand aside."
        )
    elif chosen in REASONED and not reason:
        problems["reason"] = (
            gettext("Say what concerns you.")
            if chosen == Position.concern
            else gettext("Say why you object.")
        )
    if len(reason) > REASON_MAX:
        problems["reason"] = gettext(
            "Use at most %(max)s characters (this has %(count)s).",
            max=i18n.number(REASON_MAX),
            count=i18n.number(len(reason)),
        )
    elif "\x00" in reason:
        problems["reason"] = gettext(NUL_PROBLEM)
    if problems:
        raise ValidationFailed(gettext("Your ballot was not cast."), fields=problems)
    assert chosen is not None
    db.execute(
        update(Ballot)
        .where(
            Ballot.poll_id == poll.id,
            Ballot.round_number == poll.current_round,
            Ballot.voter_id == user.id,
            Ballot.latest,
        )
        .values(latest=False)
    )
    ballot = Ballot(
        poll_id=poll.id,
        round_number=poll.current_round,
        voter_id=user.id,
        position=chosen,
        reason=reason,
        receipt=_receipt(),
        latest=True,
        cast_at=now,
    )
    try:
        with db.begin_nested():
            db.add(ballot)
            db.flush()
    except IntegrityError:
        raise Conflict(
            gettext("Another ballot of yours was being cast at the same moment; try again.")
        ) from None
    if chosen == Position.object:
        named = policy_in(poll).ballots == Secrecy.named
        tell.objection(db, poll=poll, ballot=ballot, actor=user, named=named, now=now)
    if policy_in(poll).results == Visibility.live:
        # With hidden results, not even the "recently active" order may tell that people vote.
        poll.proposal.last_activity_at = now
    db.flush()
    return ballot


# --- Objections and rounds ----------------------------------------------------------------


def rule_not_paramount(
    db: Session, *, actor: User | None, poll: Poll, ballot_id: int, reason: str, now: datetime
) -> ObjectionRuling:
    """A moderator rules an open objection not paramount: it then counts as a concern."""
    user = community_permissions.ensure_can_moderate(
        actor, communities_service.membership_of(db, poll.proposal.community, actor)
    )
    _ensure_open(poll, now)
    ballot = db.get(Ballot, ballot_id)
    if ballot is None or ballot.poll_id != poll.id:
        raise NotFound(gettext("There is no such objection in this poll."))
    if (
        ballot.position != Position.object
        or not ballot.latest
        or ballot.round_number != poll.current_round
    ):
        raise Conflict(gettext("This ballot is not an open objection any more."))
    if ballot.ruling is not None:
        raise Conflict(gettext("This objection was ruled on already."))
    text = public_reason(reason, hint=N_("Say why the objection is not paramount, for the record."))
    ruling = ObjectionRuling(ballot_id=ballot.id, reason=text, moderator_id=user.id, created_at=now)
    try:
        with db.begin_nested():
            db.add(ruling)
            db.flush()
    except IntegrityError:
        raise Conflict(gettext("This objection was ruled on already.")) from None
    ballot.ruling = ruling
    proposals_service.record_event(
        db, poll.proposal, EventKind.objection_ruled, user, now, detail=text
    )
    # The objector is not named: in an anonymous poll nobody may learn who objected.
    moderation_log.record(
        db,
        community=poll.community_id,
        action=LogAction.objection_ruled,
        actor=user,
        now=now,
        reason=text,
        proposal_id=poll.proposal_id,
    )
    db.flush()
    return ruling


def amend(
    db: Session,
    *,
    actor: User | None,
    proposal: Proposal,
    base_revision: int,
    values: proposals_service.ProposalDraft,
    message: str,
    now: datetime,
) -> Proposal:
    """Authors amend the text during a poll: the new revision starts a new round."""
    poll = current_poll(db, proposal)
    if poll is None or not is_open(poll, now):
        raise Conflict(gettext("This proposal's poll is closed; its text can no longer change."))
    policy = policy_in(poll)
    before = proposal.revision_number
    # Inside a savepoint: an edit the rules refuse is undone, not half-saved.
    attempt = db.begin_nested()
    try:
        proposals_service.edit_proposal(
            db,
            actor=actor,
            proposal=proposal,
            base_revision=base_revision,
            values=values,
            message=message,
            now=now,
            during_poll=True,
        )
        if proposal.revision_number != before and poll.current_round >= policy.max_rounds:
            raise Conflict(
                gettext(
                    "This poll has had its %(max_rounds)s rounds, the most its rules allow: the "
                    "text can no longer change while it runs.",
                    max_rounds=policy.max_rounds,
                )
            )
    except Exception:
        attempt.rollback()
        raise
    attempt.commit()
    if proposal.revision_number != before:
        assert actor is not None
        poll.current_round += 1
        # A new round gets the full time to consider the new text.
        poll.closes_at = max(poll.closes_at, now + timedelta(days=policy.duration_days))
        proposal.deadline_at = poll.closes_at
        db.add(
            PollRound(
                poll_id=poll.id,
                number=poll.current_round,
                revision_number=proposal.revision_number,
                started_by_id=actor.id,
                started_at=now,
            )
        )
        proposals_service.record_event(
            db,
            proposal,
            EventKind.round_started,
            actor,
            now,
            detail=f"round {poll.current_round}",
            revision=proposal.revision_number,
        )
        tell.new_round(db, proposal=proposal, poll=poll, actor=actor, now=now)
        db.flush()
    return proposal


# --- Closing ------------------------------------------------------------------------------


def close_early(db: Session, *, actor: User | None, poll: Poll, now: datetime) -> Poll:
    """A moderator closes a running poll before its time; it is counted as it stands."""
    user = community_permissions.ensure_can_moderate(
        actor, communities_service.membership_of(db, poll.proposal.community, actor)
    )
    _ensure_open(poll, now)
    if not _finish(db, poll, at=now, closed_by=user):
        raise Conflict(gettext("This poll is closed."))
    return poll


def _finish(db: Session, poll: Poll, *, at: datetime, closed_by: User | None) -> bool:
    """Close the poll once (False if another request or process did): freeze the tally and
    settle the proposal, in the caller's transaction."""
    claimed = db.execute(
        update(Poll)
        .where(Poll.id == poll.id, Poll.closed_at.is_(None))
        .values(closed_at=at, closed_by_id=closed_by.id if closed_by else None)
        .execution_options(synchronize_session=False)
    )
    if not getattr(claimed, "rowcount", 0):
        db.refresh(poll)
        return False
    db.refresh(poll)
    proposal = poll.proposal
    tally = tally_of(db, poll)
    poll.tally = tally.to_json()
    if proposal.state == ProposalState.voting:
        poll.outcome = Outcome(tally.outcome)
        target = ProposalState.passed if tally.passed else ProposalState.rejected
        lifecycle.ensure_can_move(proposal.state, target)
        proposal.state = target
        proposal.closed_at = at
        proposal.deadline_at = None
        proposal.last_activity_at = max(proposal.last_activity_at, at)
        # The event log keeps its details in English, whoever closed the poll.
        with i18n.speaking(i18n.DEFAULT):
            detail = tally.sentence()
        proposals_service.record_event(
            db, proposal, EventKind.poll_closed, closed_by, at, detail=detail
        )
        tell.poll_closed(db, proposal=proposal, passed=tally.passed, actor=closed_by, now=at)
    else:
        poll.outcome = Outcome.withdrawn
    db.flush()
    return True


def sweep(db: Session, now: datetime, *, batch: int = 100) -> int:
    """Close, for good, polls past their time and polls whose proposal was withdrawn.

    Safe with several processes at once: PostgreSQL hands each due poll to one sweeper (rows
    locked, others skipped), SQLite serializes writers, and `_finish` closes a poll once.
    """
    due = (
        select(Poll)
        .join(Proposal, Proposal.id == Poll.proposal_id)
        .where(
            Poll.closed_at.is_(None),
            or_(Poll.closes_at <= now, Proposal.state != ProposalState.voting),
        )
        .order_by(Poll.closes_at)
        .limit(batch)
        .with_for_update(of=Poll, skip_locked=True)
    )
    closed = 0
    for poll in db.scalars(due).unique().all():
        withdrawn = poll.proposal.state == ProposalState.withdrawn
        at = (poll.proposal.withdrawn_at or now) if withdrawn else min(poll.closes_at, now)
        closed += _finish(db, poll, at=at, closed_by=None)
    return closed


def has_due_polls(db: Session, now: datetime) -> bool:
    """A cheap look before taking the write lock a sweep needs."""
    return (
        db.scalar(
            select(Poll.id)
            .join(Proposal, Proposal.id == Poll.proposal_id)
            .where(
                Poll.closed_at.is_(None),
                or_(Poll.closes_at <= now, Proposal.state != ProposalState.voting),
            )
            .limit(1)
        )
        is not None
    )


# --- Export -------------------------------------------------------------------------------


def export(db: Session, poll: Poll) -> dict[str, Any]:
    """A closed poll for independent recount: policy, roll sums, counted ballots, frozen tally."""
    if poll.tally is None:
        raise Conflict(gettext("A poll can be exported once it is closed."))
    policy = policy_in(poll)
    named = policy.ballots == Secrecy.named
    roll = db.execute(
        select(Voter.constituency, func.count(), func.sum(Voter.weight))
        .where(Voter.poll_id == poll.id)
        .group_by(Voter.constituency)
        .order_by(Voter.constituency)
    ).all()
    rows = db.execute(
        select(Ballot, Voter.constituency, Voter.weight, ObjectionRuling.id.is_not(None))
        .join(Voter, (Voter.poll_id == Ballot.poll_id) & (Voter.user_id == Ballot.voter_id))
        .outerjoin(ObjectionRuling, ObjectionRuling.ballot_id == Ballot.id)
        .where(
            Ballot.poll_id == poll.id,
            Ballot.round_number == poll.current_round,
            Ballot.latest,
        )
        # Anonymous exports come in receipt order: the order of casting could name voters.
        .order_by(Ballot.cast_at if named else Ballot.receipt, Ballot.id)
    ).all()
    ballots = []
    for ballot, constituency, weight, ruled in rows:
        item: dict[str, Any] = {
            "receipt": format_receipt(ballot.receipt),
            "round": ballot.round_number,
            "position": ballot.position.value,
            "ruled_not_paramount": bool(ruled),
            "weight": weight,
            "constituency": constituency,
        }
        if named:
            item["voter"] = ballot.voter.username
            item["reason"] = ballot.reason
        ballots.append(item)
    return {
        "poll": {
            "id": poll.id,
            "proposal": poll.proposal_id,
            "community": poll.proposal.community.slug,
            "number": poll.number,
            "round": poll.current_round,
            "revision": poll.tally["revision"],
            "opened_at": poll.opened_at.isoformat(),
            "closes_at": poll.closes_at.isoformat(),
            "closed_at": poll.closed_at.isoformat() if poll.closed_at else None,
            "outcome": poll.outcome.value if poll.outcome else None,
        },
        "policy": policy.to_json(),
        "roll": [{"constituency": c, "voters": int(n), "weight": int(w or 0)} for c, n, w in roll],
        "ballots": ballots,
        "tally": poll.tally,
    }


@dataclass(frozen=True)
class Verification:
    matches: bool
    recounted: counting.Tally
    differences: list[str]


def verify(data: dict[str, Any]) -> Verification:
    """Recount an export's ballots from scratch and compare with the tally it published."""
    try:
        policy = PollPolicy.from_json(data["policy"])
        roll = [
            counting.RollGroup(str(g["constituency"]), int(g["voters"]), int(g["weight"]))
            for g in data["roll"]
        ]
        ballots = [
            counting.CountedBallot(
                constituency=str(b["constituency"]),
                position=Position(b["position"]),
                weight=int(b["weight"]),
                ruled_not_paramount=bool(b.get("ruled_not_paramount", False)),
            )
            for b in data["ballots"]
        ]
        published = data["tally"]
        recounted = counting.recount(
            policy,
            round_number=int(published["round"]),
            revision=int(published["revision"]),
            roll=roll,
            ballots=ballots,
        )
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise ValidationFailed(
            gettext("This is not a poll export: %(what)s is missing or wrong.", what=repr(exc))
        ) from None
    again = recounted.to_json()
    differences = [
        f"{key}: published {published.get(key)!r}, recounted {value!r}"
        for key, value in again.items()
        if published.get(key) != value
    ]
    return Verification(not differences, recounted, differences)


# --- What a viewer sees -------------------------------------------------------------------


@dataclass(frozen=True)
class Objection:
    """An open objection as the poll shows it: the voter's name only in named polls."""

    ballot_id: int
    reason: str
    voter: User | None
    cast_at: datetime
    ruling: ObjectionRuling | None


@dataclass(frozen=True)
class PollView:
    """A poll as one viewer may see it: every rule of who sees what, in one place, for the
    pages and the API alike."""

    poll: Poll
    policy: PollPolicy
    rounds: list[PollRound]
    open: bool
    outcome: Outcome | None
    #: The count, where the viewer may see it (never while results are hidden and it runs).
    tally: counting.Tally | None
    roll_size: int
    voter: Voter | None
    ballot: Ballot | None
    history: list[Ballot]
    #: The viewer voted in an earlier round but not yet in this one.
    missed_round: bool
    #: The open objections while the poll runs (who cast them in named polls only).
    objections: list[Objection]
    can_vote: bool
    #: Why the viewer may not vote (None when they may, or when nobody may any more).
    cannot_vote: str | None
    can_moderate: bool
    #: More objections are open than `objections` lists (it holds the first LIST_LIMIT).
    more_objections: bool = False

    @property
    def round(self) -> PollRound:
        return self.rounds[-1]

    @property
    def named(self) -> bool:
        return self.policy.ballots == Secrecy.named


def view(db: Session, poll: Poll, viewer: User | None, now: datetime) -> PollView:
    """What `viewer` may see of `poll` now."""
    policy = policy_in(poll)
    community = poll.proposal.community
    membership = communities_service.membership_of(db, community, viewer)
    open_now = is_open(poll, now)
    tally = results(db, poll, now)
    voter = voter_of(db, poll, viewer)
    history = my_history(db, poll, viewer)
    ballot = next((b for b in history if b.latest and b.round_number == poll.current_round), None)
    cannot_vote: str | None = None
    if open_now:
        if viewer is None:
            cannot_vote = "Sign in to vote."
        else:
            try:
                perms.ensure_can_vote(membership, voter, policy)
            except PermissionDenied as exc:
                cannot_vote = exc.message
    named = policy.ballots == Secrecy.named
    # Once closed, the ballots page lists every reason: the view stays as cheap as the tally.
    listed = objections(db, poll, limit=LIST_LIMIT + 1) if open_now else []
    return PollView(
        poll=poll,
        policy=policy,
        rounds=rounds(db, poll),
        open=open_now,
        outcome=outcome_of(poll, tally, now),
        tally=tally,
        # Once frozen, the tally has the roll's size: no count over the roll.
        roll_size=tally.eligible
        if tally is not None and poll.tally is not None
        else roll_size(db, poll),
        voter=voter,
        ballot=ballot,
        history=history,
        missed_round=ballot is None and any(b.round_number < poll.current_round for b in history),
        objections=[
            Objection(b.id, b.reason, b.voter if named else None, b.cast_at, b.ruling)
            for b in listed[:LIST_LIMIT]
        ],
        can_vote=open_now and viewer is not None and cannot_vote is None,
        cannot_vote=cannot_vote,
        can_moderate=community_permissions.is_moderator(viewer, membership),
        more_objections=len(listed) > LIST_LIMIT,
    )
