"""The OpenAPI document is the API's contract: every route in it, every error declared."""

from __future__ import annotations

from typing import Any

import fastapi.routing
import pytest

from app.communities import routes as communities_routes
from app.web.api import API_PREFIX

ERROR_REF = "#/components/schemas/ErrorResponse"
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}

# The foundation's part of the contract in API.md.
CONTRACT = {
    ("get", "/api/v1/me"),
    ("get", "/api/v1/communities"),
    ("post", "/api/v1/communities"),
    ("get", "/api/v1/communities/{slug}"),
    ("patch", "/api/v1/communities/{slug}"),
    ("post", "/api/v1/communities/{slug}/join"),
    ("post", "/api/v1/communities/{slug}/leave"),
    ("get", "/api/v1/communities/{slug}/members"),
    ("put", "/api/v1/communities/{slug}/members/{username}"),
}


@pytest.fixture(scope="module")
def schema(app) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    document: dict[str, Any] = response.json()
    return document


def api_routes(app) -> list[Any]:
    """Every route the app serves under /api/v1, with included routers walked into."""
    # FastAPI >= 0.130 keeps included routers as nodes of app.routes; this flattens them.
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)
    routes = list(flatten(app.routes)) if flatten is not None else list(app.routes)
    found = [
        r
        for r in routes
        if (getattr(r, "path", None) or "").startswith(API_PREFIX + "/")
        and getattr(r, "methods", None)
    ]
    routed = {(m.lower(), r.path) for r in found for m in r.methods}
    assert routed >= CONTRACT, "the walk over app.routes missed API routes"
    return found


def api_operations(schema) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in schema["paths"].items()
        if path.startswith(API_PREFIX + "/")
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def test_the_contract_of_api_md_is_in_the_schema(schema):
    present = {(method, path) for path, method, _ in api_operations(schema)}
    assert present >= CONTRACT


def test_every_api_route_of_the_app_is_in_the_schema_with_every_method(app, schema):
    for route in api_routes(app):
        assert route.path in schema["paths"], route.path
        documented = set(schema["paths"][route.path])
        for method in route.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in documented, f"{method} {route.path} is not documented"


def test_the_schema_documents_no_api_operation_the_app_does_not_route(app, schema):
    routed = {(m.lower(), r.path) for r in api_routes(app) for m in r.methods}
    for path, method, _ in api_operations(schema):
        assert (method, path) in routed, f"{method.upper()} {path} is documented but not routed"


def test_every_api_operation_declares_the_common_errors_as_error_responses(schema):
    for path, method, operation in api_operations(schema):
        responses = operation["responses"]
        for status in ("401", "403", "422"):
            assert status in responses, f"{method.upper()} {path} does not declare {status}"
            content = responses[status]["content"]["application/json"]["schema"]
            assert content == {"$ref": ERROR_REF}, f"{method.upper()} {path} {status}: {content}"


def test_every_declared_client_error_uses_the_error_shape(schema):
    for path, method, operation in api_operations(schema):
        for status, response in operation["responses"].items():
            if status.startswith("4"):
                body = response["content"]["application/json"]["schema"]
                assert body == {"$ref": ERROR_REF}, f"{method.upper()} {path} {status}"


def test_operations_on_one_community_declare_404(schema):
    for path, method, operation in api_operations(schema):
        if "{slug}" in path:
            assert "404" in operation["responses"], f"{method.upper()} {path}"


def test_each_operation_documents_its_success_status(app, schema):
    for route in api_routes(app):
        for method in route.methods - {"HEAD", "OPTIONS"}:
            operation = schema["paths"][route.path][method.lower()]
            expected = str(getattr(route, "status_code", None) or 200)
            assert expected in operation["responses"], f"{method} {route.path}"


def test_error_response_schema_is_the_documented_shape(schema):
    components = schema["components"]["schemas"]
    error = components["ErrorResponse"]
    assert error["required"] == ["error"]
    detail_ref = error["properties"]["error"]["$ref"]
    detail = components[detail_ref.rsplit("/", 1)[-1]]
    assert set(detail["properties"]) == {"code", "message", "fields"}
    assert set(detail["required"]) >= {"code", "message"}


def test_request_bodies_have_models(schema):
    for path, method, operation in api_operations(schema):
        if method in ("post", "put", "patch") and "requestBody" in operation:
            content = operation["requestBody"]["content"]
            # JSON, or multipart/form-data for an upload such as a work's preview image.
            assert set(content) <= {"application/json", "multipart/form-data"}, path
            for media in content.values():
                assert "$ref" in media["schema"], f"{method.upper()} {path}"


def test_html_pages_of_communities_are_not_in_the_api_schema(schema):
    # They answer with pages and redirects; documented as JSON operations they would mislead.
    html_paths = {route.path for route in communities_routes.router.routes}  # type: ignore[attr-defined]
    assert "/c/{slug}" in html_paths
    assert html_paths.isdisjoint(schema["paths"])
