"""New accounts through the app: no links in comments, fewer comments and proposals an hour,
with clear messages on the pages and in the API; the limits are settings."""

from __future__ import annotations

from datetime import timedelta

from app.db import utcnow
from tests.conftest import csrf_token, log_in
from tests.functional.web.apps import client_for, make_app

__all__ = ["client_for", "make_app"]


def test_a_new_account_cannot_post_a_link(client, cast, bearer):
    url = f"/api/v1/proposals/{cast.proposal.id}/comments"
    response = client.post(
        url, json={"body": "Buy at https://spam.example"}, headers=bearer(cast.fans[0])
    )
    assert response.status_code == 422
    problem = response.json()["error"]["fields"]["body"]
    assert problem.startswith("New accounts cannot post links during their first 24 hours.")
    log_in(client, "fan_luka")
    page = client.post(
        f"/c/miku/proposals/{cast.proposal.id}/comments",
        data={"csrf_token": csrf_token(client), "body": "See [this](https://spam.example)"},
    )
    assert page.status_code == 422
    assert "New accounts cannot post links" in page.text


def test_an_older_account_may(client, db, cast, bearer):
    cast.fans[0].created_at = utcnow() - timedelta(days=2)
    db.flush()
    url = f"/api/v1/proposals/{cast.proposal.id}/comments"
    response = client.post(
        url, json={"body": "See https://ok.example"}, headers=bearer(cast.fans[0])
    )
    assert response.status_code == 201, response.text


def test_the_hourly_limits_are_settings(make_app, client_for, cast, bearer):
    app = make_app(new_account_comments_per_hour=2, new_account_proposals_per_hour=1)
    client = client_for(app)
    headers = bearer(cast.fans[0])
    comments = f"/api/v1/proposals/{cast.proposal.id}/comments"
    for n in range(2):
        assert client.post(comments, json={"body": f"#{n}"}, headers=headers).status_code == 201
    refused = client.post(comments, json={"body": "one more"}, headers=headers)
    assert refused.status_code == 429
    body = refused.json()["error"]
    assert body["code"] == "rate_limited"
    assert "comments from a new account (at most 2 an hour" in body["message"]
    assert 60 < int(refused.headers["Retry-After"]) <= 3600
    proposals = "/api/v1/communities/miku/proposals"
    assert client.post(proposals, json={"title": "First idea"}, headers=headers).status_code == 201
    second = client.post(proposals, json={"title": "Second idea"}, headers=headers)
    assert second.status_code == 429
    assert "proposals from a new account" in second.json()["error"]["message"]


def test_links_may_be_allowed_and_limits_turned_off(make_app, client_for, cast, bearer):
    client = client_for(make_app(new_account_links=True))
    url = f"/api/v1/proposals/{cast.proposal.id}/comments"
    ok = client.post(url, json={"body": "https://ok.example"}, headers=bearer(cast.fans[0]))
    assert ok.status_code == 201
    off = client_for(make_app(new_account_hours=0))
    again = off.post(url, json={"body": "https://ok.example/2"}, headers=bearer(cast.fans[1]))
    assert again.status_code == 201
