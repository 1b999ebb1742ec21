"""Daily clearing files over the signed API: each hospital, financier and channel downloads its own and nobody
else's; the pieces put together match the manifest's SHA-256; the scheduled function is wired."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from treatfirst.domain.days import business_date
from treatfirst.services import clearing
from treatfirst.services.unit_of_work import Context

from tests.factories import charge
from tests.functional.conftest import Api, Key, _register


@pytest.fixture(params=["xiamen"])
def city(request: pytest.FixtureRequest) -> str:
    return str(request.param)  # financier_advance: hospital-a's financier is xm-bank-a


@pytest.fixture
def exports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The exports folder (set before the platform's runtime is built)."""
    monkeypatch.setenv("TF_EXPORTS_DIR", str(tmp_path / "exports"))
    yield tmp_path / "exports"


def _cleared_day(api: Api, platform: Any, hospital: Key, channel: Key) -> str:
    """A charge at hospital-a, its bill paid in part through wechat-pay, then the day cleared."""
    enrolled = json.loads(api.post(hospital, "/v1/enrollments", _enrollment(platform)).body)
    visit = json.loads(api.post(hospital, "/v1/visits", {"account_id": enrolled["account_id"]}).body)
    posted = api.post(hospital, f"/v1/visits/{visit['visit_id']}/charges", charge(3000))
    assert posted.status_code == 201, posted.body
    closed = json.loads(api.post(hospital, f"/v1/visits/{visit['visit_id']}/close").body)
    bill_id = closed["bill"]["bill_id"]
    paid = api.post(
        channel,
        "/v1/payments",
        {
            "channel_txn_id": "wx-0001",
            "amount_fen": 1000,
            "paid_at": "2026-11-24T12:00:00+08:00",
            "allocations": [{"bill_id": bill_id, "amount_fen": 1000}],
        },
    )
    assert paid.status_code == 201, paid.body
    day = business_date(platform.clock.now(), zone=platform.policy.timezone, cutoff=platform.policy.due_at)
    ctx = Context(store=platform.store, cipher=platform.cipher, clock=platform.clock, policy=platform.policy)
    clearing.clear_date(ctx, platform.objects, day)
    return day.isoformat()


def _enrollment(platform: Any) -> dict[str, Any]:
    from tests.factories import enrollment

    return enrollment(platform.policy)


def _download(api: Api, key: Key, day: str, name: str, **query: str) -> bytes:
    pieces, offset = [], 0
    while True:
        answer = api.get(key, f"/v1/clearing/{day}/files/{name}", query={**query, "offset": str(offset)})
        assert answer.status_code == 200, answer.body
        piece = json.loads(answer.body)
        pieces.append(base64.b64decode(piece["content_base64"]))
        if piece["next_offset"] is None:
            data = b"".join(pieces)
            assert hashlib.sha256(data).hexdigest() == piece["sha256"] and len(data) == piece["bytes"]
            return data
        offset = piece["next_offset"]


def test_each_party_downloads_its_own_clearing_and_nobody_elses(
    exports: Path, api: Api, platform: Any, hospital: Key, other_hospital: Key, channel: Key, operator: Key
) -> None:
    # Given a cleared day with a charge at hospital-a (financier xm-bank-a) paid in part through wechat-pay
    financier = _register(platform, "financier", "xm-bank-a")
    other_financier = _register(platform, "financier", "xm-bank-b")
    day = _cleared_day(api, platform, hospital, channel)
    # When each party reads its manifest and downloads its files
    for key, party, net in ((hospital, "hospital:hospital-a", 3000), (financier, "financier:xm-bank-a", -2000)):
        answer = api.get(key, f"/v1/clearing/{day}")
        assert answer.status_code == 200, answer.body
        manifest = json.loads(answer.body)
        # Then the manifest is its own, with its net position, and every file matches its SHA-256
        assert (manifest["party"], manifest["net_fen"]) == (party, net)
        for f in manifest["files"]:
            data = _download(api, key, day, f["name"])
            assert hashlib.sha256(data).hexdigest() == f["sha256"]
    csv_lines = _download(api, channel, day, "clearing.csv").decode().splitlines()
    assert len(csv_lines) == 2 and ",payment,payments_collected_fen,1000," in csv_lines[1]
    assert "wx-0001" in csv_lines[1]
    # And another hospital, another financier, or a party named that is not the caller: not found
    assert api.get(other_hospital, f"/v1/clearing/{day}").status_code == 404
    assert api.get(other_financier, f"/v1/clearing/{day}/files/clearing.csv").status_code == 404
    asked = api.get(other_hospital, f"/v1/clearing/{day}", query={"party": "hospital:hospital-a"})
    assert asked.status_code == 404 and json.loads(asked.body)["error"]["code"] == "CLEARING_NOT_FOUND"
    stolen = api.get(channel, f"/v1/clearing/{day}/files/clearing.json", query={"party": "financier:xm-bank-a"})
    assert stolen.status_code == 404
    # And an unsigned request is refused before anything is read
    assert api.get(None, f"/v1/clearing/{day}").status_code == 401
    # And operators read any party's, naming it; a malformed date or file name is not found
    assert api.get(operator, f"/v1/clearing/{day}", query={"party": "financier:xm-bank-a"}).status_code == 200
    assert api.get(operator, f"/v1/clearing/{day}").status_code == 400
    assert api.get(hospital, "/v1/clearing/2026-13-01").status_code == 404
    assert api.get(hospital, f"/v1/clearing/{day}/files/..%2Fsecret").status_code == 404
    # And a day not cleared is not found
    assert api.get(hospital, "/v1/clearing/2020-01-01").status_code == 404
    # And the files are in the exports bucket (moto's S3 in this tier) under clearing/<city>/<date>/
    assert platform.objects.exists(f"clearing/350200/{day}/summary.json")


def test_the_hourly_clearing_function_runs_and_moves_its_watermark(exports: Path, api: Api, platform: Any) -> None:
    # Given the app's scheduled function
    from app import app
    from chalice.test import Client

    # When it runs twice
    with Client(app) as client:
        event = client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
        )
        first = client.lambda_.invoke("clear", event).payload
        second = client.lambda_.invoke("clear", event).payload
    # Then the first clears the last closed date and the second has nothing left to clear
    assert len(first["dates"]) == 1 and date.fromisoformat(first["dates"][0])
    assert second["dates"] == []


def test_the_per_day_index_reads_the_same_items_through_the_client_as_through_the_models(
    exports: Path, api: Api, platform: Any, hospital: Key, channel: Key, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a cleared day on moto's DynamoDB
    from treatfirst.adapters import dynamo
    from treatfirst.services.ledger_days import entries_for_day

    day = _cleared_day(api, platform, hospital, channel)
    ctx = Context(store=platform.store, cipher=platform.cipher, clock=platform.clock, policy=platform.policy)
    # When the day is read through the client (by_day's fast path) and through the PynamoDB models, in pages of 2
    fast = list(entries_for_day(ctx, city_code="350200", business_date=day, page_size=2))
    monkeypatch.setattr(dynamo, "RAW_INDEXES", frozenset())
    slow = list(entries_for_day(ctx, city_code="350200", business_date=day, page_size=2))
    # Then both give the same entries, attribute for attribute (numbers as int)
    assert len(fast) == 3  # the hold, the bill issued, the payment
    assert fast == slow
    assert all(isinstance(e["amount_fen"], int) for e in fast)
