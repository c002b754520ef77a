"""JSON API of the guidelines: the document (now, at a version, as of a date, by tag), its
versions and diffs, clause histories with provenance, ratification, import and tags."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from app.communities import service as communities_service
from app.db import utcnow
from app.guidelines import service
from app.guidelines.models import ClauseVersion, DocumentVersion
from app.guidelines.schemas import (
    ClauseChangeOut,
    ClauseHistoryOut,
    ClauseOut,
    ClauseVersionOut,
    CreditOut,
    DiffOut,
    DocumentOut,
    ImportBody,
    ObjectionOut,
    ProvenanceOut,
    RatificationOut,
    RatifyBody,
    ReturnBody,
    SectionOut,
    TagsBody,
    TagsOut,
    TranslationBody,
    TranslationList,
    TranslationOut,
    VersionList,
    VersionOut,
)
from app.guidelines.service import TranslationView
from app.i18n import CONTENT_LANGUAGES
from app.polls import service as polls_service
from app.proposals import service as proposals_service
from app.proposals.models import Proposal
from app.proposals.schemas import ProposalId
from app.web.api import (
    COMMON_ERRORS,
    CONTENT_LANGUAGE,
    MAX_ID,
    Cursor,
    Limit,
    decode_cursor,
    encode_cursor,
    error_responses,
)
from app.web.conditional import conditional
from app.web.deps import CurrentUser, OptionalUser, SessionDep
from app.web.urls import url_for

router = APIRouter(tags=["guidelines"], responses=COMMON_ERRORS)
READ_ERRORS = {**error_responses(404), 304: {"description": "Not modified (ETag matched)"}}
CHANGES = error_responses(404, 409)

VersionParam = Annotated[
    int | None, Query(ge=1, le=MAX_ID, description="A guidelines version number")
]
AsOf = Annotated[
    str | None,
    Query(
        max_length=32,
        description="A date (YYYY-MM-DD): the rules in force at its end",
        # Empty is the same as left out: the current rules.
        json_schema_extra={"oneOf": [{"format": "date"}, {"maxLength": 0}]},
    ),
]
Tag = Annotated[
    str | None,
    Query(
        max_length=32,
        # The known tags, so that the schema says which values the filter takes.
        pattern="^(" + "|".join(service.TAGS) + ")$",
        description="Only clauses for this kind of work (and general ones): "
        + ", ".join(service.TAGS),
    ),
]
# The body of ratify may be left out: the note is then empty.
NO_NOTE = RatifyBody()
ClauseNumber = Annotated[str, Path(max_length=16, description="A clause number, like 3.2")]
_LANGUAGES = ", ".join(CONTENT_LANGUAGES)
Lang = Annotated[
    str | None,
    Query(
        max_length=16,
        pattern=CONTENT_LANGUAGE,
        description="A language (BCP 47): each clause not written in it carries its "
        f"translation into it, where there is one. One of: {_LANGUAGES}",
    ),
]
LangPath = Annotated[
    str,
    Path(max_length=16, pattern=CONTENT_LANGUAGE, description=f"One of: {_LANGUAGES}"),
]


def version_out(request: Request, version: DocumentVersion, slug: str) -> VersionOut:
    return VersionOut(
        number=version.number,
        published_at=version.published_at,
        source=version.source.value,
        summary=version.summary,
        proposal=version.proposal_id,
        published_by=version.published_by.username if version.published_by else None,
        url=url_for(request, "guidelines", slug=slug) + f"?version={version.number}",
    )


def clause_url(request: Request, slug: str, version: ClauseVersion) -> str:
    return str(
        url_for(
            request,
            "clause_version",
            slug=slug,
            number=version.clause.number,
            from_version=str(version.from_version),
        )
    )


def translation_out(view: TranslationView) -> TranslationOut:
    translation = view.translation
    return TranslationOut(
        language=translation.language,
        title=translation.title,
        text=translation.text,
        out_of_date=view.out_of_date,
        translated_version=view.translated_version,
        updated_at=translation.updated_at,
        translator=translation.translator.username if translation.translator else None,
    )


def _json(
    request: Request,
    model: DocumentOut | ClauseHistoryOut | DiffOut | VersionList | TranslationList,
) -> Response:
    """JSON with an ETag: creators' tools poll the guidelines and get 304s between changes."""
    return conditional(request, model.model_dump_json().encode(), media_type="application/json")


@router.get(
    "/communities/{slug}/guidelines",
    response_model=DocumentOut,
    summary="The community guidelines (current, ?version=N, ?as_of=DATE, ?tag=, ?lang=)",
    responses=READ_ERRORS,
)
def get_guidelines(
    request: Request,
    db: SessionDep,
    user: OptionalUser,
    slug: str,
    version: VersionParam = None,
    as_of: AsOf = None,
    tag: Tag = None,
    lang: Lang = None,
) -> Response:
    community = communities_service.get_community(db, slug)
    doc = service.document(
        db,
        community,
        version=version,
        as_of=service.parse_as_of(as_of) if as_of else None,
        tag=service.check_tag(tag or ""),
    )
    translated = (
        service.translations_for(db, [item.version for item in doc.clauses], lang) if lang else {}
    )
    body = DocumentOut(
        community=community.slug,
        version=version_out(request, doc.version, slug) if doc.version else None,
        latest_version=doc.latest,
        tag=doc.tag,
        lang=lang,
        sections=[
            SectionOut(
                number=section.section.number,
                title=section.section.title,
                clauses=[
                    ClauseOut(
                        number=item.number,
                        title=item.clause.title,
                        text=item.version.text,
                        language=item.version.language,
                        translation=translation_out(translated[item.clause.id])
                        if item.clause.id in translated
                        else None,
                        tags=item.tags,
                        clause_version=item.version.version,
                        in_force_since=item.version.effective_from,
                        since_version=item.version.from_version,
                        citation=service.citation(item.version),
                        url=clause_url(request, slug, item.version),
                    )
                    for item in section.clauses
                ],
            )
            for section in doc.sections
        ],
    )
    return _json(request, body)


@router.get(
    "/communities/{slug}/guidelines/versions",
    response_model=VersionList,
    summary="The guidelines' versions, newest first: the changelog",
    responses=READ_ERRORS,
)
def list_versions(
    request: Request,
    db: SessionDep,
    user: OptionalUser,
    slug: str,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Response:
    community = communities_service.get_community(db, slug)
    items = service.versions(db, community, limit=limit + 1, before=decode_cursor(cursor))
    more = len(items) > limit
    items = items[:limit]
    body = VersionList(
        items=[version_out(request, v, slug) for v in items],
        next_cursor=encode_cursor(items[-1].number) if more and items else None,
    )
    return _json(request, body)


@router.get(
    "/communities/{slug}/guidelines/diff",
    response_model=DiffOut,
    summary="What changed between two versions, clause by clause",
    responses=READ_ERRORS,
)
def diff(
    request: Request,
    db: SessionDep,
    user: OptionalUser,
    slug: str,
    from_: Annotated[int, Query(alias="from", ge=1, le=MAX_ID)],
    to: Annotated[int, Query(ge=1, le=MAX_ID)],
) -> Response:
    community = communities_service.get_community(db, slug)
    result = service.diff(db, community, from_, to)
    body = DiffOut(
        from_version=result.old.number,
        to_version=result.new.number,
        changes=[
            ClauseChangeOut(
                number=c.number, title=c.title, change=c.change, old_text=c.old, new_text=c.new
            )
            for c in result.changes
        ],
    )
    return _json(request, body)


def _history_out(
    request: Request, db: Session, slug: str, number: str, lang: str | None
) -> ClauseHistoryOut:
    community = communities_service.get_community(db, slug)
    clause = service.get_clause(db, community, number)
    versions = service.history(db, clause)
    in_force = bool(versions) and versions[0].in_force
    translated = (
        service.translations_for(db, versions[:1], lang).get(clause.id)
        if lang and in_force
        else None
    )
    return ClauseHistoryOut(
        number=clause.number,
        title=clause.title,
        section=clause.section.title,
        tags=service.tags_of(db, [clause.id])[clause.id],
        in_force=in_force,
        translation=translation_out(translated) if translated else None,
        versions=[
            ClauseVersionOut(
                version=v.version,
                change=v.change.value,
                text=v.text,
                language=v.language,
                from_version=v.from_version,
                to_version=v.to_version,
                effective_from=v.effective_from,
                effective_to=v.effective_to,
                citation=service.citation(v),
                url=clause_url(request, slug, v),
                provenance=ProvenanceOut(
                    proposal=v.proposal_id,
                    proposal_url=str(
                        url_for(request, "proposal", slug=slug, proposal_id=str(v.proposal_id))
                    )
                    if v.proposal_id
                    else None,
                    revision=v.revision_number,
                    poll=v.poll_id,
                    tally=v.tally,
                    objections=[
                        ObjectionOut(
                            round=o["round"],
                            reason=o["reason"],
                            voter=o.get("voter"),
                            resolution=o["resolution"],
                            ruling_reason=o.get("ruling_reason", ""),
                        )
                        for o in v.objections
                    ],
                    note=v.note,
                ),
                credits=[
                    CreditOut(
                        credit=c.credit.value,
                        name=c.name,
                        username=c.user.username if c.user else None,
                    )
                    for c in service.credits(db, v)
                ],
            )
            for v in versions
        ],
    )


@router.get(
    "/communities/{slug}/guidelines/clauses/{number}",
    response_model=ClauseHistoryOut,
    summary="One clause with its history, provenance and credits (?lang=: its translation)",
    responses=READ_ERRORS,
)
def get_clause(
    request: Request,
    db: SessionDep,
    user: OptionalUser,
    slug: str,
    number: ClauseNumber,
    lang: Lang = None,
) -> Response:
    return _json(request, _history_out(request, db, slug, number, lang))


@router.get(
    "/communities/{slug}/guidelines/clauses/{number}/translations",
    response_model=TranslationList,
    summary="A clause's translations, those of earlier versions (out of date) included",
    responses=READ_ERRORS,
)
def list_translations(
    request: Request, db: SessionDep, user: OptionalUser, slug: str, number: ClauseNumber
) -> Response:
    community = communities_service.get_community(db, slug)
    clause = service.get_clause(db, community, number)
    newest = service.newest_version(db, clause)
    body = TranslationList(
        number=clause.number,
        language=newest.language if newest is not None else community.language,
        items=[translation_out(view) for view in service.translations_of(db, clause)],
    )
    return _json(request, body)


@router.put(
    "/communities/{slug}/guidelines/clauses/{number}/translations/{lang}",
    response_model=TranslationOut,
    summary="Add or correct the translation of a clause's current text (moderators)",
    responses=CHANGES,
)
def put_translation(
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    number: ClauseNumber,
    lang: LangPath,
    body: TranslationBody,
) -> TranslationOut:
    community = communities_service.get_community(db, slug)
    clause = service.get_clause(db, community, number)
    service.save_translation(
        db,
        actor=user,
        community=community,
        clause=clause,
        language=lang,
        title=body.title,
        text=body.text,
        now=utcnow(),
    )
    views = [view for view in service.translations_of(db, clause) if view.language == lang]
    return translation_out(views[0])


@router.delete(
    "/communities/{slug}/guidelines/clauses/{number}/translations/{lang}",
    status_code=204,
    summary="Delete a clause's translations into a language, earlier versions' too (moderators)",
    responses=error_responses(404),
)
def delete_translation(
    db: SessionDep, user: CurrentUser, slug: str, number: ClauseNumber, lang: LangPath
) -> Response:
    community = communities_service.get_community(db, slug)
    clause = service.get_clause(db, community, number)
    service.delete_translation(db, actor=user, community=community, clause=clause, language=lang)
    return Response(status_code=204)


@router.put(
    "/communities/{slug}/guidelines/clauses/{number}/tags",
    response_model=TagsOut,
    summary="Say which kinds of work a clause applies to (moderators)",
    responses=error_responses(404),
)
def set_tags(
    db: SessionDep, user: CurrentUser, slug: str, number: ClauseNumber, body: TagsBody
) -> TagsOut:
    community = communities_service.get_community(db, slug)
    clause = service.get_clause(db, community, number)
    tags = service.set_tags(db, actor=user, community=community, clause=clause, tags=body.tags)
    return TagsOut(number=clause.number, tags=tags)


@router.post(
    "/communities/{slug}/guidelines/import",
    response_model=VersionOut,
    status_code=201,
    summary="Publish the community's existing rules as version 1 (moderators, once)",
    responses=CHANGES,
)
def import_rules(
    request: Request, db: SessionDep, user: CurrentUser, slug: str, body: ImportBody
) -> VersionOut:
    community = communities_service.get_community(db, slug)
    version = service.import_rules(
        db, actor=user, community=community, markdown=body.markdown, now=utcnow()
    )
    return version_out(request, version, slug)


def _ratification_out(
    request: Request, db: Session, proposal: Proposal, version: DocumentVersion | None
) -> RatificationOut:
    slug = proposal.community.slug
    missing: list[str] = []
    if version is None:
        poll = polls_service.current_poll(db, proposal)
        if poll is not None:
            missing = service.missing_signatures(
                proposal.community, service.signatures(db, proposal, poll)
            )
    return RatificationOut(
        proposal=proposal.id,
        state=proposal.state.value,
        published_version=version_out(request, version, slug) if version else None,
        missing_signatures=missing,
    )


@router.post(
    "/proposals/{proposal_id}/ratify",
    response_model=RatificationOut,
    summary="Ratify a passed proposal (moderators; rights holders where the community asks)",
    responses=CHANGES,
)
def ratify(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    proposal_id: ProposalId,
    body: RatifyBody = NO_NOTE,
) -> RatificationOut:
    proposal = proposals_service.get_proposal(db, proposal_id, viewer=user)
    version = service.ratify(db, actor=user, proposal=proposal, note=body.note, now=utcnow())
    return _ratification_out(request, db, proposal, version)


@router.post(
    "/proposals/{proposal_id}/return",
    response_model=RatificationOut,
    summary="Return a passed proposal to deliberation with a public reason",
    responses=CHANGES,
)
def send_back(
    request: Request, db: SessionDep, user: CurrentUser, proposal_id: ProposalId, body: ReturnBody
) -> RatificationOut:
    proposal = proposals_service.get_proposal(db, proposal_id, viewer=user)
    service.send_back(db, actor=user, proposal=proposal, reason=body.reason, now=utcnow())
    return _ratification_out(request, db, proposal, None)
