"""Settings: refuse a public secret when serving; accept PostgreSQL URLs as operators paste them."""

from __future__ import annotations

import pytest

from app.config import DEVELOPMENT_SECRET, ConfigError, Settings
from app.main import create_app
from tests.conftest import CHEAP_ARGON2, TEST_SECRET, make_settings

SQLITE = "sqlite:///var/unused.db"


def settings(**values: object) -> Settings:
    # No .env file and no NORMSFORUM_ variables from the machine running the tests.
    return Settings(_env_file=None, **{"database_url": SQLITE, **CHEAP_ARGON2, **values})  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ("SECRET_KEY", "ENVIRONMENT", "DATABASE_URL", "BASE_URL"):
        monkeypatch.delenv(f"NORMSFORUM_{name}", raising=False)


def test_production_is_the_default_environment():
    assert settings().environment == "production"


@pytest.mark.parametrize("secret", ["", DEVELOPMENT_SECRET])
def test_production_refuses_a_missing_or_public_secret(secret):
    with pytest.raises(ConfigError) as caught:
        settings(environment="production", secret_key=secret).check_for_serving()
    message = str(caught.value)
    assert "NORMSFORUM_SECRET_KEY" in message
    assert "secrets.token_urlsafe" in message  # tells the operator how to make one


def test_production_refuses_a_short_secret():
    with pytest.raises(ConfigError, match="at least 32 characters"):
        settings(environment="production", secret_key="too-short").check_for_serving()


def test_production_accepts_a_real_secret():
    configured = settings(environment="production", secret_key=TEST_SECRET)
    configured.check_for_serving()
    assert configured.secret == TEST_SECRET


def test_secret_is_never_printed():
    configured = settings(environment="production", secret_key=TEST_SECRET)
    assert TEST_SECRET not in repr(configured)
    assert TEST_SECRET not in str(configured.model_dump())


@pytest.mark.parametrize("secret", ["", DEVELOPMENT_SECRET])
def test_create_app_refuses_to_serve_production_without_a_secret(secret):
    with pytest.raises(ConfigError, match="NORMSFORUM_SECRET_KEY"):
        create_app(settings(environment="production", secret_key=secret))


def test_create_app_refuses_it_from_the_environment_too(monkeypatch):
    monkeypatch.setenv("NORMSFORUM_ENVIRONMENT", "production")
    monkeypatch.setenv("NORMSFORUM_DATABASE_URL", SQLITE)
    with pytest.raises(ConfigError):
        create_app(Settings(_env_file=None, **CHEAP_ARGON2))  # type: ignore[arg-type]


@pytest.mark.parametrize("environment", ["development", "test"])
def test_development_and_tests_work_without_a_secret(environment):
    configured = settings(environment=environment)
    configured.check_for_serving()
    assert configured.secret == DEVELOPMENT_SECRET


def test_create_app_in_development_without_a_secret(database_url):
    app = create_app(make_settings(database_url, environment="development", secret_key=""))
    try:
        assert app.state.settings.secret == DEVELOPMENT_SECRET
    finally:
        app.state.engine.dispose()


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://u:p@127.0.0.1:5432/db", "postgresql+psycopg://u:p@127.0.0.1:5432/db"),
        ("postgres://u@127.0.0.1/db", "postgresql+psycopg://u@127.0.0.1/db"),
        ("postgresql+psycopg://u@127.0.0.1/db", "postgresql+psycopg://u@127.0.0.1/db"),
        ("sqlite:///var/normsforum.db", "sqlite:///var/normsforum.db"),
    ],
)
def test_postgresql_urls_use_psycopg_3(given, used):
    assert settings(database_url=given).database_url == used


def test_postgresql_url_from_the_environment_is_rewritten(monkeypatch):
    monkeypatch.setenv("NORMSFORUM_DATABASE_URL", "postgresql://u@127.0.0.1/db")
    assert Settings(_env_file=None).database_url == "postgresql+psycopg://u@127.0.0.1/db"


@pytest.mark.parametrize(
    ("base_url", "https", "origin"),
    [
        ("http://127.0.0.1:8000", False, "http://127.0.0.1:8000"),
        ("https://forum.example", True, "https://forum.example"),
        ("https://forum.example/sub/path/", True, "https://forum.example"),
    ],
)
def test_base_url_gives_scheme_and_origin(base_url, https, origin):
    configured = settings(base_url=base_url)
    assert configured.is_https is https
    assert configured.base_origin == origin


def test_limits_refuse_nonsense():
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        settings(session_idle_minutes=0)
    with pytest.raises(ValidationError):
        settings(environment="staging")
