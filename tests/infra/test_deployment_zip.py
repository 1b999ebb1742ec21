"""The deployment zip works as Lambda runs it: unpacked alone, with only boto3 beside it."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

from treatfirst.consents import render_all
from treatfirst.domain.policy import example_policy

from tests.infra.conftest import of_type
from tools.lambda_runtime import lambda_runtime_dir

PROBE = """
import importlib, json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
handlers = json.loads(sys.argv[3])
resolved = {}
for handler in handlers:
    module, _, attribute = handler.rpartition(".")
    resolved[handler] = callable(getattr(importlib.import_module(module), attribute))
# What the first invocation loads from the zip: PynamoDB models, the KMS cipher, the policy (PyYAML), a consent
# text (Jinja2).
importlib.import_module("treatfirst.adapters.dynamo")
importlib.import_module("treatfirst.adapters.kms")
from treatfirst.config import policy_file
from treatfirst.consents import render_all
from treatfirst.domain.policy import load_policy
policy = load_policy(policy_file("xiamen"))
consents = [c.sha256 for c in render_all(policy)]
print(json.dumps({"resolved": resolved, "app_file": importlib.import_module("app").__file__, "consents": consents,
                  "treatfirst_file": importlib.import_module("treatfirst").__file__}))
"""


def test_zip_imports_cleanly_and_every_handler_resolves(
    package: Path, template: dict[str, Any], tmp_path: Path
) -> None:
    # Given the zip unpacked into an empty folder
    code = tmp_path / "task"
    with zipfile.ZipFile(package / "deployment.zip") as archive:
        archive.extractall(code)
    handlers = sorted({f["Properties"]["Handler"] for f in of_type(template, "AWS::Serverless::Function").values()})
    assert handlers == ["app.app", "app.mark_overdue"]

    # When a clean interpreter (isolated, no site-packages) imports the handler module with only that folder
    # and boto3 on its path
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", PROBE, str(code), str(lambda_runtime_dir(tmp_path)), json.dumps(handlers)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )

    # Then every handler named in the template is a callable, loaded from the zip's own files
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["resolved"] == dict.fromkeys(handlers, True)
    assert report["consents"] == [c.sha256 for c in render_all(example_policy("xiamen"))]
    assert report["app_file"].startswith(str(code)) and report["treatfirst_file"].startswith(str(code))


def test_zip_is_small_and_carries_no_runtime_duplicates(package: Path) -> None:
    with zipfile.ZipFile(package / "deployment.zip") as archive:
        top = {name.split("/")[0] for name in archive.namelist()}
        names = set(archive.namelist())
    assert (package / "deployment.zip").stat().st_size < 10 * 2**20
    assert not top & {"boto3", "botocore", "cryptography"}
    assert {"treatfirst/policies/xiamen.yaml", "treatfirst/templates/consent/service_agreement.md.j2"} <= names
