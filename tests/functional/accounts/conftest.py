from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from app.main import create_app
from tests.conftest import make_settings
from tests.functional.web.apps import client_for, make_app
from tests.oidc.fixtures import LoopbackProvider, oidc_provider

__all__ = ["client_for", "make_app", "oidc_provider"]


@pytest.fixture(scope="session")
def oidc_app(database_url: str, oidc_provider: LoopbackProvider) -> Iterator[FastAPI]:
    """An app offering sign-in with the test provider, which knows its callback address.

    One for the session: building an app costs most of a second, and its OpenID client keeps
    the provider's metadata and keys as a running site does.
    """
    settings = make_settings(
        database_url, oidc_providers=[oidc_provider.settings_for("http://testserver")]
    )
    app = create_app(settings)
    yield app
    app.state.engine.dispose()


@pytest.fixture
def provider_browser() -> Iterator[httpx.Client]:
    """The browser's side at the provider: its own cookies, real HTTP on loopback."""
    with httpx.Client(timeout=10) as browser:
        yield browser
