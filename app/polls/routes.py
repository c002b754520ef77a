"""HTML pages of polls: the poll and its results, ballots, objections, the policy page.

The poll's forms sit in a panel shown on the proposal page and on the poll page; each form
says which page it came from, and comes back there (with htmx, as the panel alone).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from starlette.responses import Response

from app import i18n, idempotency
from app.accounts.models import User
from app.communities import service as communities_service
from app.db import utcnow
from app.errors import Conflict, DomainError, NotFound, ValidationFailed
from app.i18n import N_
from app.i18n import gettext as _
from app.polls import service, views
from app.polls.models import Ballot, Poll, Position
from app.proposals import routes as proposal_pages
from app.proposals import service as proposals_service
from app.proposals.models import Proposal
from app.proposals.schemas import ProposalId
from app.web import idempotency as keys
from app.web.api import MAX_ID
from app.web.csrf import FORM_FIELD
from app.web.deps import CurrentUser, OptionalUser, SessionDep
from app.web.responses import refusal_message, see_other
from app.web.templating import is_htmx, render

router = APIRouter(tags=["polls"])

FormStr = Annotated[str, Form()]
PollId = Annotated[int, Path(ge=1, le=MAX_ID)]
BallotId = Annotated[int, Path(ge=1, le=MAX_ID)]
#: The form fields that are not poll settings.
NOT_SETTINGS = frozenset({FORM_FIELD, "page"})


async def _settings(request: Request) -> dict[str, str]:
    """A form's poll settings, by their flat names (`role_weights.fan`, ...)."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str) and k not in NOT_SETTINGS}


PolicyFields = Annotated[dict[str, str], Depends(_settings)]


# --- The policy page ----------------------------------------------------------------------


def _policy_url(slug: str) -> str:
    return f"/c/{slug}/poll-policy"


@router.get("/c/{slug}/poll-policy", name="poll_policy")
def policy_page(request: Request, db: SessionDep, user: OptionalUser, slug: str) -> Response:
    community = communities_service.get_community(db, slug)
    return render(request, "polls/policy.html", views.policy_page(db, community, user))


@router.post("/c/{slug}/poll-policy", name="save_poll_policy")
def save_policy(
    request: Request, db: SessionDep, user: CurrentUser, slug: str, settings: PolicyFields
) -> Response:
    community = communities_service.get_community(db, slug)
    before = service.policy_of(db, community)
    try:
        after = service.set_policy(
            db, actor=user, community=community, settings=dict(settings), now=utcnow()
        )
    except ValidationFailed as exc:
        form = views.Form(settings, exc.fields, exc.message)
        return render(
            request,
            "polls/policy.html",
            views.policy_page(db, community, user, form=form),
            status_code=422,
        )
    if after == before:
        return see_other(request, _policy_url(slug), message=_("No setting changed."), level="info")
    return see_other(
        request,
        _policy_url(slug),
        message=_("The poll policy was saved. Polls already open keep the rules they opened with."),
    )


# --- The poll page and the panel's forms --------------------------------------------------


def _poll_in(db: SessionDep, user: User | None, slug: str, poll_id: int) -> Poll:
    community = communities_service.get_community(db, slug)
    poll = service.get_poll(db, poll_id, viewer=user)
    if poll.community_id != community.id:
        raise NotFound(_("There is no such poll."))
    return poll


def _poll_url(poll: Poll) -> str:
    return f"/c/{poll.proposal.community.slug}/polls/{poll.id}"


def _back_url(proposal: Proposal, page: str, poll: Poll | None) -> str:
    if page == "poll" and poll is not None:
        return _poll_url(poll)
    return f"/c/{proposal.community.slug}/proposals/{proposal.id}#poll"


def _panel_page(
    request: Request,
    db: SessionDep,
    proposal: Proposal,
    user: User | None,
    *,
    page: str,
    poll: Poll | None = None,
    forms: views.Forms,
    status_code: int = 200,
) -> Response:
    """The page a panel form came from, with its forms as typed; htmx gets the panel alone."""
    if page == "poll" and poll is not None:
        context = views.poll_page(db, poll, user, utcnow(), forms=forms)
        return render(
            request, "polls/poll.html", context, status_code=status_code, block="poll_panel"
        )
    return proposal_pages.proposal_page_response(
        request,
        db,
        proposal,
        user,
        status_code=status_code,
        block="poll_panel",
        panel=views.panel(db, proposal, user, utcnow(), forms=forms),
    )


def _done(
    request: Request,
    db: SessionDep,
    proposal: Proposal,
    user: User,
    *,
    page: str,
    poll: Poll | None,
    message: str,
) -> Response:
    """After a change: the panel as it is now for htmx, else back to the page (303)."""
    if is_htmx(request):
        return _panel_page(
            request, db, proposal, user, page=page, poll=poll, forms=views.Forms(notice=message)
        )
    return see_other(request, _back_url(proposal, page, poll), message=message)


def _refused(
    request: Request,
    db: SessionDep,
    proposal: Proposal,
    user: User,
    exc: DomainError,
    *,
    page: str,
    poll: Poll | None,
    forms: views.Forms,
) -> Response:
    """A refused form: shown again with what was typed (422). A clash with the poll's state
    goes back to the page with the reason; htmx gets the panel as it is now, with the reason,
    as a 422 so that it is swapped in."""
    request.state.db_rollback = True
    if isinstance(exc, ValidationFailed):
        return _panel_page(
            request, db, proposal, user, page=page, poll=poll, forms=forms, status_code=422
        )
    if is_htmx(request):
        forms = views.Forms(notice=refusal_message(exc), notice_level="error")
        return _panel_page(
            request, db, proposal, user, page=page, poll=poll, forms=forms, status_code=422
        )
    return see_other(
        request, _back_url(proposal, page, poll), message=refusal_message(exc), level="error"
    )


@router.get("/c/{slug}/polls/{poll_id}", name="poll")
def poll_page(
    request: Request, db: SessionDep, user: OptionalUser, slug: str, poll_id: PollId
) -> Response:
    poll = _poll_in(db, user, slug, poll_id)
    return render(request, "polls/poll.html", views.poll_page(db, poll, user, utcnow()))


@router.get("/c/{slug}/polls/{poll_id}/ballots", name="poll_ballots")
def ballots_page(
    request: Request, db: SessionDep, user: OptionalUser, slug: str, poll_id: PollId
) -> Response:
    """Who voted how (named polls) or who took part (anonymous ones), a page at a time."""
    poll = _poll_in(db, user, slug, poll_id)
    raw_after = request.query_params.get("after", "")
    raw_position = request.query_params.get("position", "")
    after = int(raw_after) if raw_after.isascii() and raw_after.isdigit() else None
    after = after if after is not None and after <= MAX_ID else None
    position = Position.__members__.get(raw_position)
    page = service.ballot_page(db, poll, utcnow(), after=after, position=position)
    return render(
        request,
        "polls/ballots.html",
        {
            "community": poll.proposal.community,
            "proposal": poll.proposal,
            "poll": poll,
            "page": page,
            "position": position,
            "positions": list(Position),
        },
        block="ballots",
    )


@router.post("/c/{slug}/proposals/{proposal_id}/poll", name="open_poll")
def open_poll(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    proposal_id: ProposalId,
    settings: PolicyFields,
) -> Response:
    community = communities_service.get_community(db, slug)
    proposal = proposals_service.get_in_community(db, community, proposal_id, viewer=user)
    now = utcnow()
    try:
        poll = service.open_poll(
            db,
            actor=user,
            proposal=proposal,
            now=now,
            overrides=views.overrides(settings, service.policy_of(db, community)),
        )
    except (ValidationFailed, Conflict) as exc:
        forms = views.Forms(open=views.Form(settings, exc.fields, exc.message))
        return _refused(request, db, proposal, user, exc, page="proposal", poll=None, forms=forms)
    return _done(
        request,
        db,
        proposal,
        user,
        page="proposal",
        poll=poll,
        message=_("The poll is open until %(closes)s.", closes=i18n.date_time(poll.closes_at)),
    )


@router.post("/c/{slug}/polls/{poll_id}/ballot", name="cast_ballot")
def cast_ballot(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    poll_id: PollId,
    position: FormStr = "",
    reason: FormStr = "",
    page: FormStr = "",
    idempotency_key: FormStr = "",
) -> Response:
    poll = _poll_in(db, user, slug, poll_id)
    now = utcnow()
    # The form's key: a second submit of the same form (a lost answer, a double click)
    # answers as the first did and casts nothing new.
    with idempotency.attempt(
        db,
        user_id=user.id,
        key=keys.form_key(idempotency_key),
        action="form:ballot",
        payload={"poll": poll.id, "position": position, "reason": reason},
        now=now,
    ) as attempt:
        if attempt.replay is not None:
            cast = db.get(Ballot, attempt.replay.result_id or 0)
            return _done(
                request, db, poll.proposal, user, page=page, poll=poll, message=_cast(cast)
            )
        try:
            ballot = service.cast_ballot(
                db, actor=user, poll=poll, position=position, reason=reason, now=now
            )
        except (ValidationFailed, Conflict) as exc:
            typed = views.Form({"position": position, "reason": reason}, exc.fields, exc.message)
            return _refused(
                request,
                db,
                poll.proposal,
                user,
                exc,
                page=page,
                poll=poll,
                forms=views.Forms(ballot=typed),
            )
        attempt.record(result_id=ballot.id, status_code=303)
        return _done(request, db, poll.proposal, user, page=page, poll=poll, message=_cast(ballot))


def _cast(ballot: Ballot | None) -> str:
    if ballot is None:
        return _("Your ballot was cast.")
    return _(
        "Your ballot was cast: %(position)s. Your receipt is %(receipt)s.",
        position=_(ballot.position.label),
        receipt=service.format_receipt(ballot.receipt),
    )


@router.post("/c/{slug}/polls/{poll_id}/objections/{ballot_id}/ruling", name="rule_objection")
def rule_objection(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    poll_id: PollId,
    ballot_id: BallotId,
    reason: FormStr = "",
    page: FormStr = "",
) -> Response:
    poll = _poll_in(db, user, slug, poll_id)
    try:
        service.rule_not_paramount(
            db, actor=user, poll=poll, ballot_id=ballot_id, reason=reason, now=utcnow()
        )
    except (ValidationFailed, Conflict) as exc:
        typed = views.Form({"reason": reason}, exc.fields, exc.message)
        forms = views.Forms(rulings={ballot_id: typed})
        return _refused(request, db, poll.proposal, user, exc, page=page, poll=poll, forms=forms)
    return _done(
        request,
        db,
        poll.proposal,
        user,
        page=page,
        poll=poll,
        message=_("The objection was ruled not paramount: it now counts as a concern."),
    )


@router.post("/c/{slug}/polls/{poll_id}/close", name="close_poll")
def close_poll(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    poll_id: PollId,
    page: FormStr = "",
) -> Response:
    poll = _poll_in(db, user, slug, poll_id)
    try:
        service.close_early(db, actor=user, poll=poll, now=utcnow())
    except Conflict as exc:
        return _refused(
            request, db, poll.proposal, user, exc, page=page, poll=poll, forms=views.Forms()
        )
    outcome = poll.outcome.value if poll.outcome else "closed"
    return _done(
        request,
        db,
        poll.proposal,
        user,
        page=page,
        poll=poll,
        message=_(CLOSED.get(outcome, CLOSED["closed"])),
    )


#: What closing a poll early did, by its outcome.
CLOSED = {
    "passed": N_("The poll is closed and counted: the proposal passed."),
    "rejected": N_("The poll is closed and counted: the proposal rejected."),
    "withdrawn": N_("The poll is closed and counted: the proposal withdrawn."),
    "closed": N_("The poll is closed and counted."),
}
