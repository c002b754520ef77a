"""Request bodies over the limit are refused with 413 before they are read, on every door."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.functional.web.apps import form_token

LIMIT = 64 * 1024


@pytest.fixture
def small(make_app, client_for):
    """An app that takes at most 64 KiB per request."""
    return client_for(make_app(max_request_bytes=LIMIT))


def test_an_api_body_over_the_limit_gets_a_json_413(small):
    big = {"body": "x" * (LIMIT + 1)}
    response = small.post("/api/v1/proposals/1/comments", json=big)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert "larger than" in response.json()["error"]["message"]


def test_a_form_over_the_limit_gets_the_error_page(small):
    response = small.post(
        "/login", data={"csrf_token": form_token(small), "login": "x" * (LIMIT + 1)}
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "Too large" in response.text


def test_a_body_without_a_declared_length_is_counted_as_it_arrives(small):
    def chunks() -> Iterator[bytes]:
        for _ in range(LIMIT // 1024 + 2):
            yield b"x" * 1024

    response = small.post(
        "/api/v1/proposals/1/comments",
        content=chunks(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert "content-length" not in {k.lower() for k in response.request.headers}


def test_a_body_under_the_limit_goes_through(small):
    response = small.post("/login", data={"csrf_token": form_token(small), "login": "miku"})
    assert response.status_code == 400
