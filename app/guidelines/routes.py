"""HTML pages of the guidelines: the document, versions and diffs, clause history and
provenance, Markdown and Atom; moderators' import, tags and ratification queue."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from app.communities import permissions as community_permissions
from app.communities import service as communities_service
from app.communities.models import Community
from app.db import utcnow
from app.errors import Conflict, DomainError, ValidationFailed
from app.guidelines import formats, service
from app.guidelines.models import ClauseCredit, Credit
from app.guidelines.service import Document, SectionView
from app.polls import record as poll_record
from app.polls import service as polls_service
from app.proposals import diff as word_diff
from app.proposals import service as proposals_service
from app.proposals.schemas import ProposalId
from app.web.api import MAX_ID
from app.web.conditional import conditional
from app.web.deps import CurrentUser, OptionalUser, SessionDep
from app.web.responses import after_action, refusal_message, safe_next, see_other
from app.web.templating import render
from app.web.urls import url_for

router = APIRouter(tags=["guidelines"])

FormStr = Annotated[str, Form()]
SEARCH_MAX = 200


def _whole(raw: str | None) -> int | None:
    """A version number from a query string; None when absent, ValueError when not one."""
    if raw is None or raw == "":
        return None
    value = int(raw) if raw.strip().isascii() and raw.strip().isdigit() else -1
    if not 1 <= value <= MAX_ID:
        raise ValueError(raw)
    return value


def _search(doc: Document, q: str) -> Document:
    """Only the clauses whose number, title or text contains every word of `q`."""
    words = q.lower().split()
    if not words:
        return doc
    sections = []
    for section in doc.sections:
        found = [
            item
            for item in section.clauses
            if all(
                w in f"{item.number} {item.clause.title} {item.version.text}".lower() for w in words
            )
        ]
        if found:
            sections.append(SectionView(section.section, found))
    return replace(doc, sections=sections)


def _read(
    request: Request, db: SessionDep, community: Community
) -> tuple[Document, dict[str, str], dict[str, str]]:
    """The document the query string asks for, its filters as typed, and any problems."""
    raw = {k: request.query_params.get(k, "") for k in ("version", "as_of", "tag", "q")}
    errors: dict[str, str] = {}
    try:
        version = _whole(raw["version"])
    except ValueError:
        errors["version"] = "Choose a version number."
        version = None
    try:
        as_of = service.parse_as_of(raw["as_of"]) if raw["as_of"] else None
        tag = service.check_tag(raw["tag"])
        doc = service.document(db, community, version=version, as_of=as_of, tag=tag)
    except ValidationFailed as exc:
        errors.update(exc.fields)
        doc = service.document(db, community)
    q = raw["q"].strip()[:SEARCH_MAX]
    return _search(doc, q), raw, errors


@router.get("/c/{slug}/guidelines", name="guidelines")
def guidelines_page(request: Request, db: SessionDep, user: OptionalUser, slug: str) -> Response:
    community = communities_service.get_community(db, slug)
    doc, values, errors = _read(request, db, community)
    membership = communities_service.membership_of(db, community, user)
    can_moderate = community_permissions.is_moderator(user, membership)
    response = render(
        request,
        "guidelines/document.html",
        {
            "community": community,
            "doc": doc,
            "values": values,
            "errors": errors,
            "tags": service.TAGS,
            "changes": service.versions(db, community, limit=5),
            "can_moderate": can_moderate,
            "waiting": len(service.queue(db, community)) if can_moderate else 0,
        },
        status_code=422 if errors else 200,
        block="document",
    )
    if errors:
        return response
    return conditional(
        request,
        bytes(response.body),
        media_type="text/html; charset=utf-8",
        cache_control="private, no-cache",
        headers={"Vary": "HX-Request, Cookie"},
    )


@router.get("/c/{slug}/guidelines.md", name="guidelines_markdown")
def markdown(request: Request, db: SessionDep, slug: str) -> Response:
    community = communities_service.get_community(db, slug)
    doc, _, errors = _read(request, db, community)
    if errors:
        raise ValidationFailed("The request is not valid.", fields=errors)
    number = doc.version.number if doc.version else 0
    return conditional(
        request,
        formats.to_markdown(doc).encode(),
        media_type="text/markdown; charset=utf-8",
        last_modified=doc.version.published_at if doc.version else None,
        headers={
            "Content-Disposition": f'inline; filename="{community.slug}-guidelines-v{number}.md"'
        },
    )


@router.get("/c/{slug}/guidelines.atom", name="guidelines_feed")
def feed(request: Request, db: SessionDep, slug: str) -> Response:
    community = communities_service.get_community(db, slug)
    changes = service.versions(db, community, limit=formats.FEED_ENTRIES)
    page = url_for(request, "guidelines", slug=slug)
    body = formats.atom_feed(
        community,
        changes,
        page_url=page,
        feed_url=url_for(request, "guidelines_feed", slug=slug),
        version_url=page + "?version={number}",
    )
    return conditional(
        request,
        body,
        media_type="application/atom+xml; charset=utf-8",
        last_modified=changes[0].published_at if changes else None,
    )


@router.get("/c/{slug}/guidelines/versions", name="guideline_versions")
def versions_page(request: Request, db: SessionDep, user: OptionalUser, slug: str) -> Response:
    community = communities_service.get_community(db, slug)
    return render(
        request,
        "guidelines/versions.html",
        {"community": community, "versions": service.versions(db, community)},
    )


@router.get("/c/{slug}/guidelines/diff", name="guidelines_diff")
def diff_page(request: Request, db: SessionDep, user: OptionalUser, slug: str) -> Response:
    community = communities_service.get_community(db, slug)
    versions = service.versions(db, community)
    latest = versions[0].number if versions else 0
    raw_from = request.query_params.get("from", str(max(1, latest - 1)))
    raw_to = request.query_params.get("to", str(latest))
    error = None
    comparison = None
    try:
        old, new = _whole(raw_from), _whole(raw_to)
        if old is None or new is None:
            raise ValueError(raw_from)
        comparison = service.diff(db, community, old, new)
    except ValueError:
        error = "Choose two versions to compare."
    except DomainError as exc:
        error = exc.message
    return render(
        request,
        "guidelines/diff.html",
        {
            "community": community,
            "versions": versions,
            "comparison": comparison,
            "compare_error": error if versions else None,
            "from_number": raw_from,
            "to_number": raw_to,
        },
        status_code=422 if error and versions else 200,
        block="comparison",
    )


@router.get("/c/{slug}/guidelines/clauses/{number}", name="clause")
def clause_page(
    request: Request, db: SessionDep, user: OptionalUser, slug: str, number: str
) -> Response:
    community = communities_service.get_community(db, slug)
    clause = service.get_clause(db, community, number)
    membership = communities_service.membership_of(db, community, user)
    history = service.history(db, clause)
    return render(
        request,
        "guidelines/clause.html",
        {
            "community": community,
            "clause": clause,
            "history": history,
            "current": history[0],
            "tags": service.tags_of(db, [clause.id])[clause.id],
            "all_tags": service.TAGS,
            "can_moderate": community_permissions.is_moderator(user, membership),
            "is_member": membership is not None,
        },
    )


@router.get("/c/{slug}/guidelines/clauses/{number}/v{from_version}", name="clause_version")
def clause_version_page(
    request: Request, db: SessionDep, user: OptionalUser, slug: str, number: str, from_version: str
) -> Response:
    community = communities_service.get_community(db, slug)
    clause = service.get_clause(db, community, number)
    try:
        at = _whole(from_version)
    except ValueError:
        at = None
    version = service.clause_version(db, clause, at or 0)
    history = service.history(db, clause)
    previous = next((v for v in history if v.version == version.version - 1), None)
    poll = polls_service.get_poll(db, version.poll_id, viewer=user) if version.poll_id else None
    return render(
        request,
        "guidelines/clause_version.html",
        {
            "community": community,
            "clause": clause,
            "version": version,
            "previous": previous,
            "citation": service.citation(version),
            "permalink": str(request.url),
            "credits": _grouped(service.credits(db, version)),
            "change_html": word_diff.render_html(
                word_diff.word_diff(previous.text, version.text if version.in_force else "")
            )
            if previous
            else None,
            "poll": poll,
            "tally": version.tally,
            "resolutions": poll_record.RESOLUTION_LABELS,
        },
    )


def _grouped(credits: list[ClauseCredit]) -> list[tuple[Credit, list[ClauseCredit]]]:
    """Credits by kind, in the order the kinds are listed (proposer first)."""
    groups: dict[Credit, list[ClauseCredit]] = {}
    for credit in credits:
        groups.setdefault(credit.credit, []).append(credit)
    return list(groups.items())


@router.post("/c/{slug}/guidelines/clauses/{number}/tags", name="clause_tags")
async def set_tags(
    request: Request, db: SessionDep, user: CurrentUser, slug: str, number: str
) -> Response:
    form = await request.form()
    tags = [str(t) for t in form.getlist("tags")]
    community = communities_service.get_community(db, slug)
    clause = service.get_clause(db, community, number)
    url = url_for(request, "clause", slug=slug, number=clause.number)
    return after_action(
        request,
        url,
        lambda: service.set_tags(db, actor=user, community=community, clause=clause, tags=tags),
        "Tags saved.",
    )


@router.get("/c/{slug}/guidelines/import", name="import_guidelines")
def import_form(request: Request, db: SessionDep, user: CurrentUser, slug: str) -> Response:
    community = communities_service.get_community(db, slug)
    community_permissions.ensure_can_moderate(
        user, communities_service.membership_of(db, community, user)
    )
    return _import_page(request, community, {"markdown": ""}, {})


def _import_page(
    request: Request,
    community: Community,
    values: dict[str, str],
    errors: dict[str, str],
    message: str | None = None,
) -> Response:
    return render(
        request,
        "guidelines/import.html",
        {"community": community, "values": values, "errors": errors, "message": message},
        status_code=422 if errors else 200,
    )


@router.post("/c/{slug}/guidelines/import")
def import_rules(
    request: Request, db: SessionDep, user: CurrentUser, slug: str, markdown: FormStr = ""
) -> Response:
    community = communities_service.get_community(db, slug)
    try:
        version = service.import_rules(
            db, actor=user, community=community, markdown=markdown, now=utcnow()
        )
    except ValidationFailed as exc:
        return _import_page(request, community, {"markdown": markdown}, exc.fields, exc.message)
    return see_other(
        request,
        url_for(request, "guidelines", slug=slug),
        message=f"Published version {version.number}: {version.summary}",
    )


@router.get("/c/{slug}/ratification", name="ratification_queue")
def queue_page(request: Request, db: SessionDep, user: CurrentUser, slug: str) -> Response:
    community = communities_service.get_community(db, slug)
    membership = communities_service.membership_of(db, community, user)
    if service.capacity_of(user, membership, community) is None:
        community_permissions.ensure_can_moderate(user, membership)
    return render(
        request,
        "guidelines/queue.html",
        {
            "community": community,
            "items": service.queue_items(db, community),
            "capacity": service.capacity_of(user, membership, community),
        },
    )


def _proposal_url(request: Request, slug: str, proposal_id: int) -> str:
    return url_for(request, "proposal", slug=slug, proposal_id=str(proposal_id))


@router.post("/c/{slug}/proposals/{proposal_id}/ratify", name="ratify_proposal")
def ratify(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    proposal_id: ProposalId,
    note: FormStr = "",
    back: FormStr = "",
) -> Response:
    community = communities_service.get_community(db, slug)
    proposal = proposals_service.get_in_community(db, community, proposal_id, viewer=user)
    target = safe_next(back, _proposal_url(request, slug, proposal.id))
    try:
        version = service.ratify(db, actor=user, proposal=proposal, note=note, now=utcnow())
    except (Conflict, ValidationFailed) as exc:
        request.state.db_rollback = True
        return see_other(request, target, message=refusal_message(exc), level="error")
    if version is None:
        return see_other(
            request, target, message="Your signature is recorded; it waits for the other one."
        )
    return see_other(
        request,
        target,
        message=f"Ratified: published as version {version.number} of the guidelines.",
    )


@router.post("/c/{slug}/proposals/{proposal_id}/return", name="return_proposal")
def send_back(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    proposal_id: ProposalId,
    reason: FormStr = "",
) -> Response:
    community = communities_service.get_community(db, slug)
    proposal = proposals_service.get_in_community(db, community, proposal_id, viewer=user)
    return after_action(
        request,
        _proposal_url(request, slug, proposal.id),
        lambda: service.send_back(db, actor=user, proposal=proposal, reason=reason, now=utcnow()),
        "Returned to deliberation; the reason is on the proposal's history.",
        level="info",
    )
