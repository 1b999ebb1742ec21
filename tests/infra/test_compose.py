"""The packager's composition rules, on specs the app does not have yet (exports, clearing) and on mistakes."""

from __future__ import annotations

from typing import Any

import pytest
from treatfirst.adapters.schema import load_template

from tools import package as packager


def _build(function: str, spec: dict[str, Any]) -> dict[str, Any]:
    protected, logical = packager.table_resources(load_template(packager.INFRA / "tables.yaml"))
    return packager.function_resources(function, spec, "xiamen", protected, logical)


def _statements(resources: dict[str, Any], function: str) -> dict[str, dict[str, Any]]:
    policy = resources[f"{function}Role"]["Properties"]["Policies"][0]["PolicyDocument"]
    return {s["Sid"]: s for s in policy["Statement"]}


def test_an_exporting_function_gets_exactly_its_topic_bucket_and_queue() -> None:
    # Given a scheduled export that appends audit events, publishes a notice and writes files
    spec = {
        "name": "export-blacklist",
        "invoked": "async",
        "publish": ["RemindersTopic"],
        "write_objects": ["ExportBucket"],
        "tables": {"audit": "append", "bills": {"access": "read", "indexes": []}},
    }

    # When it is composed
    out = _build("ExportBlacklist", spec)
    granted = _statements(out, "ExportBlacklist")

    # Then its role names that topic, that bucket's objects, its own dead-letter queue, and the data key only
    # through the services that hold data encrypted with it; no identifiers, no blind index, no index queries
    assert set(granted) == {
        "Logs",
        "TablesAppend",
        "TablesRead",
        "DeadLetters",
        "Publish",
        "WriteObjects",
        "DataKeyThroughServices",
    }
    assert granted["Publish"]["Resource"] == [{"Ref": "RemindersTopic"}]
    assert granted["WriteObjects"]["Action"] == ["s3:PutObject", "s3:AbortMultipartUpload"]  # parts of large files
    assert granted["WriteObjects"]["Resource"] == [{"Fn::Sub": "${ExportBucket.Arn}/*"}]
    assert granted["TablesRead"]["Action"] == ["dynamodb:GetItem", "dynamodb:Query"]
    via = granted["DataKeyThroughServices"]["Condition"]["StringLike"]["kms:ViaService"]
    assert [v["Fn::Sub"].split(".")[0] for v in via] == ["dynamodb", "sqs", "sns", "s3"]
    assert out["ExportBlacklist"]["Properties"]["DeadLetterQueue"]["TargetArn"] == {
        "Fn::GetAtt": ["ExportBlacklistDeadLetters", "Arn"]
    }
    assert {"ExportBlacklistDeadLetters", "ExportBlacklistDeadLettersAlarm", "ExportBlacklistLogGroup"} <= set(out)
    assert "ReservedConcurrentExecutions" not in out["ExportBlacklist"]["Properties"]
    assert out["ExportBlacklist"]["Properties"]["Environment"]["Variables"]["TF_EXPORTS_BUCKET"] == {
        "Ref": "ExportBucket"
    }


def test_a_function_reading_files_and_signing_gets_exactly_that() -> None:
    # Given the API serving files to the credit platform, and the export signing its manifests
    reader = _statements(_build("Reader", {"name": "r", "invoked": "sync", "read_objects": ["ExportBucket"]}), "Reader")
    signer_out = _build("Signer", {"name": "s", "invoked": "async", "sign_with": "ExportSigningKey"})
    signer = _statements(signer_out, "Signer")
    # Then the reader may get that bucket's objects (and the data key through S3), nothing more
    assert reader["ReadObjects"]["Action"] == ["s3:GetObject"]
    assert reader["ReadObjects"]["Resource"] == [{"Fn::Sub": "${ExportBucket.Arn}/*"}]
    assert "WriteObjects" not in reader
    # And the signer may sign with that key and read its public half, and is told which key it is
    assert signer["SignManifests"]["Action"] == ["kms:Sign", "kms:GetPublicKey"]
    assert signer["SignManifests"]["Resource"] == {"Fn::GetAtt": ["ExportSigningKey", "Arn"]}
    variables = signer_out["Signer"]["Properties"]["Environment"]["Variables"]
    assert variables["TF_EXPORT_SIGNING_KEY_ID"] == {"Fn::GetAtt": ["ExportSigningKey", "Arn"]}


def test_a_synchronous_function_has_no_dead_letter_queue() -> None:
    out = _build("Webhooks", {"name": "webhooks", "invoked": "sync", "tables": {"visits": "read"}})
    assert "DeadLetterQueue" not in out["Webhooks"]["Properties"]
    assert not any(name.endswith("DeadLetters") for name in out)
    assert "DeadLetters" not in _statements(out, "Webhooks")


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ({"name": "x", "invoked": "async", "tables": {"invoices": "read"}}, "not in infra/tables.yaml"),
        ({"name": "x", "invoked": "async", "tables": {"bills": "append-only"}}, "must be one of"),
        ({"name": "x", "invoked": "async", "tables": {"bills": {"access": "read", "indexes": ["by_x"]}}}, "index"),
        ({"name": "x", "tables": {"bills": "read"}}, "sync, async or queue"),
        ({"name": "x", "invoked": "queue", "tables": {"bills": "read"}}, "names a queue exactly when"),
        ({"name": "x", "invoked": "sync", "kms": ["sign"]}, "kms may hold only"),
    ],
)
def test_mistakes_in_the_spec_stop_the_build(spec: dict[str, Any], says: str) -> None:
    with pytest.raises(packager.PackagingError, match=says):
        _build("X", spec)


def test_the_build_stops_when_the_app_and_the_spec_disagree() -> None:
    function = {"Type": "AWS::Serverless::Function", "Properties": {}}
    undescribed = {"Resources": {"APIHandler": function, "Collect": function, "DailyClearing": function}}
    with pytest.raises(packager.PackagingError, match="DailyClearing"):
        packager.check_functions(undescribed)
    gone = {"Resources": {"APIHandler": function, "Collect": {"Properties": {"FunctionName": "x"}}}}
    with pytest.raises(packager.PackagingError, match="Collect"):
        packager.check_functions(gone)
