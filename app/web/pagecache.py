"""Pages kept in memory for visitors, served again while nothing visible has changed.

Most readers of a community are not signed in, and every one of them is shown the same
page for the same address and language: rendering it again for each (queries, templates)
costs 10 to 30 times what the server stack itself takes. So a page rendered for a visitor is
kept with the value of the change counter (`app.changes`) it was rendered at, and served
again while the counter has not moved, and for at most `page_cache_seconds`, so that
relative times and deadlines stay true. The counter is one indexed query, asked at most
every `RECHECK` seconds: a change made through this process is seen at once, one made
through another within that time.

What may differ between visitors is kept out of the page: the page is kept cut where the
CSRF token its forms carry was, and served joined with the visitor's own token; its `ETag`
then names the visitor's copy (a browser whose CSRF cookie was renewed must not revalidate
a copy holding the old token). Pages are kept per scheme and host too, since feeds and JSON
hold absolute links built from them. Anything
else that may be personal means no keeping: any cookie but the CSRF and language ones (a
session, a pending flash message, a sign-in under way), an access token, an htmx request, a
response that sets a cookie or says `no-store`, streams, and anything but a 200. Each
process keeps its own pages within a byte budget, least recently used first out.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

from anyio import to_thread
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import changes, i18n
from app.config import Settings
from app.web import caching
from app.web.conditional import etag_matches, parts_digest, visitor_etag
from app.web.cookies import csrf_cookie_name, language_cookie_name
from app.web.csrf import token_from

#: Kinds of answer worth keeping; anything else (streams, images, exports) is passed on.
KEPT_TYPES = (b"text/html", b"application/json", b"application/atom+xml", b"text/markdown")
#: How long the counter, once read, is taken as current without asking the database again
#: (changes made through this process are seen at once; another process's within this time).
#: Under load this spares nearly every kept page its only query.
RECHECK = 0.1
#: A page larger than this is passed on rather than crowding out many smaller ones.
LARGEST = 1024 * 1024

#: Headers a 304 repeats from the page it stands for.
VALIDATORS = (b"etag", b"cache-control", b"last-modified", b"vary")

#: (language, scheme, host, path, query)
Key = tuple[str, str, str, str, str]


@dataclass(frozen=True, slots=True)
class Memo:
    """The change counter as last read, when, and at which of this process's generations."""

    value: int
    read_at: float
    generation: int


@dataclass(frozen=True, slots=True)
class Kept:
    counter: int
    kept_at: float
    headers: list[tuple[bytes, bytes]]
    #: The page cut where the CSRF token of the visitor it was rendered for stood.
    parts: tuple[bytes, ...]
    etag: bytes | None
    #: `conditional.parts_digest(parts)`, when the page has an ETag and a token.
    digest: bytes | None = None

    @property
    def size(self) -> int:
        return sum(len(part) for part in self.parts)

    def body(self, token: bytes) -> bytes:
        return token.join(self.parts)

    def etag_for(self, token: bytes) -> bytes | None:
        """The validator of the visitor's own copy, as the route would give it them
        (`conditional.etag_of`); the kept one if the page holds no token."""
        if self.digest is None:
            return self.etag
        return visitor_etag(self.digest, token).encode()


class PageCache:
    """Kept pages by (language, scheme, host, path, query), least recently used dropped
    first."""

    def __init__(self, max_bytes: int, max_age: float) -> None:
        self.max_bytes = max_bytes
        self.max_age = max_age
        self.size = 0
        self.pages: OrderedDict[Key, Kept] = OrderedDict()
        self.hits = 0
        self.misses = 0
        self.memo: Memo | None = None

    def get(self, key: Key, counter: int, now: float) -> Kept | None:
        kept = self.pages.get(key)
        if kept is None or kept.counter != counter or now - kept.kept_at > self.max_age:
            self.misses += 1
            return None
        self.pages.move_to_end(key)
        self.hits += 1
        return kept

    def put(self, key: Key, kept: Kept) -> None:
        self.discard(key)
        self.pages[key] = kept
        self.size += kept.size
        while self.size > self.max_bytes and self.pages:
            _, dropped = self.pages.popitem(last=False)
            self.size -= dropped.size

    def clear(self) -> None:
        self.pages.clear()
        self.size = 0
        self.memo = None

    def discard(self, key: Key) -> None:
        old = self.pages.pop(key, None)
        if old is not None:
            self.size -= old.size


class VisitorPageCacheMiddleware:
    """Serves visitors' GETs from the `PageCache` while the change counter stands still.

    Sits inside `DBSessionMiddleware` (it reads the counter in the request's transaction)
    and inside the CSRF cookie middleware (it needs the visitor's CSRF secret).
    """

    def __init__(self, app: ASGIApp, settings: Settings, cache: PageCache) -> None:
        self.app = app
        self.settings = settings
        self.cache = cache
        # Cookies known to say nothing about who the visitor is: the CSRF secret (its token
        # is put in on the way out) and the language (part of the key). Any other cookie (a
        # session, a one-time message, a sign-in under way, or one we do not know) may shape
        # the page, so its bearer is rendered for.
        self.neutral_cookies = {csrf_cookie_name(settings), language_cookie_name(settings)}

    def _eligible(self, scope: Scope) -> bool:
        if scope["type"] != "http" or scope["method"] != "GET":
            return False
        path: str = scope["path"]
        if path.startswith("/static/") or path == "/healthz" or caching.is_private(path):
            return False
        connection = HTTPConnection(scope)
        headers = connection.headers
        if "authorization" in headers or "hx-request" in headers:
            return False
        if "if-modified-since" in headers and "if-none-match" not in headers:
            # Kept pages answer If-None-Match; dates are the route's to compare.
            return False
        return all(name in self.neutral_cookies for name in connection.cookies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._eligible(scope):
            await self.app(scope, receive, send)
            return
        state = scope["state"]
        counter = await self._counter(state["db"])
        if counter is None:
            await self.app(scope, receive, send)
            return
        host = Headers(scope=scope).get("host", "")
        query = scope["query_string"].decode("latin-1")
        key = (i18n.current(), scope["scheme"], host, scope["path"], query)
        token = token_from(self.settings, state["csrf_secret"]).encode()
        kept = self.cache.get(key, counter, time.monotonic())
        if kept is not None:
            await self._serve(kept, token, Headers(scope=scope), send)
            return
        await self._render_and_keep(scope, receive, send, key, counter, token)

    async def _counter(self, db: Session) -> int | None:
        """The change counter, read at most every `RECHECK` seconds unless this process
        changed something meanwhile."""
        now = time.monotonic()
        generation = changes.local_generation()
        memo = self.cache.memo
        if memo is not None and memo.generation == generation and now - memo.read_at < RECHECK:
            return memo.value
        try:
            value = await to_thread.run_sync(changes.current, db)
        except SQLAlchemyError:
            # The app answers for itself (an error page, or 503 from the health check).
            await to_thread.run_sync(db.rollback)
            return None
        # The generation read before the query: a change counted meanwhile reads again.
        self.cache.memo = Memo(value, now, generation) if value is not None else None
        return value

    async def _serve(self, kept: Kept, token: bytes, request: Headers, send: Send) -> None:
        etag = kept.etag_for(token)
        headers = kept.headers
        if etag != kept.etag:
            headers = [(k, etag if k == b"etag" and etag else v) for k, v in headers]
        if etag is not None and etag_matches(request.get("if-none-match"), etag.decode("latin-1")):
            validators = [(k, v) for k, v in headers if k in VALIDATORS]
            await send({"type": "http.response.start", "status": 304, "headers": validators})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": kept.body(token)})

    async def _render_and_keep(
        self, scope: Scope, receive: Receive, send: Send, key: Key, counter: int, token: bytes
    ) -> None:
        # The headers as the app sent them, copied before the middlewares outside this one
        # add theirs (the visitor's CSRF cookie among them) to the same message.
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []
        keeping = True
        size = 0

        async def capture(message: Message) -> None:
            nonlocal keeping, size
            if message["type"] == "http.response.start":
                keeping = _keepable(message)
                headers.extend((bytes(k), bytes(v)) for k, v in message.get("headers", []))
            elif message["type"] == "http.response.body" and keeping:
                body: bytes = message.get("body", b"")
                size += len(body)
                if size > LARGEST:
                    keeping = False
                    chunks.clear()
                else:
                    chunks.append(body)
                if not message.get("more_body", False) and keeping:
                    self._keep(key, counter, headers, b"".join(chunks), token)
            await send(message)

        await self.app(scope, receive, capture)

    def _keep(
        self, key: Key, counter: int, headers: list[tuple[bytes, bytes]], body: bytes, token: bytes
    ) -> None:
        etag = next((v for k, v in headers if k == b"etag"), None)
        parts = tuple(body.split(token))
        digest = parts_digest(parts) if etag is not None and len(parts) > 1 else None
        self.cache.put(key, Kept(counter, time.monotonic(), headers, parts, etag, digest))


def _keepable(start: Message) -> bool:
    if start["status"] != 200:
        return False
    headers = Headers(raw=start.get("headers", []))
    if "set-cookie" in headers or "no-store" in headers.get("cache-control", ""):
        return False
    content_type = headers.get("content-type", "").encode("latin-1")
    return content_type.startswith(KEPT_TYPES)
