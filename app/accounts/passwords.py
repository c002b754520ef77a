"""Password hashing (argon2id) and the password policy: length and a common-password list."""

from __future__ import annotations

import functools
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.i18n import gettext as _

MIN_LENGTH = 10
MAX_LENGTH = 256

_hasher = PasswordHasher()


def configure(*, time_cost: int, memory_cost_kib: int, parallelism: int) -> None:
    """Set the argon2id cost; the app calls this from its settings at start."""
    global _hasher
    _hasher = PasswordHasher(
        time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=parallelism
    )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; an account without a password never matches."""
    if password_hash is None:
        # Spend the same time as a real check so response times do not reveal accounts.
        _hasher.hash(password)
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@functools.cache
def _common_passwords() -> frozenset[str]:
    text = resources.files("app.accounts").joinpath("data/common-passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line and not line.startswith("#")
    )


def password_problem(password: str, *, username: str = "", email: str = "") -> str | None:
    """Why `password` is refused, in a sentence, or None when it is acceptable (NIST SP 800-63B)."""
    if len(password) < MIN_LENGTH:
        return _("Use at least %(min)s characters.", min=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _("Use at most %(max)s characters.", max=MAX_LENGTH)
    lowered = password.lower()
    if lowered in _common_passwords():
        return _("This password is on a list of commonly used passwords; choose another.")
    if username and lowered == username.lower():
        return _("Your password cannot be your username.")
    if email and lowered == email.lower():
        return _("Your password cannot be your email address.")
    return None
