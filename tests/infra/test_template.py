"""The packaged template: lint-clean, checkov-clean but for listed reasons, and production-grade."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.infra.conftest import ROOT, of_type

CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


def test_cfn_lint_reports_nothing(package: Path) -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run([str(cfn_lint), str(package / "sam.json")], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout + result.stderr


def test_checkov_finds_only_the_listed_and_reasoned_skips(package: Path) -> None:
    if not CHECKOV.exists():
        pytest.fail("checkov is not installed: run `make install` (it creates .venv-checkov)")
    result = subprocess.run(
        [
            str(CHECKOV),
            "-f",
            str(package / "sam.json"),
            "--framework",
            "cloudformation",
            "--skip-download",
            "--quiet",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(result.stdout)
    assert report["summary"]["parsing_errors"] == 0
    found = {(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]}
    skips = yaml.safe_load((ROOT / "infra" / "checkov-skips.yaml").read_text(encoding="utf-8"))
    listed = {(s["id"], r) for s in skips for r in s["resources"]}
    assert all(len(str(s.get("reason", "")).split()) >= 10 for s in skips), "every skip needs a real reason"
    assert found - listed == set(), "fix these or list them with a reason in infra/checkov-skips.yaml"
    assert listed - found == set(), "these skips no longer match a finding: remove them"


def test_api_is_regional(template: dict[str, Any]) -> None:
    api = template["Resources"]["RestAPI"]["Properties"]
    assert api["EndpointConfiguration"] == "REGIONAL"
    assert api["TracingEnabled"] is True and "AccessLogSetting" in api


def test_every_table_is_protected_and_expiring_tables_have_ttl(template: dict[str, Any]) -> None:
    tables = of_type(template, "AWS::DynamoDB::Table")
    assert len(tables) == 11
    for name, table in tables.items():
        props = table["Properties"]
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}, name
        assert props["SSESpecification"]["SSEType"] == "KMS" and props["SSESpecification"]["KMSMasterKeyId"], name
        assert props["DeletionProtectionEnabled"] is True and table["DeletionPolicy"] == "Retain", name
    ttl = {n for n, t in tables.items() if t["Properties"].get("TimeToLiveSpecification", {}).get("Enabled")}
    assert ttl == {"IdempotencyTable", "NoncesTable"}


def test_export_bucket_is_encrypted_versioned_private_and_tls_only(template: dict[str, Any]) -> None:
    bucket = template["Resources"]["ExportBucket"]["Properties"]
    assert (
        bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"][
            "SSEAlgorithm"
        ]
        == "aws:kms"
    )
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    statement = template["Resources"]["ExportBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_async_functions_have_dead_letters_retention_and_alarms(template: dict[str, Any]) -> None:
    functions = of_type(template, "AWS::Serverless::Function")
    scheduled = {n for n, f in functions.items() if f["Properties"].get("Events")}
    assert scheduled == {"MarkOverdue"}
    for name in scheduled:
        assert functions[name]["Properties"]["DeadLetterQueue"]["Type"] == "SQS"
    groups = {
        g["Properties"]["LogGroupName"]["Fn::Sub"]: g["Properties"]
        for g in of_type(template, "AWS::Logs::LogGroup").values()
    }
    alarms = [a["Properties"] for a in of_type(template, "AWS::CloudWatch::Alarm").values()]
    for name, function in functions.items():
        group = groups["/aws/lambda/" + function["Properties"]["FunctionName"]["Fn::Sub"]]
        assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"} and group["KmsKeyId"], name
        watched = {a["MetricName"] for a in alarms if a["Dimensions"][0]["Value"] == {"Ref": name}}
        assert {"Errors", "Throttles"} <= watched, name
    assert any(a["MetricName"] == "ApproximateNumberOfMessagesVisible" for a in alarms)
    assert all(a["AlarmActions"] == [{"Ref": "AlarmTopic"}] for a in alarms)


def test_roles_are_written_per_function_without_wildcards(template: dict[str, Any]) -> None:
    functions = of_type(template, "AWS::Serverless::Function")
    targets = [f["Properties"]["Role"]["Fn::GetAtt"] for f in functions.values()]
    roles = {t.split(".")[0] if isinstance(t, str) else t[0] for t in targets}
    assert len(roles) == len(functions)
    for role in roles:
        for policy in template["Resources"][role]["Properties"]["Policies"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                resources = (
                    statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                )
                assert not any("*" in a for a in actions), (role, statement["Sid"])
                assert "*" not in resources, (role, statement["Sid"])
    overdue = json.dumps(template["Resources"]["MarkOverdueRole"])
    assert "AccountsTable" not in overdue and "BillsTable" in overdue


def test_parameters_and_example_city_files(template: dict[str, Any]) -> None:
    assert {"CityCode", "Stage", "AlarmEmail", "PiiKeyArn", "LogRetentionDays"} <= set(template["Parameters"])
    for city in ("lianyungang", "xiamen"):
        params = json.loads((ROOT / "infra" / "params" / f"{city}.json").read_text(encoding="utf-8"))
        assert set(params) <= set(template["Parameters"])
    env = template["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert env["TF_POLICY"] == "xiamen" and env["TF_KEY_MODE"] == "kms"
