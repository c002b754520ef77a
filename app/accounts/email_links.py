"""Links mailed to an address: verifying it (after registration or a change of address) and
resetting a password.

A link carries a random 256-bit token. The database keeps only its HMAC under the site's
secret, so neither a copy of the database nor a guessed value opens an account, and a new
secret voids every link in flight. A link works once (a conditional update claims it, so two
clicks at once cannot both succeed), until it expires, and only while the account's address is
still the one it was sent to. The mails go through the outbox, in the caller's transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlencode

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app import i18n, ratelimit
from app.accounts import passwords
from app.accounts.models import EmailToken, EmailTokenPurpose, User, UserSession
from app.config import Settings
from app.errors import Conflict, DomainError, ValidationFailed
from app.i18n import N_, ngettext
from app.i18n import gettext as _
from app.mail import service as mail_service

MAIL_WINDOW = timedelta(hours=1)
SITE_NAME = "Norms Forum"


class InvalidLink(DomainError):
    """A mailed link that is unknown, used, expired or no longer matches the account."""

    code = "invalid_link"
    status = 400


def _hash(token: str, settings: Settings) -> str:
    key = settings.secret.encode()
    return hmac.new(key, token.encode("utf-8", "replace"), hashlib.sha256).hexdigest()


def _link(settings: Settings, path: str, token: str) -> str:
    # Always the configured public address: a Host header chosen by a client must never
    # decide where a password reset link points.
    return f"{settings.base_url.rstrip('/')}{path}?{urlencode({'token': token})}"


def _issue(
    db: Session,
    *,
    user: User,
    purpose: EmailTokenPurpose,
    email: str,
    lifetime: timedelta,
    now: datetime,
    settings: Settings,
) -> str:
    token = secrets.token_urlsafe(32)
    db.add(
        EmailToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=_hash(token, settings),
            email=email,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    db.flush()
    return token


def _check_account_mails(db: Session, *, key: str, now: datetime, settings: Settings) -> None:
    ratelimit.check(
        db,
        bucket="account-mail",
        key=key,
        limit=settings.account_mails_per_hour,
        window=MAIL_WINDOW,
        now=now,
        what=N_("mails to this address"),
    )


def _hours(hours: int) -> str:
    return ngettext("%(num)d hour", "%(num)d hours", hours)


def _works_once(duration: str) -> str:
    return _(
        "The link works once, for %(duration)s. If you did not ask for this, ignore this mail: "
        "nothing changes without the link.",
        duration=duration,
    )


def _body(user: User, *paragraphs: str) -> str:
    """A mail's text in the current language: a greeting, then the paragraphs."""
    return "\n\n".join([_("Hello %(name)s,", name=user.display_name), *paragraphs]) + "\n"


def send_verification(
    db: Session, *, user: User, now: datetime, settings: Settings, email: str | None = None
) -> None:
    """Mail a link that proves `email` (by default the account's own address) belongs to `user`."""
    address = email or user.email
    key = f"user:{user.id}"
    _check_account_mails(db, key=key, now=now, settings=settings)
    hours = settings.email_verification_hours
    token = _issue(
        db,
        user=user,
        purpose=EmailTokenPurpose.verify_email,
        email=address,
        lifetime=timedelta(hours=hours),
        now=now,
        settings=settings,
    )
    changing = address != user.email
    with i18n.speaking(user.locale, i18n.chosen(), settings.default_language):
        names = {"site": SITE_NAME, "username": user.username, "address": address}
        reason = (
            _(
                "You asked to change the email address of your %(site)s account @%(username)s to "
                "%(address)s.",
                **names,
            )
            if changing
            else _(
                "Please confirm that %(address)s is the address of your %(site)s account "
                "@%(username)s.",
                **names,
            )
        )
        body = _body(
            user,
            _("%(reason)s Open this link to confirm it:", reason=reason),
            _link(settings, "/verify-email", token),
            _works_once(_hours(hours)),
        )
        subject = _("Confirm your email address for %(site)s", site=SITE_NAME)
    mail_service.queue(
        db,
        to=address,
        subject=subject,
        body=body,
        kind="verify_email",
        now=now,
        user=user,
    )
    ratelimit.hit(db, bucket="account-mail", key=key, now=now)


def resend_verification(db: Session, *, actor: User, now: datetime, settings: Settings) -> None:
    """Send the verification link again, unless the address is verified already."""
    if actor.email_verified:
        raise Conflict(_("Your email address is verified already."))
    send_verification(db, user=actor, now=now, settings=settings)


def _find(
    db: Session, *, token: str, purpose: EmailTokenPurpose, now: datetime, settings: Settings
) -> EmailToken:
    row = db.scalar(
        select(EmailToken).where(
            EmailToken.token_hash == _hash(token, settings), EmailToken.purpose == purpose
        )
    )
    if row is None or row.used_at is not None or now >= row.expires_at:
        raise InvalidLink(
            _("This link is not valid any more: it was used, it expired or it is incomplete.")
        )
    return row


def _claim(db: Session, row: EmailToken, now: datetime) -> None:
    """Mark the link used; only one request can, however many arrive at once."""
    result = db.execute(
        update(EmailToken)
        .where(EmailToken.id == row.id, EmailToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise InvalidLink(_("This link was used already."))
    row.used_at = now


def check_verification(db: Session, *, token: str, now: datetime, settings: Settings) -> EmailToken:
    """The verification link behind `token`, still unused (for the page that confirms it)."""
    row = _find(db, token=token, purpose=EmailTokenPurpose.verify_email, now=now, settings=settings)
    if row.email == row.user.email and row.user.email_verified:
        raise InvalidLink(_("The address %(email)s is verified already.", email=row.email))
    return row


def verify_email(db: Session, *, token: str, now: datetime, settings: Settings) -> User:
    """Prove the address the link went to; a new address replaces the old one only now."""
    row = check_verification(db, token=token, now=now, settings=settings)
    user = row.user
    if row.email != user.email:
        taken = db.scalar(select(User.id).where(User.email == row.email, User.id != user.id))
        if taken is not None:
            raise Conflict(
                _("Another account uses %(email)s now, so it cannot become yours.", email=row.email)
            )
    _claim(db, row, now)
    user.email = row.email
    user.email_verified_at = now
    db.flush()
    return user


def pending_email(db: Session, *, actor: User, now: datetime) -> str | None:
    """The new address the member asked to change to and has not confirmed yet, if any."""
    return db.scalar(
        select(EmailToken.email)
        .where(
            EmailToken.user_id == actor.id,
            EmailToken.purpose == EmailTokenPurpose.verify_email,
            EmailToken.used_at.is_(None),
            EmailToken.expires_at > now,
            EmailToken.email != actor.email,
        )
        .order_by(EmailToken.id.desc())
        .limit(1)
    )


def request_email_change(
    db: Session,
    *,
    actor: User,
    new_email: str,
    current_password: str,
    now: datetime,
    settings: Settings,
) -> str:
    """Mail a confirmation link to a new address; the account keeps its address until then.

    A password account must give its password, so a borrowed session cannot move the address
    (and with it, password resets) elsewhere. The old address hears of the request.
    """
    problems: dict[str, str] = {}
    address = new_email.strip()
    try:
        address = validate_email(address, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        problems["email"] = str(exc)
    if "email" not in problems:
        if address == actor.email:
            problems["email"] = _("This is your address already.")
        elif db.scalar(select(User.id).where(User.email == address)) is not None:
            problems["email"] = _("Another account uses this address.")
    if actor.has_password and not passwords.verify_password(actor.password_hash, current_password):
        problems["current_password"] = _("This is not your current password.")
    if problems:
        raise ValidationFailed(_("Your email address was not changed."), fields=problems)
    # An earlier request for another address is void: only the latest can take effect.
    db.execute(
        update(EmailToken)
        .where(
            EmailToken.user_id == actor.id,
            EmailToken.purpose == EmailTokenPurpose.verify_email,
            EmailToken.used_at.is_(None),
            EmailToken.email != actor.email,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    send_verification(db, user=actor, now=now, settings=settings, email=address)
    with i18n.speaking(actor.locale, i18n.chosen(), settings.default_language):
        subject = _("Your %(site)s address is about to change", site=SITE_NAME)
        body = _body(
            actor,
            _(
                "Someone signed in as @%(username)s asked to change the account's email "
                "address to %(address)s. It changes once the link sent there is opened.",
                username=actor.username,
                address=address,
            ),
            _(
                "If this was not you, sign in and change your password, and the request "
                "lapses unconfirmed."
            ),
        )
    mail_service.queue(
        db,
        to=actor.email,
        subject=subject,
        body=body,
        kind="email_change_notice",
        now=now,
        user=actor,
    )
    return address


def request_password_reset(
    db: Session, *, email: str, client_ip: str, now: datetime, settings: Settings
) -> None:
    """Mail a reset link if an account uses `email`; from outside, both cases look the same.

    The limits count the address whether or not it is known, and the answer, its status and
    its work (bar one mail written to the outbox, sent later by the worker) are alike.
    """
    address = email.strip().lower()
    ratelimit.check(
        db,
        bucket="reset-ip",
        key=client_ip,
        limit=settings.password_resets_per_ip,
        window=MAIL_WINDOW,
        now=now,
        what=N_("password reset requests from your network"),
    )
    _check_account_mails(db, key=f"reset:{address}", now=now, settings=settings)
    ratelimit.hit(db, bucket="reset-ip", key=client_ip, now=now)
    ratelimit.hit(db, bucket="account-mail", key=f"reset:{address}", now=now)
    user = (
        None
        if "\x00" in address or len(address) > 320
        else db.scalar(select(User).where(User.email == address))
    )
    if user is not None and not user.is_deleted:
        _mail_reset_link(db, user=user, now=now, settings=settings)


def _mail_reset_link(db: Session, *, user: User, now: datetime, settings: Settings) -> None:
    minutes = settings.password_reset_minutes
    token = _issue(
        db,
        user=user,
        purpose=EmailTokenPurpose.password_reset,
        email=user.email,
        lifetime=timedelta(minutes=minutes),
        now=now,
        settings=settings,
    )
    with i18n.speaking(user.locale, i18n.chosen(), settings.default_language):
        names = {"site": SITE_NAME, "username": user.username}
        if user.has_password:
            subject = _("Reset your %(site)s password", site=SITE_NAME)
            asked = _(
                "Someone asked to reset the password of your %(site)s account @%(username)s. "
                "Open this link to choose a new password:",
                **names,
            )
        else:
            subject = _("Set a password for %(site)s", site=SITE_NAME)
            asked = _(
                "Someone asked to set a password for your %(site)s account @%(username)s. "
                "Open this link to choose a new password:",
                **names,
            )
        body = _body(
            user,
            asked,
            _link(settings, "/password/reset", token),
            _works_once(ngettext("%(num)d minute", "%(num)d minutes", minutes)),
        )
    mail_service.queue(
        db,
        to=user.email,
        subject=subject,
        body=body,
        kind="password_reset",
        now=now,
        user=user,
    )


def check_reset(db: Session, *, token: str, now: datetime, settings: Settings) -> EmailToken:
    """The reset link behind `token`, if it may still set a password."""
    row = _find(
        db, token=token, purpose=EmailTokenPurpose.password_reset, now=now, settings=settings
    )
    user = row.user
    changed = user.password_changed_at
    # A link sent to a former address, or older than the current password, is void.
    if row.email != user.email or (changed is not None and row.created_at < changed):
        raise InvalidLink(
            _("This link is not valid any more: the account changed since it was sent.")
        )
    return row


def reset_password(
    db: Session, *, token: str, new_password: str, now: datetime, settings: Settings
) -> User:
    """Set the password from a reset link; every session of the account ends.

    Opening the link proved the address, so an unverified one counts as verified afterwards.
    """
    row = check_reset(db, token=token, now=now, settings=settings)
    user = row.user
    problem = passwords.password_problem(new_password, username=user.username, email=user.email)
    if problem:
        raise ValidationFailed(
            _("Your password was not changed."), fields={"new_password": problem}
        )
    _claim(db, row, now)
    user.password_hash = passwords.hash_password(new_password)
    user.password_changed_at = now
    if user.email_verified_at is None:
        user.email_verified_at = now
    db.execute(
        update(EmailToken)
        .where(
            EmailToken.user_id == user.id,
            EmailToken.purpose == EmailTokenPurpose.password_reset,
            EmailToken.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    # A reset means someone else may know the old password: every session of it ends.
    db.execute(delete(UserSession).where(UserSession.user_id == user.id))
    db.flush()
    return user


def send_password_link(db: Session, *, actor: User, now: datetime, settings: Settings) -> None:
    """Mail a member who signs in only through a provider a link to set a password."""
    if actor.has_password:
        raise Conflict(_("You have a password already; change it with your current one."))
    key = f"reset:{actor.email}"
    _check_account_mails(db, key=key, now=now, settings=settings)
    ratelimit.hit(db, bucket="account-mail", key=key, now=now)
    _mail_reset_link(db, user=actor, now=now, settings=settings)
