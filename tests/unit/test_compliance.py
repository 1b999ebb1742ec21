"""The compliance registry points only at code that imports and tests that exist."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
import yaml
from treatfirst.compliance import REGISTRY
from treatfirst.domain.errors import PolicyInvalid
from treatfirst.domain.policy import POLICY_DIR, parse_policy

ROOT = Path(__file__).resolve().parents[2]


def _resolve(dotted: str) -> object:
    parts = dotted.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            target: object = importlib.import_module(".".join(parts[:split]))
        except ModuleNotFoundError:
            continue
        for name in parts[split:]:
            target = getattr(target, name)
        return target
    raise AssertionError(f"{dotted} names nothing importable")


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}


@pytest.mark.parametrize("duty", REGISTRY, ids=lambda d: f"{d.law}-{d.article}")
def test_each_duty_names_code_that_exists_and_tests_that_exist(duty: object) -> None:
    for dotted in duty.code:  # type: ignore[attr-defined]
        _resolve(dotted)
    for node in duty.tests:  # type: ignore[attr-defined]
        path, _, name = node.partition("::")
        assert (ROOT / path).is_file(), node
        assert name in _tests_in(ROOT / path), node


def test_a_row_pointing_at_a_missing_test_is_caught() -> None:
    assert "test_no_such_test" not in _tests_in(ROOT / "tests/unit/test_compliance.py")
    with pytest.raises(AttributeError):
        _resolve("treatfirst.consents.no_such_function")


def test_the_audit_retention_cannot_be_set_below_six_months() -> None:
    data = yaml.safe_load((POLICY_DIR / "lianyungang.yaml").read_text(encoding="utf-8"))
    data["privacy"]["retention"]["audit_days"] = 179
    with pytest.raises(PolicyInvalid) as caught:
        parse_policy(yaml.safe_dump(data, allow_unicode=True))
    assert caught.value.field == "privacy.retention.audit_days"
