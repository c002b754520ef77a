"""Vendored front-end files match the integrity hashes the pages send to browsers."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from app.config import PROJECT_ROOT

BASE_TEMPLATE = PROJECT_ROOT / "templates" / "base.html"
SCRIPT_TAG = re.compile(
    r"<script\b[^>]*\bsrc=\"\{\{ static_url\('(?P<path>[^']+)'\) \}\}\"[^>]*>", re.IGNORECASE
)


def vendored_scripts() -> list[tuple[str, str | None]]:
    """(path under static/, integrity attribute or None) for each script of the base template."""
    found = []
    for match in SCRIPT_TAG.finditer(BASE_TEMPLATE.read_text("utf-8")):
        integrity = re.search(r'integrity="([^"]+)"', match.group(0))
        found.append((match.group("path"), integrity.group(1) if integrity else None))
    return found


def sri_sha384(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def test_base_template_loads_htmx_2_0_11_with_integrity():
    scripts = dict(vendored_scripts())
    assert "vendor/htmx-2.0.11.min.js" in scripts
    assert scripts["vendor/htmx-2.0.11.min.js"] is not None


@pytest.mark.parametrize(
    ("path", "integrity"),
    [(path, integrity) for path, integrity in vendored_scripts() if path.startswith("vendor/")],
)
def test_vendored_file_matches_its_integrity_attribute(path, integrity):
    data = (PROJECT_ROOT / "static" / path).read_bytes()
    assert integrity == sri_sha384(data)


def test_every_vendored_script_has_an_integrity_attribute():
    for path, integrity in vendored_scripts():
        if path.startswith("vendor/"):
            assert integrity is not None, path


def test_htmx_file_is_the_2_0_11_release():
    data = (PROJECT_ROOT / "static" / "vendor" / "htmx-2.0.11.min.js").read_bytes()
    assert b'version:"2.0.11"' in data.replace(b" ", b"")


def test_base_template_loads_the_sse_extension_2_2_4():
    scripts = dict(vendored_scripts())
    assert scripts.get("vendor/htmx-ext-sse-2.2.4.min.js") is not None
    data = (PROJECT_ROOT / "static" / "vendor" / "htmx-ext-sse-2.2.4.min.js").read_bytes()
    assert b'defineExtension("sse"' in data
