"""On AWS, the answers API Gateway gives itself (unknown routes and methods, too large, throttled, gateway faults)
are in the one error shape with a request id: checked on the packaged template."""

from __future__ import annotations

import json
from typing import Any

from treatfirst.domain.errors import all_error_classes
from treatfirst.http_status import status_of

STATUS_OF = {c.code: status_of(c) for c in all_error_classes()}


def _responses(template: dict[str, Any]) -> dict[str, Any]:
    definition = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    return dict(definition["x-amazon-apigateway-gateway-responses"])


def _render(text: str) -> Any:
    """What API Gateway sends: its simple variable substitution, with a request id and a quoted message."""
    return json.loads(
        text.replace("$context.requestId", "c0ffee-1234").replace(
            "$context.error.messageString", '"Internal server error"'
        )
    )


def test_unknown_routes_and_methods_are_404_route_not_found(template: dict[str, Any]) -> None:
    # Given the packaged template, when API Gateway finds no route or method (its "Missing Authentication Token")
    missing = _responses(template)["MISSING_AUTHENTICATION_TOKEN"]
    # Then it answers 404 ROUTE_NOT_FOUND in the one shape, with API Gateway's request id
    assert missing["statusCode"] == "404"
    body = _render(missing["responseTemplates"]["application/json"])
    assert body["error"]["code"] == "ROUTE_NOT_FOUND"
    assert body["error"]["request_id"] == "req_c0ffee-1234"


def test_every_gateway_answer_is_in_the_one_error_shape_with_its_codes_status(template: dict[str, Any]) -> None:
    responses = _responses(template)
    for kind in (
        "MISSING_AUTHENTICATION_TOKEN",
        "UNSUPPORTED_MEDIA_TYPE",
        "REQUEST_TOO_LARGE",
        "THROTTLED",
        "DEFAULT_4XX",
        "DEFAULT_5XX",
    ):
        response = responses[kind]
        body = _render(response["responseTemplates"]["application/json"])
        assert set(body) == {"error"}, kind
        assert set(body["error"]) == {"code", "message", "field", "request_id"}, kind
        assert body["error"]["request_id"].startswith("req_"), kind
        assert isinstance(body["error"]["message"], str) and body["error"]["message"], kind
        # the code is one the API documents, under the status the gateway answers with
        assert STATUS_OF[body["error"]["code"]] == int(response["statusCode"]), kind


def test_the_answers_are_part_of_the_api_definition(template: dict[str, Any]) -> None:
    # Inside the definition, every deployment of the API carries them (a separate resource would wait for the
    # next deployment); and the API keeps every route of the app.
    api = template["Resources"]["RestAPI"]
    assert api["Type"] == "AWS::Serverless::Api"
    assert "/v1/callers/{key_id}/revocation" in api["Properties"]["DefinitionBody"]["paths"]
