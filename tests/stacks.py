"""Data resources for the moto-backed tests, created by moto's CloudFormation from infra/tables.yaml: the same
fragment the deployable template and the local stack use."""

from __future__ import annotations

import boto3
from treatfirst.adapters.schema import fragment_path


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
