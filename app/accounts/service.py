"""Accounts: registration, sign-in, browser sessions, password changes and access tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import i18n, ratelimit
from app.accounts import email_links, passwords
from app.accounts.models import AccessToken, TokenScope, User, UserSession
from app.config import Settings
from app.errors import Conflict, NotAuthenticated, NotFound, ValidationFailed
from app.i18n import N_
from app.i18n import gettext as _

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{2,31}$")
#: Names of deleted accounts start so (see `app.privacy.deletion`); nobody may take one.
DELETED_PREFIX = "deleted-"
# Control characters (NUL above all: PostgreSQL cannot store it) never belong in a name.
CONTROL_CHARACTERS_RE = re.compile(r"[\x00-\x1f\x7f]")
SESSION_TOUCH_INTERVAL = timedelta(minutes=1)
TOKEN_PREFIX = "nf_"  # noqa: S105 - a marker that helps secret scanners, not a secret

NAME_TAKEN = N_("You have a token with this name already.")
GENERIC_LOGIN_ERROR = N_("That username or email and password do not match an account.")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalize_username(username: str) -> str:
    return username.strip().lower()


def get_user(db: Session, username: str) -> User:
    normalized = normalize_username(username)
    # A name no account can have is not looked up (the database may not even accept it).
    user = (
        db.scalar(select(User).where(User.username == normalized))
        if USERNAME_RE.match(normalized)
        else None
    )
    if user is None:
        raise NotFound(_("There is no user called '%(username)s'.", username=username))
    return user


def _display_name_problem(
    display_name: str, *, empty: str = N_("Enter the name others will see.")
) -> str | None:
    display_name = display_name.strip()
    if not display_name:
        return _(empty)
    if len(display_name) > 64:
        return _("Use at most 64 characters.")
    if CONTROL_CHARACTERS_RE.search(display_name):
        return _("Line breaks, tabs and other control characters are not allowed.")
    return None


def validate_profile(username: str, display_name: str, email: str) -> tuple[dict[str, str], str]:
    """Problems of a new account's fields, by field, and the normalised email address."""
    problems: dict[str, str] = {}
    if not USERNAME_RE.match(username):
        problems["username"] = _(
            "Use 3 to 32 characters: lower-case letters, digits, '-' and '_', "
            "starting with a letter or digit."
        )
    elif username.startswith(DELETED_PREFIX):
        problems["username"] = _(
            "Names starting with “%(deleted_prefix)s” are reserved.", deleted_prefix=DELETED_PREFIX
        )
    problem = _display_name_problem(display_name)
    if problem:
        problems["display_name"] = problem
    normalized_email = email.strip()
    try:
        normalized_email = validate_email(email.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        problems["email"] = str(exc)
    return problems, normalized_email.lower()


USERNAME_TAKEN = N_("That username is taken.")


def _taken(
    db: Session, username: str, email: str, problems: dict[str, str] | None = None
) -> dict[str, str]:
    """The fields whose value another account has already (of those with no problem yet:
    a value that breaks the rules is not looked up)."""
    problems = problems or {}
    taken = {}
    if "username" not in problems and db.scalar(select(User.id).where(User.username == username)):
        taken["username"] = _(USERNAME_TAKEN)
    if "email" not in problems and db.scalar(select(User.id).where(User.email == email)):
        taken["email"] = _("An account with this email address exists already.")
    return taken


def register(
    db: Session,
    *,
    username: str,
    display_name: str,
    email: str,
    password: str,
    client_ip: str,
    now: datetime,
    settings: Settings,
) -> User:
    """Create an account after the rate limit and every field rule allow it."""
    window = timedelta(minutes=settings.registration_window_minutes)
    ratelimit.check(
        db,
        bucket="register-ip",
        key=client_ip,
        limit=settings.registrations_per_ip,
        window=window,
        now=now,
        what=N_("new accounts from your network"),
    )
    username = normalize_username(username)
    problems, email = validate_profile(username, display_name, email)
    problem = passwords.password_problem(password, username=username, email=email)
    if problem:
        problems["password"] = problem
    problems.update(_taken(db, username, email, problems))
    if problems:
        raise ValidationFailed(_("Please correct the marked fields."), fields=problems)
    user = User(
        username=username,
        display_name=display_name.strip(),
        email=email,
        password_hash=passwords.hash_password(password),
        password_changed_at=now,
    )
    try:
        # A double submit may pass the checks above twice; the unique name and address decide.
        with db.begin_nested():
            db.add(user)
            db.flush()
    except IntegrityError:
        taken = _taken(db, username, email) or {"username": _(USERNAME_TAKEN)}
        raise ValidationFailed(_("Please correct the marked fields."), fields=taken) from None
    ratelimit.hit(db, bucket="register-ip", key=client_ip, now=now)
    db.flush()
    email_links.send_verification(db, user=user, now=now, settings=settings)
    return user


def create_user(
    db: Session,
    *,
    username: str,
    email: str,
    password: str,
    display_name: str | None = None,
    is_admin: bool = False,
    now: datetime,
) -> User:
    """Create an account from the command line or the demo seed (no rate limit).

    The operator typed the address, so it counts as verified: no mail is sent.
    """
    username = normalize_username(username)
    display_name = display_name or username
    problems, email = validate_profile(username, display_name, email)
    problem = passwords.password_problem(password, username=username, email=email)
    if problem:
        problems["password"] = problem
    if problems:
        raise ValidationFailed(_("Invalid user."), fields=problems)
    if db.scalar(select(User.id).where((User.username == username) | (User.email == email))):
        raise Conflict(_("A user with this username or email exists already."))
    user = User(
        username=username,
        display_name=display_name,
        email=email,
        password_hash=passwords.hash_password(password),
        password_changed_at=now,
        email_verified_at=now,
        is_admin=is_admin,
    )
    db.add(user)
    db.flush()
    return user


def authenticate(
    db: Session, *, login: str, password: str, client_ip: str, now: datetime, settings: Settings
) -> User:
    """Check a username or email and password; failures are counted per IP and per account."""
    window = timedelta(minutes=settings.login_window_minutes)
    login_key = login.strip().lower()
    column = User.email if "@" in login_key else User.username
    # NUL can match no account, and PostgreSQL refuses it in a query.
    user = None if "\x00" in login_key else db.scalar(select(User).where(column == login_key))
    # One bucket per account, whether the username or the email was typed.
    account_key = f"user:{user.id}" if user is not None else f"login:{login_key}"
    ratelimit.check(
        db,
        bucket="login-ip",
        key=client_ip,
        limit=settings.login_attempts_per_ip,
        window=window,
        now=now,
        what=N_("sign-in attempts from your network"),
    )
    ratelimit.check(
        db,
        bucket="login-account",
        key=account_key,
        limit=settings.login_failures_per_account,
        window=window,
        now=now,
        what=N_("failed sign-in attempts for this account"),
    )
    if user is not None and user.is_deleted:
        user = None
    if user is None or not passwords.verify_password(user.password_hash, password):
        if user is None:
            # Spend the time of a real check so response times do not reveal accounts.
            passwords.verify_password(None, password)
        ratelimit.hit(db, bucket="login-ip", key=client_ip, now=now)
        ratelimit.hit(db, bucket="login-account", key=account_key, now=now)
        raise NotAuthenticated(_(GENERIC_LOGIN_ERROR))
    if user.password_hash and passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    ratelimit.clear(db, bucket="login-account", key=account_key)
    return user


def start_session(
    db: Session, *, user: User, now: datetime, settings: Settings, user_agent: str = ""
) -> str:
    """Open a browser session and return its token (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    db.add(
        UserSession(
            token_hash=_digest(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=settings.session_absolute_hours),
            user_agent=user_agent[:255],
        )
    )
    db.flush()
    return token


def session_row(
    db: Session, *, token: str, now: datetime, settings: Settings, write: bool = True
) -> UserSession | None:
    """The live session of a cookie, or None; with `write`, expired sessions are deleted on
    sight and the last use is recorded (see `touch_due`)."""
    row = db.scalar(select(UserSession).where(UserSession.token_hash == _digest(token)))
    if row is None:
        return None
    idle_limit = row.last_seen_at + timedelta(minutes=settings.session_idle_minutes)
    if now >= row.expires_at or now >= idle_limit:
        if write:
            db.delete(row)
            db.flush()
        return None
    if write and touch_due(row.last_seen_at, now):
        row.last_seen_at = now
    return row


def session_user(db: Session, *, token: str, now: datetime, settings: Settings) -> User | None:
    """The user of a live session, or None; expired sessions are deleted on sight."""
    row = session_row(db, token=token, now=now, settings=settings)
    return row.user if row is not None else None


def touch_due(last_used: datetime | None, now: datetime) -> bool:
    """Whether a session's or token's last use is worth writing down again."""
    return last_used is None or now - last_used >= SESSION_TOUCH_INTERVAL


def touch_session(db: Session, *, session_id: int, now: datetime) -> None:
    db.execute(update(UserSession).where(UserSession.id == session_id).values(last_seen_at=now))


def touch_token(db: Session, *, token_id: int, now: datetime) -> None:
    db.execute(update(AccessToken).where(AccessToken.id == token_id).values(last_used_at=now))


def end_session(db: Session, *, token: str) -> None:
    db.execute(delete(UserSession).where(UserSession.token_hash == _digest(token)))


def end_all_sessions(db: Session, *, user: User) -> None:
    db.execute(delete(UserSession).where(UserSession.user_id == user.id))


def change_password(
    db: Session, *, actor: User, current_password: str, new_password: str, now: datetime
) -> None:
    """Replace the password and end every session of the account, this one included."""
    problems: dict[str, str] = {}
    if not passwords.verify_password(actor.password_hash, current_password):
        problems["current_password"] = _("This is not your current password.")
    problem = passwords.password_problem(new_password, username=actor.username, email=actor.email)
    if problem:
        problems["new_password"] = problem
    elif new_password == current_password:
        problems["new_password"] = _("Choose a password different from the current one.")
    if problems:
        raise ValidationFailed(_("Your password was not changed."), fields=problems)
    actor.password_hash = passwords.hash_password(new_password)
    actor.password_changed_at = now
    end_all_sessions(db, user=actor)
    db.flush()


def update_profile(db: Session, *, actor: User, display_name: str) -> User:
    problem = _display_name_problem(display_name, empty=N_("Enter a name."))
    if problem:
        raise ValidationFailed(
            _("Please correct the marked fields."), fields={"display_name": problem}
        )
    actor.display_name = display_name.strip()
    db.flush()
    return actor


def set_language(db: Session, *, actor: User, language: str | None) -> User:
    """Save the language `actor` reads the site in; None goes back to the browser's."""
    if language is not None and i18n.supported(language) != language:
        raise ValidationFailed(
            _("Choose one of the languages offered."),
            fields={
                "language": _("Choose one of: %(choices)s.", choices=", ".join(i18n.LANGUAGES))
            },
        )
    actor.locale = language
    db.flush()
    return actor


def list_tokens(db: Session, *, actor: User) -> list[AccessToken]:
    return list(
        db.scalars(
            select(AccessToken)
            .where(AccessToken.user_id == actor.id)
            .order_by(AccessToken.revoked_at.is_not(None), AccessToken.created_at.desc())
        )
    )


def create_token(
    db: Session, *, actor: User, name: str, scope: str, now: datetime
) -> tuple[AccessToken, str]:
    """Create a personal access token; the plain token is returned once and never stored."""
    name = name.strip()
    problems: dict[str, str] = {}
    if not name:
        problems["name"] = _("Give the token a name, e.g. the tool that will use it.")
    elif len(name) > 64:
        problems["name"] = _("Use at most 64 characters.")
    elif CONTROL_CHARACTERS_RE.search(name):
        problems["name"] = _("Line breaks, tabs and other control characters are not allowed.")
    elif db.scalar(
        select(AccessToken.id).where(AccessToken.user_id == actor.id, AccessToken.name == name)
    ):
        problems["name"] = _(NAME_TAKEN)
    if scope not in TokenScope.__members__:
        problems["scope"] = _("Choose read or write.")
    if problems:
        raise ValidationFailed(_("The token was not created."), fields=problems)
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = AccessToken(
        user_id=actor.id,
        name=name,
        scope=TokenScope(scope),
        token_hash=_digest(plain),
        prefix=plain[:10],
        created_at=now,
    )
    try:
        # A double submit may pass the check above twice; the unique name decides, alone.
        with db.begin_nested():
            db.add(token)
            db.flush()
    except IntegrityError:
        raise ValidationFailed(
            _("The token was not created."), fields={"name": _(NAME_TAKEN)}
        ) from None
    return token, plain


def revoke_token(db: Session, *, actor: User, token_id: int, now: datetime) -> AccessToken:
    token = db.get(AccessToken, token_id)
    # Someone else's token looks exactly like a missing one.
    if token is None or token.user_id != actor.id:
        raise NotFound(_("There is no such token."))
    if token.revoked_at is None:
        token.revoked_at = now
        db.flush()
    return token


def token_user(db: Session, *, token: str, now: datetime, write: bool = True) -> AccessToken | None:
    """The live access token for a Bearer value, or None; with `write`, its use is recorded."""
    row = db.scalar(select(AccessToken).where(AccessToken.token_hash == _digest(token)))
    if row is None or row.revoked_at is not None:
        return None
    if write and touch_due(row.last_used_at, now):
        row.last_used_at = now
    return row
