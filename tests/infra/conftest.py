"""Infrastructure tier: package the real app offline once per session, then check the template and the zip."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECKOV_VENV = ROOT / ".venv-checkov"
CHECKOV_REQUIREMENTS = ROOT / "infra" / "checkov-requirements.txt"
PACKAGED_CITY = "xiamen"


@pytest.fixture(scope="session")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tools/package.py run once, as `make package` runs it, with no AWS credentials in its environment."""
    out = tmp_path_factory.mktemp("build")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "package.py"),
            "--region",
            "cn-north-1",
            "--city",
            PACKAGED_CITY,
            "--out",
            str(out),
            "--example",  # the example cities hold placeholders marked 示例: built only on request
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


@pytest.fixture(scope="session")
def package(build: Path) -> Path:
    return build / "package"


@pytest.fixture(scope="session")
def template(package: Path) -> dict[str, Any]:
    return dict(json.loads((package / "sam.json").read_text(encoding="utf-8")))


@pytest.fixture(scope="session")
def checkov() -> Path:
    """checkov at the pinned version in .venv-checkov, installed there on first use (a fresh clone, CI)."""
    executable = CHECKOV_VENV / "bin" / "checkov"
    pin = next(line.strip() for line in CHECKOV_REQUIREMENTS.read_text(encoding="utf-8").splitlines() if "==" in line)
    wanted = pin.split("==")[1]
    if executable.exists():
        found = subprocess.run([str(executable), "--version"], capture_output=True, text=True, check=False)
        if found.stdout.strip() == wanted:
            return executable
    subprocess.run([sys.executable, "-m", "venv", str(CHECKOV_VENV)], check=True, timeout=300)
    pip = [str(CHECKOV_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(CHECKOV_REQUIREMENTS)], check=True, timeout=1200)
    return executable


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def statements(template: dict[str, Any], role: str) -> list[dict[str, Any]]:
    return [
        s
        for policy in template["Resources"][role]["Properties"]["Policies"]
        for s in policy["PolicyDocument"]["Statement"]
    ]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_of(function: dict[str, Any]) -> str:
    target = function["Properties"]["Role"]["Fn::GetAtt"]
    return str(target.split(".")[0] if isinstance(target, str) else target[0])


def referenced(value: Any) -> str:
    """The logical id an ARN expression points at: {"Fn::GetAtt": [X, "Arn"]} or "${X.Arn}/..." -> X."""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return str(target.split(".")[0] if isinstance(target, str) else target[0])
    if isinstance(value, dict) and "Fn::Sub" in value:
        found = re.match(r"\$\{(\w+)\.Arn\}", str(value["Fn::Sub"]))
        return found.group(1) if found else str(value["Fn::Sub"])
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    return str(value)
