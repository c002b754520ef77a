"""JSON API of notifications: my list, the unread count, marking read, my preferences."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from app.accounts.models import User
from app.db import utcnow
from app.errors import ValidationFailed
from app.i18n import gettext as _
from app.notifications import service
from app.notifications.models import Kind, Notification, Preference
from app.notifications.schemas import (
    KindOut,
    MarkedOut,
    MarkRead,
    NotificationList,
    NotificationOut,
    PreferencesIn,
    PreferencesOut,
    UnreadOut,
)
from app.web.api import COMMON_ERRORS, Cursor, Limit, decode_cursor, encode_cursor, error_responses
from app.web.deps import CurrentUser, SessionDep, SettingsDep

router = APIRouter(tags=["notifications"], responses=COMMON_ERRORS)


def notification_out(request: Request, note: Notification) -> NotificationOut:
    return NotificationOut(
        id=note.id,
        kind=note.kind,
        text=note.rendered,
        url=str(request.base_url).rstrip("/") + note.url,
        community=note.community.slug if note.community else None,
        actor=note.actor.username if note.actor else None,
        created_at=note.created_at,
        read_at=note.read_at,
        read=note.is_read,
    )


def preferences_out(user: User, preference: Preference, digest_hour: int) -> PreferencesOut:
    return PreferencesOut(
        delivery=preference.delivery,
        muted_kinds=sorted(preference.muted, key=list(Kind).index),
        kinds=[KindOut(kind=kind, label=kind.label) for kind in Kind],
        digest_hour_utc=digest_hour,
        email_verified=user.email_verified_at is not None,
    )


@router.get(
    "/notifications",
    response_model=NotificationList,
    summary="My notifications, newest first",
)
def list_notifications(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    limit: Limit = 20,
    cursor: Cursor = None,
    unread: Annotated[bool, Query(description="Only unread notifications.")] = False,
) -> NotificationList:
    page = service.page(
        db, actor=user, before=decode_cursor(cursor), limit=limit, unread_only=unread
    )
    return NotificationList(
        items=[notification_out(request, n) for n in page.items],
        next_cursor=encode_cursor(page.next_before) if page.next_before is not None else None,
    )


@router.get(
    "/notifications/unread-count",
    response_model=UnreadOut,
    summary="How many of my notifications are unread",
)
def unread_count(db: SessionDep, user: CurrentUser) -> UnreadOut:
    return UnreadOut(unread=service.unread_count(db, user.id))


@router.post(
    "/notifications/read",
    response_model=MarkedOut,
    summary="Mark some (`ids`) or all (`all`) of my notifications read",
    responses=error_responses(404),
)
def mark_read(db: SessionDep, user: CurrentUser, body: MarkRead) -> MarkedOut:
    now = utcnow()
    if body.all == bool(body.ids):
        raise ValidationFailed(
            _("Say which notifications to mark read."),
            fields={"ids": _("Send either ids or all: true.")},
        )
    if body.all:
        marked = service.mark_all_read(db, actor=user, now=now, up_to=body.up_to)
    else:
        marked = service.mark_many_read(db, actor=user, ids=body.ids, now=now)
    return MarkedOut(marked=marked, unread=service.unread_count(db, user.id))


@router.get(
    "/me/notification-preferences",
    response_model=PreferencesOut,
    summary="How I hear of notifications",
)
def get_preferences(db: SessionDep, settings: SettingsDep, user: CurrentUser) -> PreferencesOut:
    preference = service.preference_of(db, user)
    return preferences_out(user, preference, settings.notification_digest_hour)


@router.put(
    "/me/notification-preferences",
    response_model=PreferencesOut,
    summary="Choose how I hear of notifications (both fields are replaced)",
)
def put_preferences(
    db: SessionDep, settings: SettingsDep, user: CurrentUser, body: PreferencesIn
) -> PreferencesOut:
    preference = service.save_preference(
        db,
        actor=user,
        delivery=body.delivery.value,
        muted_kinds=[kind.value for kind in body.muted_kinds],
    )
    return preferences_out(user, preference, settings.notification_digest_hour)
