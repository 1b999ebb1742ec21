"""treatfirst-admin: works against the local stack with no settings, against a deployed stack with documented
settings, and answers every setup problem with one sentence (never a traceback)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from treatfirst import cli
from treatfirst.adapters.crypto import LocalCipher
from treatfirst.config import runtime
from treatfirst.services.ports import AUDIT, CALLERS

from tests.stacks import EXPORT_SIGNING_KEY, create_tables_stack
from tools.ddblocal import free_port

PREFIX = "tf-cli-"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No TF_* or endpoint settings from the shell; whatever the command puts in the environment is undone."""
    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith("TF_") or name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-metadata credentials look-up
    runtime.cache_clear()
    yield
    os.environ.clear()
    os.environ.update(saved)
    runtime.cache_clear()


def _stack(tmp_path: Path, **environment: str) -> Path:
    """A local stack description as `make serve` writes it (.local/running.json), in a fresh folder."""
    key = tmp_path / ".local" / "lianyungang" / "local.key"
    key.parent.mkdir(parents=True)
    key.write_text(LocalCipher.new_key(), encoding="utf-8")
    settings = {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "cn-north-1",
        "TF_TABLE_PREFIX": PREFIX,
        "TF_POLICY": "lianyungang",
        "TF_KEY_MODE": "local",
        "TF_LOCAL_KEY_FILE": str(key),
        "TF_EXPORTS_DIR": str(key.parent / "exports"),
        "TF_EXPORT_SIGNING_KEY_FILE": str(EXPORT_SIGNING_KEY),
        **environment,
    }
    stack = {"city": "lianyungang", "environment": settings}
    for path in (tmp_path / ".local" / "running.json", tmp_path / ".local" / "lianyungang" / "stack.json"):
        path.write_text(json.dumps(stack), encoding="utf-8")
    return tmp_path


def _admin(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, (json.loads(out) if out.strip() else None), err


def _one_sentence(err: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("treatfirst-admin: ")
    return lines[0]


@pytest.fixture
def local_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The local stack's tables (on moto here), its description in .local/, and the shell in that folder."""
    folder = _stack(tmp_path)
    monkeypatch.chdir(folder)
    with mock_aws():
        os.environ.update({"AWS_DEFAULT_REGION": "cn-north-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"})
        create_tables_stack(PREFIX)
        for name in ("AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            del os.environ[name]
        yield folder


def test_register_as_the_readme_shows_it_works_on_the_local_stack(
    local_stack: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a running local stack and a shell with no settings at all
    assert not any(k.startswith("TF_") for k in os.environ)
    # When the operator runs the README's command
    status, made, err = _admin(capsys, "register", "hospital", "city-hospital-1", "市第一人民医院")
    # Then the key is made and printed once
    assert status == 0, err
    assert made["key_id"].startswith("key_") and made["secret"] and made["id"] == "city-hospital-1"
    stored = boto3.resource("dynamodb").Table(f"{PREFIX}{CALLERS}").get_item(Key={"key_id": made["key_id"]})
    assert stored["Item"]["status"] == "active"
    # And registering the same id again is refused in one sentence
    status, _, err = _admin(capsys, "register", "hospital", "city-hospital-1", "市第一人民医院")
    assert status == 2 and "CALLER_EXISTS" in _one_sentence(err)


def test_rotate_and_revoke_from_the_command_line_are_audited(
    local_stack: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, made, _ = _admin(capsys, "register", "channel", "wechat-pay", "微信支付")
    status, rotated, err = _admin(
        capsys, "--operator", "alice", "rotate", made["key_id"], "--reason", "yearly", "--previous-valid-seconds", "60"
    )
    assert status == 0, err
    assert rotated["secret"] != made["secret"] and rotated["previous_secret_expires_at"]
    status, revoked, err = _admin(capsys, "--operator", "alice", "revoke", made["key_id"], "--reason", "ended")
    assert status == 0 and revoked["status"] == "revoked", err
    events = boto3.resource("dynamodb").Table(f"{PREFIX}{AUDIT}").scan()["Items"]
    mine = sorted(
        (e["action"], e["actor_id"], json.loads(e["details"]).get("reason"))
        for e in events
        if e["subject"] == f"caller#{made['key_id']}"
    )
    assert mine[1:] == [("caller.revoked", "cli:alice", "ended"), ("caller.rotated", "cli:alice", "yearly")]
    status, _, err = _admin(capsys, "revoke", made["key_id"], "--reason", "again")
    assert status == 2 and "CALLER_REVOKED" in _one_sentence(err)


def test_a_stopped_stack_can_be_named_by_city(local_stack: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (local_stack / ".local" / "running.json").unlink()
    status, _, err = _admin(capsys, "register", "hospital", "county-1", "县医院")
    assert status == 1 and "make serve" in _one_sentence(err)
    status, made, err = _admin(capsys, "--city", "lianyungang", "register", "hospital", "county-1", "县医院")
    assert status == 0 and made["id"] == "county-1", err


def test_without_a_local_stack_or_settings_it_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    status, _, err = _admin(capsys, "--local-dir", str(tmp_path / ".local"), "register", "hospital", "h-1", "H")
    sentence = _one_sentence(err)
    assert status == 1 and "make serve" in sentence and "TF_KMS_KEY_ID" in sentence


def test_dynamodb_local_not_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _stack(tmp_path, AWS_ENDPOINT_URL_DYNAMODB=f"http://127.0.0.1:{free_port()}")
    monkeypatch.chdir(folder)
    status, _, err = _admin(capsys, "register", "hospital", "h-1", "H")
    sentence = _one_sentence(err)
    assert status == 1 and "not answering" in sentence and "make serve" in sentence


@pytest.mark.parametrize(
    ("settings", "needle"),
    [
        ({"TF_TABLE_PREFIX": "treatfirst-320700-prod-", "TF_KEY_MODE": "kms"}, "TF_KMS_KEY_ID"),
        ({"TF_TABLE_PREFIX": "treatfirst-local-", "TF_KEY_MODE": "local"}, "TF_LOCAL_KEY"),
        ({"TF_KEY_MODE": "local", "TF_LOCAL_KEY_FILE": "/nonexistent/local.key"}, "TF_LOCAL_KEY_FILE"),
        ({"TF_KEY_MODE": "local", "TF_LOCAL_KEY": "not-a-key"}, "base64 of 32 bytes"),
        ({"TF_KEY_MODE": "aes"}, "TF_KEY_MODE"),
    ],
)
def test_missing_or_bad_key_settings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], settings: dict[str, str], needle: str
) -> None:
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    status, _, err = _admin(capsys, "register", "hospital", "h-1", "H")
    assert status == 1 and needle in _one_sentence(err)


def test_missing_credentials_and_region(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given deployed-stack settings but no AWS credentials anywhere
    monkeypatch.setenv("TF_TABLE_PREFIX", "treatfirst-320700-prod-")
    monkeypatch.setenv("TF_KEY_MODE", "local")
    monkeypatch.setenv("TF_LOCAL_KEY", LocalCipher.new_key())
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    status, _, err = _admin(capsys, "register", "hospital", "h-1", "H")
    assert status == 1 and "AWS_DEFAULT_REGION" in _one_sentence(err)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "cn-north-1")
    status, _, err = _admin(capsys, "register", "hospital", "h-1", "H")
    assert status == 1 and "no AWS credentials" in _one_sentence(err)


def test_tables_not_found(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a deployed-stack setting whose prefix names no tables
    for name, value in {
        "TF_TABLE_PREFIX": "treatfirst-999999-prod-",
        "TF_KEY_MODE": "local",
        "TF_LOCAL_KEY": LocalCipher.new_key(),
        "AWS_DEFAULT_REGION": "cn-north-1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        status, _, err = _admin(capsys, "register", "hospital", "h-1", "H")
    sentence = _one_sentence(err)
    assert status == 1 and "treatfirst-999999-prod-" in sentence and "TF_TABLE_PREFIX" in sentence


def test_check_policy_of_a_missing_file_is_one_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = _admin(capsys, "check-policy", "/nonexistent/city.yaml")
    assert status in (1, 2) and "/nonexistent/city.yaml" in _one_sentence(err)


def test_the_test_clock_and_the_outbox_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a local stack started with the test clock (as `make serve` starts it), with one SMS waiting
    from treatfirst.services.outbox import outbox_put
    from treatfirst.services.unit_of_work import Context

    folder = _stack(tmp_path, TF_TEST_CLOCK="1")
    monkeypatch.chdir(folder)
    with mock_aws():
        os.environ.update({"AWS_DEFAULT_REGION": "cn-north-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"})
        create_tables_stack(PREFIX)
        status, shown, err = _admin(capsys, "clock", "show")
        assert status == 0 and shown["offset_seconds"] == 0, err
        rt = runtime()
        ctx = Context(store=rt.store, cipher=rt.cipher, clock=rt.clock, policy=rt.policy)
        params = {"name_masked": "张*", "step": "sms_reminder", "actions": ["sms_reminder"], "amount_fen": 100}
        params |= {"days_overdue": 1, "due_date": "2026-12-01"}
        ctx.commit([outbox_put(ctx, account_id="acc_x", kind="step", dedupe_key="acc_x#step#sms#1", params=params)])

        # When the operator lists the outbox, then advances the clock
        status, listed, err = _admin(capsys, "outbox")
        assert status == 0, err
        assert [m["kind"] for m in listed["waiting"]] == ["step"]
        status, moved, err = _admin(
            capsys, "--operator", "alice", "clock", "advance", "--days", "2", "--reason", "demo"
        )

        # Then the clock moved two days, the scheduled functions ran (the SMS had no account: undeliverable)
        assert status == 0, err
        assert moved["offset_seconds"] == 2 * 86400
        assert moved["ran"]["dispatch_outbox"]["undeliverable"] == 1
        assert _admin(capsys, "outbox")[1]["waiting"] == []
        assert [m["status"] for m in _admin(capsys, "outbox", "--account", "acc_x")[1]["items"]] == ["undeliverable"]
        # And moving it backwards is refused in one sentence
        status, _, err = _admin(capsys, "clock", "advance", "--days", "-1", "--reason", "back")
        assert status == 1 and "forward only" in _one_sentence(err)


def test_without_the_test_clock_the_command_refuses(local_stack: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = _admin(capsys, "clock", "advance", "--days", "1", "--reason", "x")
    assert status == 2 and "TEST_CLOCK_DISABLED" in _one_sentence(err)


def test_the_report_command_writes_one_self_contained_html_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a local stack with one bill issued on 11-24 (due 12-01), then the clock 40 days on
    from treatfirst.domain.reports import Tally
    from treatfirst.services import reports
    from treatfirst.services.unit_of_work import Context

    folder = _stack(tmp_path, TF_TEST_CLOCK="1")
    monkeypatch.chdir(folder)
    with mock_aws():
        os.environ.update({"AWS_DEFAULT_REGION": "cn-north-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"})
        create_tables_stack(PREFIX)
        assert _admin(capsys, "clock", "show")[0] == 0  # the command line chose the local stack's settings
        rt = runtime()
        ctx = Context(store=rt.store, cipher=rt.cipher, clock=rt.clock, policy=rt.policy)
        reports.roll_up(ctx)  # the reports begin when the platform starts (the hourly schedule's roll-up)
        start = reports.business_date(ctx)
        tally = Tally()
        tally.add(f"issued|{(start + timedelta(days=7)).isoformat()}", 1, 123_456)
        ctx.commit(reports.tally_writes(ctx, tally, "bil_x"))
        assert _admin(capsys, "clock", "advance", "--days", "40", "--reason", "report")[0] == 0
        end = start + timedelta(days=39)
        out = folder / "report.html"

        # When the operator writes the report of those 40 days
        status, shown, err = _admin(
            capsys, "report", "--from", start.isoformat(), "--to", end.isoformat(), "--out", str(out)
        )

        # Then one HTML file: Chinese first, the figures, inline SVG charts, no script, nothing fetched
        assert status == 0, err
        assert shown == {
            "out": str(out),
            "from": start.isoformat(),
            "to": end.isoformat(),
            "lent_fen": 123_456,
            "past_due_fen": 123_456,
        }
        html = out.read_text(encoding="utf-8")
        assert html.index("运营报表") < html.index("Operator report")
        assert "1,234.56" in html and html.count("<svg") == 3
        assert "<script" not in html and "http://" not in html and "https://" not in html and "src=" not in html
        # And a bad range is refused in one sentence with the code
        status, _, err = _admin(capsys, "report", "--from", end.isoformat(), "--to", start.isoformat(), "--out", "x")
        assert status == 2 and "INVALID_DATE_RANGE" in _one_sentence(err)
