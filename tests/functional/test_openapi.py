"""The OpenAPI document is served by the API and matches the real routes in both directions."""

from __future__ import annotations

import json

from treatfirst import openapi

from tests.functional.conftest import Api


def _app_routes() -> set[tuple[str, str]]:
    from app import app

    return {(method.lower(), path) for path, entry in app.routes.items() for method in entry}


def test_served_document_is_the_generated_one(api: Api) -> None:
    response = api.get(None, "/v1/openapi.json")
    assert response.status_code == 200
    assert json.loads(response.body) == json.loads(json.dumps(openapi.document()))
    assert openapi.document()["openapi"] == "3.1.0"


def test_every_route_is_documented_and_every_documented_route_exists() -> None:
    documented = {(method, path) for path, ops in openapi.document()["paths"].items() for method in ops}
    assert documented == _app_routes()


def test_every_reference_resolves_and_every_error_code_is_known() -> None:
    doc = openapi.document()
    schemas = doc["components"]["schemas"]
    text = json.dumps(doc)
    for ref in {part.split('"')[0] for part in text.split('"$ref": "#/components/schemas/')[1:]}:
        assert ref in schemas, ref
    detail = schemas["Error"]["properties"]["error"]["$ref"].rsplit("/", 1)[-1]
    codes = set(schemas[detail]["properties"]["code"]["enum"])
    for op in openapi.OPERATIONS:
        assert set(op.errors) <= codes, op.operation_id
        assert (op.scope is None) == (op.path in {"/v1/health", "/v1/openapi.json", "/v1/policy", "/v1/consents"})
