"""Loading a city's own policy: `make package CITY=<name> POLICY=<file>` ships that exact file, under that name,
and a policy that does not validate stops the build before anything is packaged."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.infra.conftest import ROOT

EXAMPLE = ROOT / "functions" / "treatfirst" / "policies" / "xiamen.yaml"


def _package(city: str, policy: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    command = [sys.executable, str(ROOT / "tools" / "package.py"), "--region", "cn-northwest-1"]
    return subprocess.run(
        [*command, "--city", city, "--policy", str(policy), "--out", str(out), *extra],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )


def test_a_city_policy_file_is_packaged_as_given(tmp_path: Path) -> None:
    # Given a city's own policy file (here: the Xiamen example with a new version)
    policy = tmp_path / "my-city.yaml"
    policy.write_text(
        EXAMPLE.read_text(encoding="utf-8").replace('version: "2026.11.3"', 'version: "2027.01.1"'), encoding="utf-8"
    )

    # When it is packaged under its own name (on request: the example's placeholders are marked 示例)
    result = _package("tongan", policy, tmp_path / "build", "--example")

    # Then the build reports its version and hash, the zip carries that exact file, and the functions load it
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["policy_version"] == "2027.01.1" and report["city_code"] == "350200"
    with zipfile.ZipFile(tmp_path / "build" / "package" / "deployment.zip") as archive:
        shipped = archive.read("treatfirst/policies/tongan.yaml")
    assert hashlib.sha256(shipped).digest() == hashlib.sha256(policy.read_bytes()).digest()
    template = json.loads((tmp_path / "build" / "package" / "sam.json").read_text(encoding="utf-8"))
    assert template["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]["TF_POLICY"] == "tongan"
    assert template["Parameters"]["CityCode"]["AllowedValues"] == ["350200"]
    assert "records_retention" in report["examples"] and "EXAMPLE POLICY" in template["Description"]


def test_a_policy_with_placeholders_marked_example_is_refused_as_a_real_city(tmp_path: Path) -> None:
    # Given the Lianyungang example, whose local citations, bodies and contact are placeholders marked 示例
    policy = ROOT / "functions" / "treatfirst" / "policies" / "lianyungang.yaml"
    # When it is packaged without --example (as a real city would be)
    result = _package("lianyungang", policy, tmp_path / "build")
    # Then the build stops before staging anything, naming each placeholder
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "示例" in result.stderr and "records_retention" in result.stderr and "blacklist.legal_basis" in result.stderr
    assert not (tmp_path / "build").exists()


def test_an_invalid_policy_stops_the_build_naming_the_field(tmp_path: Path) -> None:
    policy = tmp_path / "broken.yaml"
    policy.write_text(EXAMPLE.read_text(encoding="utf-8").replace('city_code: "350200"', 'city_code: "35"'))
    result = _package("broken", policy, tmp_path / "build")
    assert result.returncode == 2
    assert "city_code" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "build" / "package").exists()
