"""HTML pages of proposals: the list with live filters, the form, the page, revisions and diffs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel
from starlette.responses import Response

from app.accounts.models import User
from app.communities import service as communities_service
from app.communities.models import Category, Community, Membership
from app.db import utcnow
from app.discussion import views as discussion_views
from app.errors import Conflict, DomainError, NotFound, ValidationFailed
from app.guidelines import service as guidelines_service
from app.i18n import N_
from app.i18n import gettext as _
from app.polls import service as polls_service
from app.polls import views as polls_views
from app.proposals import exhibits as exhibits_service
from app.proposals import lifecycle, service
from app.proposals import permissions as perms
from app.proposals.models import ExhibitStance, Proposal, ProposalState
from app.proposals.schemas import ExhibitId, ProposalId
from app.web.api import MAX_ID
from app.web.deps import CurrentUser, OptionalUser, SessionDep
from app.web.responses import after_action, see_other
from app.web.templating import render
from app.works import service as works_service

router = APIRouter(tags=["proposals"])

FormStr = Annotated[str, Form()]
PAGE_SIZE = 20
#: The list's orders, their names marked for the catalogs: the page shows `_(name)`.
SORT_NAMES = (
    ("newest", N_("Newest")),
    ("active", N_("Recently active")),
    ("closing", N_("Closing soon")),
)


def _number(raw: str) -> int:
    """A revision number typed in a form or a URL; ValueError unless it is one."""
    value = int(raw) if raw.strip().isascii() else -1
    if not 1 <= value <= MAX_ID:
        raise ValueError(raw)
    return value


def _url(proposal: Proposal, suffix: str = "") -> str:
    return f"/c/{proposal.community.slug}/proposals/{proposal.id}{suffix}"


@router.get("/c/{slug}/proposals", name="proposals")
def list_page(request: Request, db: SessionDep, user: OptionalUser, slug: str) -> Response:
    community = communities_service.get_community(db, slug)
    raw = {
        k: request.query_params.get(k, "")
        for k in ("state", "category", "tag", "q", "sort", "language")
    }
    errors: dict[str, str] = {}
    try:
        filters = service.check_filter(raw)
        page = service.list_proposals(
            db,
            community=community,
            viewer=user,
            filters=filters,
            limit=PAGE_SIZE,
            cursor=request.query_params.get("cursor"),
        )
    except ValidationFailed as exc:
        errors = exc.fields
        filters = service.ProposalFilter()
        page = service.ProposalPage([], None)
    next_query = None
    if page.next_cursor:
        params = {k: v for k, v in raw.items() if v}
        params["cursor"] = page.next_cursor
        next_query = request.url.include_query_params(**params).query
    return render(
        request,
        "proposals/list.html",
        {
            "community": community,
            "membership": communities_service.membership_of(db, community, user),
            "categories": communities_service.categories(db, community),
            "values": raw,
            "errors": errors,
            "filters": filters,
            "page": page,
            "next_query": next_query,
            "states": [s for s in ProposalState if user is not None or s != ProposalState.draft],
            "sorts": SORT_NAMES,
        },
        status_code=422 if errors else 200,
        block="results",
    )


def _choices(db: SessionDep, community: Community, proposal: Proposal | None) -> list[Category]:
    """The categories a form offers: the active ones, and the proposal's own even if archived."""
    categories = communities_service.categories(db, community)
    current = proposal.category if proposal is not None else None
    if current is not None and current not in categories:
        categories.append(current)
    return categories


class ProposalForm(BaseModel):
    """What the proposal form posts; a field left out is an empty field, never a crash."""

    title: str = ""
    summary: str = ""
    rationale: str = ""
    norm_text: str = ""
    category: str = ""
    tags: str = ""
    kind: str = "new"
    target_clause: str = ""
    message: str = ""
    base_revision: str = ""
    language: str = ""

    def draft(self) -> service.ProposalDraft:
        return service.ProposalDraft(
            title=self.title,
            summary=self.summary,
            rationale=self.rationale,
            norm_text=self.norm_text,
            category=self.category,
            tags=service.parse_tags(self.tags),
            kind=self.kind or "new",
            target_clause=self.target_clause,
            language=self.language,
        )


ProposalFormDep = Annotated[ProposalForm, Form()]


def _form_page(
    request: Request,
    db: SessionDep,
    community: Community,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    proposal: Proposal | None = None,
    message: str | None = None,
    status_code: int = 200,
    stale_diff: object = None,
) -> Response:
    return render(
        request,
        "proposals/form.html",
        {
            "community": community,
            "categories": _choices(db, community, proposal),
            "proposal": proposal,
            "values": values,
            "errors": errors,
            "message": message,
            "stale_diff": stale_diff,
            # Amend and repeal proposals target a clause in force.
            "clauses": [] if proposal else guidelines_service.current_clauses(db, community),
            # During a poll a saved text amends it: the form says what that does.
            "amendment": polls_views.amendment(db, proposal, utcnow()) if proposal else None,
        },
        status_code=status_code,
    )


@router.get("/c/{slug}/proposals/new", name="new_proposal")
def new_form(request: Request, db: SessionDep, user: CurrentUser, slug: str) -> Response:
    """The form, empty or filled from the address: a clause's "propose an amendment" link (and
    the form's own "start from this clause" button) fill in the clause's text."""
    community = communities_service.get_community(db, slug)
    perms.ensure_member(user, communities_service.membership_of(db, community, user))
    fields = ProposalForm.model_fields
    values = {name: request.query_params.get(name, "") for name in fields}
    values["kind"] = values["kind"] if values["kind"] in ("amend", "repeal") else "new"
    target = next(
        (
            c
            for c in guidelines_service.current_clauses(db, community)
            if c.number == values["target_clause"]
        ),
        None,
    )
    if target is not None and values["kind"] != "new":
        values["norm_text"] = (
            target.version.text
            if values["kind"] == "amend"
            else f"Clause {target.number} (“{target.clause.title}”) is repealed."
        )
        values["title"] = (
            values["title"]
            or f"{values['kind'].capitalize()} {target.number}: {target.clause.title}"[:140]
        )
        category = target.clause.section.category_id
        values["category"] = values["category"] or next(
            (c.slug for c in communities_service.categories(db, community) if c.id == category), ""
        )
    return _form_page(request, db, community, values=values, errors={})


@router.post("/c/{slug}/proposals/new")
def create(
    request: Request, db: SessionDep, user: CurrentUser, slug: str, form: ProposalFormDep
) -> Response:
    community = communities_service.get_community(db, slug)
    try:
        proposal = service.create_proposal(
            db,
            actor=user,
            community=community,
            values=form.draft(),
            now=utcnow(),
            clause_numbers=guidelines_service.clause_numbers(db, community),
        )
    except ValidationFailed as exc:
        return _form_page(
            request,
            db,
            community,
            values=form.model_dump(),
            errors=exc.fields,
            message=exc.message,
            status_code=422,
        )
    return see_other(
        request, _url(proposal), message=_("Draft saved. Only you and your co-authors can see it.")
    )


def _proposal_context(db: SessionDep, proposal: Proposal, user: User | None) -> dict[str, object]:
    membership = communities_service.membership_of(db, proposal.community, user)
    author_ids = service.author_ids(db, proposal)
    is_author = perms.is_author(user, author_ids)
    exhibits = exhibits_service.exhibits(db, proposal)
    can_add_exhibit = perms.can_add_exhibit(user, proposal, membership, author_ids)
    return {
        "community": proposal.community,
        "proposal": proposal,
        "authors": service.authors(db, proposal),
        "is_author": is_author,
        "is_original_author": user is not None and proposal.author_id == user.id,
        "can_edit": is_author
        and proposal.state in lifecycle.EDITABLE
        and proposal.locked_at is None,
        "panel": polls_views.panel(db, proposal, user, utcnow()),
        "can_moderate": perms.can_moderate(user, membership),
        "can_withdraw": user is not None
        and proposal.author_id == user.id
        and lifecycle.can_move(proposal.state, ProposalState.withdrawn),
        "following": service.is_following(db, proposal, user),
        "followers": service.follower_count(db, proposal),
        "revisions": service.revisions(db, proposal),
        "timeline": service.timeline(db, proposal),
        "categories": _choices(db, proposal.community, proposal),
        "explanation": lifecycle.EXPLANATIONS[proposal.state],
        "errors": {},
        "values": {},
        "exhibits": exhibits,
        "removable_exhibits": exhibits_service.removable_ids(db, proposal, exhibits, user),
        "can_add_exhibit": can_add_exhibit,
        "exhibit_choices": works_service.all_works(db, proposal.community)
        if can_add_exhibit
        else [],
        "stances": list(ExhibitStance),
        "exhibit_values": {"work": "", "stance": "", "note": ""},
        "exhibit_errors": {},
        **_guideline_context(db, proposal, user, membership),
    }


def _guideline_context(
    db: SessionDep, proposal: Proposal, user: User | None, membership: Membership | None
) -> dict[str, object]:
    """The proposal's place in the guidelines: the clause it changes, the clause it made, and
    who may still sign its ratification."""
    ratified = proposal.state == ProposalState.ratified
    capacity = guidelines_service.capacity_of(user, membership, proposal.community)
    signed = missing = None
    if proposal.state == ProposalState.passed:
        poll = polls_service.current_poll(db, proposal)
        signed = guidelines_service.signatures(db, proposal, poll) if poll else []
        missing = guidelines_service.missing_signatures(proposal.community, signed)
    return {
        "clause_change": None if ratified else guidelines_service.proposed_change(db, proposal),
        "made": guidelines_service.made_by(db, proposal) if ratified else None,
        "ratify_capacity": capacity if signed is not None else None,
        "signed": signed or [],
        "missing_signatures": missing or [],
    }


def proposal_page_response(
    request: Request,
    db: SessionDep,
    proposal: Proposal,
    user: User | None,
    *,
    status_code: int = 200,
    block: str = "thread",
    **extra: object,
) -> Response:
    """The proposal page with its discussion; `extra` overrides parts (e.g. form errors).

    `?cursor=` pages the thread and `?work=` filters it to one exhibited work; htmx asks for
    the thread block alone (or the `block` a form of the page posted from).
    """
    work = request.query_params.get("work", "")
    thread = discussion_views.thread_context(
        request,
        db,
        proposal,
        user,
        cursor=request.query_params.get("cursor"),
        work_id=int(work) if work.isascii() and work.isdigit() and len(work) < 10 else None,
    )
    context = {**_proposal_context(db, proposal, user), **thread, **extra}
    return render(request, "proposals/proposal.html", context, status_code=status_code, block=block)


@router.get("/c/{slug}/proposals/{proposal_id}", name="proposal")
def proposal_page(
    request: Request, db: SessionDep, user: OptionalUser, slug: str, proposal_id: ProposalId
) -> Response:
    community = communities_service.get_community(db, slug)
    proposal = service.get_in_community(db, community, proposal_id, viewer=user)
    return proposal_page_response(request, db, proposal, user)


@router.get("/c/{slug}/proposals/{proposal_id}/edit", name="edit_proposal")
def edit_form(
    request: Request, db: SessionDep, user: CurrentUser, slug: str, proposal_id: ProposalId
) -> Response:
    community = communities_service.get_community(db, slug)
    proposal = service.get_in_community(db, community, proposal_id, viewer=user)
    perms.ensure_can_edit_text(
        user,
        proposal,
        service.author_ids(db, proposal),
        during_poll=proposal.state == ProposalState.voting,
    )
    values = {
        "title": proposal.title,
        "summary": proposal.summary,
        "rationale": proposal.rationale,
        "norm_text": proposal.norm_text,
        "category": proposal.category.slug if proposal.category else "",
        "tags": ", ".join(proposal.tag_names),
        "kind": proposal.kind.value,
        "base_revision": str(proposal.revision_number),
        "language": proposal.language or "",
    }
    return _form_page(request, db, community, values=values, errors={}, proposal=proposal)


@router.post("/c/{slug}/proposals/{proposal_id}/edit")
def edit(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    proposal_id: ProposalId,
    form: ProposalFormDep,
) -> Response:
    community = communities_service.get_community(db, slug)
    proposal = service.get_in_community(db, community, proposal_id, viewer=user)
    typed = {**form.model_dump(), "kind": proposal.kind.value}
    try:
        based_on = _number(form.base_revision)
    except ValueError:
        based_on = -1  # no revision: the save is refused as stale, with the text kept
    # During a poll a changed text is an amendment: the polls service starts a new round.
    amending = proposal.state == ProposalState.voting
    save = polls_service.amend if amending else service.edit_proposal
    round_before = _poll_round(db, proposal) if amending else None
    try:
        save(
            db,
            actor=user,
            proposal=proposal,
            base_revision=based_on,
            values=form.draft(),
            message=form.message,
            now=utcnow(),
        )
    except service.StaleRevision as exc:
        # Keep what they typed; show what changed since, and let them save on top of it.
        stale = (
            service.compare(db, proposal, based_on, exc.current)
            if 1 <= based_on < exc.current
            else None
        )
        typed["base_revision"] = str(exc.current)
        return _form_page(
            request,
            db,
            community,
            values=typed,
            errors={},
            proposal=proposal,
            message=exc.message,
            status_code=409,
            stale_diff=stale,
        )
    except (ValidationFailed, Conflict) as exc:
        # A refused amendment (the poll closed, or had all its rounds) keeps the typed text.
        request.state.db_rollback = True
        return _form_page(
            request,
            db,
            community,
            values=typed,
            errors=exc.fields,
            proposal=proposal,
            message=exc.message,
            status_code=exc.status,
        )
    round_after = _poll_round(db, proposal) if amending else None
    if round_after != round_before:
        return see_other(
            request,
            _url(proposal, "#poll"),
            message=_(
                "Saved as revision %(revision_number)s: round %(round_after)s of the poll has "
                "begun, and ballots of earlier rounds no longer count.",
                revision_number=proposal.revision_number,
                round_after=round_after,
            ),
        )
    return see_other(request, _url(proposal), message=_("Saved as a new revision."))


def _poll_round(db: SessionDep, proposal: Proposal) -> int | None:
    """The round the proposal's poll is in, if it is polled."""
    poll = polls_service.current_poll(db, proposal)
    return poll.current_round if poll is not None else None


def _load(db: SessionDep, user: User, slug: str, proposal_id: ProposalId) -> Proposal:
    community = communities_service.get_community(db, slug)
    return service.get_in_community(db, community, proposal_id, viewer=user)


@router.post("/c/{slug}/proposals/{proposal_id}/publish", name="publish_proposal")
def publish(
    request: Request, db: SessionDep, user: CurrentUser, slug: str, proposal_id: ProposalId
) -> Response:
    proposal = _load(db, user, slug, proposal_id)
    return after_action(
        request,
        _url(proposal),
        lambda: service.publish(db, actor=user, proposal=proposal, now=utcnow()),
        _("Published: the community can now read and discuss it."),
    )


@router.post("/c/{slug}/proposals/{proposal_id}/withdraw", name="withdraw_proposal")
def withdraw(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    proposal_id: ProposalId,
    reason: FormStr = "",
) -> Response:
    proposal = _load(db, user, slug, proposal_id)
    return after_action(
        request,
        _url(proposal),
        lambda: service.withdraw(db, actor=user, proposal=proposal, reason=reason, now=utcnow()),
        _("Withdrawn. The proposal stays readable, marked as withdrawn."),
        level="info",
    )


@router.post("/c/{slug}/proposals/{proposal_id}/coauthors", name="add_coauthor")
def add_coauthor(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    proposal_id: ProposalId,
    username: FormStr = "",
) -> Response:
    proposal = _load(db, user, slug, proposal_id)
    try:
        coauthor = service.add_coauthor(
            db, actor=user, proposal=proposal, username=username, now=utcnow()
        )
    except ValidationFailed as exc:
        return proposal_page_response(
            request,
            db,
            proposal,
            user,
            status_code=422,
            errors=exc.fields,
            values={"username": username},
        )
    except Conflict as exc:
        return see_other(request, _url(proposal), message=exc.message, level="error")
    return see_other(
        request,
        _url(proposal),
        message=_("%(user)s is now a co-author.", user=coauthor.user.display_name),
    )


@router.post(
    "/c/{slug}/proposals/{proposal_id}/coauthors/{username}/remove", name="remove_coauthor"
)
def remove_coauthor(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    proposal_id: ProposalId,
    username: str,
) -> Response:
    proposal = _load(db, user, slug, proposal_id)
    try:
        service.remove_coauthor(db, actor=user, proposal=proposal, username=username, now=utcnow())
    except Conflict as exc:
        return see_other(request, _url(proposal), message=exc.message, level="error")
    try:
        perms.ensure_can_view(user, proposal, service.author_ids(db, proposal))
    except NotFound:
        # Stepped down from a draft: its page would now be a 404 for them.
        return see_other(
            request,
            f"/c/{proposal.community.slug}/proposals",
            message=_("You are no longer a co-author of this draft."),
            level="info",
        )
    return see_other(request, _url(proposal), message=_("Co-author removed."), level="info")


@router.post("/c/{slug}/proposals/{proposal_id}/follow", name="follow_proposal")
def follow(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    proposal_id: ProposalId,
    following: FormStr = "1",
) -> Response:
    proposal = _load(db, user, slug, proposal_id)
    if following == "0":
        service.unfollow(db, actor=user, proposal=proposal)
    else:
        service.follow(db, actor=user, proposal=proposal, now=utcnow())
    context = _proposal_context(db, proposal, user)
    if request.headers.get("hx-request") == "true":
        return render(request, "proposals/proposal.html", context, block="follow")
    message = _("You follow this proposal.") if following != "0" else _("You stopped following it.")
    return see_other(request, _url(proposal), message=message)


@router.post("/c/{slug}/proposals/{proposal_id}/moderate", name="moderate_proposal")
def moderate(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    proposal_id: ProposalId,
    category: FormStr = "",
    tags: FormStr = "",
    lock: FormStr = "",
    reason: FormStr = "",
) -> Response:
    proposal = _load(db, user, slug, proposal_id)
    now = utcnow()
    try:
        service.moderate_metadata(
            db,
            actor=user,
            proposal=proposal,
            category=category,
            tags=service.parse_tags(tags),
            now=now,
            lock={"lock": True, "unlock": False}.get(lock),
            reason=reason,
        )
    except ValidationFailed as exc:
        return proposal_page_response(
            request,
            db,
            proposal,
            user,
            status_code=422,
            moderation_errors=exc.fields,
            moderation_values={"category": category, "tags": tags, "lock": lock, "reason": reason},
        )
    return see_other(request, _url(proposal), message=_("Moderation saved."))


@router.get("/c/{slug}/proposals/{proposal_id}/revisions", name="proposal_revisions")
def revisions_page(
    request: Request, db: SessionDep, user: OptionalUser, slug: str, proposal_id: ProposalId
) -> Response:
    community = communities_service.get_community(db, slug)
    proposal = service.get_in_community(db, community, proposal_id, viewer=user)
    revisions = service.revisions(db, proposal)
    newest = revisions[0].number
    error = None
    comparison = None
    raw_from = request.query_params.get("from", str(max(1, newest - 1)))
    raw_to = request.query_params.get("to", str(newest))
    try:
        old, new = _number(raw_from), _number(raw_to)
        comparison = service.compare(db, proposal, old, new)
    except ValueError:
        # Marked for the catalogs; the page shows `_(compare_error)`.
        error = N_("Choose two revision numbers.")
    except DomainError as exc:
        error = exc.message
    return render(
        request,
        "proposals/revisions.html",
        {
            "community": community,
            "proposal": proposal,
            "revisions": revisions,
            "comparison": comparison,
            "compare_error": error,
            "from_number": raw_from,
            "to_number": raw_to,
        },
        status_code=200 if error is None else 422,
        block="comparison",
    )


@router.post("/c/{slug}/proposals/{proposal_id}/exhibits", name="add_exhibit")
def add_exhibit(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    proposal_id: ProposalId,
    work: FormStr = "",
    stance: FormStr = "",
    note: FormStr = "",
) -> Response:
    proposal = _load(db, user, slug, proposal_id)
    try:
        work_id: int | None = _number(work)
    except ValueError:
        work_id = None
    try:
        exhibit = exhibits_service.add_exhibit(
            db,
            actor=user,
            proposal=proposal,
            work_id=work_id,
            stance=stance,
            note=note,
            now=utcnow(),
        )
    except ValidationFailed as exc:
        return proposal_page_response(
            request,
            db,
            proposal,
            user,
            status_code=422,
            exhibit_errors=exc.fields,
            exhibit_values={"work": work, "stance": stance, "note": note},
        )
    except Conflict as exc:
        return see_other(request, _url(proposal), message=exc.message, level="error")
    return see_other(
        request,
        _url(proposal, "#exhibits"),
        message=_(
            "“%(work)s” added as %(stance)s.",
            work=exhibit.work.title,
            stance=_(exhibit.stance.label).lower(),
        ),
    )


@router.post(
    "/c/{slug}/proposals/{proposal_id}/exhibits/{exhibit_id}/remove", name="remove_exhibit"
)
def remove_exhibit(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    proposal_id: ProposalId,
    exhibit_id: ExhibitId,
) -> Response:
    proposal = _load(db, user, slug, proposal_id)
    exhibit = exhibits_service.get_exhibit(db, proposal, exhibit_id)
    exhibits_service.remove_exhibit(db, actor=user, exhibit=exhibit)
    return see_other(
        request, _url(proposal, "#exhibits"), message=_("Example work removed."), level="info"
    )
