"""City policy as code: loading, validation naming the bad field, and the two example cities."""

from __future__ import annotations

import hashlib

import pytest
import yaml
from treatfirst.domain.errors import PolicyInvalid
from treatfirst.domain.policy import POLICY_DIR, example_policy, parse_policy


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
    ],
)
def test_a_bad_policy_names_its_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(PolicyInvalid) as caught:
        parse_policy(_mutated(change))
    assert caught.value.field == field, caught.value.message


def test_unparseable_yaml_is_refused() -> None:
    with pytest.raises(PolicyInvalid):
        parse_policy("city_code: [unclosed")
