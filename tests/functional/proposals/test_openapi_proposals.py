"""The proposals part of the OpenAPI document: every operation, its models and its errors."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.proposals import routes

ERROR_REF = "#/components/schemas/ErrorResponse"

OPERATIONS = {
    ("get", "/api/v1/communities/{slug}/proposals"): {"404"},
    ("post", "/api/v1/communities/{slug}/proposals"): {"404"},
    ("get", "/api/v1/proposals/{proposal_id}"): {"404"},
    ("patch", "/api/v1/proposals/{proposal_id}"): {"404", "409"},
    ("post", "/api/v1/proposals/{proposal_id}/publish"): {"404", "409"},
    ("post", "/api/v1/proposals/{proposal_id}/withdraw"): {"404", "409"},
    ("post", "/api/v1/proposals/{proposal_id}/lock"): {"404", "409"},
    ("post", "/api/v1/proposals/{proposal_id}/unlock"): {"404", "409"},
    ("post", "/api/v1/proposals/{proposal_id}/coauthors"): {"404", "409"},
    ("delete", "/api/v1/proposals/{proposal_id}/coauthors/{username}"): {"404", "409"},
    ("put", "/api/v1/proposals/{proposal_id}/follow"): {"404"},
    ("delete", "/api/v1/proposals/{proposal_id}/follow"): {"404"},
    ("get", "/api/v1/proposals/{proposal_id}/revisions"): {"404"},
    ("get", "/api/v1/proposals/{proposal_id}/diff"): {"404"},
    ("post", "/api/v1/communities/{slug}/categories"): {"404"},
    ("patch", "/api/v1/communities/{slug}/categories/{category}"): {"404"},
}


@pytest.fixture(scope="module")
def schema(app) -> dict[str, Any]:
    with TestClient(app) as client:
        response = client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def test_every_proposals_operation_is_documented_with_its_errors(schema):
    for (method, path), specific in OPERATIONS.items():
        assert path in schema["paths"], path
        operation = schema["paths"][path].get(method)
        assert operation is not None, f"{method.upper()} {path}"
        assert operation.get("summary"), f"{method.upper()} {path} has no summary"
        declared = set(operation["responses"])
        for status in {"401", "403", "422"} | specific:
            assert status in declared, f"{method.upper()} {path} does not declare {status}"
            body = operation["responses"][status]["content"]["application/json"]["schema"]
            assert body == {"$ref": ERROR_REF}, f"{method.upper()} {path} {status}"


def test_success_bodies_have_models(schema):
    for (method, path), _ in OPERATIONS.items():
        responses = schema["paths"][path][method]["responses"]
        success = next(status for status in responses if status.startswith("2"))
        content = responses[success]["content"]["application/json"]["schema"]
        assert "$ref" in content, f"{method.upper()} {path}"


def test_request_bodies_are_described_by_models(schema):
    for path, method in (
        ("/api/v1/communities/{slug}/proposals", "post"),
        ("/api/v1/proposals/{proposal_id}", "patch"),
        ("/api/v1/proposals/{proposal_id}/withdraw", "post"),
        ("/api/v1/proposals/{proposal_id}/lock", "post"),
        ("/api/v1/proposals/{proposal_id}/coauthors", "post"),
    ):
        body = schema["paths"][path][method]["requestBody"]["content"]["application/json"]
        assert "$ref" in body["schema"], f"{method.upper()} {path}"


def test_the_list_documents_its_filters_and_paging(schema):
    operation = schema["paths"]["/api/v1/communities/{slug}/proposals"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert names >= {"slug", "state", "category", "tag", "q", "sort", "limit", "cursor"}


def test_the_diff_documents_from_and_to(schema):
    operation = schema["paths"]["/api/v1/proposals/{proposal_id}/diff"]["get"]
    names = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
    assert names == {"from", "to"}


def test_html_pages_of_proposals_are_not_in_the_api_schema(schema):
    html_paths = {route.path for route in routes.router.routes}  # type: ignore[attr-defined]
    assert "/c/{slug}/proposals/{proposal_id}" in html_paths
    assert html_paths.isdisjoint(schema["paths"])
