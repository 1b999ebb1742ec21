"""Infrastructure tier: package the real app offline once, then check the template and the zip."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("build")
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "package.py"),
            "--region",
            "cn-north-1",
            "--city",
            "xiamen",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out / "package"


@pytest.fixture(scope="session")
def template(package: Path) -> dict[str, Any]:
    return dict(json.loads((package / "sam.json").read_text(encoding="utf-8")))


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}
