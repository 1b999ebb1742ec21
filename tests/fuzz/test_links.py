"""The document's links (which the stateful fuzzing phase follows) name real operations, parameters and fields."""

from __future__ import annotations

from typing import Any

from treatfirst import openapi

PREFIX = "$response.body#"


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _field(document: dict[str, Any], schema: dict[str, Any], pointer: str) -> dict[str, Any] | None:
    """The schema of the field a JSON pointer names, or None when the schema has no such field.

    An answer that differs per caller kind (anyOf) has the field only when every alternative has it."""
    schema = _resolve(document, schema)
    if "anyOf" in schema:
        found = [_field(document, alternative, pointer) for alternative in schema["anyOf"]]
        return found[0] if found and all(f is not None for f in found) else None
    for part in pointer.strip("/").split("/"):
        schema = _resolve(document, schema)
        if part not in schema.get("properties", {}):
            return None
        schema = schema["properties"][part]
    return _resolve(document, schema)


def _expressions(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [e for v in value.values() for e in _expressions(v)]
    if isinstance(value, list):
        return [e for v in value for e in _expressions(v)]
    return []


def _operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {op["operationId"]: op for methods in document["paths"].values() for op in methods.values()}


def test_every_link_names_an_operation_its_parameters_and_fields_of_the_response() -> None:
    # Given the document
    document = openapi.document()
    operations = _operations(document)
    links = 0
    for source in operations.values():
        for status, response in source["responses"].items():
            body = response.get("content", {}).get("application/json", {}).get("schema", {})
            for name, link in response.get("links", {}).items():
                links += 1
                where = f"{source['operationId']} {status} {name}"
                # Then the target exists and takes every parameter the link fills
                target = operations.get(link["operationId"])
                assert target is not None, where
                taken = {p["name"] for p in target.get("parameters", [])}
                assert set(link.get("parameters", {})) <= taken, where
                if "requestBody" in link:
                    request = target["requestBody"]["content"]["application/json"]["schema"]
                    assert set(link["requestBody"]) <= set(_resolve(document, request)["properties"]), where
                # And every expression points at a field the success response declares
                for expression in _expressions({**link.get("parameters", {}), **link.get("requestBody", {})}):
                    assert expression.startswith(PREFIX), where
                    assert _field(document, body, expression[len(PREFIX) :]) is not None, (where, expression)
    # And a patient's story can be followed from enrollment to payment
    assert links >= 10
    chain = [("enroll", "openVisit"), ("openVisit", "postCharge"), ("postCharge", "closeVisit")]
    chain += [("closeVisit", "notifyPayment")]
    for source, target in chain:
        success = next(r for s, r in operations[source]["responses"].items() if s.startswith("2"))
        assert target in {link["operationId"] for link in success.get("links", {}).values()}, (source, target)
