"""The packaged template: lint-clean, checkov-clean but for listed reasons, and production-grade."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from treatfirst.domain.policy import example_policy

from tests.infra.conftest import PACKAGED_CITY, ROOT, as_list, of_type, referenced, role_of, statements

FUNCTIONS_SPEC = yaml.safe_load((ROOT / "infra" / "functions.yaml").read_text(encoding="utf-8"))


def test_cfn_lint_reports_nothing(package: Path) -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run([str(cfn_lint), str(package / "sam.json")], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout + result.stderr


def test_checkov_finds_only_the_listed_and_reasoned_skips(package: Path, checkov: Path) -> None:
    result = subprocess.run(
        [
            str(checkov),
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
    assert report["summary"]["passed"] > 50, "checkov ran no real checks"
    found = {(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]}
    skips = yaml.safe_load((ROOT / "infra" / "checkov-skips.yaml").read_text(encoding="utf-8"))
    listed = {(s["id"], r) for s in skips for r in s["resources"]}
    assert all(len(str(s.get("reason", "")).split()) >= 10 for s in skips), "every skip needs a real reason"
    assert found - listed == set(), "fix these or list them with a reason in infra/checkov-skips.yaml"
    assert listed - found == set(), "these skips no longer match a finding: remove them"


def test_no_partition_or_domain_is_hard_coded(template: dict[str, Any]) -> None:
    # The same template deploys to aws and aws-cn: ARNs take ${AWS::Partition}, hosts ${AWS::URLSuffix}.
    text = json.dumps(template)
    assert "arn:aws:" not in text and "arn:aws-cn:" not in text
    assert ".amazonaws.com/" not in text and "amazonaws.com.cn" not in text


def test_api_is_regional_named_per_city_and_logged(template: dict[str, Any]) -> None:
    api = template["Resources"]["RestAPI"]["Properties"]
    assert api["EndpointConfiguration"] == "REGIONAL"
    assert api["DefinitionBody"]["info"]["title"] == {"Fn::Sub": "treatfirst-${CityCode}-${Stage}"}
    assert api["TracingEnabled"] is True
    assert referenced(api["AccessLogSetting"]["DestinationArn"]) == "ApiAccessLogGroup"
    assert all(path.startswith("/v1/") for path in api["DefinitionBody"]["paths"])
    # the custom domain exists only when asked for, and then only with TLS 1.2 on a REGIONAL endpoint
    domain = template["Resources"]["ApiDomain"]
    assert domain["Condition"] == "HasApiDomain" and domain["Properties"]["SecurityPolicy"] == "TLS_1_2"
    assert domain["Properties"]["EndpointConfiguration"] == {"Types": ["REGIONAL"]}


def test_every_table_is_protected_and_expiring_tables_have_ttl(template: dict[str, Any]) -> None:
    tables = of_type(template, "AWS::DynamoDB::Table")
    assert len(tables) == len(yaml.safe_load((ROOT / "infra" / "tables.yaml").read_text(encoding="utf-8"))["Resources"])
    for name, table in tables.items():
        props = table["Properties"]
        # the data keys' backups last 7 days: after that an erased person's key is gone from every copy
        recovery = {"RecoveryPeriodInDays": 7} if name == "DataKeysTable" else {}
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True, **recovery}, name
        sse = props["SSESpecification"]
        assert sse["SSEEnabled"] is True and sse["SSEType"] == "KMS", name
        assert sse["KMSMasterKeyId"] == {
            "Fn::If": ["CreateDataKey", {"Fn::GetAtt": ["DataKey", "Arn"]}, {"Ref": "PiiKeyArn"}]
        }, name
        assert props["DeletionProtectionEnabled"] is True, name
        assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain", name
        assert props["TableName"]["Fn::Sub"].startswith("treatfirst-${CityCode}-${Stage}-"), name
    ttl = {n: t["Properties"].get("TimeToLiveSpecification") for n, t in tables.items()}
    # the audit log expires after privacy.retention.audit_days (treatfirst.services.records.audit sets expires_at)
    assert {n for n, spec in ttl.items() if spec} == {"IdempotencyTable", "NoncesTable", "AuditTable"}
    assert all(spec == {"AttributeName": "expires_at", "Enabled": True} for spec in ttl.values() if spec)


def test_keys_are_customer_managed_and_retained(template: dict[str, Any]) -> None:
    keys = of_type(template, "AWS::KMS::Key")
    assert set(keys) == {"DataKey", "BlindIndexKey", "ExportSigningKey"}
    assert keys["DataKey"]["Condition"] == "CreateDataKey"  # or the city brings its own (PiiKeyArn)
    assert keys["DataKey"]["Properties"]["EnableKeyRotation"] is True
    assert keys["BlindIndexKey"]["Properties"]["KeySpec"] == "HMAC_256"
    # the export manifests' signing key: asymmetric, sign and verify only (its public half is an output)
    signing = keys["ExportSigningKey"]["Properties"]
    assert (signing["KeySpec"], signing["KeyUsage"]) == ("RSA_3072", "SIGN_VERIFY")
    assert template["Outputs"]["ExportSigningKeyArn"]["Value"] in (
        {"Fn::GetAtt": "ExportSigningKey.Arn"},
        {"Fn::GetAtt": ["ExportSigningKey", "Arn"]},
    )
    assert all(k["DeletionPolicy"] == "Retain" for k in keys.values())


def test_export_bucket_is_encrypted_versioned_private_and_tls_only(template: dict[str, Any]) -> None:
    bucket = template["Resources"]["ExportBucket"]["Properties"]
    rule = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert rule["SSEAlgorithm"] == "aws:kms" and rule["KMSMasterKeyID"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert all(bucket["PublicAccessBlockConfiguration"].values()) and len(bucket["PublicAccessBlockConfiguration"]) == 4
    statement = template["Resources"]["ExportBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Effect"] == "Deny" and statement["Principal"] == "*" and statement["Action"] == "s3:*"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_topics_are_encrypted_and_alarms_reach_the_alarm_email(template: dict[str, Any]) -> None:
    topics = of_type(template, "AWS::SNS::Topic")
    assert set(topics) == {"RemindersTopic", "AlarmTopic"}
    assert all(t["Properties"]["KmsMasterKeyId"] for t in topics.values())
    assert topics["AlarmTopic"]["Properties"]["Subscription"] == [
        {"Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}}
    ]


def test_every_function_is_described_logged_and_alarmed(template: dict[str, Any]) -> None:
    functions = of_type(template, "AWS::Serverless::Function")
    assert (
        set(functions)
        == set(FUNCTIONS_SPEC)
        == {
            "APIHandler",
            "Collect",
            "CollectShard",
            "DispatchOutbox",
            "ExportBlacklist",
            "PurgeIdentities",
            "DispatchWebhooks",
            "Clear",
        }
    )
    groups = {g["Properties"]["LogGroupName"]["Fn::Sub"]: g for g in of_type(template, "AWS::Logs::LogGroup").values()}
    alarms = [a["Properties"] for a in of_type(template, "AWS::CloudWatch::Alarm").values()]
    for name, function in functions.items():
        props = function["Properties"]
        assert props["FunctionName"] == {"Fn::Sub": "treatfirst-${CityCode}-${Stage}-" + FUNCTIONS_SPEC[name]["name"]}
        group = groups["/aws/lambda/" + props["FunctionName"]["Fn::Sub"]]
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name
        assert group["Properties"]["KmsKeyId"] and group["DeletionPolicy"] == "Retain", name
        watched = {a["MetricName"] for a in alarms if a.get("Dimensions", [{}])[0].get("Value") == {"Ref": name}}
        assert watched == {"Errors", "Throttles"}, name
        env = props["Environment"]["Variables"]
        assert env["TF_POLICY"] == PACKAGED_CITY and env["TF_KEY_MODE"] == "kms", name
        sends = set(FUNCTIONS_SPEC[name].get("send", {}).values())
        topics = {"TF_REMINDERS_TOPIC_ARN": {"Ref": "RemindersTopic"}} if name == "DispatchOutbox" else {}
        assert {k: env[k] for k in topics} == topics, name  # the dispatcher publishes to the reminders topic
        base = {"TF_TABLE_PREFIX", "TF_POLICY", "TF_KEY_MODE", "TF_KMS_KEY_ID", "TF_KMS_MAC_KEY_ID"}
        spec = FUNCTIONS_SPEC[name]
        files = {"TF_EXPORTS_BUCKET"} if spec.get("write_objects") or spec.get("read_objects") else set()
        signing = {"TF_EXPORT_SIGNING_KEY_ID"} if spec.get("sign_with") else set()
        assert set(env) - set(topics) == base | sends | files | signing, name
        if files:
            assert env["TF_EXPORTS_BUCKET"] == {"Ref": "ExportBucket"}, name
    assert all(a["AlarmActions"] == [{"Ref": "AlarmTopic"}] for a in alarms)


def test_asynchronous_functions_have_dead_letters_with_a_depth_alarm(template: dict[str, Any]) -> None:
    functions = of_type(template, "AWS::Serverless::Function")
    scheduled = {n for n, f in functions.items() if "DeadLetterQueue" in f["Properties"]}
    assert scheduled == {"Collect", "DispatchOutbox", "ExportBlacklist", "PurgeIdentities", "DispatchWebhooks", "Clear"}
    assert functions["PurgeIdentities"]["Properties"]["Events"]["PurgeIdentitiesEvent"]["Properties"] == {
        "Schedule": "rate(1 day)"
    }
    assert functions["Clear"]["Properties"]["Events"]["ClearEvent"]["Properties"] == {"Schedule": "rate(1 hour)"}
    assert functions["Collect"]["Properties"]["Events"]["CollectEvent"]["Properties"] == {"Schedule": "rate(1 hour)"}
    export_events = functions["ExportBlacklist"]["Properties"]["Events"]
    assert export_events["ExportBlacklistEvent"]["Properties"] == {"Schedule": "rate(1 hour)"}
    assert functions["DispatchOutbox"]["Properties"]["Events"]["DispatchOutboxEvent"]["Properties"] == {
        "Schedule": "rate(5 minutes)"
    }
    assert functions["DispatchWebhooks"]["Properties"]["Events"]["DispatchWebhooksEvent"]["Properties"] == {
        "Schedule": "rate(1 minute)"
    }
    queues = of_type(template, "AWS::SQS::Queue")
    depth = {
        referenced(a["Properties"]["Dimensions"][0]["Value"])
        for a in of_type(template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
    }
    for name in scheduled:
        props = functions[name]["Properties"]
        assert props["DeadLetterQueue"]["Type"] == "SQS"
        queue = referenced(props["DeadLetterQueue"]["TargetArn"])
        assert queue in queues and queues[queue]["Properties"]["KmsMasterKeyId"]
        assert queue in depth
        assert props["EventInvokeConfig"]["MaximumRetryAttempts"] == 2
    # the sweep's fan-out queue: consumed by CollectShard (one shard per message), redriven to an alarmed
    # dead-letter queue after 3 failures, visible again only after 6 times the consumer's timeout
    shard = functions["CollectShard"]["Properties"]
    ((source,),) = [list(shard["Events"].values())]
    assert source["Type"] == "SQS" and source["Properties"]["BatchSize"] == 1
    assert referenced(source["Properties"]["Queue"]) == "CollectionQueue"
    queue = queues["CollectionQueue"]["Properties"]
    assert referenced(queue["RedrivePolicy"]["deadLetterTargetArn"]) == "CollectionQueueDeadLetters"
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 3 and queue["KmsMasterKeyId"]
    assert shard["Timeout"] == 900 and queue["VisibilityTimeout"] == 6 * 900
    assert "CollectionQueueDeadLetters" in depth and "CollectionQueue" not in depth
    assert functions["Collect"]["Properties"]["Environment"]["Variables"]["TF_COLLECTION_QUEUE_URL"] == {
        "Ref": "CollectionQueue"
    }
    assert set(queues) - {"CollectionQueue"} == depth  # no dead-letter queue without its alarm


def test_every_table_has_a_throttle_alarm(template: dict[str, Any]) -> None:
    alarmed = set()
    for alarm in of_type(template, "AWS::CloudWatch::Alarm").values():
        metrics = alarm["Properties"].get("Metrics", [])
        names = {m["MetricStat"]["Metric"]["MetricName"] for m in metrics if "MetricStat" in m}
        if names == {"ReadThrottleEvents", "WriteThrottleEvents"}:
            alarmed |= {
                referenced(m["MetricStat"]["Metric"]["Dimensions"][0]["Value"]) for m in metrics if "MetricStat" in m
            }
    assert alarmed == set(of_type(template, "AWS::DynamoDB::Table"))


def test_roles_are_written_per_function_without_wildcards(template: dict[str, Any]) -> None:
    functions = of_type(template, "AWS::Serverless::Function")
    roles = {role_of(f) for f in functions.values()}
    assert len(roles) == len(functions)
    assert not of_type(template, "AWS::IAM::Policy") and not of_type(template, "AWS::IAM::ManagedPolicy")
    for role in roles:
        assert "ManagedPolicyArns" not in template["Resources"][role]["Properties"], role
        for statement in statements(template, role):
            assert statement["Effect"] == "Allow", (role, statement["Sid"])
            assert not any("*" in a for a in as_list(statement["Action"])), (role, statement["Sid"])
            assert "*" not in as_list(statement["Resource"]), (role, statement["Sid"])


def test_least_privilege_tables_keys_and_append_only_records(template: dict[str, Any]) -> None:
    def grants(role: str) -> dict[str, set[str]]:
        """resource logical id -> actions"""
        out: dict[str, set[str]] = {}
        for statement in statements(template, role):
            for resource in as_list(statement["Resource"]):
                key = json.dumps(resource) if "Fn::If" in json.dumps(resource) else referenced(resource)
                out.setdefault(key, set()).update(as_list(statement["Action"]))
        return out

    api, start, sweep = grants("APIHandlerRole"), grants("CollectRole"), grants("CollectShardRole")
    tables = set(of_type(template, "AWS::DynamoDB::Table"))
    assert tables <= set(api)
    # the schedule only queues one message per shard: no table, no key but through SQS
    assert not set(start) & tables and start["CollectionQueue"] == {"sqs:SendMessage"}
    # the shard sweep reads the next-step index, changes accounts and bills, appends ledger, audit, outbox and
    # event rows, keeps the report counters and the blacklist records (whose purge is its only delete), and touches
    # nothing else
    assert {k for k in sweep if k in tables} == {
        "AccountsTable",
        "BillsTable",
        "LedgerTable",
        "AuditTable",
        "OutboxTable",
        "EventsTable",
        "ReportsTable",
        "BlacklistTable",
    }
    assert {k for k, actions in sweep.items() if "dynamodb:DeleteItem" in actions} == {"BlacklistTable"}
    assert sweep["EventsTable"] == {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"}
    assert sweep["AccountsTable"] == {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem"}
    assert sweep["BillsTable"] == {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"}
    index_grants = [s["Resource"] for s in statements(template, "CollectShardRole") if s["Sid"] == "Indexes"]
    assert index_grants == [
        [
            {"Fn::Sub": "${AccountsTable.Arn}/index/by_next_step"},
            {"Fn::Sub": "${BlacklistTable.Arn}/index/blacklist_due"},
        ]
    ]
    assert "sqs:ReceiveMessage" in sweep["CollectionQueue"] and "sqs:SendMessage" not in sweep["CollectionQueue"]
    # ledger entries and audit events are only ever added, by every function
    for grant in (api, start, sweep):
        for table in ("LedgerTable", "AuditTable"):
            if table in grant:
                assert not grant[table] & {"dynamodb:UpdateItem", "dynamodb:DeleteItem"}, table
    # only the API turns identifiers into ciphertext, plain text or blind indexes
    assert "kms:GenerateMac" in api["BlindIndexKey"] and "BlindIndexKey" not in sweep and "BlindIndexKey" not in start
    for role in ("CollectRole", "CollectShardRole"):
        assert [s for s in statements(template, role) if s["Sid"] == "Identifiers"] == []
    for role in ("APIHandlerRole", "CollectRole", "CollectShardRole"):
        for statement in statements(template, role):
            if statement["Sid"] == "DataKeyThroughServices":
                assert list(statement["Condition"]["StringLike"]) == ["kms:ViaService"]
            if statement["Sid"] == "Identifiers":
                assert statement["Condition"]["ForAllValues:StringEquals"] == {"kms:EncryptionContextKeys": ["purpose"]}


def test_the_export_role_is_exactly_what_the_export_does(template: dict[str, Any]) -> None:
    def grants(role: str) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for statement in statements(template, role):
            for resource in as_list(statement["Resource"]):
                key = json.dumps(resource) if "Fn::If" in json.dumps(resource) else referenced(resource)
                out.setdefault(key, set()).update(as_list(statement["Action"]))
        return out

    tables = set(of_type(template, "AWS::DynamoDB::Table"))
    api = grants("APIHandlerRole")
    # the blacklist export reads the day's change log (its index only), identities and consents, records its
    # deliveries and audit events, writes files and signs: it deletes nothing, decrypts but never encrypts an
    # identifier, signs with the signing key only; only the API reads files back (for the credit platform), and
    # only the export signs
    exporter = grants("ExportBlacklistRole")
    assert {k for k in exporter if k in tables} == {
        "BlacklistTable",
        "AccountsTable",
        "ConsentsTable",
        "ExportsTable",
        "AuditTable",
        "DataKeysTable",
    }
    assert exporter["BlacklistTable"] == {"dynamodb:GetItem", "dynamodb:Query"}
    # a page of change rows: its markers, accounts, consents and data keys read by key, a hundred a request
    batch = {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"}
    assert exporter["AccountsTable"] == exporter["DataKeysTable"] == exporter["ConsentsTable"] == batch
    assert exporter["ExportsTable"] == {*batch, "dynamodb:PutItem", "dynamodb:UpdateItem"}
    assert exporter["ExportSigningKey"] == {"kms:Sign", "kms:GetPublicKey"} and "ExportSigningKey" not in api
    direct = [s for s in statements(template, "ExportBlacklistRole") if s["Sid"] == "Identifiers"]
    assert [s["Action"] for s in direct] == [["kms:Decrypt"]]
    index_grants = [s["Resource"] for s in statements(template, "ExportBlacklistRole") if s["Sid"] == "Indexes"]
    assert index_grants == [[{"Fn::Sub": "${BlacklistTable.Arn}/index/blacklist_changes"}]]
    writes = [s for s in statements(template, "ExportBlacklistRole") if s["Sid"] == "WriteObjects"]
    assert writes[0]["Resource"] == [{"Fn::Sub": "${ExportBucket.Arn}/*"}]
    reads = [s for s in statements(template, "APIHandlerRole") if s["Sid"] == "ReadObjects"]
    assert reads[0]["Action"] == ["s3:GetObject"] and "WriteObjects" not in {
        s["Sid"] for s in statements(template, "APIHandlerRole")
    }


def test_parameters_and_example_city_files(template: dict[str, Any]) -> None:
    params = template["Parameters"]
    assert {
        "CityCode",
        "Stage",
        "AlarmEmail",
        "PiiKeyArn",
        "LogRetentionDays",
        "ApiReservedConcurrency",
        "ApiDomainName",
        "ApiCertificateArn",
    } == set(params)
    # a template packaged with one city's policy deploys only as that city
    assert params["CityCode"]["AllowedValues"] == [example_policy(PACKAGED_CITY).city_code]
    for city in ("lianyungang", "xiamen"):
        # `aws cloudformation deploy --parameter-overrides file://...` reads this ("CodePipeline") shape
        given = json.loads((ROOT / "infra" / "params" / f"{city}.json").read_text(encoding="utf-8"))
        assert set(given) == {"Parameters"} and set(given["Parameters"]) == set(params), city
        assert all(isinstance(v, str) for v in given["Parameters"].values()), city
        assert given["Parameters"]["CityCode"] == example_policy(city).city_code, city
        for name, value in given["Parameters"].items():
            if name == "CityCode":
                continue  # checked against the city's own policy above
            spec = params[name]
            assert value in [str(v) for v in spec.get("AllowedValues", [value])], (city, name)
    concurrency = template["Resources"]["APIHandler"]["Properties"]["ReservedConcurrentExecutions"]
    assert concurrency == {"Fn::If": ["ReserveConcurrency", {"Ref": "ApiReservedConcurrency"}, {"Ref": "AWS::NoValue"}]}


def test_an_alarm_watches_privacy_requests_past_their_deadline(template: dict[str, Any]) -> None:
    from treatfirst.services.purge import OVERDUE_FIELD

    # Given the daily purge function's log line (chalicelib.events.purge_identities logs the step's result)
    (metric,) = [
        m["Properties"]
        for m in of_type(template, "AWS::Logs::MetricFilter").values()
        if m["Properties"]["LogGroupName"] == {"Ref": "PurgeIdentitiesLogGroup"}
    ]
    # Then a metric takes the count of overdue requests from exactly that line, and an alarm fires above zero
    assert metric["FilterPattern"] == f'{{ ($.msg = "purge_identities") && ($.{OVERDUE_FIELD} > 0) }}'
    (transform,) = metric["MetricTransformations"]
    assert transform["MetricValue"] == f"$.{OVERDUE_FIELD}"
    alarm = template["Resources"]["PurgeIdentitiesPrivacyRequestsOverdueAlarm"]["Properties"]
    assert alarm["MetricName"] == transform["MetricName"] and alarm["Namespace"] == transform["MetricNamespace"]
    assert alarm["Threshold"] == 0 and alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}] and alarm["Period"] == 86400
