"""HTML pages of accounts: register, sign in and out, profile, password, access tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from app.accounts import service
from app.communities import service as communities_service
from app.db import utcnow
from app.errors import NotAuthenticated, RateLimited, ValidationFailed
from app.web.auth import clear_session_cookie, current_auth, set_session_cookie
from app.web.deps import ClientIP, CurrentUser, OptionalUser, SessionDep, SettingsDep
from app.web.responses import safe_next, see_other
from app.web.templating import render

router = APIRouter(tags=["accounts"])

FormStr = Annotated[str, Form()]


@router.get("/register", name="register")
def register_form(request: Request, user: OptionalUser) -> Response:
    if user is not None:
        return see_other(request, "/profile")
    return render(request, "accounts/register.html", {"values": {}, "errors": {}})


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
            {"values": values, "errors": exc.fields, "message": exc.message},
            status_code=422,
        )
    except RateLimited as exc:
        response: Response = render(
            request,
            "accounts/register.html",
            {"values": values, "errors": {}, "message": exc.message},
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
        request, "/", message=f"Welcome, {user.display_name}! Your account is ready."
    )
    set_session_cookie(response, token, settings)
    return response


@router.get("/login", name="login")
def login_form(request: Request, user: OptionalUser, next: str = "") -> Response:
    if user is not None:
        return see_other(request, safe_next(next))
    return render(request, "accounts/login.html", {"values": {}, "next": safe_next(next, "")})


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
    context = {"values": {"login": login}, "next": safe_next(next, "")}
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
    response = see_other(request, safe_next(next), message=f"Signed in as {user.display_name}.")
    set_session_cookie(response, token, settings)
    return response


@router.post("/logout", name="logout")
def logout(request: Request, db: SessionDep, settings: SettingsDep) -> Response:
    token = current_auth(request).session_token
    if token:
        service.end_session(db, token=token)
    response = see_other(request, "/", message="You are signed out.", level="info")
    clear_session_cookie(response, settings)
    return response


def _profile_page(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    *,
    status_code: int = 200,
    **context: object,
) -> Response:
    defaults: dict[str, object] = {
        "memberships": communities_service.memberships_of_user(db, user),
        "tokens": service.list_tokens(db, actor=user),
        "errors": {},
        "values": {},
        "new_token": None,
        "form": None,
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
    return see_other(request, "/profile", message="Your profile was saved.")


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
        request, "/profile", message="Password changed. You were signed out everywhere else."
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
        request, "/profile", message=f"Token “{token.name}” was revoked.", level="info"
    )


@router.get("/u/{username}", name="user_page")
def user_page(request: Request, db: SessionDep, username: str) -> Response:
    person = service.get_user(db, username)
    memberships = communities_service.memberships_of_user(db, person)
    return render(request, "accounts/user.html", {"person": person, "memberships": memberships})
