"""Data resources for the moto-backed tests, created by moto's CloudFormation from infra/tables.yaml: the same
fragment the deployable template and the local stack use."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from treatfirst.adapters.crypto import LocalCipher
from treatfirst.adapters.schema import fragment_path
from treatfirst.config import Runtime, runtime


def create_tables_stack(prefix: str, stack_name: str = "treatfirst-data") -> list[str]:
    """Create the tables stack inside an active moto mock; returns the table names it made."""
    cloudformation = boto3.client("cloudformation")
    cloudformation.create_stack(
        StackName=stack_name,
        TemplateBody=fragment_path().read_text(encoding="utf-8"),
        Parameters=[{"ParameterKey": "TablePrefix", "ParameterValue": prefix}],
    )
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise RuntimeError(f"tables stack ended {stack['StackStatus']}")
    resources = cloudformation.describe_stack_resources(StackName=stack_name)["StackResources"]
    return sorted(r["PhysicalResourceId"] for r in resources if r["ResourceType"] == "AWS::DynamoDB::Table")


EXPORTS_BUCKET = "tf-test-exports"
EXPORT_SIGNING_KEY = Path(__file__).parent / "unit" / "golden" / "export" / "test-signing-key.pem"


def create_exports_bucket() -> None:
    """The exports bucket inside an active moto mock (infra/platform.yaml makes it on AWS)."""
    boto3.client("s3").create_bucket(
        Bucket=EXPORTS_BUCKET, CreateBucketConfiguration={"LocationConstraint": "cn-north-1"}
    )


def moto_settings(monkeypatch: pytest.MonkeyPatch, prefix: str, policy: str) -> None:
    """Settings for a platform on moto: no endpoint override (it would bypass the mock), dummy credentials,
    local key mode with a fresh key, the exports bucket on moto S3 and a test key signing export manifests."""
    for name in (
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_ENDPOINT_URL_S3",
        "AWS_PROFILE",
        "TF_EXPORTS_DIR",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "cn-north-1",
        "TF_TABLE_PREFIX": prefix,
        "TF_POLICY": policy,
        "TF_KEY_MODE": "local",
        "TF_LOCAL_KEY": LocalCipher.new_key(),
        "TF_EXPORTS_BUCKET": EXPORTS_BUCKET,
        "TF_EXPORT_SIGNING_KEY_FILE": str(EXPORT_SIGNING_KEY),
    }.items():
        monkeypatch.setenv(name, value)


@contextlib.contextmanager
def moto_platform(
    monkeypatch: pytest.MonkeyPatch, prefix: str, policy: str, stack_name: str = "treatfirst-data"
) -> Iterator[Runtime]:
    """moto with the tables stack created from infra/tables.yaml, and a fresh runtime bound to it."""
    moto_settings(monkeypatch, prefix, policy)
    with mock_aws():
        runtime.cache_clear()
        create_tables_stack(prefix, stack_name=stack_name)
        create_exports_bucket()
        try:
            yield runtime()
        finally:
            runtime.cache_clear()
