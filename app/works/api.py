"""JSON API of works: list, register, read, edit, lineage, attribution, preview images."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, File, Query, Request, UploadFile
from sqlalchemy.orm import Session
from starlette.responses import Response

from app.accounts.models import User
from app.communities import permissions as community_permissions
from app.communities import service as communities_service
from app.communities.models import Community
from app.db import utcnow
from app.web.api import COMMON_ERRORS, Limit, error_responses
from app.web.deps import CurrentUser, OptionalUser, SessionDep
from app.web.urls import url_for
from app.works import images, service
from app.works.models import Medium, Work, WorkImage
from app.works.schemas import (
    AttributionOut,
    LineageItem,
    LineageOut,
    WorkCreate,
    WorkId,
    WorkList,
    WorkOut,
    WorkUpdate,
)

router = APIRouter(tags=["works"], responses=COMMON_ERRORS)
NOT_FOUND = error_responses(404)
WorksCursor = Annotated[
    str | None, Query(description="The `next_cursor` of the previous page.", max_length=200)
]


def _preview_urls(request: Request, work: Work, preview: WorkImage | None) -> dict[str, str | None]:
    if preview is None:
        return {"preview_url": None, "thumbnail_url": None}
    ids = {"slug": work.community.slug, "work_id": str(work.id)}
    version = f"?v={preview.digest}"
    return {
        "preview_url": url_for(request, "work_preview", **ids) + version,
        "thumbnail_url": url_for(request, "work_preview_thumb", **ids) + version,
    }


def _moderates(db: Session, community: Community, user: User | None) -> bool:
    return community_permissions.is_moderator(
        user, communities_service.membership_of(db, community, user)
    )


def work_out(
    request: Request,
    db: Session,
    work: Work,
    previews: dict[int, WorkImage] | None = None,
    *,
    moderator: bool = False,
) -> WorkOut:
    """The JSON of a work; lists pass the `previews` of all their works, loaded in one query.

    A hidden work keeps its title, creator and lineage; its content is left out unless the
    viewer is one of the community's moderators.
    """
    shown = work.hidden_at is None or moderator
    preview = service.preview_of(db, work) if previews is None else previews.get(work.id)
    return WorkOut(
        id=work.id,
        community=work.community.slug,
        state=work.hidden_state,
        removed_reason=work.hidden_reason if work.is_removed else None,
        url=work.url if shown else "",
        page_url=url_for(request, "work", slug=work.community.slug, work_id=str(work.id)),
        title=work.title,
        creator_name=work.creator_name,
        creator_username=work.creator_user.username if work.creator_user else None,
        medium=work.medium,
        license=work.license,
        content_notes=work.content_note_list,
        description=work.description if shown else "",
        excerpt=work.excerpt if shown else None,
        duration_seconds=work.duration_seconds,
        language=work.language,
        parents=service.parent_ids(db, work),
        created_by=work.created_by.username if work.created_by else None,
        created_at=work.created_at,
        **_preview_urls(request, work, preview if shown else None),
    )


def _duration(value: float | None) -> str:
    return "" if value is None else repr(value)


@router.get(
    "/communities/{slug}/works",
    response_model=WorkList,
    summary="List a community's example works, newest first",
    responses=NOT_FOUND,
)
def list_works(
    request: Request,
    db: SessionDep,
    user: OptionalUser,
    slug: str,
    medium: Annotated[
        str,
        Query(
            max_length=24,
            description="Only works of this medium",
            json_schema_extra={"enum": ["", *(m.value for m in Medium)]},
        ),
    ] = "",
    limit: Limit = 20,
    cursor: WorksCursor = None,
) -> WorkList:
    community = communities_service.get_community(db, slug)
    page = service.list_works(db, community=community, medium=medium, limit=limit, cursor=cursor)
    previews = service.previews_of(db, page.items)
    moderator = _moderates(db, community, user)
    return WorkList(
        items=[work_out(request, db, w, previews, moderator=moderator) for w in page.items],
        next_cursor=page.next_cursor,
    )


@router.post(
    "/communities/{slug}/works",
    response_model=WorkOut,
    status_code=201,
    summary="Register an example work (members)",
    responses=NOT_FOUND,
)
def create_work(
    request: Request, db: SessionDep, user: CurrentUser, slug: str, body: WorkCreate
) -> WorkOut:
    community = communities_service.get_community(db, slug)
    values = service.WorkDraft(
        title=body.title,
        creator_name=body.creator_name,
        creator_username=body.creator_username,
        url=body.url,
        medium=body.medium,
        license=body.license,
        content_notes=body.content_notes,
        description=body.description,
        excerpt=body.excerpt,
        duration_seconds=_duration(body.duration_seconds),
        parents=[str(i) for i in body.parents],
        language=body.language or "",
    )
    work = service.create_work(db, actor=user, community=community, values=values, now=utcnow())
    return work_out(request, db, work, moderator=_moderates(db, work.community, user))


@router.get("/works/{work_id}", response_model=WorkOut, summary="One work", responses=NOT_FOUND)
def get_work(request: Request, db: SessionDep, user: OptionalUser, work_id: WorkId) -> WorkOut:
    work = service.get_work(db, work_id)
    return work_out(request, db, work, moderator=_moderates(db, work.community, user))


@router.patch(
    "/works/{work_id}",
    response_model=WorkOut,
    summary="Edit a work (who registered it, or a moderator)",
    responses=NOT_FOUND,
)
def update_work(
    request: Request, db: SessionDep, user: CurrentUser, work_id: WorkId, body: WorkUpdate
) -> WorkOut:
    work = service.get_work(db, work_id)
    current = service.draft_of(db, work)
    given = body.model_dump(exclude_unset=True)
    changes: dict[str, object] = {}
    for name, value in given.items():
        if name == "duration_seconds":
            changes[name] = _duration(value)
        elif name == "parents":
            changes[name] = [str(i) for i in value or []]
        else:
            changes[name] = value if value is not None else ""
    values = replace(current, **changes)  # type: ignore[arg-type]
    service.update_work(db, actor=user, work=work, values=values)
    return work_out(request, db, work, moderator=_moderates(db, work.community, user))


def _items(rows: list[tuple[service.Kin, int]]) -> list[LineageItem]:
    return [
        LineageItem(id=w.id, title=w.title, creator_name=w.creator_name, depth=depth)
        for w, depth in rows
    ]


@router.get(
    "/works/{work_id}/lineage",
    response_model=LineageOut,
    summary="What a work derives from, and what derives from it (up to 50 steps)",
    responses=NOT_FOUND,
)
def lineage(db: SessionDep, user: OptionalUser, work_id: WorkId) -> LineageOut:
    work = service.get_work(db, work_id)
    return LineageOut(
        ancestors=_items(service.ancestors(db, work)),
        descendants=_items(service.descendants(db, work)),
    )


@router.get(
    "/works/{work_id}/attribution",
    response_model=AttributionOut,
    summary="The plain-text credit line a work owes upstream",
    responses=NOT_FOUND,
)
def attribution(db: SessionDep, user: OptionalUser, work_id: WorkId) -> AttributionOut:
    work = service.get_work(db, work_id)
    return AttributionOut(text=service.attribution(db, work))


@router.put(
    "/works/{work_id}/preview",
    response_model=WorkOut,
    summary="Upload the preview image of an image work, replacing any (who may edit the work)",
    description=(
        "Send the image as the multipart field `file`: PNG, JPEG or WebP, at most 2 MB and "
        "40 megapixels. It is re-encoded without metadata (EXIF, XMP, ICC) and a thumbnail "
        "of at most 480×480 is made. `preview_url` and `thumbnail_url` then point to them."
    ),
    responses=NOT_FOUND,
)
def put_preview(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    work_id: WorkId,
    file: Annotated[UploadFile, File(description="The image: PNG, JPEG or WebP, at most 2 MB.")],
) -> WorkOut:
    work = service.get_work(db, work_id)
    data = file.file.read(images.MAX_BYTES + 1)
    preview = service.set_preview(db, actor=user, work=work, data=data, now=utcnow())
    moderator = _moderates(db, work.community, user)
    return work_out(request, db, work, {work.id: preview}, moderator=moderator)


@router.delete(
    "/works/{work_id}/preview",
    status_code=204,
    summary="Remove the preview image of a work (who may edit the work)",
    responses=NOT_FOUND,
)
def delete_preview(db: SessionDep, user: CurrentUser, work_id: WorkId) -> Response:
    work = service.get_work(db, work_id)
    service.remove_preview(db, actor=user, work=work)
    return Response(status_code=204)
