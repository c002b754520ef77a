"""The test OpenID provider (`provider.js` beside this file, node-oidc-provider) started on a
free loopback port for the session, and helpers to sign in through it as a browser would.

Import `oidc_provider` into a conftest or test module to use it. Without Node or without
`npm ci --prefix tests/oidc` the tests that need it are skipped, unless
NORMSFORUM_REQUIRE_OIDC or NORMSFORUM_REQUIRE_BROWSER is set (as CI sets them): then they fail.
"""

from __future__ import annotations

import json
import re
import secrets
import select
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from tests.conftest import required

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "provider.js"
PROVIDER_NAME = "testid"
PROVIDER_DISPLAY_NAME = "Test ID"

#: The provider's own accounts (fake credentials, valid nowhere else).
ACCOUNTS: dict[str, dict[str, Any]] = {
    "hatsune": {
        "sub": "3f9c2a7e-hatsune",
        "password": "provider-pass-hatsune",
        "email": "hatsune.provider@example.org",
        "email_verified": True,
        "name": "Hatsune at the Provider",
    },
    # Uses the address of a local account in the tests: it must not get into that account.
    "rin": {
        "sub": "8b41d0c5-rin",
        "password": "provider-pass-rin",
        "email": "rin@example.org",
        "email_verified": True,
        "name": "Rin Elsewhere",
    },
    "len": {
        "sub": "c07e19aa-len",
        "password": "provider-pass-len",
        "email": "len.unverified@example.org",
        "email_verified": False,
        "name": "Len",
    },
}


@dataclass
class LoopbackProvider:
    issuer: str
    control_token: str

    def new_client(self, name: str = PROVIDER_NAME) -> dict[str, str]:
        """An entry of NORMSFORUM_OIDC_PROVIDERS with fresh client credentials; the provider
        accepts them once `allow` gives it the app's address (known only once it runs)."""
        return {
            "name": name,
            "display_name": PROVIDER_DISPLAY_NAME,
            "issuer": self.issuer,
            "client_id": "normsforum-" + secrets.token_hex(4),
            "client_secret": secrets.token_urlsafe(24),
        }

    def allow(self, entry: dict[str, str], base_url: str) -> None:
        """Register the client of `entry` with the exact callback of the app at `base_url`."""
        callback = f"{base_url.rstrip('/')}/auth/oidc/{entry['name']}/callback"
        response = httpx.post(
            f"{self.issuer}/__test__/clients",
            json={
                "client_id": entry["client_id"],
                "client_secret": entry["client_secret"],
                "redirect_uris": [callback],
            },
            headers={"x-control-token": self.control_token},
            timeout=5,
        )
        response.raise_for_status()

    def settings_for(self, base_url: str, name: str = PROVIDER_NAME) -> dict[str, str]:
        """A registered client for an app whose address is known beforehand."""
        entry = self.new_client(name)
        self.allow(entry, base_url)
        return entry


def _missing() -> str | None:
    if shutil.which("node") is None:
        return "Node.js is not installed (apt-get install nodejs npm)"
    if not (HERE / "node_modules" / "oidc-provider" / "package.json").is_file():
        return "the test OpenID provider is not installed (npm ci --prefix tests/oidc)"
    return None


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[LoopbackProvider]:
    """A real OpenID provider on loopback for the whole session."""
    missing = _missing()
    if missing is not None:
        if required("NORMSFORUM_REQUIRE_OIDC") or required("NORMSFORUM_REQUIRE_BROWSER"):
            pytest.fail(f"The OpenID Connect tests are required, but {missing}.")
        pytest.skip(f"{missing}; CI installs it and requires these tests")
    node = shutil.which("node")
    assert node is not None
    token = secrets.token_urlsafe(24)
    env = {
        "PATH": str(Path(node).parent),
        "OIDC_TEST_ACCOUNTS": json.dumps(ACCOUNTS),
        "OIDC_TEST_CONTROL_TOKEN": token,
    }
    process = subprocess.Popen(
        [node, str(SCRIPT)], cwd=HERE, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 20)
        line = process.stdout.readline() if ready else ""
        if not line.startswith("listening "):
            raise RuntimeError(f"the test OpenID provider did not start: {line!r}")
        yield LoopbackProvider(issuer=line.split()[1], control_token=token)
    finally:
        process.terminate()
        process.wait(timeout=10)


def login_form_action(page: httpx.Response) -> str:
    """The absolute address the provider's login form posts to."""
    match = re.search(r'<form method="post" action="([^"]+)"', page.text)
    assert match, f"no login form at the provider: {page.status_code} {page.text[:300]}"
    return urljoin(str(page.url), str(match.group(1)))


def through_provider(browser: httpx.Client, authorize_url: str, login: str, password: str) -> str:
    """Act as the browser at the provider: open `authorize_url`, sign in on its form if it
    asks, and follow its redirects until one leaves it; returns that address (the app's
    callback with a code and state, or with an error)."""
    provider = urlsplit(authorize_url).netloc
    response = browser.get(authorize_url, follow_redirects=False)
    for _ in range(10):
        if response.is_redirect:
            target = urljoin(str(response.url), response.headers["location"])
            if urlsplit(target).netloc != provider:
                return target
            response = browser.get(target, follow_redirects=False)
        elif response.status_code == 200 and "<form" in response.text:
            response = browser.post(
                login_form_action(response),
                data={"login": login, "password": password},
                follow_redirects=False,
            )
        else:
            break
    raise AssertionError(f"the provider did not send the browser back: {response.status_code}")
