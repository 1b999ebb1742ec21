"""Every PynamoDB model's keys, indexes and TTL match the one table definition in infra/tables.yaml."""

from __future__ import annotations

from typing import Any

import pytest
from pynamodb.attributes import TTLAttribute
from pynamodb.indexes import AllProjection, IncludeProjection, KeysOnlyProjection
from treatfirst.adapters.dynamo import MODELS
from treatfirst.adapters.schema import fragment_path, load_template
from treatfirst.services import ports


def _tables() -> dict[str, dict[str, Any]]:
    template = load_template(fragment_path())
    out = {}
    for resource in template["Resources"].values():
        props = resource["Properties"]
        logical = str(props["TableName"]["Fn::Sub"]).replace("${TablePrefix}", "")
        out[logical] = props
    return out


def _keys(schema: list[dict[str, str]]) -> tuple[str, str | None]:
    hash_key = next(k["AttributeName"] for k in schema if k["KeyType"] == "HASH")
    range_key = next((k["AttributeName"] for k in schema if k["KeyType"] == "RANGE"), None)
    return hash_key, range_key


def test_one_model_per_table() -> None:
    assert set(MODELS) == set(_tables()) == set(ports.KEYS)


@pytest.mark.parametrize("logical", sorted(ports.KEYS))
def test_model_matches_table(logical: str) -> None:
    props = _tables()[logical]
    model = MODELS[logical]
    attrs = model.get_attributes()
    types = {d["AttributeName"]: d["AttributeType"] for d in props["AttributeDefinitions"]}

    # keys, and the same keys in the services' port
    hash_key, range_key = _keys(props["KeySchema"])
    assert (model._hash_keyname, model._range_keyname) == (hash_key, range_key) == ports.KEYS[logical]
    for name, kind in types.items():
        assert attrs[name].attr_type == kind, f"{logical}.{name}"

    # indexes: names, key schemas, projections
    declared = {i.Meta.index_name: i for i in model._indexes.values()}
    in_template = {g["IndexName"]: g for g in props.get("GlobalSecondaryIndexes", [])}
    assert set(declared) == set(in_template)
    for name, index in declared.items():
        spec = in_template[name]
        keys = _keys(spec["KeySchema"])
        model_keys = (
            next(a.attr_name for a in index.Meta.attributes.values() if a.is_hash_key),
            next((a.attr_name for a in index.Meta.attributes.values() if a.is_range_key), None),
        )
        assert model_keys == keys == ports.INDEXES[name][1:]
        kinds = {"ALL": AllProjection, "KEYS_ONLY": KeysOnlyProjection, "INCLUDE": IncludeProjection}
        assert isinstance(index.Meta.projection, kinds[spec["Projection"]["ProjectionType"]])
        # an INCLUDE projection carries exactly what the services' port says the index holds, each a model field
        included = spec["Projection"].get("NonKeyAttributes", [])
        assert list(included) == list(ports.INDEX_ATTRIBUTES.get(name, ()))
        assert set(included) <= set(attrs), f"{logical}.{name} projects unknown attributes"
        if included:
            assert sorted(index.Meta.projection.non_key_attributes) == sorted(included)

    # TTL: a TTLAttribute exactly where the table expires items
    ttl = props.get("TimeToLiveSpecification", {}).get("AttributeName")
    model_ttl = [n for n, a in attrs.items() if isinstance(a, TTLAttribute)]
    assert model_ttl == ([ttl] if ttl else [])
