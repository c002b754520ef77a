"""Redirect helpers: only same-site paths may follow sign-in."""

from __future__ import annotations

import pytest

from app.web.responses import safe_next


@pytest.mark.parametrize("target", ["/", "/profile", "/c/miku?tab=members", "/c/miku#top"])
def test_same_site_paths_are_kept(target):
    assert safe_next(target) == target


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "profile",
    ],
)
def test_anything_else_falls_back(target):
    assert safe_next(target) == "/"
    assert safe_next(target, "") == ""
