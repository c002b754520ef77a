"""The OpenID Connect plumbing that needs no provider: discovery's issuer check, the refusal
messages, and the settings that configure providers."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from app.accounts import oidc
from app.config import OIDCProvider
from tests.conftest import make_settings
from tests.support.loops import run

PROVIDER = OIDCProvider(
    name="exampleid",
    display_name="Example ID",
    issuer="https://id.example.org/",
    client_id="client",
    client_secret="not-a-real-secret",
)


class Metadata:
    def __init__(self, metadata: dict[str, Any]) -> None:
        self.metadata = metadata

    async def load_server_metadata(self) -> dict[str, Any]:
        return self.metadata


def test_discovery_must_name_the_configured_issuer():
    found = run(oidc._discover(Metadata({"issuer": "https://id.example.org"}), PROVIDER))
    assert found["issuer"] == "https://id.example.org"
    with pytest.raises(oidc.FlowFailed, match="issuer does not match"):
        run(oidc._discover(Metadata({"issuer": "https://evil.example"}), PROVIDER))
    with pytest.raises(oidc.FlowFailed):
        run(oidc._discover(Metadata({}), PROVIDER))


class Refusal(Exception):
    def __init__(self, error: str, description: str = "") -> None:
        super().__init__(error)
        self.error = error
        self.description = description


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ("mismatching_state", "state does not match"),
        ("access_denied", "did not sign you in: no thanks"),
        ("invalid_grant", "code was used already"),
        ("server_error", "(server_error)"),
    ],
)
def test_refusals_say_what_happened(error, expected):
    assert expected in oidc._refusal(PROVIDER, Refusal(error, "no thanks."))


def test_a_forged_description_is_cut_short():
    message = oidc._refusal(PROVIDER, Refusal("access_denied", "x" * 5000))
    assert len(message) < 300


def test_provider_settings_from_json(monkeypatch):
    monkeypatch.setenv(
        "NORMSFORUM_OIDC_PROVIDERS",
        '[{"name": "exampleid", "display_name": "Example ID", "issuer": "https://id.example.org",'
        ' "client_id": "c", "client_secret": "s"}]',
    )
    settings = make_settings("sqlite://")
    (provider,) = settings.oidc_providers
    assert provider.metadata_url == "https://id.example.org/.well-known/openid-configuration"
    assert provider.client_secret.get_secret_value() == "s"
    assert oidc.redirect_uri(settings, provider) == (
        "http://testserver/auth/oidc/exampleid/callback"
    )


@pytest.mark.parametrize(
    "entry",
    [
        {"name": "Bad Name"},
        {"issuer": "ftp://id.example.org"},
        {"issuer": "https://id.example.org?x=1"},
        {"display_name": ""},
    ],
)
def test_bad_provider_settings_are_refused(entry):
    values = {**PROVIDER.model_dump(), "client_secret": "s", **entry}
    with pytest.raises(ValidationError):
        make_settings("sqlite://", oidc_providers=[values])


def test_provider_names_are_unique():
    values = {**PROVIDER.model_dump(), "client_secret": "s"}
    with pytest.raises(ValidationError, match="name of its own"):
        make_settings("sqlite://", oidc_providers=[values, values])
