"""City policy as code: loading, validation naming the bad field, and the two example cities."""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import importlib
import inspect
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from treatfirst.domain.errors import PolicyInvalid
from treatfirst.domain.policy import (
    POLICY_DIR,
    POLICY_FIELDS,
    BlacklistRule,
    Citation,
    ConsentSpec,
    Enforced,
    Financier,
    LadderStep,
    LegalBasis,
    Policy,
    Privacy,
    Recipient,
    Tier,
    example_policy,
    field_paths,
    parse_policy,
)


def test_example_cities_differ_where_it_matters() -> None:
    lyg, xm = example_policy("lianyungang"), example_policy("xiamen")
    assert lyg.eligibility_model == "zero_threshold" and xm.eligibility_model == "score_banded"
    assert len(xm.tiers) > 1 and len(lyg.tiers) == 1
    assert lyg.blacklist_export_enabled and not xm.blacklist_export_enabled
    assert lyg.sha256 == hashlib.sha256((POLICY_DIR / "lianyungang.yaml").read_bytes()).hexdigest()
    assert lyg.stamp == {"policy_city": "320700", "policy_version": lyg.version, "policy_sha256": lyg.sha256}


def _mutated(change: dict[str, object]) -> str:
    data = yaml.safe_load((POLICY_DIR / "xiamen.yaml").read_text(encoding="utf-8"))
    for path, value in change.items():
        target = data
        parts = path.split(".")
        for part in parts[:-1]:
            target = target[int(part)] if part.isdigit() else target[part]
        last = parts[-1]
        if value is KeyError:
            del target[last]
        elif last.isdigit():
            target[int(last)] = value
        else:
            target[last] = value
    return yaml.safe_dump(data, allow_unicode=True)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tiers.2.limit_fen": -1}, "tiers[2].limit_fen"),
        ({"tiers.2.limit_fen": 10}, "tiers[2].limit_fen"),
        ({"tiers.1.min_score": 100}, "tiers[1].min_score"),
        ({"due.at": "25:00"}, "due.at"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"surprise": 1}, "surprise"),
        ({"blacklist_export.enabled": True}, "blacklist_export.legal_basis"),
        ({"collection_ladder.1.day_offset": 500}, "collection_ladder[1].day_offset"),
        ({"collection_ladder.0.actions": ["sms_reminder", "jail"]}, "collection_ladder[0].actions[1]"),
        ({"eligibility.model": "lottery"}, "eligibility.model"),
        ({"city_code": KeyError}, "city_code"),
        ({"version": 3}, "version"),
        ({"strikes.comparison": "=="}, "strikes.comparison"),
        ({"strikes.count": 0}, "strikes.count"),
        ({"strikes.actions": ["jail"]}, "strikes.actions[0]"),
        ({"strikes.overdue_bills": 3}, "strikes.overdue_bills"),
    ],
)
def test_a_bad_policy_names_its_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(PolicyInvalid) as caught:
        parse_policy(_mutated(change))
    assert caught.value.field == field, caught.value.message


def test_unparseable_yaml_is_refused() -> None:
    with pytest.raises(PolicyInvalid):
        parse_policy("city_code: [unclosed")


# ---- every policy field is enforced by code, or marked documentation-only ------------------------------------
def _policy_files() -> list[Path]:
    return sorted(POLICY_DIR.glob("*.yaml"))


def _function(dotted: str) -> Callable[..., object]:
    """module.qualname -> the function (a property's getter for a property)."""
    parts = dotted.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            target: Any = importlib.import_module(".".join(parts[:split]))
        except ModuleNotFoundError:
            continue
        for name in parts[split:]:
            target = getattr(target, name)
        return target.fget if isinstance(target, property) else target  # type: ignore[no-any-return]
    raise AssertionError(f"{dotted} names no importable function")


def _attributes_read(function: Callable[..., object]) -> set[str]:
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    return {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}


@pytest.mark.parametrize("policy_file", _policy_files(), ids=lambda p: p.stem)
def test_every_field_of_a_policy_file_is_enforced_or_documentation_only(policy_file: Path) -> None:
    # Given a policy file's fields, Then each is in the registry (enforced by code, or documentation-only)
    unknown = field_paths(yaml.safe_load(policy_file.read_text(encoding="utf-8"))) - set(POLICY_FIELDS)
    assert not unknown, f"classify {sorted(unknown)} in treatfirst.domain.policy.POLICY_FIELDS"


def test_the_registry_lists_only_fields_the_policy_files_have() -> None:
    seen = set().union(*(field_paths(yaml.safe_load(p.read_text(encoding="utf-8"))) for p in _policy_files()))
    assert set(POLICY_FIELDS) == seen


ATTRIBUTES = {
    f.name
    for cls in (
        Policy,
        Tier,
        LadderStep,
        ConsentSpec,
        BlacklistRule,
        LegalBasis,
        Privacy,
        Recipient,
        Citation,
        Financier,
    )
    for f in dataclasses.fields(cls)
}


@pytest.mark.parametrize("path", [p for p, e in POLICY_FIELDS.items() if isinstance(e, Enforced)])
def test_each_enforced_field_is_read_by_the_function_named(path: str) -> None:
    # Given a field the registry says is enforced
    entry = POLICY_FIELDS[path]
    assert isinstance(entry, Enforced)
    # Then it names Policy attributes, and a function that exists and reads each of them
    assert set(entry.reads) <= ATTRIBUTES, entry.reads
    read = _attributes_read(_function(entry.function))
    missing = set(entry.reads) - read
    assert not missing, f"{entry.function} does not read {sorted(missing)} ({path})"


def test_a_function_that_does_not_read_the_field_is_caught() -> None:
    # The check above can fail: a function that never reads due_at is not accepted as enforcing due.at
    assert "due_at" not in _attributes_read(_function("treatfirst.domain.eligibility.decide"))
    assert "due_at" in _attributes_read(_function("treatfirst.services.closing.close_visit"))


def test_thresholds_carry_an_explicit_comparison() -> None:
    # Xiamen's 累计逾期3次以上 includes 3 (民法典 art. 1259); the example Lianyungang rule "超过 3 次" excludes it
    xm, lyg = example_policy("xiamen"), example_policy("lianyungang")
    assert (xm.strike_count, xm.strike_comparison, xm.strike_window_months) == (3, ">=", None)
    assert (
        xm.strike_threshold("zh") == "逾期 3 次以上（含 3 次）"
        and xm.strike_threshold("en") == "3 or more overdue bills"
    )
    assert (lyg.strike_count, lyg.strike_comparison, lyg.strike_window_months) == (3, ">", 12)
    assert lyg.strike_threshold("zh") == "逾期超过 3 次"
    assert "blacklist" in xm.strike_actions and not xm.blacklist_export_enabled
    # Xiamen's payment window: 7 days
    assert (xm.due_days_after, xm.due_at_text) == (7, "23:59:59")


def test_legal_basis_texts_are_real_or_marked_as_examples() -> None:
    for name in ("lianyungang", "xiamen"):
        text = (POLICY_DIR / f"{name}.yaml").read_text(encoding="utf-8")
        basis = example_policy(name).blacklist_legal_basis
        if basis is None:
            continue
        # An example says so, and names its source in a comment; no invented municipal article
        assert basis.startswith("示例"), name
        assert "国办发〔2020〕49号" in basis and "# Source:" in text
        assert "实施办法》第十八条" not in text
