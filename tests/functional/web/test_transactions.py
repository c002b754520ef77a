"""One transaction per request: committed on success, rolled back on errors."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.accounts import service as accounts_service
from app.accounts.models import User
from app.db import utcnow
from app.errors import Conflict
from app.web.deps import SessionDep
from tests.conftest import csrf_token, post_form
from tests.factories import PASSWORD
from tests.functional.web.apps import MakeApp


def add_user(db, username: str) -> None:
    accounts_service.create_user(
        db, username=username, email=f"{username}@example.org", password=PASSWORD, now=utcnow()
    )


@pytest.fixture
def app_with_test_routes(make_app: MakeApp) -> FastAPI:
    app = make_app()

    @app.post("/_test/write")
    def write(db: SessionDep) -> dict[str, str]:
        add_user(db, "stored")
        return {"ok": "yes"}

    @app.post("/_test/write-then-refuse")
    def write_then_refuse(db: SessionDep) -> None:
        add_user(db, "refused")
        raise Conflict("Changed my mind.")

    @app.post("/_test/write-then-crash")
    def write_then_crash(db: SessionDep) -> None:
        add_user(db, "crashed")
        raise RuntimeError("boom")

    @app.post("/api/v1/_test/write-then-refuse")
    def api_write_then_refuse(db: SessionDep) -> None:
        add_user(db, "api-refused")
        raise Conflict("Changed my mind.")

    return app


def exists(db, username: str) -> bool:
    db.expire_all()
    return db.scalar(select(User.id).where(User.username == username)) is not None


def test_successful_request_is_committed(client_for, app_with_test_routes, db):
    client = client_for(app_with_test_routes)
    assert post_form(client, "/_test/write").status_code == 200
    assert exists(db, "stored")


def test_domain_error_after_a_write_rolls_back(client_for, app_with_test_routes, db):
    client = client_for(app_with_test_routes)
    response = post_form(client, "/_test/write-then-refuse")
    assert response.status_code == 409
    assert "Changed my mind." in response.text
    assert not exists(db, "refused")


def test_api_domain_error_after_a_write_rolls_back(client_for, app_with_test_routes, db):
    client = client_for(app_with_test_routes)
    response = client.post(
        "/api/v1/_test/write-then-refuse", headers={"X-CSRF-Token": csrf_token(client)}
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert not exists(db, "api-refused")


def test_server_error_after_a_write_rolls_back(client_for, app_with_test_routes, db):
    client = client_for(app_with_test_routes, raise_server_exceptions=False)
    response = post_form(client, "/_test/write-then-crash")
    assert response.status_code == 500
    assert "The server failed to answer" in response.text
    assert "boom" not in response.text
    assert not exists(db, "crashed")


def test_csrf_refusal_stores_nothing(client_for, app_with_test_routes, db):
    client = client_for(app_with_test_routes)
    assert client.post("/_test/write").status_code == 403
    assert not exists(db, "stored")


def test_register_is_stored(client, db):
    response = post_form(
        client,
        "/register",
        {
            "username": "newcomer",
            "display_name": "New",
            "email": "new@example.org",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 303
    assert exists(db, "newcomer")
