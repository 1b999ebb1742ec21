"""Build the deployable template and zip for one city, offline of AWS (only a region is needed).

    python tools/package.py --region cn-north-1 --city lianyungang [--policy path/to/city.yaml] [--out build]

1. vendors the `treatfirst` package and its runtime dependencies into functions/vendor/ (Lambda-platform
   wheels, --no-deps: boto3/botocore come with the Lambda runtime);
2. composes the merge template from infra/platform.yaml and infra/tables.yaml, giving every table KMS
   encryption with the city's customer-managed key, point-in-time recovery and deletion protection, a
   write-throttle alarm, and statements in each function's role for exactly the tables it uses;
3. runs `chalice package --merge-template`, writing <out>/sam.json and <out>/deployment.zip.

The city policy is packaged: it ships inside the zip and TF_POLICY names it, so a policy change is a
reviewed redeploy with a fixed version and SHA-256, and no function reads configuration at cold start.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ROOT / "functions"
VENDOR = FUNCTIONS / "vendor"
sys.path.insert(0, str(FUNCTIONS))

from treatfirst.adapters.schema import load_template  # noqa: E402
from treatfirst.domain.policy import load_policy  # noqa: E402
from treatfirst.services import ports  # noqa: E402

# Which tables each function reads and writes (least privilege).
FUNCTION_TABLES = {
    "ApiRole": list(ports.KEYS),  # the API uses every table
    "MarkOverdueRole": ["bills", "audit"],
}
READ = ["dynamodb:GetItem", "dynamodb:Query"]
WRITE = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"]
LOCAL_ONLY = {"cryptography"}  # used by the local cipher only: KMS replaces it on AWS


def runtime_requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    deps = [d for d in project["dependencies"] if d.split("==")[0].lower() not in LOCAL_ONLY]
    markupsafe = "MarkupSafe==3.0.4"  # Jinja2's one dependency, pinned here for the Lambda platform
    return [*deps, markupsafe]


def vendor(policy_file: Path | None, city: str) -> None:
    shutil.rmtree(VENDOR, ignore_errors=True)
    shutil.rmtree(FUNCTIONS / ".chalice" / "deployments", ignore_errors=True)
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(VENDOR)]
    subprocess.run([*pip, str(ROOT)], check=True)
    subprocess.run(
        [
            *pip,
            "--only-binary=:all:",
            "--platform",
            "manylinux2014_x86_64",
            "--implementation",
            "cp",
            "--python-version",
            "3.11",
            *runtime_requirements(),
        ],
        check=True,
    )
    for junk in [*VENDOR.glob("bin"), *VENDOR.rglob("__pycache__")]:
        shutil.rmtree(junk, ignore_errors=True)
    if policy_file is not None:
        shutil.copy(policy_file, VENDOR / "treatfirst" / "policies" / f"{city}.yaml")


def _key_ref() -> dict[str, Any]:
    return {"Fn::If": ["CreateDataKey", {"Fn::GetAtt": ["DataKey", "Arn"]}, {"Ref": "PiiKeyArn"}]}


def compose(city: str) -> dict[str, Any]:
    platform = load_template(ROOT / "infra" / "platform.yaml")
    tables = load_template(ROOT / "infra" / "tables.yaml")
    merged = copy.deepcopy(platform)
    resources = merged["Resources"]
    logical_to_resource: dict[str, str] = {}
    for name, table in tables["Resources"].items():
        table = copy.deepcopy(table)
        props = table["Properties"]
        logical = str(props["TableName"]["Fn::Sub"]).replace("${TablePrefix}", "")
        props["TableName"] = {"Fn::Sub": "treatfirst-${CityCode}-${Stage}-" + logical}
        props["SSESpecification"] = {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": _key_ref()}
        props["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": True}
        props["DeletionProtectionEnabled"] = True
        table["DeletionPolicy"] = table["UpdateReplacePolicy"] = "Retain"
        resources[name] = table
        logical_to_resource[logical] = name
        resources[f"{name}WriteThrottlesAlarm"] = {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmName": {"Fn::Sub": "treatfirst-${CityCode}-${Stage}-" + logical + "-write-throttles"},
                "AlarmDescription": f"Writes to the {logical} table were throttled (a hot partition or a limit)",
                "Namespace": "AWS/DynamoDB",
                "MetricName": "WriteThrottleEvents",
                "Dimensions": [{"Name": "TableName", "Value": {"Ref": name}}],
                "Statistic": "Sum",
                "Period": 300,
                "EvaluationPeriods": 1,
                "Threshold": 0,
                "ComparisonOperator": "GreaterThanThreshold",
                "TreatMissingData": "notBreaching",
                "AlarmActions": [{"Ref": "AlarmTopic"}],
            },
        }
    for role, used in FUNCTION_TABLES.items():
        arns = [{"Fn::GetAtt": [logical_to_resource[t], "Arn"]} for t in used]
        indexes = [
            {"Fn::Sub": "${" + logical_to_resource[t] + ".Arn}/index/*"}
            for t in used
            if tables["Resources"][logical_to_resource[t]]["Properties"].get("GlobalSecondaryIndexes")
        ]
        statements = resources[role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        statements.append({"Sid": "Tables", "Effect": "Allow", "Action": READ + WRITE, "Resource": arns})
        if indexes:
            statements.append({"Sid": "Indexes", "Effect": "Allow", "Action": ["dynamodb:Query"], "Resource": indexes})
    for function in ("APIHandler", "MarkOverdue"):
        resources[function]["Properties"]["Environment"]["Variables"]["TF_POLICY"] = city
    merged.pop("Transform", None)  # chalice package writes its own
    return merged


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION", "cn-north-1"))
    parser.add_argument("--city", default="lianyungang", help="packaged policy name (or the name for --policy)")
    parser.add_argument("--policy", type=Path, help="a city policy file to package under --city")
    parser.add_argument("--out", type=Path, default=ROOT / "build")
    args = parser.parse_args()

    policy_path = args.policy or FUNCTIONS / "treatfirst" / "policies" / f"{args.city}.yaml"
    policy = load_policy(policy_path)  # a bad policy stops the build with the field it names
    vendor(args.policy, args.city)
    args.out.mkdir(parents=True, exist_ok=True)
    merge = args.out / "merge-template.json"
    merge.write_text(json.dumps(compose(args.city), indent=2, ensure_ascii=False), encoding="utf-8")
    package_dir = args.out / "package"
    shutil.rmtree(package_dir, ignore_errors=True)
    env = {**os.environ, "AWS_DEFAULT_REGION": args.region}
    env.pop("AWS_PROFILE", None)
    chalice = Path(sys.executable).parent / "chalice"
    subprocess.run(
        [str(chalice), "package", "--stage", "prod", "--merge-template", str(merge), str(package_dir)],
        cwd=FUNCTIONS,
        env=env,
        check=True,
    )
    size = (package_dir / "deployment.zip").stat().st_size
    print(
        json.dumps(
            {
                "template": str(package_dir / "sam.json"),
                "zip": str(package_dir / "deployment.zip"),
                "zip_mb": round(size / 2**20, 2),
                "city": args.city,
                "policy_version": policy.version,
                "policy_sha256": policy.sha256,
                "region": args.region,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
