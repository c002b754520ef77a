"""JSON API of polls: open, ballots, objections and rulings, close, results, export, policy.

Every rule of who sees what lives in `service.view` and `service.results`: while a poll's
results are hidden, no answer here carries a count; anonymous polls never link a voter to a
ballot, not even for moderators or in the export.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session
from starlette.responses import Response

from app import i18n, idempotency
from app.accounts.models import User
from app.communities import service as communities_service
from app.db import utcnow
from app.errors import NotFound
from app.i18n import gettext
from app.polls import exports, service
from app.polls import tally as counting
from app.polls.models import Ballot, ObjectionRuling, Poll, Position, Voter
from app.polls.policy import PollPolicy, explain
from app.polls.schemas import (
    BallotId,
    BallotIn,
    BallotOut,
    BallotPageOut,
    ExplanationOut,
    ExportOut,
    MyBallotOut,
    NamedBallotOut,
    ObjectionOut,
    ParticipantOut,
    PolicyDetailOut,
    PolicyIn,
    PolicyOut,
    PollId,
    PollOut,
    ResultsOut,
    RoundOut,
    RulingIn,
    RulingOut,
    TallyOut,
    ViewerOut,
    VoterOut,
)
from app.proposals import service as proposals_service
from app.proposals.schemas import ProposalId
from app.web import idempotency as keys
from app.web.api import (
    COMMON_ERRORS,
    Cursor,
    Limit,
    decode_cursor,
    encode_cursor,
    error_responses,
)
from app.web.deps import CurrentUser, OptionalUser, SessionDep
from app.web.idempotency import KeyHeader

router = APIRouter(tags=["polls"], responses=COMMON_ERRORS)
NOT_FOUND = error_responses(404)
CHANGES = error_responses(404, 409)
# The body of opening may be left out: the poll then takes the community's policy whole.
NO_OVERRIDES = PolicyIn()
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Counted ballots as CSV, after `#` lines holding the poll, policy, roll "
        "and frozen tally as JSON",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}


def username(user: User | None) -> str | None:
    """A user's public name; what a deleted account did shows as nobody's."""
    return user.username if user is not None else None


def voter_out(voter: Voter | None) -> VoterOut | None:
    if voter is None:
        return None
    return VoterOut(role=voter.role, constituency=voter.constituency, weight=voter.weight)


def ruling_out(ruling: ObjectionRuling) -> RulingOut:
    return RulingOut(
        ballot_id=ruling.ballot_id,
        reason=ruling.reason,
        moderator=username(ruling.moderator),
        created_at=ruling.created_at,
    )


def tally_out(tally: counting.Tally | None, *, final: bool) -> TallyOut | None:
    """The count with its sentence; None stays None (results hidden)."""
    if tally is None:
        return None
    return TallyOut.model_validate(
        {**tally.to_json(), "final": final, "sentence": tally.sentence()}
    )


def poll_out(view: service.PollView, viewer: User | None) -> PollOut:
    """The poll as `service.view` lets this viewer see it: nothing is added or decided here."""
    poll = view.poll
    return PollOut(
        id=poll.id,
        proposal=poll.proposal_id,
        community=poll.proposal.community.slug,
        number=poll.number,
        state="open" if view.open else "closed",
        outcome=view.outcome,
        round=poll.current_round,
        revision=view.round.revision_number,
        rounds=[
            RoundOut(
                number=r.number,
                revision=r.revision_number,
                started_at=r.started_at,
                started_by=username(r.started_by),
            )
            for r in view.rounds
        ],
        policy=PolicyOut.of(view.policy),
        opened_by=username(poll.opened_by),
        opened_at=poll.opened_at,
        closes_at=poll.closes_at,
        closed_at=poll.closed_at,
        closed_by=username(poll.closed_by),
        roll_size=view.roll_size,
        results_visible=view.tally is not None,
        tally=tally_out(view.tally, final=not view.open),
        objections=[
            ObjectionOut(
                ballot_id=o.ballot_id,
                reason=o.reason,
                voter=username(o.voter),
                # When an anonymous objection was cast could tell who cast it.
                cast_at=o.cast_at if view.named else None,
                ruling=ruling_out(o.ruling) if o.ruling else None,
            )
            for o in view.objections
        ],
        more_objections=view.more_objections,
        viewer=None
        if viewer is None
        else ViewerOut(
            voter=voter_out(view.voter),
            can_vote=view.can_vote,
            cannot_vote=view.cannot_vote,
            voted=view.ballot is not None,
            missed_round=view.missed_round,
            can_moderate=view.can_moderate,
        ),
    )


def _poll_answer(db: Session, poll: Poll, viewer: User | None, now: datetime) -> PollOut:
    return poll_out(service.view(db, poll, viewer, now), viewer)


def ballot_out(ballot: Ballot, counted: Ballot | None) -> BallotOut:
    return BallotOut(
        id=ballot.id,
        round=ballot.round_number,
        position=ballot.position,
        reason=ballot.reason,
        receipt=service.format_receipt(ballot.receipt),
        cast_at=ballot.cast_at,
        counted=counted is not None and ballot.id == counted.id,
        ruling=ruling_out(ballot.ruling) if ballot.ruling else None,
    )


def my_ballot_out(db: Session, poll: Poll, user: User) -> MyBallotOut:
    """The user's own ballots: only they ever see their receipts and history."""
    counted = service.my_ballot(db, poll, user)
    return MyBallotOut(
        poll=poll.id,
        round=poll.current_round,
        voter=voter_out(service.voter_of(db, poll, user)),
        ballot=ballot_out(counted, counted) if counted is not None else None,
        history=[ballot_out(b, counted) for b in service.my_history(db, poll, user)],
    )


def policy_detail_out(policy: PollPolicy) -> PolicyDetailOut:
    return PolicyDetailOut(
        **PolicyOut.of(policy).model_dump(),
        explanations=[
            ExplanationOut(setting=e.setting, value=e.value, meaning=e.meaning)
            for e in explain(policy)
        ],
    )


@router.post(
    "/proposals/{proposal_id}/poll",
    response_model=PollOut,
    status_code=201,
    summary="Open the proposal's poll (its authors or a moderator)",
    description=(
        "Opens a poll on the current revision once the minimum deliberation period is over; "
        "the proposal moves to `voting` and the electoral roll and weights are frozen. The "
        "body may override the community's policy for this poll (moderators; authors may set "
        "`duration_days` only)."
    ),
    responses=CHANGES,
)
def open_poll(
    db: SessionDep, user: CurrentUser, proposal_id: ProposalId, body: PolicyIn = NO_OVERRIDES
) -> PollOut:
    proposal = proposals_service.get_proposal(db, proposal_id, viewer=user)
    now = utcnow()
    poll = service.open_poll(
        db,
        actor=user,
        proposal=proposal,
        now=now,
        overrides=body.settings(),
    )
    return _poll_answer(db, poll, user, now)


@router.get(
    "/proposals/{proposal_id}/poll",
    response_model=PollOut,
    summary="The proposal's latest poll",
    responses=NOT_FOUND,
)
def proposal_poll(db: SessionDep, user: OptionalUser, proposal_id: ProposalId) -> PollOut:
    proposal = proposals_service.get_proposal(db, proposal_id, viewer=user)
    poll = service.current_poll(db, proposal)
    if poll is None:
        raise NotFound(gettext("This proposal has not been put to a poll."))
    return _poll_answer(db, poll, user, utcnow())


@router.get(
    "/polls/{poll_id}",
    response_model=PollOut,
    summary="A poll: state, rounds, policy, objections; the tally only where visible",
    responses=NOT_FOUND,
)
def get_poll(db: SessionDep, user: OptionalUser, poll_id: PollId) -> PollOut:
    return _poll_answer(db, service.get_poll(db, poll_id, viewer=user), user, utcnow())


@router.put(
    "/polls/{poll_id}/ballot",
    response_model=MyBallotOut,
    summary="Cast or change my ballot (members on the poll's roll)",
    description=(
        "Only the latest ballot of the current round counts; earlier ones stay in the history. "
        "`reason` is required for `concern` and `object`. With an `Idempotency-Key`, a retry "
        "after a lost answer casts nothing new and gets the first answer again."
    ),
    responses=CHANGES,
)
def cast_ballot(
    db: SessionDep,
    user: CurrentUser,
    poll_id: PollId,
    body: BallotIn,
    idempotency_key: KeyHeader = None,
) -> MyBallotOut | Response:
    poll = service.get_poll(db, poll_id, viewer=user)
    now = utcnow()
    payload = {"poll": poll.id, **body.model_dump(mode="json")}
    with idempotency.attempt(
        db, user_id=user.id, key=idempotency_key, action="api:ballot", payload=payload, now=now
    ) as attempt:
        if attempt.replay is not None:
            return keys.replay(attempt.replay)
        ballot = service.cast_ballot(
            db, actor=user, poll=poll, position=body.position, reason=body.reason, now=now
        )
        answer = my_ballot_out(db, poll, user)
        attempt.record(result_id=ballot.id, response=answer.model_dump(mode="json"))
    return answer


@router.get(
    "/polls/{poll_id}/ballot",
    response_model=MyBallotOut,
    summary="My counted ballot with its receipt, and every ballot I cast in the poll",
    responses=NOT_FOUND,
)
def my_ballot(db: SessionDep, user: CurrentUser, poll_id: PollId) -> MyBallotOut:
    return my_ballot_out(db, service.get_poll(db, poll_id, viewer=user), user)


@router.post(
    "/polls/{poll_id}/close",
    response_model=PollOut,
    summary="Close a poll before its time (moderators); it is counted as it stands",
    responses=CHANGES,
)
def close_poll(db: SessionDep, user: CurrentUser, poll_id: PollId) -> PollOut:
    poll = service.get_poll(db, poll_id, viewer=user)
    now = utcnow()
    service.close_early(db, actor=user, poll=poll, now=now)
    return _poll_answer(db, poll, user, now)


@router.get(
    "/polls/{poll_id}/results",
    response_model=ResultsOut,
    summary="The poll's count, where visible, with the outcome in a sentence",
    description=(
        "While the policy hides results and the poll runs, answers 200 with `visible: false` "
        "and no count at all; after close (or at once for live results) `tally` holds it."
    ),
    responses=NOT_FOUND,
)
def results(db: SessionDep, user: OptionalUser, poll_id: PollId) -> ResultsOut:
    poll = service.get_poll(db, poll_id, viewer=user)
    now = utcnow()
    tally = service.results(db, poll, now)
    running = service.is_open(poll, now)
    closing = i18n.date_time(poll.closes_at)
    if tally is None:
        message = gettext("Results are hidden until the poll closes (%(closes)s).", closes=closing)
    elif running:
        message = gettext(
            "Live count; the poll runs until %(closes)s. As it stands: %(sentence)s",
            closes=closing,
            sentence=tally.sentence(),
        )
    else:
        message = tally.sentence()
    return ResultsOut(
        poll=poll.id,
        state="open" if running else "closed",
        visible=tally is not None,
        outcome=service.outcome_of(poll, tally, now),
        closes_at=poll.closes_at,
        message=message,
        tally=tally_out(tally, final=not running),
    )


@router.get(
    "/polls/{poll_id}/ballots",
    response_model=BallotPageOut,
    summary="Who voted how (named polls) or who took part (anonymous polls, after close)",
    description=(
        "The current round's counted ballots, paged by `?cursor=` in the order they were "
        "cast, optionally only one `?position=`. Named polls list them once results are "
        "visible; anonymous polls list only participants, once closed, in account order. "
        "Otherwise `visible` is false and `items` empty."
    ),
    responses=NOT_FOUND,
)
def ballots(
    db: SessionDep,
    user: OptionalUser,
    poll_id: PollId,
    limit: Limit = 50,
    cursor: Cursor = None,
    position: Annotated[Position | None, Query(description="Only ballots in this position")] = None,
) -> BallotPageOut:
    poll = service.get_poll(db, poll_id, viewer=user)
    page = service.ballot_page(
        db, poll, utcnow(), after=decode_cursor(cursor), limit=limit, position=position
    )
    return BallotPageOut(
        visible=page.visible,
        named=page.named,
        items=[
            NamedBallotOut(
                voter=b.voter.username,
                display_name=b.voter.display_name,
                position=b.position,
                reason=b.reason,
                ruled_not_paramount=b.ruling is not None,
                cast_at=b.cast_at,
            )
            for b in page.ballots
        ]
        if page.named
        else [
            ParticipantOut(username=u.username, display_name=u.display_name)
            for u in page.participants
        ],
        next_cursor=encode_cursor(page.next_after) if page.next_after else None,
    )


@router.get(
    "/polls/{poll_id}/export",
    response_model=ExportOut,
    summary="A closed poll's counted ballots, policy, roll and frozen tally, for recount",
    description=(
        "Recount it with `normsforum verify-tally FILE`. Voters and reasons appear in named "
        "polls only. 409 while the poll has not been closed."
    ),
    responses=CHANGES,
)
def export(db: SessionDep, user: OptionalUser, poll_id: PollId) -> ExportOut:
    poll = service.get_poll(db, poll_id, viewer=user)
    return ExportOut.model_validate(service.export(db, poll))


@router.get(
    "/polls/{poll_id}/export.csv",
    response_class=Response,
    summary="The export as CSV",
    description=(
        "One row per counted ballot; the poll, policy, roll and frozen tally come first as "
        "`# name: JSON` lines, so the file alone can be recounted. Text cells that a "
        "spreadsheet would run as a formula start with an apostrophe."
    ),
    responses={**CSV_RESPONSE, **CHANGES},
)
def export_csv(db: SessionDep, user: OptionalUser, poll_id: PollId) -> Response:
    poll = service.get_poll(db, poll_id, viewer=user)
    return Response(
        exports.to_csv(service.export(db, poll)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="poll-{poll.id}.csv"'},
    )


@router.post(
    "/polls/{poll_id}/objections/{ballot_id}/ruling",
    response_model=RulingOut,
    status_code=201,
    summary="Rule an open objection not paramount, with a public reason (moderators)",
    description="The objection then counts as a concern.",
    responses=CHANGES,
)
def rule_on_objection(
    db: SessionDep, user: CurrentUser, poll_id: PollId, ballot_id: BallotId, body: RulingIn
) -> RulingOut:
    poll = service.get_poll(db, poll_id, viewer=user)
    ruling = service.rule_not_paramount(
        db, actor=user, poll=poll, ballot_id=ballot_id, reason=body.reason, now=utcnow()
    )
    return ruling_out(ruling)


@router.get(
    "/communities/{slug}/poll-policy",
    response_model=PolicyDetailOut,
    summary="The community's poll policy, each setting explained",
    responses=NOT_FOUND,
)
def get_policy(db: SessionDep, slug: str) -> PolicyDetailOut:
    community = communities_service.get_community(db, slug)
    return policy_detail_out(service.policy_of(db, community))


@router.put(
    "/communities/{slug}/poll-policy",
    response_model=PolicyDetailOut,
    summary="Change the community's poll policy (moderators); running polls keep theirs",
    description="Settings left out keep their value.",
    responses=NOT_FOUND,
)
def set_policy(db: SessionDep, user: CurrentUser, slug: str, body: PolicyIn) -> PolicyDetailOut:
    community = communities_service.get_community(db, slug)
    policy = service.set_policy(
        db, actor=user, community=community, settings=body.settings(), now=utcnow()
    )
    return policy_detail_out(policy)
