"""Accounts at OpenID Connect providers: signing in with one, creating an account from one,
linking and unlinking.

This module trusts its caller (`app.accounts.oidc`) to have validated the provider's answer;
it decides only what that answer may do here. An identity is found by (issuer, subject) and
by nothing else: an email address reported by a provider never opens, joins or takes over an
account, even when a local account has the same address.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import ratelimit
from app.accounts import email_links
from app.accounts.models import Identity, User
from app.accounts.service import normalize_username, validate_profile
from app.config import Settings
from app.errors import Conflict, NotFound, ValidationFailed
from app.i18n import N_
from app.i18n import gettext as _


@dataclass(frozen=True)
class ProviderAccount:
    """What a provider proved about the person coming back from it."""

    provider: str
    issuer: str
    subject: str
    email: str = ""
    email_verified: bool = False
    name: str = ""
    preferred_username: str = ""


def check_sign_in_rate(db: Session, *, client_ip: str, now: datetime, settings: Settings) -> None:
    """The password sign-in limit per network applies to provider sign-ins as well."""
    ratelimit.check(
        db,
        bucket="login-ip",
        key=client_ip,
        limit=settings.login_attempts_per_ip,
        window=timedelta(minutes=settings.login_window_minutes),
        now=now,
        what=N_("sign-in attempts from your network"),
    )


def record_failed_sign_in(db: Session, *, client_ip: str, now: datetime) -> None:
    ratelimit.hit(db, bucket="login-ip", key=client_ip, now=now)


def find(db: Session, *, issuer: str, subject: str) -> Identity | None:
    return db.scalar(select(Identity).where(Identity.issuer == issuer, Identity.subject == subject))


def _touch(identity: Identity, account: ProviderAccount, now: datetime) -> None:
    identity.provider = account.provider
    identity.email = account.email[:320]
    identity.last_used_at = now


def sign_in(db: Session, *, account: ProviderAccount, now: datetime) -> User | None:
    """The user this provider account signs in to, or None when it is not linked to any."""
    identity = find(db, issuer=account.issuer, subject=account.subject)
    if identity is None:
        return None
    _touch(identity, account, now)
    user = db.get(User, identity.user_id)
    db.flush()
    return user


def link(db: Session, *, actor: User, account: ProviderAccount, now: datetime) -> Identity:
    """Let the provider account sign in to `actor` too; refused if it belongs to someone else."""
    identity = find(db, issuer=account.issuer, subject=account.subject)
    if identity is not None:
        if identity.user_id != actor.id:
            raise Conflict(
                _(
                    "This account at the provider signs in to another account here already. "
                    "Unlink it there first."
                )
            )
        _touch(identity, account, now)
        db.flush()
        return identity
    identity = Identity(
        user_id=actor.id,
        provider=account.provider,
        issuer=account.issuer,
        subject=account.subject,
        email=account.email[:320],
        created_at=now,
        last_used_at=now,
    )
    db.add(identity)
    db.flush()
    return identity


def suggested_username(account: ProviderAccount) -> str:
    """A username to offer, from the provider's nickname or the email's local part."""
    source = account.preferred_username or account.email.partition("@")[0] or account.name
    name = re.sub(r"[^a-z0-9_-]+", "-", source.strip().lower()).strip("-_")[:32]
    return name if len(name) >= 3 else ""


def register(
    db: Session,
    *,
    account: ProviderAccount,
    username: str,
    display_name: str,
    email: str,
    client_ip: str,
    now: datetime,
    settings: Settings,
) -> User:
    """Create an account for a provider account that has none yet (the first sign-in).

    The account has no password. Its address counts as verified only when it is the one the
    provider vouched for; any other address gets a verification mail. An address another
    account has is refused outright: signing in elsewhere proves nothing about that account.
    """
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
    if find(db, issuer=account.issuer, subject=account.subject) is not None:
        raise Conflict(
            _("This account at the provider has an account here already: sign in with it.")
        )
    username = normalize_username(username)
    problems, email = validate_profile(username, display_name, email)
    if "username" not in problems and db.scalar(select(User.id).where(User.username == username)):
        problems["username"] = _("That username is taken.")
    if "email" not in problems and db.scalar(select(User.id).where(User.email == email)):
        problems["email"] = _(
            "An account with this email address exists already. If it is yours, sign in to it "
            "with its password and link the provider from your profile; or use another address."
        )
    if problems:
        raise ValidationFailed(_("Please correct the marked fields."), fields=problems)
    vouched = account.email_verified and account.email.strip().lower() == email
    user = User(
        username=username,
        display_name=display_name.strip(),
        email=email,
        password_hash=None,
        email_verified_at=now if vouched else None,
        created_at=now,
    )
    db.add(user)
    ratelimit.hit(db, bucket="register-ip", key=client_ip, now=now)
    db.flush()
    link(db, actor=user, account=account, now=now)
    if not vouched:
        email_links.send_verification(db, user=user, now=now, settings=settings)
    return user


def list_for(db: Session, *, actor: User) -> list[Identity]:
    return list(
        db.scalars(select(Identity).where(Identity.user_id == actor.id).order_by(Identity.id))
    )


def can_unlink(
    actor: User, identity: Identity, linked: Sequence[Identity], configured: Collection[str]
) -> bool:
    """Whether `actor` could still sign in without `identity`: by password or another provider."""
    return actor.has_password or any(
        other.id != identity.id and other.provider in configured for other in linked
    )


def unlink(db: Session, *, actor: User, identity_id: int, configured: Collection[str]) -> Identity:
    """Remove a linked provider account, as long as another way to sign in remains.

    `configured` names the providers the site offers now: an identity at a provider that was
    taken off the site cannot sign anyone in, so it does not count as a way in.
    """
    identity = db.get(Identity, identity_id)
    # Someone else's identity looks exactly like a missing one.
    if identity is None or identity.user_id != actor.id:
        raise NotFound(_("There is no such linked account."))
    if not can_unlink(actor, identity, list_for(db, actor=actor), configured):
        raise Conflict(
            _(
                "This is your only way to sign in. Set a password or link another provider "
                "before you unlink it."
            )
        )
    db.delete(identity)
    db.flush()
    return identity
