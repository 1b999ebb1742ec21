"""treatfirst-admin as a separate process against DynamoDB Local, reached only through the local stack's
description in .local/ (as `make serve` writes it): no settings in the shell."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from treatfirst.adapters.crypto import LocalCipher
from treatfirst.adapters.schema import create_tables

from tools.ddblocal import DynamoDBLocal

ROOT = Path(__file__).resolve().parents[2]


def _describe_stack(folder: Path, endpoint: str, prefix: str) -> None:
    key = folder / ".local" / "lianyungang" / "local.key"
    key.parent.mkdir(parents=True)
    key.write_text(LocalCipher.new_key(), encoding="utf-8")
    stack = {
        "city": "lianyungang",
        "environment": {
            "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "cn-north-1",
            "TF_TABLE_PREFIX": prefix,
            "TF_POLICY": "lianyungang",
            "TF_KEY_MODE": "local",
            "TF_LOCAL_KEY_FILE": str(key),
        },
    }
    (folder / ".local" / "running.json").write_text(json.dumps(stack), encoding="utf-8")


def _admin(folder: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "AWS_"))}
    env["PYTHONPATH"] = str(ROOT / "functions")
    return subprocess.run(
        [sys.executable, "-m", "treatfirst.cli", *argv],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.ddblocal
def test_register_on_dynamodb_local_with_no_settings(dynamodb_local: DynamoDBLocal, tmp_path: Path) -> None:
    # Given DynamoDB Local described by .local/running.json, its tables not yet created
    prefix = f"cli{os.getpid()}-"
    _describe_stack(tmp_path, dynamodb_local.endpoint, prefix)
    missing = _admin(tmp_path, "register", "hospital", "city-hospital-1", "市第一人民医院")
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert "was not found" in missing.stderr and len(missing.stderr.strip().splitlines()) == 1
    # When the tables exist and the README's command is run in a shell with no settings
    create_tables(boto3.client("dynamodb", endpoint_url=dynamodb_local.endpoint), prefix)
    made = _admin(tmp_path, "register", "hospital", "city-hospital-1", "市第一人民医院")
    # Then the key is registered, and a second registration of the id is refused in one sentence
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)
    assert key["key_id"].startswith("key_") and key["secret"]
    again = _admin(tmp_path, "register", "hospital", "city-hospital-1", "市第一人民医院")
    assert again.returncode == 2 and again.stderr.count("\n") == 1 and "CALLER_EXISTS" in again.stderr
    # And it can be rotated and revoked the same way
    rotated = _admin(tmp_path, "rotate", key["key_id"], "--reason", "test")
    assert rotated.returncode == 0 and json.loads(rotated.stdout)["secret"] != key["secret"]
    revoked = _admin(tmp_path, "revoke", key["key_id"], "--reason", "test")
    assert revoked.returncode == 0 and json.loads(revoked.stdout)["status"] == "revoked"
