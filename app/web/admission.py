"""A bound on the requests a worker process works on at once."""

from __future__ import annotations

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class AdmissionMiddleware:
    """Lets at most `limit` HTTP requests at a time into the app, in order of arrival; the
    others wait here, holding nothing, until one of them has started its response.

    Why: a request in flight holds memory (its rows, objects and page) and, once it has
    queried, a pooled connection; its commit and close then need a thread of the pool. With
    more requests than connections, threads waiting for a connection could fill the thread
    pool while the requests holding the connections wait for a thread to commit: all stuck
    until the pool's timeout. Admitting fewer requests than there are connections
    (`app.db.REQUESTS_AT_ONCE`) makes that impossible, and keeps a worker's memory bounded
    under any load (issue 9). One process runs Python on one core at a time: more at once would
    not answer sooner.

    The slot is given back when the response starts (the session has committed by then, see
    `DBSessionMiddleware`), so a long response body, such as a live event stream, does not
    hold it.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        # Made on the first request, inside the server's event loop.
        self._slots: anyio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._slots is None:
            self._slots = anyio.Semaphore(self.limit, fast_acquire=True)
        slots = self._slots
        await slots.acquire()
        held = True

        def give_back() -> None:
            nonlocal held
            if held:
                held = False
                slots.release()

        async def send_and_give_back(message: Message) -> None:
            if message["type"] == "http.response.start":
                give_back()
            await send(message)

        try:
            await self.app(scope, receive, send_and_give_back)
        finally:
            give_back()
