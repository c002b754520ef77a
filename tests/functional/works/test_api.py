"""The works JSON API: list with cursors, create, read, edit, lineage and attribution."""

from __future__ import annotations

from sqlalchemy import func, select

from app.works.models import Work

LIST = "/api/v1/communities/miku/works"
NEW = {
    "title": "Rin's Dance",
    "creator_name": "Len",
    "url": "https://example.org/rins-dance",
    "medium": "video",
    "license": "CC BY 4.0",
    "content_notes": "flashing lights, loud",
    "duration_seconds": 215.5,
}


def test_list_pages_with_cursors_and_filters(client, cast, work):
    made = [work(title=f"W{i}", medium="image" if i % 2 else "audio") for i in range(5)]
    first = client.get(LIST, params={"limit": 2}).json()
    assert set(first) == {"items", "next_cursor"}
    assert [w["id"] for w in first["items"]] == [made[4].id, made[3].id]
    rest = client.get(LIST, params={"limit": 10, "cursor": first["next_cursor"]}).json()
    assert [w["id"] for w in rest["items"]] == [made[2].id, made[1].id, made[0].id]
    assert rest["next_cursor"] is None
    images = client.get(LIST, params={"medium": "image"}).json()["items"]
    assert {w["id"] for w in images} == {made[1].id, made[3].id}
    bad = client.get(LIST, params={"medium": "painting"})
    assert bad.status_code == 422
    assert "medium" in bad.json()["error"]["fields"]
    assert client.get(LIST, params={"cursor": "zz"}).status_code == 422
    assert client.get("/api/v1/communities/nope/works").status_code == 404


def test_create(client, db, cast, work, bearer):
    parent = work(title="Miku design", medium="image")
    response = client.post(LIST, json={**NEW, "parents": [parent.id]}, headers=bearer(cast.member))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["title"] == "Rin's Dance"
    assert body["medium"] == "video"
    assert body["parents"] == [parent.id]
    assert body["content_notes"] == ["flashing lights", "loud"]
    assert body["duration_seconds"] == 215.5
    assert body["created_by"] == "member_len"
    assert body["page_url"].endswith(f"/c/miku/works/{body['id']}")


def test_create_errors(client, db, cast, work, bearer):
    foreign = work(actor=cast.outsider, community=cast.other)
    bad = client.post(
        LIST,
        json={**NEW, "medium": "image", "url": "ftp://x", "parents": [foreign.id]},
        headers=bearer(cast.member),
    )
    assert bad.status_code == 422
    fields = bad.json()["error"]["fields"]
    assert {"url", "duration_seconds", "parents"} <= set(fields)
    assert client.post(LIST, json=NEW, headers=bearer(cast.outsider)).status_code == 403
    assert client.post(LIST, json=NEW).status_code == 401
    assert db.scalar(select(func.count(Work.id))) == 1


def test_get_and_patch(client, db, cast, work, bearer):
    dance = work()
    got = client.get(f"/api/v1/works/{dance.id}")
    assert got.status_code == 200
    assert got.json()["title"] == "Rin's Dance"
    assert client.get("/api/v1/works/999999").status_code == 404
    patched = client.patch(
        f"/api/v1/works/{dance.id}", json={"title": "Renamed"}, headers=bearer(cast.member)
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["title"] == "Renamed"
    assert patched.json()["license"] == "CC BY 4.0"
    by_mod = client.patch(
        f"/api/v1/works/{dance.id}",
        json={"medium": "text", "excerpt": "Once", "duration_seconds": None},
        headers=bearer(cast.moderator),
    )
    assert by_mod.status_code == 200, by_mod.text
    assert by_mod.json()["excerpt"] == "Once"
    assert by_mod.json()["duration_seconds"] is None
    denied = client.patch(
        f"/api/v1/works/{dance.id}", json={"title": "Mine"}, headers=bearer(cast.fan)
    )
    assert denied.status_code == 403
    invalid = client.patch(
        f"/api/v1/works/{dance.id}", json={"url": "nope"}, headers=bearer(cast.member)
    )
    assert invalid.status_code == 422
    assert "url" in invalid.json()["error"]["fields"]


def test_patch_refuses_a_cycle(client, cast, work, bearer):
    a = work(title="A")
    b = work(title="B", parents=[a])
    c = work(title="C", parents=[b])
    response = client.patch(
        f"/api/v1/works/{a.id}", json={"parents": [c.id]}, headers=bearer(cast.member)
    )
    assert response.status_code == 422
    assert "cycle" in response.json()["error"]["fields"]["parents"]


def test_lineage_and_attribution(client, cast, work):
    design = work(
        title="Miku design", creator_name="Crypton", medium="image", license="All rights reserved"
    )
    dance = work(parents=[design])
    cover = work(title="Cover", creator_name="Kaito", parents=[dance])
    lineage = client.get(f"/api/v1/works/{dance.id}/lineage")
    assert lineage.status_code == 200
    body = lineage.json()
    assert [(w["id"], w["depth"]) for w in body["ancestors"]] == [(design.id, 1)]
    assert [(w["id"], w["depth"]) for w in body["descendants"]] == [(cover.id, 1)]
    up = client.get(f"/api/v1/works/{cover.id}/lineage").json()["ancestors"]
    assert [(w["id"], w["depth"]) for w in up] == [(dance.id, 1), (design.id, 2)]
    text = client.get(f"/api/v1/works/{dance.id}/attribution")
    assert text.status_code == 200
    assert text.json() == {
        "text": '"Rin\'s Dance" by Len (CC BY 4.0), derived from "Miku design" by Crypton '
        "(All rights reserved)"
    }
    assert client.get("/api/v1/works/999999/lineage").status_code == 404
    assert client.get("/api/v1/works/999999/attribution").status_code == 404


def test_the_openapi_schema_documents_works(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/communities/{slug}/works",
        "/api/v1/works/{work_id}",
        "/api/v1/works/{work_id}/lineage",
        "/api/v1/works/{work_id}/attribution",
    ):
        assert path in paths
    assert "404" in paths["/api/v1/works/{work_id}"]["get"]["responses"]
    assert not any(p.startswith("/c/") for p in paths)
