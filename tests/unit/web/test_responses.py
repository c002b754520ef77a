"""Redirect helpers: only same-site paths may follow sign-in; refusals of one-button forms."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from starlette.requests import Request

from app.errors import Conflict, RateLimited
from app.web.responses import after_action, safe_next


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


def _refuse(exc: Exception):
    def run() -> None:
        raise exc

    return run


def test_a_rate_limit_is_never_turned_into_a_redirect():
    # The error handler answers it 429 with Retry-After; a redirect would hide both.
    request = SimpleNamespace(state=SimpleNamespace())
    limit = RateLimited("Too many flags.", retry_after=60)
    with pytest.raises(RateLimited):
        after_action(request, "/", _refuse(limit), "Done.", refusals=(RateLimited,))  # type: ignore[arg-type]
    assert request.state.db_rollback is True


def test_other_refusals_go_back_with_an_error_message(app):
    request = Request({"type": "http", "app": app, "headers": [], "state": {}})
    response = after_action(request, "/back", _refuse(Conflict("It changed.")), "Done.")
    assert response.status_code == 303
    assert response.headers["location"] == "/back"
