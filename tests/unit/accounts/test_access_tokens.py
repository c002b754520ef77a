"""Personal access tokens: shown once, stored hashed, scoped, revocable."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.accounts import service
from app.accounts.models import AccessToken, TokenScope, User
from app.errors import NotFound, ValidationFailed
from tests.factories import make_user

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def miku(db):
    return make_user(db, "miku")


def create(
    db: Session, user: User, name: str = "my script", scope: str = "read"
) -> tuple[AccessToken, str]:
    return service.create_token(db, actor=user, name=name, scope=scope, now=NOW)


def test_created_token_is_shown_once_and_stored_hashed(db, miku):
    token, plain = create(db, miku, scope="write")
    assert plain.startswith("nf_")
    assert len(plain) - len("nf_") >= 22  # at least 128 bits in base64url
    assert token.token_hash == hashlib.sha256(plain.encode()).hexdigest()
    assert token.prefix == plain[:10]
    assert token.scope is TokenScope.write
    assert token.user_id == miku.id
    assert token.is_active
    raw_rows = db.execute(text("SELECT * FROM access_tokens")).all()
    assert all(plain not in str(value) for raw in raw_rows for value in raw)


def test_token_user_finds_live_token_and_marks_its_use(db, miku):
    token, plain = create(db, miku)
    assert token.last_used_at is None
    assert service.token_user(db, token=plain, now=NOW) is token
    assert token.last_used_at == NOW
    # Touched at most once a minute.
    service.token_user(db, token=plain, now=NOW + timedelta(seconds=30))
    assert token.last_used_at == NOW
    service.token_user(db, token=plain, now=NOW + timedelta(minutes=2))
    assert token.last_used_at == NOW + timedelta(minutes=2)


def test_unknown_token_has_no_user(db, miku):
    create(db, miku)
    assert service.token_user(db, token="nf_made-up", now=NOW) is None


def test_revoked_token_has_no_user(db, miku):
    token, plain = create(db, miku)
    revoked = service.revoke_token(db, actor=miku, token_id=token.id, now=NOW)
    assert revoked is token
    assert token.revoked_at == NOW
    assert not token.is_active
    assert service.token_user(db, token=plain, now=NOW) is None


def test_revoking_twice_keeps_the_first_time(db, miku):
    token, _ = create(db, miku)
    service.revoke_token(db, actor=miku, token_id=token.id, now=NOW)
    service.revoke_token(db, actor=miku, token_id=token.id, now=NOW + timedelta(days=1))
    assert token.revoked_at == NOW


def test_someone_elses_token_cannot_be_revoked(db, miku):
    rin = make_user(db, "rin")
    token, plain = create(db, rin)
    with pytest.raises(NotFound) as caught:
        service.revoke_token(db, actor=miku, token_id=token.id, now=NOW)
    with pytest.raises(NotFound) as missing:
        service.revoke_token(db, actor=miku, token_id=token.id + 1000, now=NOW)
    # Someone else's token and a missing one look the same.
    assert caught.value.message == missing.value.message
    assert token.revoked_at is None
    assert service.token_user(db, token=plain, now=NOW) is token


def test_duplicate_name_is_a_field_error(db, miku):
    create(db, miku, name="ci")
    with pytest.raises(ValidationFailed) as caught:
        create(db, miku, name=" ci ")
    assert caught.value.fields == {"name": "You have a token with this name already."}
    # Another user may use the same name.
    create(db, make_user(db, "rin"), name="ci")


@pytest.mark.parametrize("scope", ["admin", "", "READ", "TokenScope.read"])
def test_bad_scope_is_a_field_error(db, miku, scope):
    with pytest.raises(ValidationFailed) as caught:
        create(db, miku, scope=scope)
    assert caught.value.fields == {"scope": "Choose read or write."}


@pytest.mark.parametrize(("name", "problem"), [("", "Give the token"), ("x" * 65, "at most 64")])
def test_bad_name_is_a_field_error(db, miku, name, problem):
    with pytest.raises(ValidationFailed) as caught:
        create(db, miku, name=name)
    assert set(caught.value.fields) == {"name"}
    assert problem in caught.value.fields["name"]


def test_list_tokens_shows_own_tokens_active_first(db, miku):
    old, _ = create(db, miku, name="old")
    new, _ = service.create_token(
        db, actor=miku, name="new", scope="read", now=NOW + timedelta(hours=1)
    )
    revoked, _ = service.create_token(
        db, actor=miku, name="gone", scope="read", now=NOW + timedelta(hours=2)
    )
    service.revoke_token(db, actor=miku, token_id=revoked.id, now=NOW)
    create(db, make_user(db, "rin"), name="rins")
    assert service.list_tokens(db, actor=miku) == [new, old, revoked]


@pytest.mark.parametrize("name", ["ci\x00", "ci\nbot"])
def test_control_characters_in_token_name_are_refused(db, miku, name):
    with pytest.raises(ValidationFailed) as caught:
        create(db, miku, name=name)
    assert set(caught.value.fields) == {"name"}


@pytest.mark.parametrize("value", ["nf_\x00", "x" * 10_000, ""])
def test_odd_bearer_values_have_no_user(db, miku, value):
    assert service.token_user(db, token=value, now=NOW) is None
