"""Two app processes on one database: a page one process keeps for visitors is rendered
afresh once the other commits a change (within `RECHECK` seconds), since the change counter
lives in the database."""

from __future__ import annotations

import time

import httpx
from sqlalchemy import text

from app import migrate
from app.db import create_db_engine
from app.web.pagecache import RECHECK
from tests.functional.discussion.test_live_across_processes import seed
from tests.support.live import serve


def test_a_change_through_one_process_reaches_visitors_of_another(make_database_url):
    url = make_database_url("cache-two")
    migrate.upgrade(url)
    proposal_id, token = seed(url)
    settings = {"sweep_interval_seconds": "0", "page_cache_seconds": "3600"}
    with serve(url, **settings) as writer, serve(url, **settings) as reader:
        page = f"{reader}/c/miku/proposals/{proposal_id}"
        first = httpx.get(page, timeout=10)
        assert first.status_code == 200
        assert "kept across processes" not in first.text
        # A change made behind the app's back (no session, so no count) is not seen: the
        # page is served as kept.
        engine = create_db_engine(url)
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE proposals SET title = 'Credit the whole lineage' WHERE id = :id"),
                {"id": proposal_id},
            )
        engine.dispose()
        assert "Credit the whole lineage" not in httpx.get(page, timeout=10).text

        posted = httpx.post(
            f"{writer}/api/v1/proposals/{proposal_id}/comments",
            json={"body": "A comment, kept across processes."},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert posted.status_code == 201, posted.text
        # The reader asks the database for the counter again within `RECHECK` seconds.
        time.sleep(RECHECK * 3)

        fresh = httpx.get(page, timeout=10).text
        assert "kept across processes" in fresh
        assert "Credit the whole lineage" in fresh
