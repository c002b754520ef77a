"""Provider accounts: keyed by (issuer, subject), never by email; created on a first sign-in
with a chosen username; linked and unlinked while another way in remains."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import identities
from app.accounts.identities import ProviderAccount
from app.accounts.models import Identity, User
from app.errors import Conflict, NotFound, RateLimited, ValidationFailed
from app.mail.models import OutboxMail
from tests.conftest import make_settings
from tests.factories import make_user

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
ISSUER = "https://id.example.org"
ACCOUNT = ProviderAccount(
    provider="exampleid",
    issuer=ISSUER,
    subject="248289761001",
    email="miku@example.net",
    email_verified=True,
    name="Miku Elsewhere",
    preferred_username="Miku.Hatsune",
)
CONFIGURED = ["exampleid", "other"]


def register(db: Session, settings, account: ProviderAccount = ACCOUNT, **fields: str) -> User:
    return identities.register(
        db,
        account=account,
        username=fields.get("username", "miku"),
        display_name=fields.get("display_name", "Miku"),
        email=fields.get("email", account.email),
        client_ip=fields.get("ip", "203.0.113.5"),
        now=NOW,
        settings=settings,
    )


def test_register_creates_a_passwordless_account_with_its_identity(db, settings):
    user = register(db, settings)
    assert user.password_hash is None
    assert user.email == "miku@example.net"
    assert user.email_verified_at == NOW
    (identity,) = identities.list_for(db, actor=user)
    assert (identity.issuer, identity.subject, identity.provider) == (
        ISSUER,
        "248289761001",
        "exampleid",
    )
    assert identities.sign_in(db, account=ACCOUNT, now=NOW) is user


def test_an_address_the_provider_did_not_vouch_for_is_mailed_a_link(db, settings):
    unverified = ProviderAccount(**{**ACCOUNT.__dict__, "email_verified": False})
    user = register(db, settings, unverified)
    assert not user.email_verified
    other = register(
        db,
        settings,
        ProviderAccount(**{**ACCOUNT.__dict__, "subject": "2"}),
        username="rin",
        email="changed@example.org",
    )
    assert not other.email_verified
    sent = db.scalars(select(OutboxMail.to_address).where(OutboxMail.kind == "verify_email"))
    assert set(sent) == {"miku@example.net", "changed@example.org"}


def test_the_email_of_a_local_account_never_takes_it_over(db, settings):
    local = make_user(db, "rin")
    same_email = ProviderAccount(**{**ACCOUNT.__dict__, "email": local.email})
    # Signing in finds nothing: the address is not a key.
    assert identities.sign_in(db, account=same_email, now=NOW) is None
    with pytest.raises(ValidationFailed) as caught:
        register(db, settings, same_email, username="rin2", email=local.email)
    assert "exists already" in caught.value.fields["email"]
    assert identities.list_for(db, actor=local) == []


def test_register_checks_the_fields_and_the_identity(db, settings):
    make_user(db, "taken")
    with pytest.raises(ValidationFailed) as caught:
        register(db, settings, username="taken", display_name="  ")
    assert set(caught.value.fields) == {"username", "display_name"}
    register(db, settings)
    with pytest.raises(Conflict):
        register(db, settings, username="again", email="again@example.org")


def test_register_is_rate_limited_like_registration(db, database_url):
    settings = make_settings(database_url, registrations_per_ip=1)
    register(db, settings)
    with pytest.raises(RateLimited):
        register(
            db,
            settings,
            ProviderAccount(**{**ACCOUNT.__dict__, "subject": "2"}),
            username="rin",
            email="rin@example.net",
        )


def test_same_subject_at_another_issuer_is_another_person(db, settings):
    user = register(db, settings)
    elsewhere = ProviderAccount(**{**ACCOUNT.__dict__, "issuer": "https://evil.example"})
    assert identities.sign_in(db, account=elsewhere, now=NOW) is None
    assert identities.sign_in(db, account=ACCOUNT, now=NOW) is user


def test_link_and_sign_in_updates_what_the_provider_reported(db):
    miku = make_user(db, "miku")
    identity = identities.link(db, actor=miku, account=ACCOUNT, now=NOW)
    assert identities.link(db, actor=miku, account=ACCOUNT, now=NOW) is identity
    moved = ProviderAccount(
        **{**ACCOUNT.__dict__, "email": "new@example.net", "provider": "renamed"}
    )
    assert identities.sign_in(db, account=moved, now=NOW) is miku
    assert (identity.email, identity.provider, identity.last_used_at) == (
        "new@example.net",
        "renamed",
        NOW,
    )


def test_an_identity_links_to_one_account_only(db):
    miku = make_user(db, "miku")
    rin = make_user(db, "rin")
    identities.link(db, actor=miku, account=ACCOUNT, now=NOW)
    with pytest.raises(Conflict):
        identities.link(db, actor=rin, account=ACCOUNT, now=NOW)


def test_unlink_keeps_a_way_in(db, settings):
    user = register(db, settings)
    (only,) = identities.list_for(db, actor=user)
    with pytest.raises(Conflict, match="only way to sign in"):
        identities.unlink(db, actor=user, identity_id=only.id, configured=CONFIGURED)
    second = identities.link(
        db,
        actor=user,
        account=ProviderAccount(
            **{**ACCOUNT.__dict__, "provider": "other", "issuer": "https://other.example"}
        ),
        now=NOW,
    )
    identities.unlink(db, actor=user, identity_id=only.id, configured=CONFIGURED)
    assert identities.list_for(db, actor=user) == [second]
    with pytest.raises(Conflict):
        identities.unlink(db, actor=user, identity_id=second.id, configured=CONFIGURED)


def test_an_identity_at_a_provider_no_longer_offered_is_no_way_in(db, settings):
    user = register(db, settings)
    (first,) = identities.list_for(db, actor=user)
    identities.link(
        db,
        actor=user,
        account=ProviderAccount(
            **{**ACCOUNT.__dict__, "provider": "gone", "issuer": "https://gone"}
        ),
        now=NOW,
    )
    with pytest.raises(Conflict):
        identities.unlink(db, actor=user, identity_id=first.id, configured=CONFIGURED)


def test_a_password_is_a_way_in(db):
    miku = make_user(db, "miku")
    identity = identities.link(db, actor=miku, account=ACCOUNT, now=NOW)
    identities.unlink(db, actor=miku, identity_id=identity.id, configured=CONFIGURED)
    assert db.scalars(select(Identity)).all() == []


def test_someone_elses_identity_is_not_found(db):
    miku = make_user(db, "miku")
    rin = make_user(db, "rin")
    identity = identities.link(db, actor=miku, account=ACCOUNT, now=NOW)
    with pytest.raises(NotFound):
        identities.unlink(db, actor=rin, identity_id=identity.id, configured=CONFIGURED)


@pytest.mark.parametrize(
    ("account", "expected"),
    [
        (ACCOUNT, "miku-hatsune"),
        (ProviderAccount(provider="p", issuer="i", subject="s", email="Len.K@x.org"), "len-k"),
        (ProviderAccount(provider="p", issuer="i", subject="s", name="鏡音"), ""),
        (ProviderAccount(provider="p", issuer="i", subject="s"), ""),
    ],
)
def test_suggested_usernames_follow_the_rules(account, expected):
    assert identities.suggested_username(account) == expected
