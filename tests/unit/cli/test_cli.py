"""The `normsforum` command: migrate, seed-demo, create-user, create-token and serve."""

from __future__ import annotations

import re

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import demo
from app.accounts.models import AccessToken, User
from app.communities.models import Community, Membership, Role, RoleChange
from app.main import create_app
from tests.conftest import TEST_SECRET, make_settings

GOOD_PASSWORD = "a long and unusual passphrase"


def count(engine, model) -> int:
    with Session(engine) as db:
        return db.scalar(select(func.count()).select_from(model)) or 0


def test_migrate_twice_is_harmless(cli):
    result = cli.run("migrate")
    assert result.exit_code == 0, result.output
    assert "Database is up to date." in result.output


def test_seed_demo_prints_every_login_once(cli, cli_engine):
    result = cli.run("seed-demo")

    assert result.exit_code == 0, result.output
    for username, _display, _role in demo.DEMO_USERS:
        assert (
            len(re.findall(rf"^\s+{username}\s+{demo.DEMO_PASSWORD}\s", result.output, re.M)) == 1
        )
    assert "site admin" in result.output
    assert count(cli_engine, User) == len(demo.DEMO_USERS)


def test_seed_demo_makes_the_miku_community_with_every_role(cli, cli_engine):
    assert cli.run("seed-demo").exit_code == 0

    with Session(cli_engine) as db:
        miku = db.scalar(select(Community).where(Community.slug == "miku"))
        assert miku is not None
        assert miku.name == "Hatsune Miku Fans"
        roles = {
            m.user.username: m.role
            for m in db.scalars(select(Membership).where(Membership.community_id == miku.id))
        }
        assert set(roles.values()) == set(Role)
        assert roles["mod_rin"] == Role.moderator
        assert roles["creator_len"] == Role.creator
        assert roles["rights_crypton"] == Role.rights_holder
        assert roles["fan_luka"] == Role.fan
        admins = db.scalars(select(User.username).where(User.is_admin)).all()
        assert admins == ["admin"]
        # Every membership has its public record.
        logged = db.scalars(select(RoleChange).where(RoleChange.community_id == miku.id)).all()
        assert {c.user.username for c in logged} >= set(roles)


def test_seed_demo_if_empty_a_second_time_does_nothing(cli, cli_engine):
    first = cli.run("seed-demo", "--if-empty")
    assert first.exit_code == 0, first.output
    assert "Seeded" in first.output
    users, communities = count(cli_engine, User), count(cli_engine, Community)

    second = cli.run("seed-demo", "--if-empty")

    assert second.exit_code == 0, second.output
    assert second.output == ""
    assert (count(cli_engine, User), count(cli_engine, Community)) == (users, communities)


def test_seed_demo_without_if_empty_refuses_a_second_time(cli, cli_engine):
    assert cli.run("seed-demo").exit_code == 0
    communities = count(cli_engine, Community)
    again = cli.run("seed-demo")
    assert again.exit_code != 0
    assert "exists already" in again.output
    assert count(cli_engine, Community) == communities


def test_create_user_uses_the_configured_hash_cost(cli, cli_engine):
    env: dict[str, str | None] = {
        "NORMSFORUM_ARGON2_TIME_COST": "2",
        "NORMSFORUM_ARGON2_MEMORY_COST_KIB": "16",
    }
    result = cli.run(
        "create-user", "--username", "len", "--email", "len@example.org",
        "--password", GOOD_PASSWORD, env=env,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with Session(cli_engine) as db:
        stored = db.scalar(select(User.password_hash).where(User.username == "len"))
    assert stored is not None
    assert "$m=16,t=2,p=1$" in stored


def test_create_user_makes_an_admin(cli, cli_engine):
    result = cli.run(
        "create-user", "--username", "Len", "--email", "len@example.org",
        "--password", GOOD_PASSWORD, "--admin",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "Created admin user len." in result.output
    with Session(cli_engine) as db:
        user = db.scalar(select(User).where(User.username == "len"))
        assert user is not None
        assert user.is_admin
        assert user.email == "len@example.org"


def test_create_user_without_admin_makes_a_plain_user(cli, cli_engine):
    result = cli.run(
        "create-user", "--username", "luka", "--email", "luka@example.org",
        "--password", GOOD_PASSWORD,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Created user luka." in result.output
    with Session(cli_engine) as db:
        assert db.scalar(select(User.is_admin).where(User.username == "luka")) is False


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short", "Use at least 10 characters."),
        ("password123", "commonly used"),
        ("luka@example.org", "cannot be your email"),
    ],
)
def test_create_user_with_a_bad_password_fails_with_the_reason(cli, cli_engine, password, reason):
    result = cli.run(
        "create-user", "--username", "luka", "--email", "luka@example.org",
        "--password", password,
    )  # fmt: skip
    assert result.exit_code != 0
    assert "password" in result.output
    assert reason in result.output
    assert count(cli_engine, User) == 0


def test_create_user_twice_fails_clearly(cli, cli_engine):
    args = ("create-user", "--username", "luka", "--email", "luka@example.org",
            "--password", GOOD_PASSWORD)  # fmt: skip
    assert cli.run(*args).exit_code == 0
    again = cli.run(*args)
    assert again.exit_code != 0
    assert "exists already" in again.output
    assert count(cli_engine, User) == 1


def test_create_token_prints_a_token_that_works_as_bearer(cli, cli_engine):
    created = cli.run(
        "create-user", "--username", "len", "--email", "len@example.org",
        "--password", GOOD_PASSWORD, "--admin",
    )  # fmt: skip
    assert created.exit_code == 0, created.output

    result = cli.run("create-token", "len", "--scope", "write", "--name", "my-tool")

    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert re.fullmatch(r"nf_[A-Za-z0-9_-]{20,}", token), result.output
    with Session(cli_engine) as db:
        stored = db.scalar(select(AccessToken).where(AccessToken.name == "my-tool"))
        assert stored is not None
        assert token not in (stored.token_hash, stored.prefix)
    app = create_app(make_settings(cli.url))
    try:
        with TestClient(app) as client:
            headers = {"Authorization": f"Bearer {token}"}
            me = client.get("/api/v1/me", headers=headers)
            assert me.status_code == 200, me.text
            assert me.json()["username"] == "len"
            assert me.json()["authenticated_by"] == "token"
            made = client.post(
                "/api/v1/communities", json={"name": "From the CLI", "slug": "cli"}, headers=headers
            )
            assert made.status_code == 201, made.text
    finally:
        app.state.engine.dispose()


def test_a_token_is_read_only_unless_asked(cli):
    cli.run(
        "create-user", "--username", "len", "--email", "len@example.org",
        "--password", GOOD_PASSWORD, "--admin",
    )  # fmt: skip
    result = cli.run("create-token", "len")
    assert result.exit_code == 0, result.output
    app = create_app(make_settings(cli.url))
    try:
        with TestClient(app) as client:
            headers = {"Authorization": f"Bearer {result.output.strip()}"}
            assert client.get("/api/v1/me", headers=headers).status_code == 200
            refused = client.post(
                "/api/v1/communities", json={"name": "Read only", "slug": "ro"}, headers=headers
            )
            assert refused.status_code == 403
    finally:
        app.state.engine.dispose()


def test_create_token_for_an_unknown_user_fails(cli):
    result = cli.run("create-token", "nobody")
    assert result.exit_code != 0
    assert "There is no user called 'nobody'" in result.output


def test_create_token_with_an_unknown_scope_is_refused(cli):
    result = cli.run("create-token", "nobody", "--scope", "admin")
    assert result.exit_code != 0
    assert "admin" in result.output


@pytest.fixture
def uvicorn_calls(monkeypatch) -> list[dict[str, object]]:
    """Stand-in for uvicorn.run: records the call instead of starting a server."""
    calls: list[dict[str, object]] = []

    def fake_run(*args: object, **kwargs: object) -> None:
        calls.append({"args": args, **kwargs})

    monkeypatch.setattr(uvicorn, "run", fake_run)
    return calls


@pytest.mark.parametrize("secret", [None, "", "too-short"])
def test_serve_refuses_production_without_a_proper_secret(invoke, uvicorn_calls, secret):
    env: dict[str, str | None] = {
        "NORMSFORUM_ENVIRONMENT": "production",
        "NORMSFORUM_SECRET_KEY": secret,
    }
    result = invoke("serve", "--port", "8123", env=env)
    assert result.exit_code != 0
    assert "NORMSFORUM_SECRET_KEY" in result.output
    assert uvicorn_calls == []


def test_serve_starts_uvicorn_in_production_with_a_secret(invoke, uvicorn_calls):
    env: dict[str, str | None] = {
        "NORMSFORUM_ENVIRONMENT": "production",
        "NORMSFORUM_SECRET_KEY": TEST_SECRET,
    }
    result = invoke("serve", "--host", "127.0.0.1", "--port", "8123", "--workers", "2", env=env)
    assert result.exit_code == 0, result.output
    assert len(uvicorn_calls) == 1
    call = uvicorn_calls[0]
    assert call["args"] == ("app.main:app_factory",)
    assert (call["host"], call["port"], call["workers"], call["factory"]) == (
        "127.0.0.1", 8123, 2, True,
    )  # fmt: skip


def test_serve_trusts_forwarded_headers_only_from_the_given_proxies(invoke, uvicorn_calls):
    env: dict[str, str | None] = {
        "NORMSFORUM_ENVIRONMENT": "production",
        "NORMSFORUM_SECRET_KEY": TEST_SECRET,
    }
    result = invoke("serve", "--forwarded-allow-ips", "10.0.0.5", env=env)
    assert result.exit_code == 0, result.output
    assert uvicorn_calls[0]["proxy_headers"] is True
    assert uvicorn_calls[0]["forwarded_allow_ips"] == "10.0.0.5"
    result = invoke("serve", env=env)
    # Left to uvicorn: 127.0.0.1, or $FORWARDED_ALLOW_IPS; never every address.
    assert uvicorn_calls[1]["forwarded_allow_ips"] is None
