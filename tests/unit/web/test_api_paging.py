"""The JSON API's shared pieces: cursors, the error shape and declared error responses."""

from __future__ import annotations

import base64

import pytest

from app.errors import ValidationFailed
from app.web.api import (
    COMMON_ERRORS,
    ErrorResponse,
    decode_cursor,
    encode_cursor,
    error_responses,
    next_cursor,
)


def raw_cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize("last_id", [0, 1, 7, 99, 12345, 2**31, 2**63 - 1])
def test_cursor_round_trip(last_id):
    cursor = encode_cursor(last_id)
    assert "=" not in cursor
    assert decode_cursor(cursor) == last_id


@pytest.mark.parametrize("cursor", [None, ""])
def test_no_cursor_is_the_first_page(cursor):
    assert decode_cursor(cursor) is None


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64!",
        "x",
        raw_cursor("abc"),
        raw_cursor("-1"),
        raw_cursor("1.5"),
        raw_cursor(str(2**63)),
        raw_cursor("9" * 40),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_bad_cursor_is_a_validation_error(cursor):
    with pytest.raises(ValidationFailed) as caught:
        decode_cursor(cursor)
    assert set(caught.value.fields) == {"cursor"}


def test_next_cursor_only_when_the_page_is_full():
    assert next_cursor([1, 2, 3], 3) == encode_cursor(3)
    assert next_cursor([1, 2], 3) is None
    assert next_cursor([], 3) is None


def test_error_responses_declare_the_error_shape():
    declared = error_responses(404, 409)
    assert set(declared) == {404, 409}
    assert declared[404]["model"] is ErrorResponse
    assert set(COMMON_ERRORS) == {401, 403, 422, 429}


def test_error_shape():
    body = ErrorResponse.model_validate(
        {"error": {"code": "not_found", "message": "Nothing here."}}
    ).model_dump()
    assert body == {"error": {"code": "not_found", "message": "Nothing here.", "fields": {}}}
