"""JSON API of proposals: list and search, create, read, edit, lifecycle, revisions and diffs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.communities import service as communities_service
from app.db import utcnow
from app.errors import ValidationFailed
from app.guidelines import service as guidelines_service
from app.i18n import CONTENT_LANGUAGES
from app.i18n import gettext as _
from app.polls import service as polls_service
from app.proposals import exhibits as exhibits_service
from app.proposals import permissions as perms
from app.proposals import service
from app.proposals.models import Exhibit, Proposal, ProposalState, Revision
from app.proposals.schemas import (
    AuthorOut,
    CoauthorBody,
    DiffOut,
    DiffPieceOut,
    ExhibitCreate,
    ExhibitId,
    ExhibitList,
    ExhibitOut,
    ExhibitWorkOut,
    FieldDiffOut,
    FollowOut,
    LockBody,
    ProposalCreate,
    ProposalId,
    ProposalList,
    ProposalOut,
    ProposalSummaryOut,
    ProposalUpdate,
    RevisionList,
    RevisionOut,
    UnlockBody,
    WithdrawBody,
)
from app.web.api import COMMON_ERRORS, MAX_ID, ErrorResponse, Limit, error_responses
from app.web.deps import CurrentUser, OptionalUser, SessionDep
from app.web.urls import url_for

router = APIRouter(tags=["proposals"], responses=COMMON_ERRORS)
NOT_FOUND = error_responses(404)
CHANGES = error_responses(404, 409)
# A duplicate exhibit is a field error (422, on `work`), like every other refused input.
EXHIBIT_CHANGES = {
    **CHANGES,
    422: {
        "model": ErrorResponse,
        "description": "Invalid input, or the work is already exhibited; `fields` says which",
    },
}
# A proposals cursor holds a timestamp and an id: longer than the shared id-only cursor allows.
KeysetCursor = Annotated[
    str | None, Query(description="The `next_cursor` of the previous page.", max_length=200)
]
# The body of withdraw and unlock may be left out: the reason is then empty (a lock needs one).
NO_REASON = WithdrawBody()
NO_UNLOCK_REASON = UnlockBody()


def proposal_url(request: Request, proposal: Proposal) -> str:
    return str(
        url_for(request, "proposal", slug=proposal.community.slug, proposal_id=str(proposal.id))
    )


def proposal_out(request: Request, db: Session, proposal: Proposal) -> ProposalOut:
    return ProposalOut(
        id=proposal.id,
        community=proposal.community.slug,
        url=proposal_url(request, proposal),
        title=proposal.title,
        summary=proposal.summary,
        rationale=proposal.rationale,
        norm_text=proposal.norm_text,
        category=proposal.category.slug if proposal.category else None,
        tags=proposal.tag_names,
        kind=proposal.kind,
        target_clause=proposal.target_clause,
        language=proposal.language,
        state=proposal.state,
        current_revision=proposal.revision_number,
        authors=[
            AuthorOut(username=a.user.username, display_name=a.user.display_name, role=a.role)
            for a in service.authors(db, proposal)
        ],
        locked=proposal.locked_at is not None,
        created_at=proposal.created_at,
        published_at=proposal.published_at,
        voting_may_open_at=proposal.voting_may_open_at,
        withdrawn_at=proposal.withdrawn_at,
        last_activity_at=proposal.last_activity_at,
    )


def summary_out(request: Request, proposal: Proposal) -> ProposalSummaryOut:
    return ProposalSummaryOut(
        id=proposal.id,
        url=proposal_url(request, proposal),
        title=proposal.title,
        summary=proposal.summary,
        category=proposal.category.slug if proposal.category else None,
        tags=proposal.tag_names,
        language=proposal.language,
        state=proposal.state,
        current_revision=proposal.revision_number,
        published_at=proposal.published_at,
        voting_may_open_at=proposal.voting_may_open_at,
        last_activity_at=proposal.last_activity_at,
    )


def revision_out(revision: Revision) -> RevisionOut:
    return RevisionOut(
        number=revision.number,
        title=revision.title,
        summary=revision.summary,
        rationale=revision.rationale,
        norm_text=revision.norm_text,
        message=revision.message,
        author=revision.author.username if revision.author else None,
        created_at=revision.created_at,
    )


@router.get(
    "/communities/{slug}/proposals",
    response_model=ProposalList,
    summary="List and search a community's proposals",
    responses=NOT_FOUND,
)
def list_proposals(
    request: Request,
    db: SessionDep,
    user: OptionalUser,
    slug: str,
    state: Annotated[
        str,
        Query(max_length=32, json_schema_extra={"enum": ["", *(s.value for s in ProposalState)]}),
    ] = "",
    category: Annotated[str, Query(max_length=100)] = "",
    tag: Annotated[str, Query(max_length=64)] = "",
    q: Annotated[str, Query(max_length=200, description="Full-text search")] = "",
    sort: Annotated[
        str,
        Query(
            max_length=16,
            description="newest, active or closing",
            json_schema_extra={"enum": ["", *service.SORTS]},
        ),
    ] = "",
    language: Annotated[
        str,
        Query(
            max_length=35,
            description="Only those written in this language",
            json_schema_extra={"enum": ["", *CONTENT_LANGUAGES]},
        ),
    ] = "",
    limit: Limit = 20,
    cursor: KeysetCursor = None,
) -> ProposalList:
    community = communities_service.get_community(db, slug)
    filters = service.check_filter(
        {
            "state": state,
            "category": category,
            "tag": tag,
            "q": q,
            "sort": sort,
            "language": language,
        }
    )
    page = service.list_proposals(
        db, community=community, viewer=user, filters=filters, limit=limit, cursor=cursor
    )
    return ProposalList(
        items=[summary_out(request, p) for p in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/communities/{slug}/proposals",
    response_model=ProposalOut,
    status_code=201,
    summary="Draft a proposal (members)",
    responses=NOT_FOUND,
)
def create_proposal(
    request: Request, db: SessionDep, user: CurrentUser, slug: str, body: ProposalCreate
) -> ProposalOut:
    community = communities_service.get_community(db, slug)
    values = service.ProposalDraft(
        title=body.title,
        summary=body.summary,
        rationale=body.rationale,
        norm_text=body.norm_text,
        category=body.category,
        tags=service.parse_tags(body.tags),
        kind=body.kind,
        target_clause=body.target_clause,
        language=body.language or "",
    )
    proposal = service.create_proposal(
        db,
        actor=user,
        community=community,
        values=values,
        now=utcnow(),
        clause_numbers=guidelines_service.clause_numbers(db, community),
    )
    return proposal_out(request, db, proposal)


@router.get(
    "/proposals/{proposal_id}",
    response_model=ProposalOut,
    summary="One proposal",
    responses=NOT_FOUND,
)
def get_proposal(
    request: Request, db: SessionDep, user: OptionalUser, proposal_id: ProposalId
) -> ProposalOut:
    return proposal_out(request, db, service.get_proposal(db, proposal_id, viewer=user))


def _apply_update(db: Session, user: User, proposal: Proposal, body: ProposalUpdate) -> None:
    text_given = any(
        value is not None for value in (body.title, body.summary, body.rationale, body.norm_text)
    )
    # The language is the authors' to state, as the text is.
    metadata_only = (
        not text_given
        and not body.language
        and (body.category is not None or body.tags is not None)
    )
    membership = communities_service.membership_of(db, proposal.community, user)
    if metadata_only and perms.can_moderate(user, membership):
        # Moderators re-file proposals in any state, their own included.
        service.moderate_metadata(
            db,
            actor=user,
            proposal=proposal,
            category=body.category if body.category is not None else _category(proposal),
            tags=service.parse_tags(body.tags) if body.tags is not None else proposal.tag_names,
            now=utcnow(),
        )
        return
    # During a poll an edit is an amendment: it starts a new round (the polls service's rules).
    during_poll = proposal.state == ProposalState.voting
    # Who may edit at all comes before what the edit lacks: others get a 403, not a 422.
    perms.ensure_can_edit_text(
        user, proposal, service.author_ids(db, proposal), during_poll=during_poll
    )
    if body.base_revision is None:
        raise ValidationFailed(
            _("Say which revision the edit started from."),
            fields={"base_revision": _("Required: the current_revision you edited.")},
        )
    values = service.ProposalDraft(
        title=body.title if body.title is not None else proposal.title,
        summary=body.summary if body.summary is not None else proposal.summary,
        rationale=body.rationale if body.rationale is not None else proposal.rationale,
        norm_text=body.norm_text if body.norm_text is not None else proposal.norm_text,
        category=body.category if body.category is not None else _category(proposal),
        tags=service.parse_tags(body.tags) if body.tags is not None else proposal.tag_names,
        language=body.language or "",
    )
    edit = polls_service.amend if during_poll else service.edit_proposal
    edit(
        db,
        actor=user,
        proposal=proposal,
        base_revision=body.base_revision,
        values=values,
        message=body.message,
        now=utcnow(),
    )


def _category(proposal: Proposal) -> str:
    return proposal.category.slug if proposal.category else ""


@router.patch(
    "/proposals/{proposal_id}",
    response_model=ProposalOut,
    summary="Edit a proposal (authors: text, making a revision; moderators: category and tags)",
    description=(
        "While the proposal is in `voting`, a text edit amends it: the new revision starts a new "
        "poll round (earlier ballots stop counting), up to the poll's `max_rounds`."
    ),
    responses=CHANGES,
)
def update_proposal(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    proposal_id: ProposalId,
    body: ProposalUpdate,
) -> ProposalOut:
    proposal = service.get_proposal(db, proposal_id, viewer=user)
    _apply_update(db, user, proposal, body)
    return proposal_out(request, db, proposal)


@router.post(
    "/proposals/{proposal_id}/publish",
    response_model=ProposalOut,
    summary="Publish a draft for deliberation",
    responses=CHANGES,
)
def publish(
    request: Request, db: SessionDep, user: CurrentUser, proposal_id: ProposalId
) -> ProposalOut:
    proposal = service.get_proposal(db, proposal_id, viewer=user)
    return proposal_out(
        request, db, service.publish(db, actor=user, proposal=proposal, now=utcnow())
    )


@router.post(
    "/proposals/{proposal_id}/withdraw",
    response_model=ProposalOut,
    summary="Withdraw a proposal (its author)",
    responses=CHANGES,
)
def withdraw(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    proposal_id: ProposalId,
    body: WithdrawBody = NO_REASON,
) -> ProposalOut:
    proposal = service.get_proposal(db, proposal_id, viewer=user)
    service.withdraw(db, actor=user, proposal=proposal, reason=body.reason, now=utcnow())
    return proposal_out(request, db, proposal)


def _set_locked(
    request: Request, db: Session, user: User, proposal_id: int, reason: str, *, locked: bool
) -> ProposalOut:
    proposal = service.get_proposal(db, proposal_id, viewer=user)
    service.set_locked(
        db, actor=user, proposal=proposal, locked=locked, reason=reason, now=utcnow()
    )
    return proposal_out(request, db, proposal)


@router.post(
    "/proposals/{proposal_id}/lock",
    response_model=ProposalOut,
    summary="Lock a proposal against edits (moderators)",
    responses=CHANGES,
)
def lock(
    request: Request, db: SessionDep, user: CurrentUser, proposal_id: ProposalId, body: LockBody
) -> ProposalOut:
    return _set_locked(request, db, user, proposal_id, body.reason, locked=True)


@router.post(
    "/proposals/{proposal_id}/unlock",
    response_model=ProposalOut,
    summary="Unlock a proposal (moderators)",
    responses=CHANGES,
)
def unlock(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    proposal_id: ProposalId,
    body: UnlockBody = NO_UNLOCK_REASON,
) -> ProposalOut:
    return _set_locked(request, db, user, proposal_id, body.reason, locked=False)


@router.post(
    "/proposals/{proposal_id}/coauthors",
    response_model=ProposalOut,
    status_code=201,
    summary="Invite a member as co-author (the author)",
    responses=CHANGES,
)
def add_coauthor(
    request: Request, db: SessionDep, user: CurrentUser, proposal_id: ProposalId, body: CoauthorBody
) -> ProposalOut:
    proposal = service.get_proposal(db, proposal_id, viewer=user)
    service.add_coauthor(db, actor=user, proposal=proposal, username=body.username, now=utcnow())
    return proposal_out(request, db, proposal)


@router.delete(
    "/proposals/{proposal_id}/coauthors/{username}",
    response_model=ProposalOut,
    summary="Remove a co-author (the author), or step down (the co-author)",
    responses=CHANGES,
)
def remove_coauthor(
    request: Request, db: SessionDep, user: CurrentUser, proposal_id: ProposalId, username: str
) -> ProposalOut:
    proposal = service.get_proposal(db, proposal_id, viewer=user)
    service.remove_coauthor(db, actor=user, proposal=proposal, username=username, now=utcnow())
    return proposal_out(request, db, proposal)


@router.put(
    "/proposals/{proposal_id}/follow",
    response_model=FollowOut,
    summary="Follow a proposal",
    responses=NOT_FOUND,
)
def follow(db: SessionDep, user: CurrentUser, proposal_id: ProposalId) -> FollowOut:
    proposal = service.get_proposal(db, proposal_id, viewer=user)
    service.follow(db, actor=user, proposal=proposal, now=utcnow())
    return FollowOut(following=True, followers=service.follower_count(db, proposal))


@router.delete(
    "/proposals/{proposal_id}/follow",
    response_model=FollowOut,
    summary="Stop following a proposal",
    responses=NOT_FOUND,
)
def unfollow(db: SessionDep, user: CurrentUser, proposal_id: ProposalId) -> FollowOut:
    proposal = service.get_proposal(db, proposal_id, viewer=user)
    service.unfollow(db, actor=user, proposal=proposal)
    return FollowOut(following=False, followers=service.follower_count(db, proposal))


@router.get(
    "/proposals/{proposal_id}/revisions",
    response_model=RevisionList,
    summary="Every revision of a proposal, newest first",
    responses=NOT_FOUND,
)
def list_revisions(db: SessionDep, user: OptionalUser, proposal_id: ProposalId) -> RevisionList:
    proposal = service.get_proposal(db, proposal_id, viewer=user)
    return RevisionList(items=[revision_out(r) for r in service.revisions(db, proposal)])


@router.get(
    "/proposals/{proposal_id}/diff",
    response_model=DiffOut,
    summary="Word-level differences between two revisions",
    responses=NOT_FOUND,
)
def diff(
    db: SessionDep,
    user: OptionalUser,
    proposal_id: ProposalId,
    from_: Annotated[int, Query(alias="from", ge=1, le=MAX_ID)],
    to: Annotated[int, Query(ge=1, le=MAX_ID)],
) -> DiffOut:
    proposal = service.get_proposal(db, proposal_id, viewer=user)
    result = service.compare(db, proposal, from_, to)
    return DiffOut(
        from_revision=from_,
        to_revision=to,
        fields=[
            FieldDiffOut(
                field=f.name,
                changed=f.changed,
                pieces=[DiffPieceOut(op=p.op, text=p.text) for p in f.pieces],
            )
            for f in result.fields
        ],
    )


def exhibit_out(request: Request, exhibit: Exhibit) -> ExhibitOut:
    work = exhibit.work
    return ExhibitOut(
        id=exhibit.id,
        work=ExhibitWorkOut(
            id=work.id,
            title=work.title,
            creator_name=work.creator_name,
            medium=work.medium,
            url=work.url,
            page_url=url_for(request, "work", slug=work.community.slug, work_id=str(work.id)),
        ),
        stance=exhibit.stance,
        note=exhibit.note,
        added_by=exhibit.added_by.username if exhibit.added_by else None,
        created_at=exhibit.created_at,
    )


@router.get(
    "/proposals/{proposal_id}/exhibits",
    response_model=ExhibitList,
    summary="A proposal's example works, by stance",
    responses=NOT_FOUND,
)
def list_exhibits(
    request: Request, db: SessionDep, user: OptionalUser, proposal_id: ProposalId
) -> ExhibitList:
    proposal = service.get_proposal(db, proposal_id, viewer=user)
    return ExhibitList(
        items=[exhibit_out(request, e) for e in exhibits_service.exhibits(db, proposal)]
    )


@router.post(
    "/proposals/{proposal_id}/exhibits",
    response_model=ExhibitOut,
    status_code=201,
    summary="Attach a work as an example (members; a draft's authors)",
    description=(
        "The work must belong to the proposal's community. A work already exhibited on the "
        "proposal is refused with 422 and a `work` field error; a proposal that is no longer "
        "open (passed, rejected, withdrawn, ratified) with 409."
    ),
    responses=EXHIBIT_CHANGES,
)
def add_exhibit(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    proposal_id: ProposalId,
    body: ExhibitCreate,
) -> ExhibitOut:
    proposal = service.get_proposal(db, proposal_id, viewer=user)
    exhibit = exhibits_service.add_exhibit(
        db,
        actor=user,
        proposal=proposal,
        work_id=body.work,
        stance=body.stance,
        note=body.note,
        now=utcnow(),
    )
    return exhibit_out(request, exhibit)


@router.delete(
    "/proposals/{proposal_id}/exhibits/{exhibit_id}",
    status_code=204,
    summary="Remove an example work (who attached it, the authors, moderators)",
    responses=NOT_FOUND,
)
def remove_exhibit(
    db: SessionDep, user: CurrentUser, proposal_id: ProposalId, exhibit_id: ExhibitId
) -> Response:
    proposal = service.get_proposal(db, proposal_id, viewer=user)
    exhibit = exhibits_service.get_exhibit(db, proposal, exhibit_id)
    exhibits_service.remove_exhibit(db, actor=user, exhibit=exhibit)
    return Response(status_code=204)
