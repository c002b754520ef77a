"""HTML pages of works: the list, the form, the work page with its lineage and attribution,
and the preview image of image works (upload, removal, and serving the bytes)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from pydantic import BaseModel
from starlette.datastructures import UploadFile as StarletteUploadFile
from starlette.responses import Response

from app.communities import permissions as communities_permissions
from app.communities import service as communities_service
from app.communities.models import Community
from app.db import utcnow
from app.errors import NotFound, ValidationFailed
from app.i18n import gettext as _
from app.proposals import exhibits as exhibits_service
from app.web import caching
from app.web.conditional import etag_matches
from app.web.deps import CurrentUser, OptionalUser, SessionDep
from app.web.responses import after_action, see_other
from app.web.templating import render
from app.works import images, service
from app.works import permissions as perms
from app.works.models import Medium, Work
from app.works.schemas import WorkId

router = APIRouter(tags=["works"])
PAGE_SIZE = 20
#: Works a lineage tree shows before it offers "show all".
TREE_LIMIT = 200


def _url(work: Work, suffix: str = "") -> str:
    return f"/c/{work.community.slug}/works/{work.id}{suffix}"


@router.get("/c/{slug}/works", name="works")
def list_page(request: Request, db: SessionDep, user: OptionalUser, slug: str) -> Response:
    community = communities_service.get_community(db, slug)
    medium = request.query_params.get("medium", "")
    errors: dict[str, str] = {}
    try:
        page = service.list_works(
            db,
            community=community,
            medium=medium,
            limit=PAGE_SIZE,
            cursor=request.query_params.get("cursor"),
        )
    except ValidationFailed as exc:
        errors = exc.fields
        page = service.WorkPage([], None)
    next_query = None
    if page.next_cursor:
        params = {"medium": medium} if medium else {}
        next_query = request.url.include_query_params(**params, cursor=page.next_cursor).query
    return render(
        request,
        "works/list.html",
        {
            "community": community,
            "membership": communities_service.membership_of(db, community, user),
            "page": page,
            "media": list(Medium),
            "medium": medium,
            "errors": errors,
            "next_query": next_query,
            "previews": service.previews_of(db, page.items),
        },
        status_code=422 if errors else 200,
    )


class WorkForm(BaseModel):
    """What the work form posts; a field left out is an empty field, never a crash."""

    title: str = ""
    creator_name: str = ""
    creator_username: str = ""
    url: str = ""
    medium: str = ""
    license: str = ""
    license_other: str = ""
    content_notes: str = ""
    description: str = ""
    excerpt: str = ""
    duration_seconds: str = ""
    parents: list[str] = []
    language: str = ""

    def license_value(self) -> str:
        return self.license_other if self.license == "other" else self.license

    def errors(self, problems: dict[str, str]) -> dict[str, str]:
        """The service's problems by form field: a license typed under "Other" is wrong in
        the text field that holds it, not in the list."""
        if self.license != "other" or "license" not in problems:
            return problems
        moved = {**problems, "license_other": problems["license"]}
        del moved["license"]
        return moved

    def draft(self) -> service.WorkDraft:
        return service.WorkDraft(
            title=self.title,
            creator_name=self.creator_name,
            creator_username=self.creator_username,
            url=self.url,
            medium=self.medium,
            license=self.license_value(),
            content_notes=self.content_notes,
            description=self.description,
            excerpt=self.excerpt,
            duration_seconds=self.duration_seconds,
            parents=self.parents,
            language=self.language,
        )


WorkFormDep = Annotated[WorkForm, Form()]


def _values(draft: service.WorkDraft) -> dict[str, object]:
    """Form values from a draft; a license off the list shows as "other" with its text."""
    values: dict[str, object] = dict(draft.__dict__)
    if draft.license and draft.license not in service.LICENSES:
        values["license"] = "other"
        values["license_other"] = draft.license
    return values


def _form_page(
    request: Request,
    db: SessionDep,
    community: Community,
    *,
    values: dict[str, object],
    errors: dict[str, str],
    work: Work | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    choices = [w for w in service.all_works(db, community) if work is None or w.id != work.id]
    return render(
        request,
        "works/form.html",
        {
            "community": community,
            "work": work,
            "values": values,
            "errors": errors,
            "message": message,
            "media": list(Medium),
            "licenses": service.LICENSES,
            "choices": choices,
            "chosen": {str(p) for p in values.get("parents", []) or []},  # type: ignore[attr-defined]
        },
        status_code=status_code,
    )


@router.get("/c/{slug}/works/new", name="new_work")
def new_form(request: Request, db: SessionDep, user: CurrentUser, slug: str) -> Response:
    community = communities_service.get_community(db, slug)
    perms.ensure_member(user, communities_service.membership_of(db, community, user))
    return _form_page(request, db, community, values={"medium": "image"}, errors={})


@router.post("/c/{slug}/works/new")
def create(
    request: Request, db: SessionDep, user: CurrentUser, slug: str, form: WorkFormDep
) -> Response:
    community = communities_service.get_community(db, slug)
    try:
        work = service.create_work(
            db, actor=user, community=community, values=form.draft(), now=utcnow()
        )
    except ValidationFailed as exc:
        return _form_page(
            request,
            db,
            community,
            values=form.model_dump(),
            errors=form.errors(exc.fields),
            message=exc.message,
            status_code=422,
        )
    return see_other(request, _url(work), message=_("Work registered."))


@router.get("/c/{slug}/works/{work_id}", name="work")
def work_page(
    request: Request, db: SessionDep, user: OptionalUser, slug: str, work_id: WorkId
) -> Response:
    community = communities_service.get_community(db, slug)
    work = service.get_work(db, work_id, community=community)
    return _work_page(request, db, user, work)


def _work_page(
    request: Request,
    db: SessionDep,
    user: OptionalUser,
    work: Work,
    *,
    preview_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    community = work.community
    membership = communities_service.membership_of(db, community, user)
    # A popular original may have thousands of derivatives: the nearest ones, unless asked.
    limit = None if request.query_params.get("lineage") == "all" else TREE_LIMIT
    upstream = service.walk(db, work, up=True)
    return render(
        request,
        "works/work.html",
        {
            "community": community,
            "work": work,
            "can_edit": perms.can_edit(user, membership, work),
            "can_see_content": perms.can_see_content(user, membership, work),
            "can_moderate": communities_permissions.is_moderator(user, membership),
            "can_flag": membership is not None
            and user is not None
            and work.created_by_id != user.id
            and work.hidden_at is None,
            "ancestors": upstream.tree(limit),
            "descendants": service.walk(db, work, up=False).tree(limit),
            "attribution": service.attribution(db, work, upstream),
            "citations": exhibits_service.citing_proposals(db, work, user),
            "preview": service.preview_of(db, work) if work.medium == Medium.image else None,
            "preview_errors": preview_errors or {},
            "max_preview_mb": images.MAX_BYTES // (1024 * 1024),
        },
        status_code=status_code,
    )


@router.get("/c/{slug}/works/{work_id}/edit", name="edit_work")
def edit_form(
    request: Request, db: SessionDep, user: CurrentUser, slug: str, work_id: WorkId
) -> Response:
    community = communities_service.get_community(db, slug)
    work = service.get_work(db, work_id, community=community)
    perms.ensure_can_edit(user, communities_service.membership_of(db, community, user), work)
    values = _values(service.draft_of(db, work))
    return _form_page(request, db, community, values=values, errors={}, work=work)


@router.post("/c/{slug}/works/{work_id}/edit")
def edit(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    work_id: WorkId,
    form: WorkFormDep,
) -> Response:
    community = communities_service.get_community(db, slug)
    work = service.get_work(db, work_id, community=community)
    try:
        service.update_work(db, actor=user, work=work, values=form.draft())
    except ValidationFailed as exc:
        return _form_page(
            request,
            db,
            community,
            values=form.model_dump(),
            errors=form.errors(exc.fields),
            work=work,
            message=exc.message,
            status_code=422,
        )
    return see_other(request, _url(work), message=_("Work saved."))


def _read_upload(file: StarletteUploadFile | str | None) -> bytes:
    """The uploaded bytes; a form sent without a chosen file gives none."""
    # The form holds Starlette's UploadFile, of which FastAPI's is a subclass.
    if not isinstance(file, StarletteUploadFile):
        return b""
    # One byte more than allowed is enough to tell that the file is too large.
    return file.file.read(images.MAX_BYTES + 1)


@router.post("/c/{slug}/works/{work_id}/preview", name="upload_work_preview")
def upload_preview(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    work_id: WorkId,
    file: Annotated[UploadFile | str | None, File()] = None,
) -> Response:
    community = communities_service.get_community(db, slug)
    work = service.get_work(db, work_id, community=community)
    try:
        service.set_preview(db, actor=user, work=work, data=_read_upload(file), now=utcnow())
    except ValidationFailed as exc:
        return _work_page(request, db, user, work, preview_errors=exc.fields, status_code=422)
    return see_other(request, _url(work), message=_("Preview image saved."))


@router.post("/c/{slug}/works/{work_id}/preview/remove", name="remove_work_preview")
def remove_preview(
    request: Request, db: SessionDep, user: CurrentUser, slug: str, work_id: WorkId
) -> Response:
    community = communities_service.get_community(db, slug)
    work = service.get_work(db, work_id, community=community)
    removed = service.remove_preview(db, actor=user, work=work)
    message = _("Preview image removed.") if removed else _("This work had no preview image.")
    return see_other(request, _url(work), message=message, level="success" if removed else "info")


EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}


def _serve_preview(
    request: Request,
    db: SessionDep,
    user: OptionalUser,
    slug: str,
    work_id: int,
    *,
    thumbnail: bool,
) -> Response:
    community = communities_service.get_community(db, slug)
    work = service.get_work(db, work_id, community=community)
    membership = communities_service.membership_of(db, community, user)
    visible = perms.can_see_content(user, membership, work)
    preview = service.preview_of(db, work) if visible else None
    if preview is None:
        raise NotFound(_("This work has no preview image."))
    etag = f'"{preview.digest}{"-thumb" if thumbnail else ""}"'
    content_type = preview.thumb_content_type if thumbnail else preview.content_type
    name = f"work-{work.id}{'-thumb' if thumbnail else ''}.{EXTENSIONS.get(content_type, 'bin')}"
    # A URL naming the current digest never changes; any other must be checked each time.
    versioned = request.query_params.get("v") == preview.digest
    headers = {
        "ETag": etag,
        "Cache-Control": caching.IMMUTABLE if versioned else "no-cache",
        "Content-Disposition": f'inline; filename="{name}"',
        "X-Content-Type-Options": "nosniff",
    }
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    data = service.preview_bytes(db, work, thumbnail=thumbnail)
    if data is None:  # removed in between
        raise NotFound(_("This work has no preview image."))
    return Response(data, media_type=content_type, headers=headers)


@router.get("/c/{slug}/works/{work_id}/preview", name="work_preview")
def serve_preview(
    request: Request, db: SessionDep, user: OptionalUser, slug: str, work_id: WorkId
) -> Response:
    return _serve_preview(request, db, user, slug, work_id, thumbnail=False)


@router.get("/c/{slug}/works/{work_id}/preview/thumb", name="work_preview_thumb")
def serve_thumbnail(
    request: Request, db: SessionDep, user: OptionalUser, slug: str, work_id: WorkId
) -> Response:
    return _serve_preview(request, db, user, slug, work_id, thumbnail=True)


@router.post("/c/{slug}/works/{work_id}/hide", name="hide_work")
def hide(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    work_id: WorkId,
    reason: Annotated[str, Form()] = "",
) -> Response:
    community = communities_service.get_community(db, slug)
    work = service.get_work(db, work_id, community=community)
    return after_action(
        request,
        _url(work),
        lambda: service.hide_work(db, actor=user, work=work, reason=reason, now=utcnow()),
        _("The work is hidden, with your reason shown."),
    )


@router.post("/c/{slug}/works/{work_id}/restore", name="restore_work")
def restore(
    request: Request, db: SessionDep, user: CurrentUser, slug: str, work_id: WorkId
) -> Response:
    community = communities_service.get_community(db, slug)
    work = service.get_work(db, work_id, community=community)
    service.restore_work(db, actor=user, work=work)
    return see_other(request, _url(work), message=_("The work is shown again."))
