"""Cache-Control for every response that does not set its own.

Pages are rendered per visitor (the header names who is signed in, forms carry a CSRF token
tied to a cookie), so no shared cache may keep them: `private, no-cache` lets the browser
keep a copy for going back and forth while asking again before showing it. Pages about an
account (its tokens, sessions, exported data, the moderators' queues) are never stored at
all. Assets whose address carries their content hash (`static_url`) never change, so they
are cached for a year. Routes that know better (the guidelines, feeds and JSON, with their
ETag; live streams; previews) set their own header, which is kept.
"""

from __future__ import annotations

import re

#: Revalidate before each use; never in a shared cache.
PER_VISITOR = "private, no-cache"
#: Personal or secret: not kept anywhere.
NO_STORE = "no-store"
#: A static asset addressed by its content hash.
IMMUTABLE = "public, max-age=31536000, immutable"
#: A static asset addressed by name only: keep it, but ask if it changed.
REVALIDATE = "public, no-cache"

#: Paths whose answers are about one account or for moderators only.
_PRIVATE = re.compile(
    r"^/(profile|admin|notifications|api/v1/(me|notifications|warnings|appeals))(/|$)"
    r"|^/c/[^/]+/(moderation|ratification)(/|$)"
    r"|^/api/v1/communities/[^/]+/(flags|suspensions|appeals)(/|$)"
)


def is_private(path: str) -> bool:
    """Whether answers at `path` are about one account or for moderators only."""
    return _PRIVATE.match(path) is not None


def policy(method: str, path: str, query: str, status: int) -> str:
    """The Cache-Control of an answer to `method path?query` with `status`."""
    if method not in ("GET", "HEAD") or (status >= 300 and status != 304):
        return NO_STORE
    if path.startswith("/static/"):
        return IMMUTABLE if re.search(r"(^|&)v=", query) else REVALIDATE
    if is_private(path):
        return NO_STORE
    return PER_VISITOR
