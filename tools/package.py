"""Build the deployable template and zip for one city, offline of AWS (only a region is needed).

    python tools/package.py --region cn-north-1 --city lianyungang [--policy path/to/city.yaml] [--out build]
    python tools/package.py --city lianyungang --sandbox --out build-sandbox   # an integrators' sandbox

A sandbox template (--sandbox) is the same platform with the test clock on (TF_TEST_CLOCK=1 on every function):
it deploys only as Stage "sandbox" (so every name says sandbox), and its API function holds the permissions of
every scheduled function, because moving the test clock runs them in process. The production template (without
--sandbox) has no way to turn the test clock on: no variable, no parameter (tests/infra checks both).

1. stages the Chalice app in <out>/app (the checkout's functions/ is never written to): app.py, chalicelib/,
   .chalice/config.json, and in vendor/ the `treatfirst` package with the city policy and its runtime
   dependencies as Lambda-platform wheels (--no-deps: boto3/botocore come with the Lambda runtime), all
   precompiled to bytecode (Lambda's /var/task is read-only, so nothing would cache it there);
2. composes the merge template from infra/platform.yaml, infra/tables.yaml (every table gets KMS encryption
   with the city's customer-managed key, point-in-time recovery, deletion protection and a throttle alarm)
   and infra/functions.yaml (every function gets its own least-privilege role, log group, alarms and, when
   invoked asynchronously, a dead-letter queue);
3. runs `chalice package --merge-template`, writing <out>/package/sam.json and <out>/package/deployment.zip,
   and checks that every function of the app is described in infra/functions.yaml.

The city policy is packaged: it ships inside the zip and TF_POLICY names it, so a policy change is a reviewed
redeploy with a fixed version and SHA-256, and no function reads configuration at cold start. The template's
CityCode parameter accepts only the packaged policy's city code.
"""

from __future__ import annotations

import argparse
import compileall
import copy
import json
import os
import py_compile
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ROOT / "functions"
INFRA = ROOT / "infra"
sys.path.insert(0, str(FUNCTIONS))

from treatfirst.adapters.schema import load_template  # noqa: E402
from treatfirst.domain.errors import (  # noqa: E402
    Forbidden,
    PayloadTooLarge,
    PolicyInvalid,
    RouteNotFound,
    Throttled,
    TreatFirstError,
    UnsupportedMediaType,
)
from treatfirst.domain.policy import load_policy  # noqa: E402
from treatfirst.http_status import status_of  # noqa: E402

PREFIX = "treatfirst-${CityCode}-${Stage}-"
LOCAL_ONLY = {"cryptography"}  # used by the local cipher only: KMS replaces it on AWS
LAMBDA_TASK_ROOT = "/var/task"

READ = ["dynamodb:GetItem", "dynamodb:Query"]
ACCESS = {
    "read": READ,
    "append": [*READ, "dynamodb:PutItem"],
    "update": [*READ, "dynamodb:UpdateItem"],
    "write": [*READ, "dynamodb:PutItem", "dynamodb:UpdateItem"],
    # rows are changed and deleted, never added (the records purge after the retention periods)
    "delete": [*READ, "dynamodb:DeleteItem"],
    "update-delete": [*READ, "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
    "read-write": [*READ, "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
}
KMS_USES = ("encrypt", "decrypt", "mac")
# Point-in-time recovery of the data_keys table: an erased person's data key can be restored for this many days at
# most, after which every copy of their identifiers (tables, backups, exports) is unreadable for good.
DATA_KEY_RECOVERY_DAYS = 7
NO_VALUE = {"Ref": "AWS::NoValue"}


class PackagingError(Exception):
    """The app and infra/ disagree, or a spec is malformed: the message says what to change."""


# ---- 1. the staged app --------------------------------------------------------------------------------------------


def runtime_requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    deps = [d for d in project["dependencies"] if d.split("==")[0].lower() not in LOCAL_ONLY]
    markupsafe = "MarkupSafe==3.0.4"  # Jinja2's one dependency, pinned here for the Lambda platform
    return [*deps, markupsafe]


def _ignore(_directory: str, names: list[str]) -> set[str]:
    return {n for n in names if n == "__pycache__" or n.endswith((".pyc", ".pyo")) or n.startswith(".")}


def strip_extensions(vendor: Path) -> list[Path]:
    """Strip the symbol tables of the wheels' compiled extensions (libyaml's binding ships 2.6 MB of them, which
    is most of the zip). The code is unchanged; only what a debugger would read goes. GNU strip (binutils, which
    `make install` brings) reads the Linux wheels' ELF files on any machine; without it the zip is larger, not
    different."""
    strip = shutil.which("strip")
    extensions = sorted(vendor.rglob("*.so"))
    if strip is None:
        print("note: no `strip` (binutils): the compiled extensions keep their symbols", file=sys.stderr)
        return []
    for extension in extensions:
        subprocess.run([strip, "--strip-unneeded", str(extension)], check=True)
    return extensions


def write_parsed_sidecars(policies: Path) -> list[Path]:
    """Beside each packaged policy, its parsed form (JSON keyed by the file's SHA-256): the functions' first
    invocation then builds the policy without importing or running the YAML parser. The YAML stays the source,
    what the policy's SHA-256 is taken of, and what a sidecar that does not match falls back to."""
    from treatfirst.domain.policy import parsed_sidecar, sidecar_path

    written = []
    for policy in sorted(policies.glob("*.yaml")):
        body = parsed_sidecar(policy.read_bytes())
        if body is not None:
            target = sidecar_path(policy)
            target.write_bytes(body)
            written.append(target)
    return written


def stage_app(app_dir: Path, city: str, policy_file: Path | None) -> Path:
    """A Chalice project dir holding exactly what the zip should hold."""
    shutil.rmtree(app_dir, ignore_errors=True)
    (app_dir / ".chalice").mkdir(parents=True)
    shutil.copy2(FUNCTIONS / "app.py", app_dir / "app.py")
    shutil.copy2(FUNCTIONS / "requirements.txt", app_dir / "requirements.txt")
    shutil.copytree(FUNCTIONS / "chalicelib", app_dir / "chalicelib", ignore=_ignore)
    for config in (FUNCTIONS / ".chalice").glob("*.json"):  # config.json and any policy-*.json
        shutil.copy2(config, app_dir / ".chalice" / config.name)

    vendor = app_dir / "vendor"
    shutil.copytree(FUNCTIONS / "treatfirst", vendor / "treatfirst", ignore=_ignore)
    if policy_file is not None:
        shutil.copy2(policy_file, vendor / "treatfirst" / "policies" / f"{city}.yaml")
    write_parsed_sidecars(vendor / "treatfirst" / "policies")
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--only-binary=:all:",
            "--platform",
            "manylinux2014_x86_64",
            "--implementation",
            "cp",
            "--python-version",
            python,
            "--target",
            str(vendor),
            *runtime_requirements(),
        ],
        check=True,
    )
    for junk in [*vendor.glob("bin"), *vendor.rglob("__pycache__")]:
        shutil.rmtree(junk, ignore_errors=True)
    strip_extensions(vendor)
    # Bytecode that is never checked against its source (the zip is immutable): a cold start compiles nothing.
    # Chalice packs vendor/ and chalicelib/ whole; app.py itself is a few lines.
    for tree, where in ((vendor, LAMBDA_TASK_ROOT), (app_dir / "chalicelib", f"{LAMBDA_TASK_ROOT}/chalicelib")):
        compiled = compileall.compile_dir(
            tree, ddir=where, quiet=1, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH
        )
        if not compiled:
            raise PackagingError(f"could not compile {tree}")
    return app_dir


# ---- 2. the merge template ----------------------------------------------------------------------------------------


def _data_key() -> dict[str, Any]:
    return {"Fn::If": ["CreateDataKey", {"Fn::GetAtt": ["DataKey", "Arn"]}, {"Ref": "PiiKeyArn"}]}


def _via(*services: str) -> dict[str, Any]:
    """Condition: the key is used by these services on the role's behalf, never called directly.

    `amazonaws.com*` matches the aws partition's hosts and the aws-cn partition's `amazonaws.com.cn`."""
    return {"StringLike": {"kms:ViaService": [{"Fn::Sub": f"{s}.${{AWS::Region}}.amazonaws.com*"} for s in services]}}


def _alarm(name: str, description: str, metric: dict[str, Any], period: int = 300) -> dict[str, Any]:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": {"Fn::Sub": PREFIX + name},
            "AlarmDescription": description,
            **metric,
            "Period": period,
            "EvaluationPeriods": 1,
            "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": "AlarmTopic"}],
        },
    }


def table_resources(tables: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The tables of infra/tables.yaml, protected, named per city and stage, each with a throttle alarm."""
    resources: dict[str, Any] = {}
    logical_to_resource: dict[str, str] = {}
    for name, table in tables["Resources"].items():
        table = copy.deepcopy(table)
        props = table["Properties"]
        logical = str(props["TableName"]["Fn::Sub"]).replace("${TablePrefix}", "")
        props["TableName"] = {"Fn::Sub": PREFIX + logical}
        props["SSESpecification"] = {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": _data_key()}
        props["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": True}
        if logical == "data_keys":  # an erased data key must not come back from a backup for long (crypto-shredding)
            props["PointInTimeRecoverySpecification"]["RecoveryPeriodInDays"] = DATA_KEY_RECOVERY_DAYS
        props["DeletionProtectionEnabled"] = True
        table["DeletionPolicy"] = table["UpdateReplacePolicy"] = "Retain"
        resources[name] = table
        logical_to_resource[logical] = name

        def events(kind: str, table_ref: str = name) -> dict[str, Any]:
            return {
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/DynamoDB",
                        "MetricName": f"{kind}ThrottleEvents",
                        "Dimensions": [{"Name": "TableName", "Value": {"Ref": table_ref}}],
                    },
                    "Period": 300,
                    "Stat": "Sum",
                },
                "ReturnData": False,
            }

        alarm = _alarm(f"{logical}-throttles", f"Reads or writes of the {logical} table were throttled", {})
        del alarm["Properties"]["Period"]
        alarm["Properties"]["Metrics"] = [
            {"Id": "reads", **events("Read")},
            {"Id": "writes", **events("Write")},
            {"Id": "throttled", "Expression": "FILL(reads, 0) + FILL(writes, 0)", "ReturnData": True},
        ]
        resources[f"{name}ThrottlesAlarm"] = alarm
    return resources, logical_to_resource


def _indexes(table: dict[str, Any]) -> list[str]:
    return [i["IndexName"] for i in table["Properties"].get("GlobalSecondaryIndexes", [])]


def function_resources(
    function: str, spec: dict[str, Any], city: str, tables: dict[str, Any], logical_to_resource: dict[str, str]
) -> dict[str, Any]:
    """Everything one function needs: its properties, role, log group, alarms, and dead-letter queue if async."""
    name = spec["name"]
    invoked = spec.get("invoked")
    if invoked not in ("sync", "async", "queue"):
        raise PackagingError(f"infra/functions.yaml: {function}.invoked must be sync, async or queue")
    queue = spec.get("queue")
    if (invoked == "queue") != bool(queue):
        raise PackagingError(f"infra/functions.yaml: {function} names a queue exactly when it is invoked by one")
    role, log_group, dlq = f"{function}Role", f"{function}LogGroup", f"{function}DeadLetters"
    out: dict[str, Any] = {}

    concurrency = spec.get("reserved_concurrency")
    reserved: Any = {"Ref": "ApiReservedConcurrency"} if concurrency == "parameter" else concurrency
    properties: dict[str, Any] = {
        "FunctionName": {"Fn::Sub": PREFIX + name},
        "Role": {"Fn::GetAtt": [role, "Arn"]},
        "Environment": {
            "Variables": {
                "TF_TABLE_PREFIX": {"Fn::Sub": PREFIX},
                "TF_POLICY": city,
                "TF_KEY_MODE": "kms",
                "TF_KMS_KEY_ID": _data_key(),
                "TF_KMS_MAC_KEY_ID": {"Fn::GetAtt": ["BlindIndexKey", "Arn"]},
            }
        },
    }
    for topic in spec.get("publish", []):  # RemindersTopic -> TF_REMINDERS_TOPIC_ARN
        variable = "TF_" + "".join(f"_{c}" if c.isupper() else c.upper() for c in topic).lstrip("_") + "_ARN"
        properties["Environment"]["Variables"][variable] = {"Ref": topic}
    if reserved is not None:
        properties["ReservedConcurrentExecutions"] = {"Fn::If": ["ReserveConcurrency", reserved, NO_VALUE]}
    if spec.get("timeout"):
        properties["Timeout"] = int(spec["timeout"])
    sends: dict[str, str] = spec.get("send", {})
    for sent, variable in sends.items():
        properties["Environment"]["Variables"][variable] = {"Ref": sent}
    if invoked == "async":
        properties["DeadLetterQueue"] = {"Type": "SQS", "TargetArn": {"Fn::GetAtt": [dlq, "Arn"]}}
        properties["EventInvokeConfig"] = {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600}
    out[function] = {"DependsOn": [log_group], "Properties": properties}  # its logs exist before it first runs

    out[log_group] = {
        "Type": "AWS::Logs::LogGroup",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "LogGroupName": {"Fn::Sub": "/aws/lambda/" + PREFIX + name},
            "RetentionInDays": {"Ref": "LogRetentionDays"},
            "KmsKeyId": _data_key(),
        },
    }

    statements: list[dict[str, Any]] = [
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": {"Fn::GetAtt": [log_group, "Arn"]},
        }
    ]
    by_access: dict[str, list[Any]] = {}
    index_arns: list[Any] = []
    for table, grant in spec.get("tables", {}).items():
        if table not in logical_to_resource:
            raise PackagingError(f"infra/functions.yaml: {function} names table {table!r}, not in infra/tables.yaml")
        resource = logical_to_resource[table]
        access = grant["access"] if isinstance(grant, dict) else grant
        if access not in ACCESS:
            raise PackagingError(f"infra/functions.yaml: {function}.tables.{table} must be one of {', '.join(ACCESS)}")
        indexes = grant.get("indexes", []) if isinstance(grant, dict) else _indexes(tables[resource])
        if set(indexes) - set(_indexes(tables[resource])):
            raise PackagingError(f"infra/functions.yaml: {function}.tables.{table} names an index the table lacks")
        by_access.setdefault(access, []).append({"Fn::GetAtt": [resource, "Arn"]})
        index_arns += [{"Fn::Sub": f"${{{resource}.Arn}}/index/{i}"} for i in indexes]
    for access, arns in by_access.items():
        sid = "Tables" + "".join(part.title() for part in access.split("-"))
        statements.append({"Sid": sid, "Effect": "Allow", "Action": ACCESS[access], "Resource": arns})
    if index_arns:
        statements.append({"Sid": "Indexes", "Effect": "Allow", "Action": ["dynamodb:Query"], "Resource": index_arns})
    batched = spec.get("batch_read", [])  # tables read by key a hundred at a time (BatchGetItem)
    if set(batched) - set(spec.get("tables", {})):
        raise PackagingError(f"infra/functions.yaml: {function}.batch_read names a table it is not given in tables")
    if batched:
        arns = [{"Fn::GetAtt": [logical_to_resource[t], "Arn"]} for t in batched]
        statements.append(
            {"Sid": "TablesBatchRead", "Effect": "Allow", "Action": ["dynamodb:BatchGetItem"], "Resource": arns}
        )

    services = ["dynamodb"] if by_access else []
    if invoked == "async":
        statements.append(
            {
                "Sid": "DeadLetters",
                "Effect": "Allow",
                "Action": ["sqs:SendMessage"],
                "Resource": {"Fn::GetAtt": [dlq, "Arn"]},
            }
        )
        services.append("sqs")
    if sends:
        statements.append(
            {
                "Sid": "SendToQueues",
                "Effect": "Allow",
                "Action": ["sqs:SendMessage"],
                "Resource": [{"Fn::GetAtt": [q, "Arn"]} for q in sends],
            }
        )
        services.append("sqs")
    if queue:
        statements.append(
            {
                "Sid": "ConsumeQueue",
                "Effect": "Allow",
                "Action": [
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                    "sqs:ChangeMessageVisibility",
                ],
                "Resource": {"Fn::GetAtt": [queue, "Arn"]},
            }
        )
        services.append("sqs")
    topics = spec.get("publish", [])
    if topics:
        statements.append(
            {"Sid": "Publish", "Effect": "Allow", "Action": ["sns:Publish"], "Resource": [{"Ref": t} for t in topics]}
        )
        services.append("sns")
    buckets = spec.get("write_objects", [])
    if buckets:
        statements.append(
            {
                "Sid": "WriteObjects",
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:AbortMultipartUpload"],  # large files go up in parts
                "Resource": [{"Fn::Sub": f"${{{b}.Arn}}/*"} for b in buckets],
            }
        )
        services.append("s3")
    readable = spec.get("read_objects", [])
    if readable:
        statements.append(
            {
                "Sid": "ReadObjects",
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": [{"Fn::Sub": f"${{{b}.Arn}}/*"} for b in readable],
            }
        )
        services.append("s3")
    bucket_names = list(dict.fromkeys([*buckets, *readable]))
    if len(bucket_names) > 1:
        raise PackagingError(
            f"infra/functions.yaml: {function} names more than one bucket (files share one, by prefix)"
        )
    if bucket_names:
        properties["Environment"]["Variables"]["TF_EXPORTS_BUCKET"] = {"Ref": bucket_names[0]}
    signing_key = spec.get("sign_with")
    if signing_key:
        # The export manifests' signing key: asymmetric, used only to sign (and to hand out its public half).
        statements.append(
            {
                "Sid": "SignManifests",
                "Effect": "Allow",
                "Action": ["kms:Sign", "kms:GetPublicKey"],
                "Resource": {"Fn::GetAtt": [signing_key, "Arn"]},
            }
        )
        properties["Environment"]["Variables"]["TF_EXPORT_SIGNING_KEY_ID"] = {"Fn::GetAtt": [signing_key, "Arn"]}
    if services:
        # Tables, queues, topics and buckets are encrypted with the data key; the role may use the key only
        # through those services.
        statements.append(
            {
                "Sid": "DataKeyThroughServices",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                "Resource": _data_key(),
                "Condition": _via(*services),
            }
        )
    uses = spec.get("kms", [])
    if set(uses) - set(KMS_USES):
        raise PackagingError(f"infra/functions.yaml: {function}.kms may hold only {', '.join(KMS_USES)}")
    direct = [f"kms:{u.title()}" for u in ("encrypt", "decrypt") if u in uses]
    if direct:
        # Identifiers: always with an encryption context of exactly one key, "purpose" (treatfirst.adapters.kms).
        statements.append(
            {
                "Sid": "Identifiers",
                "Effect": "Allow",
                "Action": direct,
                "Resource": _data_key(),
                "Condition": {
                    "ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["purpose"]},
                    "Null": {"kms:EncryptionContextKeys": "false"},
                },
            }
        )
    if "mac" in uses:
        statements.append(
            {
                "Sid": "BlindIndex",
                "Effect": "Allow",
                "Action": ["kms:GenerateMac"],
                "Resource": {"Fn::GetAtt": ["BlindIndexKey", "Arn"]},
            }
        )
    out[role] = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Description": {"Fn::Sub": f"TreatFirst ${{CityCode}} ${{Stage}}: the {name} function"},
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            },
            "Policies": [{"PolicyName": name, "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}],
        },
    }

    period = int(spec.get("alarm_period", 300))
    dims = {"Dimensions": [{"Name": "FunctionName", "Value": {"Ref": function}}], "Namespace": "AWS/Lambda"}
    out[f"{function}ErrorsAlarm"] = _alarm(
        f"{name}-errors",
        spec.get("errors_mean", f"The {name} function failed (unhandled errors)"),
        {**dims, "MetricName": "Errors", "Statistic": "Sum"},
        period,
    )
    out[f"{function}ThrottlesAlarm"] = _alarm(
        f"{name}-throttles",
        spec.get("throttles_mean", f"Invocations of the {name} function were throttled"),
        {**dims, "MetricName": "Throttles", "Statistic": "Sum"},
        period,
    )
    # alarms on a figure the function writes in its own log line: a metric filter on its log group, alarmed above 0
    for suffix, watch in spec.get("log_alarms", {}).items():
        metric = "".join(part.title() for part in suffix.split("-"))
        namespace = {"Fn::Sub": "TreatFirst/${CityCode}-${Stage}"}
        out[f"{function}{metric}Metric"] = {
            "Type": "AWS::Logs::MetricFilter",
            "Properties": {
                "LogGroupName": {"Ref": log_group},
                "FilterPattern": f'{{ ($.msg = "{watch["message"]}") && ($.{watch["field"]} > 0) }}',
                "MetricTransformations": [
                    {"MetricNamespace": namespace, "MetricName": metric, "MetricValue": f"$.{watch['field']}"}
                ],
            },
        }
        out[f"{function}{metric}Alarm"] = _alarm(
            f"{name}-{suffix}",
            watch["means"],
            {"Namespace": namespace, "MetricName": metric, "Statistic": "Maximum"},
            period,
        )
    if invoked == "async":
        out[dlq] = {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": {"Fn::Sub": PREFIX + name + "-dlq"},
                "MessageRetentionPeriod": 1209600,
                "KmsMasterKeyId": _data_key(),
            },
        }
        out[f"{function}DeadLettersAlarm"] = _alarm(
            f"{name}-dlq",
            f"A {name} event failed all its retries and waits in the dead-letter queue",
            {
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq, "QueueName"]}}],
                "Statistic": "Maximum",
            },
        )
    if queue:
        timeout = int(spec.get("timeout", 60))
        out[f"{queue}DeadLetters"] = {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": {"Fn::Sub": PREFIX + name + "-dlq"},
                "MessageRetentionPeriod": 1209600,
                "KmsMasterKeyId": _data_key(),
            },
        }
        out[queue] = {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": {"Fn::Sub": PREFIX + name},
                "VisibilityTimeout": 6 * timeout,  # AWS's advice for a Lambda consumer
                "KmsMasterKeyId": _data_key(),
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::GetAtt": [f"{queue}DeadLetters", "Arn"]},
                    "maxReceiveCount": 3,
                },
            },
        }
        out[f"{queue}DeadLettersAlarm"] = _alarm(
            f"{name}-dlq",
            f"A message of the {name} queue failed three times and waits in its dead-letter queue",
            {
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [f"{queue}DeadLetters", "QueueName"]}}],
                "Statistic": "Maximum",
            },
        )
    return out


def load_function_specs() -> dict[str, dict[str, Any]]:
    specs = yaml.safe_load((INFRA / "functions.yaml").read_text(encoding="utf-8"))
    if not isinstance(specs, dict) or not all(isinstance(s, dict) and "name" in s for s in specs.values()):
        raise PackagingError("infra/functions.yaml: a mapping of function logical id -> {name, invoked, ...}")
    return specs


# API Gateway's own answers (before any function runs) -> the error answering in their place, in the one error
# shape. The request id is API Gateway's, as in the access log. On AWS an unconfigured method of a known route is
# also MISSING_AUTHENTICATION_TOKEN: both are 404 ROUTE_NOT_FOUND there (locally the method is 405).
GATEWAY_RESPONSES: dict[str, tuple[type[TreatFirstError], str | None]] = {
    "MISSING_AUTHENTICATION_TOKEN": (RouteNotFound, "no such route, or the route does not take this method"),
    "UNSUPPORTED_MEDIA_TYPE": (UnsupportedMediaType, None),
    "REQUEST_TOO_LARGE": (PayloadTooLarge, None),
    "THROTTLED": (Throttled, None),
    "QUOTA_EXCEEDED": (Throttled, None),
    "DEFAULT_4XX": (Forbidden, "$context.error.messageString"),  # the gateway's own message, quoted
    "DEFAULT_5XX": (TreatFirstError, "$context.error.messageString"),
}


def gateway_responses() -> dict[str, Any]:
    """x-amazon-apigateway-gateway-responses: part of the API definition, so every deployment carries them."""
    out: dict[str, Any] = {}
    for kind, (error, message) in GATEWAY_RESPONSES.items():
        text = message if message and message.startswith("$") else json.dumps(message or error.default_message)
        body = (
            f'{{"error": {{"code": "{error.code}", "message": {text}, "field": null, '
            '"request_id": "req_$context.requestId"}}'
        )
        out[kind] = {
            "statusCode": str(status_of(error)),
            "responseParameters": {"gatewayresponse.header.Cache-Control": "'no-store'"},
            "responseTemplates": {"application/json": body},
        }
    return out


SANDBOX_STAGE = "sandbox"
_ACCESS_ORDER = list(ACCESS)  # weakest first


def _merge_table_access(a: Any, b: Any) -> Any:
    """The access that allows both: the stronger action set; every index when either allows every index."""
    access_a, access_b = (x if isinstance(x, str) else x["access"] for x in (a, b))
    both = {*ACCESS[access_a], *ACCESS[access_b]}
    access = next(name for name in _ACCESS_ORDER if both <= set(ACCESS[name]))  # the weakest that allows both
    if isinstance(a, str) or isinstance(b, str):
        return access
    return {"access": access, "indexes": sorted({*a.get("indexes", []), *b.get("indexes", [])})}


def sandbox_specs(specs: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The specs of a sandbox: the API function may also do what every scheduled function does (the test clock
    runs them in the API's process); the other functions are unchanged."""
    out = copy.deepcopy(specs)
    api = out["APIHandler"]
    for spec in specs.values():
        for table, access in spec.get("tables", {}).items():
            mine = api.setdefault("tables", {}).get(table)
            api["tables"][table] = access if mine is None else _merge_table_access(mine, access)
        for key in ("kms", "publish", "write_objects", "read_objects", "batch_read"):
            if spec.get(key):
                api[key] = sorted({*api.get(key, []), *spec[key]})
        signing_key = spec.get("sign_with")
        if signing_key:
            # the export the clock runs signs its manifest: the one signing key, as the export function has it
            if api.get("sign_with", signing_key) != signing_key:
                raise PackagingError(f"infra/functions.yaml names two signing keys: {api['sign_with']}, {signing_key}")
            api["sign_with"] = signing_key
    return out


def compose(city: str, city_code: str, *, sandbox: bool = False) -> dict[str, Any]:
    merged = copy.deepcopy(load_template(INFRA / "platform.yaml"))
    tables = load_template(INFRA / "tables.yaml")
    merged.pop("Transform", None)  # chalice package writes its own
    # A template packaged with one city's policy deploys only as that city.
    merged["Parameters"]["CityCode"]["AllowedValues"] = [city_code]
    merged["Parameters"]["CityCode"]["Default"] = city_code
    resources = merged["Resources"]
    definition = resources["RestAPI"]["Properties"]["DefinitionBody"]
    definition["x-amazon-apigateway-gateway-responses"] = gateway_responses()
    protected, logical_to_resource = table_resources(tables)
    resources.update(protected)
    specs = load_function_specs()
    if sandbox:
        specs = sandbox_specs(specs)
        merged["Parameters"]["Stage"]["AllowedValues"] = [SANDBOX_STAGE]
        merged["Parameters"]["Stage"]["Default"] = SANDBOX_STAGE
        merged["Description"] = "SANDBOX (test clock on; never for patients) " + merged.get("Description", "")
    for function, spec in specs.items():
        resources.update(function_resources(function, spec, city, protected, logical_to_resource))
        if sandbox:
            resources[function]["Properties"]["Environment"]["Variables"]["TF_TEST_CLOCK"] = "1"
    return merged


# ---- 3. package and check -----------------------------------------------------------------------------------------


def check_functions(template: dict[str, Any]) -> None:
    in_app = {n for n, r in template["Resources"].items() if r.get("Type") == "AWS::Serverless::Function"}
    specs = set(load_function_specs())
    if in_app - specs:
        raise PackagingError(
            f"the app has functions not described in infra/functions.yaml: {', '.join(sorted(in_app - specs))} "
            "(add each with its name, tables and how it is invoked)"
        )
    untyped = sorted(n for n, r in template["Resources"].items() if "Type" not in r)
    if untyped:
        raise PackagingError(f"infra/ describes resources the app does not have: {', '.join(untyped)}")


def point_queue_sources(template: dict[str, Any]) -> None:
    """A queue-invoked function's event source reads the stack's own queue (named per city and stage).

    `chalice package` names the source "<Function>SqsEventSource" and points it at the queue name written in the
    app; the merge template cannot replace that value (it merges maps), so it is replaced here."""
    for function, spec in load_function_specs().items():
        if spec.get("invoked") != "queue":
            continue
        events = template["Resources"][function]["Properties"].get("Events", {})
        source = events.get(f"{function}SqsEventSource")
        if source is None or source.get("Type") != "SQS":
            raise PackagingError(f"{function} is invoked by a queue but the app gives it no SQS event source")
        source["Properties"]["Queue"] = {"Fn::GetAtt": [spec["queue"], "Arn"]}


def package(
    region: str, city: str, policy_file: Path | None, out: Path, *, sandbox: bool = False, example: bool = False
) -> dict[str, Any]:
    policy_path = policy_file or FUNCTIONS / "treatfirst" / "policies" / f"{city}.yaml"
    try:
        policy = load_policy(policy_path)
    except PolicyInvalid as exc:  # a bad policy stops the build with the field it names
        raise PackagingError(f"{policy_path}: {exc.message}" + (f" (field {exc.field})" if exc.field else "")) from exc
    if policy.examples and not (example or sandbox):
        raise PackagingError(
            f"{policy_path} holds placeholders marked 示例 ({', '.join(policy.examples)}): a real city replaces each "
            "with its verified citation, body and contact; an example builds only on request (--example, or --sandbox)"
        )
    if not all(c.isalnum() or c in "-_" for c in city):
        raise PackagingError(f"--city {city!r}: letters, digits, - and _ only (it names the packaged policy file)")
    out.mkdir(parents=True, exist_ok=True)
    app_dir = stage_app(out / "app", city, policy_file)
    merge = out / "merge-template.json"
    composed = compose(city, policy.city_code, sandbox=sandbox)
    if policy.examples:  # built only on request (--example or --sandbox): the template says what it holds
        composed["Description"] = (
            f"{composed.get('Description', '')} | EXAMPLE POLICY with placeholders marked 示例 "
            f"({', '.join(policy.examples)}): not for a real city"
        )
    merge.write_text(json.dumps(composed, indent=2, ensure_ascii=False), encoding="utf-8")
    package_dir = out / "package"
    shutil.rmtree(package_dir, ignore_errors=True)
    env = {**os.environ, "AWS_DEFAULT_REGION": region}
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        env.pop(name, None)  # proves the build needs no credentials
    chalice = Path(sys.executable).parent / "chalice"
    subprocess.run(
        [str(chalice), "package", "--stage", "prod", "--merge-template", str(merge), str(package_dir)],
        cwd=app_dir,
        env=env,
        check=True,
    )
    template = json.loads((package_dir / "sam.json").read_text(encoding="utf-8"))
    check_functions(template)
    point_queue_sources(template)
    (package_dir / "sam.json").write_text(json.dumps(template, indent=2, ensure_ascii=False), encoding="utf-8")
    size = (package_dir / "deployment.zip").stat().st_size
    return {
        "template": str(package_dir / "sam.json"),
        "zip": str(package_dir / "deployment.zip"),
        "zip_mb": round(size / 2**20, 2),
        "city": city,
        "city_code": policy.city_code,
        "policy_version": policy.version,
        "policy_sha256": policy.sha256,
        "region": region,
        "sandbox": sandbox,
        "examples": list(policy.examples) if example or sandbox else [],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION", "cn-north-1"))
    parser.add_argument("--city", default="lianyungang", help="packaged policy name (or the name for --policy)")
    parser.add_argument("--policy", type=Path, help="a city policy file to package under --city")
    parser.add_argument("--out", type=Path, default=ROOT / "build")
    parser.add_argument("--sandbox", action="store_true", help="the test clock on; deploys only as Stage sandbox")
    parser.add_argument(
        "--example",
        action="store_true",
        help="package a policy holding placeholders marked 示例 (the example cities): for tests and trials only",
    )
    args = parser.parse_args()
    try:
        print(
            json.dumps(
                package(args.region, args.city, args.policy, args.out, sandbox=args.sandbox, example=args.example)
            )
        )
    except PackagingError as exc:
        print(f"package: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
