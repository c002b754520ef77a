"""Conditional GET: an ETag from the body's bytes, and 304 Not Modified when it still matches.

Reading the guidelines is what creators' tools do most; a tool that polls gets a 304 with no
body when nothing changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime

from fastapi import Request
from starlette.responses import Response

from app.web.csrf import token_for

#: Shared caches may keep public representations, but must ask again before reusing them.
REVALIDATE = "public, no-cache"


def etag_of(body: bytes, token: str = "") -> str:
    """The body's validator. A page holding the visitor's CSRF token is one visitor's copy:
    it is hashed around the token, then with it, so each visitor's copy has its own ETag (a
    browser given a new token must not revalidate a copy holding the old one), and a page
    kept for visitors (`app.web.pagecache`) gives each theirs without hashing the page."""
    marker = token.encode()
    if marker and marker in body:
        return visitor_etag(parts_digest(body.split(marker)), marker)
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def parts_digest(parts: Sequence[bytes]) -> bytes:
    """A digest of a page cut where a CSRF token stood."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.digest()


def visitor_etag(digest: bytes, token: bytes) -> str:
    """The ETag of the page `digest` names, joined with this visitor's `token`."""
    return '"' + hashlib.sha256(digest + token).hexdigest()[:32] + '"'


def etag_matches(header: str | None, etag: str) -> bool:
    """Whether an If-None-Match header names `etag` (weakly compared, or `*`)."""
    if not header:
        return False
    candidates = [c.strip().removeprefix("W/") for c in header.split(",")]
    return "*" in candidates or etag in candidates


def conditional(
    request: Request,
    body: bytes,
    *,
    media_type: str,
    last_modified: datetime | None = None,
    cache_control: str = REVALIDATE,
    headers: dict[str, str] | None = None,
) -> Response:
    """`body` with validators, or 304 when the client's copy is current."""
    etag = etag_of(body, token_for(request) if hasattr(request.state, "csrf_secret") else "")
    validators = {"ETag": etag, "Cache-Control": cache_control, **(headers or {})}
    if last_modified is not None:
        validators["Last-Modified"] = format_datetime(last_modified, usegmt=True)
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        fresh = etag_matches(if_none_match, etag)
    else:
        # Only when there is no If-None-Match, which is the stronger validator (RFC 9110).
        fresh = _not_modified_since(request.headers.get("if-modified-since"), last_modified)
    if fresh:
        return Response(status_code=304, headers=validators)
    return Response(body, media_type=media_type, headers=validators)


def _not_modified_since(header: str | None, last_modified: datetime | None) -> bool:
    if not header or last_modified is None:
        return False
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        return False
    return last_modified.replace(microsecond=0) <= since
