"""HTML pages of accounts: register, sign in and out, profile, password, access tokens, email
verification and password reset (the OpenID Connect pages are in `oidc_routes`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import JSONResponse, Response

from app import i18n
from app.accounts import email_links, identities, oidc, oidc_routes, service
from app.accounts.email_links import InvalidLink
from app.communities import service as communities_service
from app.db import utcnow
from app.errors import Conflict, NotAuthenticated, NotFound, RateLimited, ValidationFailed
from app.i18n import gettext as _
from app.privacy import deletion
from app.privacy import export as member_export
from app.web.auth import clear_session_cookie, current_auth, set_session_cookie
from app.web.cookies import language_cookie_name
from app.web.deps import ClientIP, CurrentUser, OptionalUser, SessionDep, SettingsDep
from app.web.responses import after_action, safe_next, see_other
from app.web.templating import render

router = APIRouter(tags=["accounts"])
router.include_router(oidc_routes.router)

FormStr = Annotated[str, Form()]


@router.get("/register", name="register")
def register_form(request: Request, user: OptionalUser, settings: SettingsDep) -> Response:
    if user is not None:
        return see_other(request, "/profile")
    return render(
        request,
        "accounts/register.html",
        {"values": {}, "errors": {}, "providers": oidc.configured(settings)},
    )


@router.post("/register")
def register(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    ip: ClientIP,
    username: FormStr = "",
    display_name: FormStr = "",
    email: FormStr = "",
    password: FormStr = "",
) -> Response:
    values = {"username": username, "display_name": display_name, "email": email}
    providers = oidc.configured(settings)
    try:
        user = service.register(
            db,
            username=username,
            display_name=display_name,
            email=email,
            password=password,
            client_ip=ip,
            now=utcnow(),
            settings=settings,
        )
    except ValidationFailed as exc:
        return render(
            request,
            "accounts/register.html",
            {
                "values": values,
                "errors": exc.fields,
                "message": exc.message,
                "providers": providers,
            },
            status_code=422,
        )
    except RateLimited as exc:
        response: Response = render(
            request,
            "accounts/register.html",
            {"values": values, "errors": {}, "message": exc.message, "providers": providers},
            status_code=429,
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    token = service.start_session(
        db,
        user=user,
        now=utcnow(),
        settings=settings,
        user_agent=request.headers.get("user-agent", ""),
    )
    response = see_other(
        request,
        "/",
        message=_(
            "Welcome, %(user)s! Your account is ready. We sent a link to %(email)s to confirm "
            "your address.",
            user=user.display_name,
            email=user.email,
        ),
    )
    set_session_cookie(response, token, settings)
    return response


@router.get("/login", name="login")
def login_form(
    request: Request, user: OptionalUser, settings: SettingsDep, next: str = ""
) -> Response:
    if user is not None:
        return see_other(request, safe_next(next))
    return render(
        request,
        "accounts/login.html",
        {"values": {}, "next": safe_next(next, ""), "providers": oidc.configured(settings)},
    )


@router.post("/login")
def login(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    ip: ClientIP,
    login: FormStr = "",
    password: FormStr = "",
    next: FormStr = "",
) -> Response:
    now = utcnow()
    context = {
        "values": {"login": login},
        "next": safe_next(next, ""),
        "providers": oidc.configured(settings),
    }
    try:
        user = service.authenticate(
            db, login=login, password=password, client_ip=ip, now=now, settings=settings
        )
    except (NotAuthenticated, RateLimited) as exc:
        status = 429 if isinstance(exc, RateLimited) else 400
        response: Response = render(
            request, "accounts/login.html", {**context, "message": exc.message}, status_code=status
        )
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    # A fresh token on every sign-in, so a token planted before sign-in is worthless.
    previous = current_auth(request).session_token
    if previous:
        service.end_session(db, token=previous)
    token = service.start_session(
        db, user=user, now=now, settings=settings, user_agent=request.headers.get("user-agent", "")
    )
    response = see_other(
        request, safe_next(next), message=_("Signed in as %(user)s.", user=user.display_name)
    )
    set_session_cookie(response, token, settings)
    return response


@router.post("/logout", name="logout")
def logout(request: Request, db: SessionDep, settings: SettingsDep) -> Response:
    token = current_auth(request).session_token
    if token:
        service.end_session(db, token=token)
    response = see_other(request, "/", message=_("You are signed out."), level="info")
    clear_session_cookie(response, settings)
    return response


@router.post("/language", name="choose_language")
def choose_language(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    user: OptionalUser,
    language: FormStr = "",
    next: FormStr = "/",
) -> Response:
    """The footer's switcher: a visitor's choice lives in a cookie, a member's on the account."""
    back = safe_next(next)
    chosen = i18n.supported(language)
    if chosen is None:
        return see_other(
            request, back, message=_("Choose one of the languages offered."), level="error"
        )
    if user is not None:
        service.set_language(db, actor=user, language=chosen)
    response = see_other(request, back)
    response.set_cookie(
        language_cookie_name(settings),
        chosen,
        max_age=365 * 86400,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.is_https,
    )
    return response


def _profile_page(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    *,
    status_code: int = 200,
    **context: object,
) -> Response:
    settings = request.app.state.settings
    linked = identities.list_for(db, actor=user)
    providers = oidc.configured(settings)
    defaults: dict[str, object] = {
        "memberships": communities_service.memberships_of_user(db, user),
        "tokens": service.list_tokens(db, actor=user),
        "identities": linked,
        "provider_names": {p.name: p.display_name for p in providers},
        "providers": providers,
        "pending_email": email_links.pending_email(db, actor=user, now=utcnow()),
        "can_unlink": {
            identity.id: identities.can_unlink(user, identity, linked, [p.name for p in providers])
            for identity in linked
        },
        "errors": {},
        "values": {},
        "new_token": None,
        "form": None,
        "sole_moderator_of": deletion.sole_moderator_of(db, user),
    }
    return render(
        request, "accounts/profile.html", {**defaults, **context}, status_code=status_code
    )


@router.get("/profile", name="profile")
def profile(request: Request, db: SessionDep, user: CurrentUser) -> Response:
    return _profile_page(request, db, user)


@router.post("/profile")
def update_profile(
    request: Request, db: SessionDep, user: CurrentUser, display_name: FormStr = ""
) -> Response:
    try:
        service.update_profile(db, actor=user, display_name=display_name)
    except ValidationFailed as exc:
        return _profile_page(
            request,
            db,
            user,
            status_code=422,
            form="profile",
            errors=exc.fields,
            values={"display_name": display_name},
        )
    return see_other(request, "/profile", message=_("Your profile was saved."))


@router.post("/profile/password", name="change_password")
def change_password(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    current_password: FormStr = "",
    new_password: FormStr = "",
) -> Response:
    now = utcnow()
    try:
        service.change_password(
            db, actor=user, current_password=current_password, new_password=new_password, now=now
        )
    except ValidationFailed as exc:
        return _profile_page(request, db, user, status_code=422, form="password", errors=exc.fields)
    # Every session ended with the old password; this browser gets a new one.
    token = service.start_session(
        db, user=user, now=now, settings=settings, user_agent=request.headers.get("user-agent", "")
    )
    response = see_other(
        request, "/profile", message=_("Password changed. You were signed out everywhere else.")
    )
    set_session_cookie(response, token, settings)
    return response


@router.post("/profile/tokens", name="create_token")
def create_token(
    request: Request, db: SessionDep, user: CurrentUser, name: FormStr = "", scope: FormStr = "read"
) -> Response:
    try:
        token, plain = service.create_token(db, actor=user, name=name, scope=scope, now=utcnow())
    except ValidationFailed as exc:
        return _profile_page(
            request,
            db,
            user,
            status_code=422,
            form="token",
            errors=exc.fields,
            values={"token_name": name, "scope": scope},
        )
    # Shown on this response only: the plain token is never stored.
    return _profile_page(request, db, user, status_code=201, new_token=(token, plain))


@router.post("/profile/tokens/{token_id}/revoke", name="revoke_token")
def revoke_token(request: Request, db: SessionDep, user: CurrentUser, token_id: int) -> Response:
    token = service.revoke_token(db, actor=user, token_id=token_id, now=utcnow())
    return see_other(
        request,
        "/profile",
        message=_("Token “%(token)s” was revoked.", token=token.name),
        level="info",
    )


@router.get("/profile/export", name="export_my_data")
def export_my_data(db: SessionDep, user: CurrentUser) -> Response:
    """Everything the site stores that you wrote or that is about you, as a JSON download."""
    now = utcnow()
    return JSONResponse(
        member_export.export_member(db, user, now=now),
        headers={"Content-Disposition": member_export.attachment(user, now)},
    )


@router.post("/profile/delete", name="delete_account")
def delete_account(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    password: FormStr = "",
    confirm: FormStr = "",
) -> Response:
    try:
        deletion.delete_account(db, actor=user, password=password, confirm=confirm, now=utcnow())
    except (ValidationFailed, Conflict) as exc:
        request.state.db_rollback = True
        return _profile_page(
            request,
            db,
            user,
            status_code=exc.status,
            form="delete",
            errors=exc.fields,
            delete_message=exc.message,
        )
    response = see_other(
        request,
        "/",
        message=_(
            "Your account was deleted. What you wrote in public discussions stays, signed "
            "“%(name)s”.",
            name=deletion.DELETED_NAME,
        ),
        level="info",
    )
    clear_session_cookie(response, settings)
    return response


@router.get("/u/{username}", name="user_page")
def user_page(request: Request, db: SessionDep, username: str) -> Response:
    person = service.get_user(db, username)
    if person.is_deleted:
        raise NotFound(_("This account was deleted."))
    memberships = communities_service.memberships_of_user(db, person)
    return render(request, "accounts/user.html", {"person": person, "memberships": memberships})


@router.post("/profile/identities/{identity_id}/unlink", name="unlink_identity")
def unlink_identity(
    request: Request, db: SessionDep, settings: SettingsDep, user: CurrentUser, identity_id: int
) -> Response:
    def run() -> None:
        configured = [p.name for p in oidc.configured(settings)]
        identities.unlink(db, actor=user, identity_id=identity_id, configured=configured)

    return after_action(
        request, "/profile", run, _("The provider account was unlinked."), refusals=(Conflict,)
    )


@router.post("/profile/verification", name="resend_verification")
def resend_verification(
    request: Request, db: SessionDep, settings: SettingsDep, user: CurrentUser
) -> Response:
    return after_action(
        request,
        "/profile",
        lambda: email_links.resend_verification(db, actor=user, now=utcnow(), settings=settings),
        _("We sent a new link to %(email)s.", email=user.email),
        refusals=(Conflict, RateLimited),
    )


@router.post("/profile/email", name="change_email")
def change_email(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    email: FormStr = "",
    current_password: FormStr = "",
) -> Response:
    try:
        address = email_links.request_email_change(
            db,
            actor=user,
            new_email=email,
            current_password=current_password,
            now=utcnow(),
            settings=settings,
        )
    except (ValidationFailed, RateLimited) as exc:
        request.state.db_rollback = True
        response = _profile_page(
            request,
            db,
            user,
            status_code=exc.status,
            form="email",
            errors=exc.fields,
            values={"email": email},
            email_message=exc.message,
        )
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    return see_other(
        request,
        "/profile",
        message=_(
            "We sent a link to %(address)s. Your address changes when you open it.", address=address
        ),
        level="info",
    )


@router.post("/profile/password-link", name="send_password_link")
def send_password_link(
    request: Request, db: SessionDep, settings: SettingsDep, user: CurrentUser
) -> Response:
    return after_action(
        request,
        "/profile",
        lambda: email_links.send_password_link(db, actor=user, now=utcnow(), settings=settings),
        _("We sent a link to %(email)s to set your password.", email=user.email),
        refusals=(Conflict, RateLimited),
    )


@router.get("/password/forgot", name="forgot_password")
def forgot_password_form(request: Request) -> Response:
    return render(request, "accounts/forgot_password.html", {"values": {}})


@router.post("/password/forgot")
def forgot_password(
    request: Request, db: SessionDep, settings: SettingsDep, ip: ClientIP, email: FormStr = ""
) -> Response:
    try:
        email_links.request_password_reset(
            db, email=email, client_ip=ip, now=utcnow(), settings=settings
        )
    except RateLimited as exc:
        response: Response = render(
            request,
            "accounts/forgot_password.html",
            {"values": {"email": email}, "message": exc.message},
            status_code=429,
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    # The same words whether or not an account uses the address.
    return see_other(
        request,
        "/password/forgot",
        message=_(
            "If an account uses that address, a link to choose a new password is on its way. It "
            "works for %(password_reset_minutes)s minutes.",
            password_reset_minutes=settings.password_reset_minutes,
        ),
        level="info",
    )


def _invalid_link(request: Request, exc: InvalidLink | Conflict, *, reset: bool) -> Response:
    request.state.db_rollback = True
    return render(
        request,
        "accounts/invalid_link.html",
        {"message": exc.message, "reset": reset},
        status_code=exc.status,
    )


@router.get("/password/reset", name="reset_password")
def reset_password_form(
    request: Request, db: SessionDep, settings: SettingsDep, token: str = ""
) -> Response:
    try:
        email_links.check_reset(db, token=token, now=utcnow(), settings=settings)
    except InvalidLink as exc:
        return _invalid_link(request, exc, reset=True)
    return render(request, "accounts/reset_password.html", {"token": token, "errors": {}})


@router.post("/password/reset")
def reset_password(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    token: FormStr = "",
    new_password: FormStr = "",
) -> Response:
    now = utcnow()
    try:
        user = email_links.reset_password(
            db, token=token, new_password=new_password, now=now, settings=settings
        )
    except InvalidLink as exc:
        return _invalid_link(request, exc, reset=True)
    except ValidationFailed as exc:
        return render(
            request,
            "accounts/reset_password.html",
            {"token": token, "errors": exc.fields, "message": exc.message},
            status_code=422,
        )
    # Every session ended with the old password; this browser gets a new one, and whoever it
    # was signed in as before is signed out.
    previous = current_auth(request).session_token
    if previous:
        service.end_session(db, token=previous)
    session_token = service.start_session(
        db, user=user, now=now, settings=settings, user_agent=request.headers.get("user-agent", "")
    )
    response = see_other(
        request,
        "/",
        message=_(
            "Your new password is set, %(user)s. You were signed out everywhere else.",
            user=user.display_name,
        ),
    )
    set_session_cookie(response, session_token, settings)
    return response


@router.get("/verify-email", name="verify_email")
def verify_email_form(
    request: Request, db: SessionDep, settings: SettingsDep, token: str = ""
) -> Response:
    # Confirmed by a button, not by the GET itself: mail scanners open links on their own.
    try:
        link = email_links.check_verification(db, token=token, now=utcnow(), settings=settings)
    except InvalidLink as exc:
        return _invalid_link(request, exc, reset=False)
    return render(request, "accounts/verify_email.html", {"token": token, "link": link})


@router.post("/verify-email")
def verify_email(
    request: Request, db: SessionDep, settings: SettingsDep, user: OptionalUser, token: FormStr = ""
) -> Response:
    try:
        verified = email_links.verify_email(db, token=token, now=utcnow(), settings=settings)
    except (InvalidLink, Conflict) as exc:
        return _invalid_link(request, exc, reset=False)
    target = "/profile" if user is not None and user.id == verified.id else "/"
    return see_other(
        request,
        target,
        message=_("Thank you: %(email)s is confirmed as your address.", email=verified.email),
    )
