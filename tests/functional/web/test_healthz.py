"""The health check answers 200 when the database answers, 503 when it does not."""

from __future__ import annotations

import pytest


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_healthz_is_503_when_the_database_is_unreachable(make_app, tmp_path, kind):
    from fastapi.testclient import TestClient

    if kind == "sqlite":
        # A directory where the database file should be: SQLite cannot open it.
        (tmp_path / "db.sqlite").mkdir()
        url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    else:
        # Nothing listens on port 1 of the loopback interface.
        url = "postgresql+psycopg://nobody@127.0.0.1:1/nothing?connect_timeout=2"
    app = make_app(database_url=url)
    with TestClient(app, base_url="http://testserver") as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.headers["content-type"].startswith("application/json")
