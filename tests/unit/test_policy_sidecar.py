"""A packaged policy carries its parsed form beside it, so a cold start skips the YAML parser; the YAML file stays
the source and the hash."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from treatfirst.domain.policy import POLICY_DIR, load_policy, parse_policy, parsed_sidecar, sidecar_path


@pytest.mark.parametrize("city", ["lianyungang", "xiamen"])
def test_the_sidecar_builds_the_same_policy_as_the_yaml(
    city: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a city's policy file with its sidecar beside it, as the packager writes them
    source = POLICY_DIR / f"{city}.yaml"
    packaged = tmp_path / f"{city}.yaml"
    shutil.copy2(source, packaged)
    body = parsed_sidecar(packaged.read_bytes())
    assert body is not None
    sidecar_path(packaged).write_bytes(body)
    # When the function loads it, without PyYAML imported
    monkeypatch.delitem(sys.modules, "yaml", raising=False)  # put back after the test
    loaded = load_policy(packaged)
    # Then it parsed no YAML, and the policy equals the one parsed from the YAML, hash included
    assert "yaml" not in sys.modules
    assert loaded == parse_policy(source.read_bytes())


def test_a_sidecar_that_is_not_the_files_is_ignored(tmp_path: Path) -> None:
    # Given Xiamen's sidecar beside a file that holds Lianyungang's policy (an edit after packaging)
    packaged = tmp_path / "city.yaml"
    shutil.copy2(POLICY_DIR / "lianyungang.yaml", packaged)
    other = parsed_sidecar((POLICY_DIR / "xiamen.yaml").read_bytes())
    assert other is not None
    sidecar_path(packaged).write_bytes(other)
    # Then the file's own YAML is what counts
    assert load_policy(packaged) == parse_policy((POLICY_DIR / "lianyungang.yaml").read_bytes())


def test_a_policy_whose_yaml_json_would_change_gets_no_sidecar() -> None:
    # Given a policy in which YAML reads a value as a date (JSON would make it a string)
    text = (POLICY_DIR / "lianyungang.yaml").read_bytes() + b"\nnot_json_safe_example: 2026-01-01\n"
    # Then no sidecar is made for it: it is parsed from YAML as before
    assert parsed_sidecar(text) is None
