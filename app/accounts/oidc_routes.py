"""HTML pages of the OpenID Connect sign-in: start, callback, and the first sign-in's username.

Starting is a plain link (GET): the CSP's `form-action 'self'` would stop a form whose answer
redirects to the provider. The callback is async because Authlib's client is; everything that
touches the database runs in the thread pool, as the synchronous routes do.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from app.accounts import identities, oidc
from app.accounts import service as accounts_service
from app.accounts.identities import ProviderAccount
from app.accounts.models import User
from app.config import OIDCProvider, Settings
from app.db import utcnow
from app.errors import Conflict, RateLimited, ValidationFailed
from app.i18n import gettext as _
from app.web.auth import current_auth, set_session_cookie
from app.web.deps import ClientIP, OptionalUser, SessionDep, SettingsDep
from app.web.responses import safe_next, see_other
from app.web.templating import render
from app.web.urls import path_for

router = APIRouter(prefix="/auth/oidc", tags=["accounts"])

FormStr = Annotated[str, Form()]


def _failure(
    request: Request, settings: Settings, provider: OIDCProvider | None, message: str
) -> Response:
    """The clear error page of a sign-in that did not work; the flow is forgotten."""
    response = render(
        request,
        "accounts/oidc_error.html",
        {"provider": provider, "message": message},
        status_code=400,
    )
    oidc.forget(response, settings, oidc.flow_cookie(settings))
    return response


def _signed_in(
    request: Request, db: Session, settings: Settings, user: User, url: str, message: str
) -> Response:
    """Open a fresh session for `user` (a token planted before sign-in is worthless)."""
    previous = current_auth(request).session_token
    if previous:
        accounts_service.end_session(db, token=previous)
    token = accounts_service.start_session(
        db,
        user=user,
        now=utcnow(),
        settings=settings,
        user_agent=request.headers.get("user-agent", ""),
    )
    response = see_other(request, url, message=message)
    set_session_cookie(response, token, settings)
    return response


@router.get("/{name}/start", name="oidc_start")
async def start(
    request: Request, name: str, user: OptionalUser, settings: SettingsDep, next: str = ""
) -> Response:
    """Leave for the provider: to sign in, or (when signed in) to link an account there."""
    provider = oidc.provider_named(settings, name)
    try:
        return await oidc.start(
            request, provider, link_user_id=user.id if user else None, next=safe_next(next, "")
        )
    except oidc.FlowFailed as exc:
        return await run_in_threadpool(_failure, request, settings, provider, exc.message)


def _complete(
    request: Request,
    db: Session,
    settings: Settings,
    user: User | None,
    provider: OIDCProvider,
    flow: oidc.Flow,
    account: ProviderAccount,
    now: datetime,
) -> Response:
    if flow.link_user_id is not None:
        if user is None or user.id != flow.link_user_id:
            return _failure(
                request,
                settings,
                provider,
                "You signed out, or in as someone else, while linking. Nothing was linked.",
            )
        try:
            identities.link(db, actor=user, account=account, now=now)
        except Conflict as exc:
            request.state.db_rollback = True
            return _failure(request, settings, provider, exc.message)
        return see_other(
            request,
            "/profile",
            message=_(
                "%(provider)s is linked: you can sign in with it now.",
                provider=provider.display_name,
            ),
        )
    existing = identities.sign_in(db, account=account, now=now)
    if existing is not None:
        return _signed_in(
            request,
            db,
            settings,
            existing,
            safe_next(flow.next),
            f"Signed in as {existing.display_name}.",
        )
    response = see_other(request, path_for(request, "oidc_signup"))
    oidc.remember_signup(response, settings, account)
    return response


@router.get("/{name}/callback", name="oidc_callback")
async def callback(
    request: Request,
    name: str,
    db: SessionDep,
    settings: SettingsDep,
    ip: ClientIP,
    user: OptionalUser,
) -> Response:
    """The provider sends the browser back here; sign in, link, or ask for a username."""
    provider = oidc.provider_named(settings, name)
    now = utcnow()
    await run_in_threadpool(
        identities.check_sign_in_rate, db, client_ip=ip, now=now, settings=settings
    )
    try:
        flow, account = await oidc.finish(request, provider)
    except oidc.FlowFailed as exc:
        await run_in_threadpool(identities.record_failed_sign_in, db, client_ip=ip, now=now)
        return await run_in_threadpool(_failure, request, settings, provider, exc.message)
    response = await run_in_threadpool(
        _complete, request, db, settings, user, provider, flow, account, now
    )
    oidc.forget(response, settings, oidc.flow_cookie(settings))
    return response


def _signup_page(
    request: Request,
    account: ProviderAccount,
    values: dict[str, str],
    *,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    settings: Settings = request.app.state.settings
    provider = oidc.provider_named(settings, account.provider)
    return render(
        request,
        "accounts/oidc_signup.html",
        {
            "provider": provider,
            "account": account,
            "values": values,
            "errors": errors or {},
            "message": message,
        },
        status_code=status_code,
    )


def _no_signup(request: Request, settings: Settings) -> Response:
    response = _failure(
        request,
        settings,
        None,
        "No sign-in is waiting for a username in this browser (it may have taken longer than "
        "30 minutes). Please start again from the sign-in page.",
    )
    oidc.forget(response, settings, oidc.signup_cookie(settings))
    return response


@router.get("/signup", name="oidc_signup")
def signup_form(request: Request, user: OptionalUser, settings: SettingsDep) -> Response:
    if user is not None:
        return see_other(request, "/profile")
    account = oidc.pending_signup(request)
    if account is None:
        return _no_signup(request, settings)
    values = {
        "username": identities.suggested_username(account),
        "display_name": account.name[:64],
        "email": account.email,
    }
    return _signup_page(request, account, values)


@router.post("/signup")
def signup(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    ip: ClientIP,
    username: FormStr = "",
    display_name: FormStr = "",
    email: FormStr = "",
) -> Response:
    account = oidc.pending_signup(request)
    if account is None:
        return _no_signup(request, settings)
    values = {"username": username, "display_name": display_name, "email": email}
    now = utcnow()
    try:
        user = identities.register(
            db,
            account=account,
            username=username,
            display_name=display_name,
            email=email,
            client_ip=ip,
            now=now,
            settings=settings,
        )
    except ValidationFailed as exc:
        return _signup_page(
            request, account, values, errors=exc.fields, message=exc.message, status_code=422
        )
    except RateLimited as exc:
        response = _signup_page(request, account, values, message=exc.message, status_code=429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except Conflict as exc:
        request.state.db_rollback = True
        response = _failure(request, settings, None, exc.message)
        oidc.forget(response, settings, oidc.signup_cookie(settings))
        return response
    message = (
        _("Welcome, %(user)s! Your account is ready.", user=user.display_name)
        if user.email_verified
        else _(
            "Welcome, %(user)s! Your account is ready. We sent a link to %(email)s to confirm "
            "your address.",
            user=user.display_name,
            email=user.email,
        )
    )
    response = _signed_in(request, db, settings, user, "/", message)
    oidc.forget(response, settings, oidc.signup_cookie(settings))
    return response


@router.post("/signup/cancel", name="oidc_signup_cancel")
def cancel_signup(request: Request, settings: SettingsDep) -> Response:
    response = see_other(request, "/login", message=_("Nothing was created."), level="info")
    oidc.forget(response, settings, oidc.signup_cookie(settings))
    return response
