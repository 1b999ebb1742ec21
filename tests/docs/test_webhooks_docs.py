"""The webhooks page: its tables come from the code that sends, and both verification examples work against the
specification's published vector and against what the dispatcher really sends."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from treatfirst.domain import webhooks as wh
from treatfirst.domain.events import CATALOGUE

from tools.mkdocs_events import catalogue_table, facts, schedule_table

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "site" / "examples"


def test_the_tables_show_every_kind_and_the_specifications_schedule() -> None:
    for lang in ("zh", "en"):
        table = catalogue_table(lang)
        for kind in CATALOGUE:
            assert f"| `{kind.name}` |" in table
        # the specification's example schedule, written down by hand: 10 attempts, the last at 75:35:05
        schedule = schedule_table(lang)
        for since in ("00:00:05", "00:05:05", "00:35:05", "02:35:05", "17:35:05", "51:35:05", "75:35:05"):
            assert f"| {since} |" in schedule
        assert schedule.count("\n") == 11
    assert "15 秒" in facts("zh") and "15 s" in facts("en")
    assert "`bill_id`: 账单编号" in catalogue_table("zh") and "医院、资金方、渠道" in catalogue_table("zh")


@pytest.mark.skipif(shutil.which("java") is None, reason="no Java on this machine")
def test_the_java_example_accepts_the_published_vector_and_refuses_changes() -> None:
    # When the page's Java example runs (single-file source launch, Java 11+)
    result = subprocess.run(
        ["java", "VerifyWebhook.java"], cwd=EXAMPLES, capture_output=True, text=True, timeout=120, check=True
    )
    # Then the vector verifies, and an altered body or a late timestamp does not
    assert result.stdout.split("\n")[:3] == ["vector true", "altered false", "late false"]


def test_the_python_example_verifies_what_the_dispatcher_sends_and_drops_repeats() -> None:
    sys.path.insert(0, str(EXAMPLES))
    try:
        from verify_webhook import receive  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(EXAMPLES))
    secret = wh.new_secret(b"s" * 32)
    body = json.dumps({"id": "evt_1", "type": "bill.paid", "data": {"bill_id": "bil_1"}}).encode()
    headers = wh.headers([secret], "evt_1", int(time.time()), body)
    seen: set[str] = set()
    handled: list[dict[str, Any]] = []

    def first_time(webhook_id: str) -> bool:
        repeat = webhook_id in seen
        seen.add(webhook_id)
        return repeat

    # When the same delivery arrives twice, and an altered one once
    assert receive(secret, body, headers, first_time, handled.append) == 204
    assert receive(secret, body, {k.title(): v for k, v in headers.items()}, first_time, handled.append) == 204
    assert receive(secret, body.replace(b"bil_1", b"bil_9"), headers, first_time, handled.append) == 400
    # Then it was handled once
    assert [e["data"]["bill_id"] for e in handled] == ["bil_1"]
