"""Tables of the accounts domain."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime, created_at, intpk, str_enum, timestamp


class User(Base):
    __tablename__ = "users"

    id: Mapped[intpk]
    # Stored lower-case: one spelling per name, so "Miku" and "miku" can never be two people.
    username: Mapped[str] = mapped_column(String(32), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[created_at]
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the owner of `email` proved it (a link from a mail); cleared by nothing but a new
    #: address, which only replaces this one once proven.
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the account was deleted. The row stays, emptied of everything personal, so that
    #: what the person wrote in public keeps an author ("[deleted user]") and the append-only
    #: records (the moderation log, ballots of closed polls) keep what they refer to.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The language the member reads the site in (`app.i18n.LANGUAGES`); None: as their
    #: browser asks.
    locale: Mapped[str | None] = mapped_column(String(8))

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class UserSession(Base):
    """A signed-in browser. Only the SHA-256 of the cookie's token is stored."""

    __tablename__ = "user_sessions"

    id: Mapped[intpk]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[created_at]
    last_seen_at: Mapped[timestamp]
    expires_at: Mapped[timestamp]
    user_agent: Mapped[str] = mapped_column(String(255), default="")

    user: Mapped[User] = relationship(lazy="joined")


class TokenScope(enum.StrEnum):
    read = "read"
    write = "write"


class AccessToken(Base):
    """A personal access token for scripts and tools (`Authorization: Bearer ...`)."""

    __tablename__ = "access_tokens"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    scope: Mapped[TokenScope] = mapped_column(str_enum(TokenScope, length=16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters, shown in the list so people can tell their tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[created_at]
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Identity(Base):
    """An account at an OpenID Connect provider that signs in to a user of this site.

    Keyed by (issuer, subject) as OpenID Connect prescribes: the email a provider reports may
    change hands or be unverified, so it never decides which account someone enters.
    """

    __tablename__ = "user_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: The configured provider's name when it was last used (for display; may be renamed).
    provider: Mapped[str] = mapped_column(String(32))
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    #: What the provider last said the address was; shown to tell identities apart, no more.
    email: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[created_at]
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EmailTokenPurpose(enum.StrEnum):
    verify_email = "verify_email"
    password_reset = "password_reset"  # noqa: S105 - what a link is for, not a password


class EmailToken(Base):
    """A link mailed to an address: single use, expiring; only a keyed hash of it is stored."""

    __tablename__ = "email_tokens"
    __table_args__ = (Index(None, "user_id", "purpose"),)

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[EmailTokenPurpose] = mapped_column(str_enum(EmailTokenPurpose, length=24))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The address the link went to: it proves that address, and dies if the account's changes.
    email: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[created_at]
    expires_at: Mapped[timestamp]
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")
