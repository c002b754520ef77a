"""HTML pages of notifications: the list (mark one or all read), preferences, one-click
unsubscribe links, and the live unread count of the header (server-sent events)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Form, Request
from markupsafe import escape
from starlette.responses import HTMLResponse, Response, StreamingResponse

from app import events
from app.accounts.models import User
from app.config import Settings
from app.db import utcnow
from app.errors import ValidationFailed
from app.i18n import gettext as _
from app.i18n import ngettext
from app.notifications import service
from app.notifications.models import Delivery, Kind
from app.web.deps import CurrentUser, OptionalUser, SessionDep, SettingsDep
from app.web.responses import safe_next, see_other
from app.web.templating import is_htmx, render, render_string

router = APIRouter(tags=["notifications"])
PER_PAGE = 30
ONE_CLICK = "List-Unsubscribe=One-Click"

FormStr = Annotated[str, Form()]


def _id_param(raw: str | None) -> int | None:
    """An id from a query string or form; anything else is none."""
    text = (raw or "").strip()
    if text.isascii() and text.isdigit() and 1 <= int(text) <= service.MAX_ID:
        return int(text)
    return None


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


@router.get("/notifications", name="notifications")
def list_page(request: Request, db: SessionDep, user: CurrentUser) -> Response:
    before = _id_param(request.query_params.get("before"))
    unread_only = request.query_params.get("unread") == "1"
    page = service.page(db, actor=user, before=before, limit=PER_PAGE, unread_only=unread_only)
    return render(
        request,
        "notifications/list.html",
        {
            "page": page,
            "unread_only": unread_only,
            "unread": service.unread_count(db, user.id),
            "latest_id": service.latest_id(db, user),
            "back": _here(request),
        },
    )


@router.post("/notifications/{notification_id}/read", name="read_notification")
def read_one(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    notification_id: int,
    next: FormStr = "",
) -> Response:
    note = service.mark_read(db, actor=user, notification_id=notification_id, now=utcnow())
    back = safe_next(next, "/notifications")
    if is_htmx(request):
        return render(request, "notifications/_item.html", {"note": note, "back": back})
    return see_other(request, back)


@router.post("/notifications/read-all", name="read_all_notifications")
def read_all(request: Request, db: SessionDep, user: CurrentUser, up_to: FormStr = "") -> Response:
    marked = service.mark_all_read(db, actor=user, now=utcnow(), up_to=_id_param(up_to))
    message = ngettext(
        "Marked %(num)d notification read.", "Marked %(num)d notifications read.", marked
    )
    return see_other(request, "/notifications", message=message, level="info")


# --- Preferences --------------------------------------------------------------------------


def _preferences_page(
    request: Request,
    settings: Settings,
    user: User,
    values: dict[str, Any],
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "notifications/preferences.html",
        {
            "values": values,
            "errors": errors or {},
            "deliveries": list(Delivery),
            "kinds": list(Kind),
            "digest_hour": settings.notification_digest_hour,
            "email_verified": user.email_verified_at is not None,
        },
        status_code=status_code,
    )


@router.get("/notifications/preferences", name="notification_preferences")
def preferences_page(
    request: Request, db: SessionDep, settings: SettingsDep, user: CurrentUser
) -> Response:
    preference = service.preference_of(db, user)
    values = {"delivery": preference.delivery.value, "muted": {k.value for k in preference.muted}}
    return _preferences_page(request, settings, user, values)


@router.post("/notifications/preferences")
def save_preferences(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    delivery: FormStr = "",
    mailed: Annotated[list[str] | None, Form()] = None,
) -> Response:
    # The form ticks the kinds to mail; the others are muted.
    muted = [kind.value for kind in Kind if kind.value not in set(mailed or ())]
    try:
        service.save_preference(db, actor=user, delivery=delivery, muted_kinds=muted)
    except ValidationFailed as exc:
        request.state.db_rollback = True
        values = {"delivery": delivery, "muted": set(muted)}
        return _preferences_page(
            request, settings, user, values, errors=exc.fields, status_code=422
        )
    return see_other(
        request, "/notifications/preferences", message=_("Your preferences were saved.")
    )


# --- One-click unsubscribe ----------------------------------------------------------------


@router.get("/notifications/unsubscribe/{token}", name="unsubscribe")
def unsubscribe_page(
    request: Request, db: SessionDep, settings: SettingsDep, token: str
) -> Response:
    """What the link stops, with a button: a GET never unsubscribes (mail scanners follow
    links), the POST does."""
    subscription = service.read_unsubscribe(db, secret=settings.secret, token=token)
    preference = service.preference_of(db, subscription.user)
    return render(
        request,
        "notifications/unsubscribe.html",
        {
            "subscription": subscription,
            "done": subscription.done(preference),
            "token": token,
        },
    )


async def unsubscribe(request: Request) -> Response:
    """Unsubscribe, from the page's button or from a mail program (RFC 8058 one-click).

    A plain route, outside the CSRF check on purpose: the signed token in the address is the
    authority here, not a cookie, and mail providers post with no cookie and no form token.
    A one-click POST is answered 200 (RFC 8058 forbids a redirect); the page's form, 303.
    """
    token = str(request.path_params["token"])
    db = request.state.db
    settings = request.app.state.settings
    form = await request.form()
    one_click = form.get("List-Unsubscribe") == "One-Click"

    def run() -> service.Unsubscription:
        subscription = service.read_unsubscribe(db, secret=settings.secret, token=token)
        service.unsubscribe(db, subscription)
        return subscription

    subscription = await to_thread.run_sync(run)
    if one_click:
        said = escape(_("Unsubscribed from %(what)s.", what=subscription.what))
        return HTMLResponse(f"<p>{said}</p>")
    return see_other(
        request,
        f"/notifications/unsubscribe/{token}",
        message=_("You will no longer receive %(what)s.", what=subscription.what),
    )


router.add_route(
    "/notifications/unsubscribe/{token}",
    unsubscribe,
    methods=["POST"],
    name="unsubscribe_post",
    include_in_schema=False,
)


# --- The live unread count ----------------------------------------------------------------


@router.get("/notifications/events", name="notification_events")
async def live_count(request: Request, user: OptionalUser) -> Response:
    """The header's unread count as server-sent events: sent at once, then whenever it changes.

    A wake-up from this process's broker says "count again"; without one the stream still
    counts every `live_poll_seconds`, so notifications written by another process (the
    worker's reminders, a second app server) show up too. Signed out, 204 tells the browser's
    EventSource to stop reconnecting.
    """
    if user is None:
        return Response(status_code=204)
    settings = request.app.state.settings
    factory = request.app.state.session_factory
    poll, lifetime = settings.live_poll_seconds, settings.live_stream_seconds
    user_id = user.id

    def count() -> int:
        session = factory(False)
        try:
            return service.unread_count(session, user_id, cap=service.COUNT_CAP)
        finally:
            session.close()

    async def stream() -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + lifetime
        last: int | None = None
        yield "retry: 3000\n\n"
        with events.broker.subscribe(service.user_channel(user_id)) as subscription:
            while loop.time() < deadline:
                unread = await to_thread.run_sync(count)
                if unread != last:
                    last = unread
                    html = render_string(request, "notifications/_count.html", {"unread": unread})
                    data = "".join(f"data: {line}\n" for line in html.splitlines())
                    yield f"event: unread\n{data}\n"
                if await request.is_disconnected():
                    return
                if not await subscription.wait(poll):
                    yield ": keep-alive\n\n"

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
