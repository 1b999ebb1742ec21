"""The tables are defined once: moto's CloudFormation builds them from infra/tables.yaml for the tests, and the
deployable template carries the very same keys, indexes and TTL (adding only protection)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from treatfirst.adapters.schema import fragment_path, load_template, table_specs

from tests.infra.conftest import of_type
from tests.stacks import create_tables_stack

SHAPE = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode", "TimeToLiveSpecification")


def _by_logical(resources: dict[str, Any], prefix: str) -> dict[str, dict[str, Any]]:
    out = {}
    for table in resources.values():
        if table["Type"] != "AWS::DynamoDB::Table":
            continue
        name = str(table["Properties"]["TableName"]["Fn::Sub"])
        assert name.startswith(prefix), name
        out[name[len(prefix) :]] = {k: table["Properties"].get(k) for k in SHAPE}
    return out


def _sorted(items: list[dict[str, Any]] | None, key: str) -> list[dict[str, Any]]:
    return sorted(items or [], key=lambda item: str(item[key]))


@pytest.fixture
def moto_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "cn-north-1")
    with mock_aws():
        yield


def test_moto_builds_every_table_of_the_fragment_as_written(moto_env: None) -> None:
    # Given the fragment, when moto's CloudFormation creates a stack from it
    fragment = _by_logical(load_template(fragment_path())["Resources"], "${TablePrefix}")
    created = create_tables_stack("tf-stack-")

    # Then there is one table per resource, each with the fragment's attributes, keys and indexes
    assert created == sorted(f"tf-stack-{logical}" for logical in fragment)
    client = boto3.client("dynamodb")
    for logical, shape in fragment.items():
        described = client.describe_table(TableName=f"tf-stack-{logical}")["Table"]
        assert _sorted(described["AttributeDefinitions"], "AttributeName") == _sorted(
            shape["AttributeDefinitions"], "AttributeName"
        ), logical
        assert described["KeySchema"] == shape["KeySchema"], logical
        indexes = {
            i["IndexName"]: (i["KeySchema"], i["Projection"]["ProjectionType"])
            for i in described.get("GlobalSecondaryIndexes", [])
        }
        assert indexes == {
            i["IndexName"]: (i["KeySchema"], i["Projection"]["ProjectionType"])
            for i in shape["GlobalSecondaryIndexes"] or []
        }, logical
        assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST", logical


def test_the_local_stack_reads_the_same_fragment() -> None:
    fragment = _by_logical(load_template(fragment_path())["Resources"], "${TablePrefix}")
    specs = {s["TableName"].removeprefix("tf-local-"): s for s in table_specs("tf-local-")}
    assert set(specs) == set(fragment)
    for logical, spec in specs.items():
        assert spec["KeySchema"] == fragment[logical]["KeySchema"], logical
        ttl = fragment[logical]["TimeToLiveSpecification"]
        assert spec["_ttl"] == (ttl["AttributeName"] if ttl else None), logical


def test_the_deployable_template_keeps_the_fragment_shape(template: dict[str, Any]) -> None:
    fragment = _by_logical(load_template(fragment_path())["Resources"], "${TablePrefix}")
    deployed = _by_logical(template["Resources"], "treatfirst-${CityCode}-${Stage}-")
    assert deployed == fragment
    assert set(of_type(template, "AWS::DynamoDB::Table")) == set(load_template(fragment_path())["Resources"])
