"""HTML pages of the guidelines: the document, versions and diffs, clause history and
provenance, Markdown and Atom; moderators' import, tags and ratification queue."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from app import i18n
from app.accounts.models import User
from app.communities import permissions as community_permissions
from app.communities import service as communities_service
from app.communities.models import Community
from app.db import utcnow
from app.errors import Conflict, DomainError, ValidationFailed
from app.guidelines import formats, service
from app.guidelines.models import Clause, ClauseCredit, Credit
from app.guidelines.service import Document, SectionView, TranslationView
from app.i18n import gettext as _
from app.polls import record as poll_record
from app.polls import service as polls_service
from app.proposals import diff as word_diff
from app.proposals import service as proposals_service
from app.proposals.schemas import ProposalId
from app.web.api import MAX_ID
from app.web.conditional import conditional
from app.web.deps import CurrentUser, OptionalUser, SessionDep
from app.web.language import request_language
from app.web.responses import after_action, refusal_message, safe_next, see_other
from app.web.templating import render
from app.web.urls import path_for, url_for

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


def _search(doc: Document, q: str, translated: dict[int, TranslationView]) -> Document:
    """Only the clauses whose number, title or text (or translation) contains every word of
    `q`."""
    words = q.lower().split()
    if not words:
        return doc

    def searched(item: service.ClauseView) -> str:
        text = f"{item.number} {item.clause.title} {item.version.text}"
        shown = translated.get(item.clause.id)
        if shown is not None:
            text += f" {shown.translation.title} {shown.translation.text}"
        return text.lower()

    sections = []
    for section in doc.sections:
        found = [item for item in section.clauses if all(w in searched(item) for w in words)]
        if found:
            sections.append(SectionView(section.section, found))
    return replace(doc, sections=sections)


@dataclass(frozen=True)
class Reading:
    """The document a query string asks for, in the language asked for."""

    doc: Document
    values: dict[str, str]
    errors: dict[str, str]
    #: The language the reader wants; clauses in another get their translation into it.
    language: str
    translated: dict[int, TranslationView]


def _read(
    request: Request,
    db: SessionDep,
    community: Community,
    *,
    default_language: str | None = None,
) -> Reading:
    """The document the query string asks for, its filters as typed, and any problems.

    Without `?lang=`, the wanted language is `default_language` (None: the authoritative text,
    nothing translated)."""
    raw = {k: request.query_params.get(k, "") for k in ("version", "as_of", "tag", "q", "lang")}
    errors: dict[str, str] = {}
    try:
        language = service.wanted_language(raw["lang"], default_language or community.language)
    except ValidationFailed as exc:
        errors.update(exc.fields)
        language = default_language or community.language
    try:
        version = _whole(raw["version"])
    except ValueError:
        errors["version"] = _("Choose a version number.")
        version = None
    try:
        as_of = service.parse_as_of(raw["as_of"]) if raw["as_of"] else None
        tag = service.check_tag(raw["tag"])
        doc = service.document(db, community, version=version, as_of=as_of, tag=tag)
    except ValidationFailed as exc:
        errors.update(exc.fields)
        doc = service.document(db, community)
    q = raw["q"].strip()[:SEARCH_MAX]
    translated = (
        service.translations_for(db, [item.version for item in doc.clauses], language)
        if raw["lang"].strip() or default_language
        else {}
    )
    return Reading(_search(doc, q, translated), raw, errors, language, translated)


def _authoritative(doc: Document, community: Community) -> list[str]:
    """The languages the shown clauses are written in (authoritative in), the community's
    first: a clause keeps the language it was ratified in, whatever the community's is now."""
    written = {item.version.language for item in doc.clauses} or {community.language}
    return sorted(written, key=lambda tag: (tag != community.language, tag))


def _language_links(
    request: Request,
    db: SessionDep,
    community: Community,
    values: dict[str, str],
    authoritative: list[str],
) -> list[tuple[str, str]]:
    """(language, link) for the picker: the authoritative languages, then those translated
    into; the filters kept, the search dropped (its words are in one language)."""
    kept = {k: v for k, v in values.items() if v and k not in {"lang", "q"}}
    base = path_for(request, "guidelines", slug=community.slug)
    languages = authoritative + [
        tag for tag in service.translation_languages(db, community) if tag not in authoritative
    ]
    return [(tag, f"{base}?{urlencode({**kept, 'lang': tag})}") for tag in languages]


@router.get("/c/{slug}/guidelines", name="guidelines")
def guidelines_page(request: Request, db: SessionDep, user: OptionalUser, slug: str) -> Response:
    community = communities_service.get_community(db, slug)
    reading = _read(request, db, community, default_language=request_language(request, user))
    doc, values, errors = reading.doc, reading.values, reading.errors
    authoritative = _authoritative(doc, community)
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
            "lang": reading.language,
            "translated": reading.translated,
            "language_links": _language_links(request, db, community, values, authoritative),
            "authoritative": authoritative,
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
        # The language the clauses are translated into follows the reader's, without ?lang=.
        headers={"Vary": "HX-Request, Cookie, Accept-Language"},
    )


@router.get("/c/{slug}/guidelines.md", name="guidelines_markdown")
def markdown(request: Request, db: SessionDep, slug: str) -> Response:
    community = communities_service.get_community(db, slug)
    # Only an explicit ?lang= translates: a download is the authoritative text otherwise.
    reading = _read(request, db, community)
    doc, errors = reading.doc, reading.errors
    if errors:
        raise ValidationFailed(_("The request is not valid."), fields=errors)
    number = doc.version.number if doc.version else 0
    changed = [doc.version.published_at] if doc.version else []
    changed += [t.translation.updated_at for t in reading.translated.values()]
    return conditional(
        request,
        formats.to_markdown(doc, reading.translated).encode(),
        media_type="text/markdown; charset=utf-8",
        last_modified=max(changed) if changed else None,
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
        error = _("Choose two versions to compare.")
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
    return _clause_page(request, db, user, community, clause)


def _clause_page(
    request: Request,
    db: SessionDep,
    user: User | None,
    community: Community,
    clause: Clause,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
) -> Response:
    """The clause's history, its text in the reader's language, and (for moderators) the
    translation form: as typed and with its problems after a refused save."""
    membership = communities_service.membership_of(db, community, user)
    history = service.history(db, clause)
    current = history[0]
    # A `?lang=` that names no language is shown beside the picker, not in the moderators'
    # translation form; as on the guidelines page, the page still reads, with a 422.
    lang_error = ""
    try:
        language = service.wanted_language(
            request.query_params.get("lang"), request_language(request, user)
        )
    except ValidationFailed as exc:
        lang_error = " ".join(exc.fields.values())
        language = request_language(request, user)
    translations = service.translations_of(db, clause)
    shown = service.translations_for(db, [current], language) if current.in_force else {}
    # The form starts from the translation into the language asked for (an older one to
    # update, if that is all there is), else into the first language the clause is not in.
    choices = [(t, n) for t, n in i18n.content_language_choices() if t != current.language]
    into = values.get("language", "") if values else ""
    if not into:
        into = language if language != current.language else choices[0][0]
    prefill = next((t for t in translations if t.language == into), None)
    form = values or {
        "language": into,
        "title": prefill.translation.title if prefill else "",
        "text": prefill.translation.text if prefill else "",
    }
    return render(
        request,
        "guidelines/clause.html",
        {
            "community": community,
            "clause": clause,
            "history": history,
            "current": current,
            "tags": service.tags_of(db, [clause.id])[clause.id],
            "all_tags": service.TAGS,
            "can_moderate": community_permissions.is_moderator(user, membership),
            "is_member": membership is not None,
            "lang": language,
            "shown": shown.get(clause.id),
            "translations": translations,
            "language_choices": choices,
            "translation_values": form,
            "translation_errors": errors or {},
            "translation_message": message,
            "lang_error": lang_error,
        },
        status_code=422 if errors or lang_error else 200,
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
        _("Tags saved."),
    )


@router.post("/c/{slug}/guidelines/clauses/{number}/translations", name="clause_translation")
def save_translation(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    number: str,
    language: FormStr = "",
    title: FormStr = "",
    text: FormStr = "",
) -> Response:
    community = communities_service.get_community(db, slug)
    clause = service.get_clause(db, community, number)
    try:
        saved = service.save_translation(
            db,
            actor=user,
            community=community,
            clause=clause,
            language=language,
            title=title,
            text=text,
            now=utcnow(),
        )
    except ValidationFailed as exc:
        request.state.db_rollback = True
        typed = {"language": language, "title": title, "text": text}
        return _clause_page(
            request,
            db,
            user,
            community,
            clause,
            values=typed,
            errors=exc.fields,
            message=exc.message,
        )
    except Conflict as exc:
        request.state.db_rollback = True
        url = url_for(request, "clause", slug=slug, number=clause.number)
        return see_other(request, url, message=refusal_message(exc), level="error")
    url = url_for(request, "clause", slug=slug, number=clause.number)
    return see_other(
        request,
        f"{url}?{urlencode({'lang': saved.language})}",
        message=i18n.gettext(
            "The %(language)s translation is saved.", language=i18n.language_name(saved.language)
        ),
    )


@router.post(
    "/c/{slug}/guidelines/clauses/{number}/translations/{lang}/delete",
    name="delete_clause_translation",
)
def delete_translation(
    request: Request, db: SessionDep, user: CurrentUser, slug: str, number: str, lang: str
) -> Response:
    community = communities_service.get_community(db, slug)
    clause = service.get_clause(db, community, number)
    return after_action(
        request,
        url_for(request, "clause", slug=slug, number=clause.number),
        lambda: service.delete_translation(
            db, actor=user, community=community, clause=clause, language=lang
        ),
        i18n.gettext("The %(language)s translation is deleted.", language=i18n.language_name(lang)),
        level="info",
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
        message=_(
            "Published version %(number)s: %(summary)s",
            number=version.number,
            summary=version.summary,
        ),
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
            request, target, message=_("Your signature is recorded; it waits for the other one.")
        )
    return see_other(
        request,
        target,
        message=_(
            "Ratified: published as version %(number)s of the guidelines.", number=version.number
        ),
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
        _("Returned to deliberation; the reason is on the proposal's history."),
        level="info",
    )
