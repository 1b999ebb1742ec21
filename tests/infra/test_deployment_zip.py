"""The deployment zip works as Lambda runs it: unpacked alone, with only boto3 beside it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

from treatfirst.consents import render_all
from treatfirst.domain.policy import example_policy

from tests.infra.conftest import PACKAGED_CITY, of_type
from tools.lambda_runtime import lambda_runtime_dir

PROBE = """
import importlib, json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
handlers = json.loads(sys.argv[3])
resolved = {}
for handler in handlers:
    module, _, attribute = handler.rpartition(".")
    resolved[handler] = callable(getattr(importlib.import_module(module), attribute))
# What the first invocation builds from the zip with the template's environment (kms mode): the PynamoDB models,
# the KMS cipher, the packaged policy (PyYAML); then a consent text (Jinja2). No AWS call is made.
from treatfirst.config import runtime
from treatfirst.consents import render_all
rt = runtime()
yaml_at_first_call = "yaml" in sys.modules
consents = [c.sha256 for c in render_all(rt.policy)]
print(json.dumps({
    "resolved": resolved,
    "cipher": type(rt.cipher).__name__,
    "policy": [rt.policy.city_code, rt.policy.sha256],
    "consents": consents,
    "files": [importlib.import_module(n).__file__ for n in ("app", "treatfirst", "pynamodb", "yaml", "jinja2")],
    "local_crypto_loaded": "cryptography" in sys.modules,
    "libyaml": hasattr(importlib.import_module("yaml"), "CSafeLoader"),
    "yaml_at_first_call": yaml_at_first_call,
}))
"""


def test_zip_imports_cleanly_and_every_handler_resolves(
    package: Path, template: dict[str, Any], tmp_path: Path
) -> None:
    # Given the zip unpacked into an empty folder, and the environment the template gives the functions
    code = tmp_path / "task"
    with zipfile.ZipFile(package / "deployment.zip") as archive:
        archive.extractall(code)
    functions = of_type(template, "AWS::Serverless::Function").values()
    handlers = sorted({f["Properties"]["Handler"] for f in functions})
    assert handlers == [
        "app.app",
        "app.clear",
        "app.collect",
        "app.collect_shard",
        "app.dispatch_outbox",
        "app.dispatch_webhooks",
        "app.export_blacklist_schedule",
        "app.purge",
    ]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin"),
        "AWS_DEFAULT_REGION": "cn-north-1",
        "TF_TABLE_PREFIX": "treatfirst-350200-prod-",
        "TF_POLICY": PACKAGED_CITY,
        "TF_KEY_MODE": "kms",
        "TF_KMS_KEY_ID": "arn:aws-cn:kms:cn-north-1:111122223333:key/00000000-0000-0000-0000-000000000001",
        "TF_KMS_MAC_KEY_ID": "arn:aws-cn:kms:cn-north-1:111122223333:key/00000000-0000-0000-0000-000000000002",
    }
    for function in functions:  # the probe's environment is the template's, but for the unresolved key ARNs
        # (and the dispatcher's topic, the collection start's queue, the exports bucket and the export signing key,
        # which the import does not need)
        unused = {"TF_REMINDERS_TOPIC_ARN", "TF_COLLECTION_QUEUE_URL", "TF_EXPORTS_BUCKET", "TF_EXPORT_SIGNING_KEY_ID"}
        variables = set(function["Properties"]["Environment"]["Variables"]) - unused
        assert variables == {k for k in env if k.startswith("TF_")}

    # When a clean interpreter (isolated, no site-packages) imports the handler module with only that folder
    # and boto3 on its path
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", PROBE, str(code), str(lambda_runtime_dir(tmp_path)), json.dumps(handlers)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=False,
    )

    # Then every handler named in the template is a callable, loaded from the zip's own files, and the first
    # invocation's runtime is built from the zip alone: KMS cipher, the packaged city policy, its consents
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["resolved"] == dict.fromkeys(handlers, True)
    policy = example_policy(PACKAGED_CITY)
    assert report["cipher"] == "KmsCipher" and report["policy"] == [policy.city_code, policy.sha256]
    assert report["consents"] == [c.sha256 for c in render_all(policy)]
    assert all(f.startswith(str(code)) for f in report["files"]), report["files"]
    assert report["local_crypto_loaded"] is False
    # and the packaged policy is built from its parsed sidecar: the first invocation imports no YAML parser
    # (libyaml's binding, stripped of its symbols, still loads for the tools that read YAML)
    assert report["yaml_at_first_call"] is False
    assert report["libyaml"] is True


def test_zip_is_small_precompiled_and_carries_no_runtime_duplicates(package: Path) -> None:
    with zipfile.ZipFile(package / "deployment.zip") as archive:
        top = {name.split("/")[0] for name in archive.namelist()}
        names = set(archive.namelist())
    assert (package / "deployment.zip").stat().st_size < 10 * 2**20
    assert not top & {"boto3", "botocore", "s3transfer", "cryptography", "vendor", "tests", "tools", "infra"}
    assert {
        f"treatfirst/policies/{PACKAGED_CITY}.yaml",
        "treatfirst/templates/consent/service_agreement.txt.j2",
    } <= names
    tag = sys.implementation.cache_tag
    assert {f"treatfirst/__pycache__/config.{tag}.pyc", f"chalicelib/__pycache__/routes.{tag}.pyc"} <= names
    sources = {n for n in names if n.endswith(".py") and n.startswith(("treatfirst/", "chalicelib/"))}
    assert all(f"{s.rsplit('/', 1)[0]}/__pycache__/{s.rsplit('/', 1)[1][:-3]}.{tag}.pyc" in names for s in sources)


def test_the_compiled_extensions_are_stripped_of_their_symbol_tables(package: Path, tmp_path: Path) -> None:
    # Given the zip's compiled extensions (libyaml's binding, msgspec's core)
    with zipfile.ZipFile(package / "deployment.zip") as archive:
        extensions = [n for n in archive.namelist() if n.endswith(".so")]
        archive.extractall(tmp_path, members=extensions)
    assert extensions
    # Then none keeps a symbol table (`strip --strip-unneeded` took it out): an ELF section header named .symtab
    for name in extensions:
        assert b".symtab" not in (tmp_path / name).read_bytes(), name
