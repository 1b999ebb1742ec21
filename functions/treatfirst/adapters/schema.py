"""Create the tables of infra/tables.yaml on DynamoDB Local or moto (the ONE table definition).

Only the local stack and the tests use this; on AWS, CloudFormation creates the tables from the same file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

_KEEP = (
    "AttributeDefinitions",
    "KeySchema",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "BillingMode",
)


def fragment_path() -> Path:
    """infra/tables.yaml of this checkout (TF_INFRA_DIR overrides)."""
    if os.environ.get("TF_INFRA_DIR"):
        return Path(os.environ["TF_INFRA_DIR"]) / "tables.yaml"
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "infra" / "tables.yaml"
        if candidate.exists():
            return candidate
    raise FileNotFoundError("infra/tables.yaml not found; set TF_INFRA_DIR")


class _Loader(yaml.SafeLoader):
    """Reads CloudFormation short-form tags (!Ref, !Sub, ...) as plain values."""


def _cfn_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    return {name: value}


_Loader.add_multi_constructor("!", _cfn_tag)


def load_template(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        data = yaml.load(handle, Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    assert isinstance(data, dict)
    return data


def table_specs(prefix: str, path: Path | None = None) -> list[dict[str, Any]]:
    """create_table arguments (plus `_ttl`) for every AWS::DynamoDB::Table in the fragment."""
    template = load_template(path or fragment_path())
    specs = []
    for resource in template["Resources"].values():
        if resource.get("Type") != "AWS::DynamoDB::Table":
            continue
        props = resource["Properties"]
        name = props["TableName"]
        if isinstance(name, dict):
            name = str(name["Fn::Sub"]).replace("${TablePrefix}", prefix)
        spec: dict[str, Any] = {k: props[k] for k in _KEEP if k in props}
        for index in spec.get("GlobalSecondaryIndexes", []):
            index.pop("ContributorInsightsSpecification", None)
        spec["TableName"] = name
        spec["_ttl"] = (props.get("TimeToLiveSpecification") or {}).get("AttributeName")
        specs.append(spec)
    return specs


def create_tables(client: Any, prefix: str, path: Path | None = None) -> list[str]:
    """Create missing tables (idempotent: existing tables are kept with their data). Returns created names."""
    existing: set[str] = set()
    for page in client.get_paginator("list_tables").paginate():
        existing.update(page["TableNames"])
    created = []
    for spec in table_specs(prefix, path):
        ttl = spec.pop("_ttl")
        if spec["TableName"] in existing:
            continue
        client.create_table(**spec)
        client.get_waiter("table_exists").wait(
            TableName=spec["TableName"], WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
        if ttl:
            client.update_time_to_live(
                TableName=spec["TableName"], TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl}
            )
        created.append(spec["TableName"])
    return created
