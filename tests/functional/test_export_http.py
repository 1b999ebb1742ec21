"""The city credit platform over HTTP: it lists, reads, downloads and acknowledges the blacklist export's deliveries
(moto S3 holds the files), and gets 403 anywhere else; no other caller reaches the deliveries. The scheduled
function writes nothing where the city's policy does not allow export."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import boto3
import pytest
from chalice.test import Client
from treatfirst.adapters.signing import LocalSigner, signature_ok
from treatfirst.domain import export as x
from treatfirst.services import export
from treatfirst.services.ports import ACCOUNTS, AUDIT, Put
from treatfirst.services.unit_of_work import Context

from tests.functional.conftest import Api, Key, _register
from tests.stacks import EXPORT_SIGNING_KEY, EXPORTS_BUCKET

D1, D2 = date(2026, 11, 23), date(2026, 11, 24)


def body(response: Any) -> Any:
    return json.loads(response.body)


@pytest.fixture
def credit_platform(platform: Any) -> Key:
    return _register(platform, "credit_platform", "city-credit")


def _sources() -> export.Sources:
    """The blacklist's change log as fakes (tests/unit/test_export.py holds the export's rules)."""
    rows = [
        {
            "change_id": f"blc_{n}",
            "record_id": f"blr_{account}",
            "account_id": account,
            "kind": kind,
            "business_date": day.isoformat(),
            "at": f"{day.isoformat()}T02:00:0{n}.000Z",
            "reason": reason,
            "amount_fen": 35000,
            "bills": [{"bill_id": "bil_1", "amount_fen": 35000, "due_at": "2026-08-01T23:59:59+08:00"}],
            "basis": {"policy_version": "v", "policy_sha256": "ab" * 32, "legal_basis": "示例依据"},
            "listed_at": "2026-11-01T02:00:00.000Z",
            "valid_until": "2029-10-31",
        }
        for n, (kind, account, day, reason) in enumerate(
            [("added", "person_A", D1, "overdue_unpaid"), ("removed", "person_A", D2, "repaid")]
        )
    ]

    def changes(ctx: Context, *, city_code: str, from_date: date, to_date: date) -> Iterator[dict[str, Any]]:
        return iter([r for r in rows if from_date.isoformat() <= r["business_date"] < to_date.isoformat()])

    return export.Sources(
        changes,
        lambda ctx, account_id, kind: True,
        lambda ctx, acc: {"name": "张三", "id_number": "11010519491231002X"},
    )


@pytest.fixture
def delivered(platform: Any) -> dict[str, Any]:
    """Two days delivered to the exports bucket (moto S3), signed with the test key (the person is a stand-in item:
    identities come from the fake sources)."""
    ctx = Context(store=platform.store, cipher=platform.cipher, clock=platform.clock, policy=platform.policy)
    ctx.commit([Put(ACCOUNTS, {"account_id": "person_A", "status": "active"})])
    signer = LocalSigner(EXPORT_SIGNING_KEY.read_bytes())
    first = export.export_window(ctx, platform.objects, signer, D1, _sources())
    second = export.export_window(ctx, platform.objects, signer, D2, _sources())
    return {"first": first, "second": second, "public_pem": signer.signing().public_pem}


def test_the_credit_platform_lists_downloads_verifies_and_acknowledges(
    api: Api, platform: Any, credit_platform: Key, delivered: dict[str, Any]
) -> None:
    # Given two deliveries in the bucket
    # When the credit platform lists them
    listed = api.get(credit_platform, "/v1/exports")
    assert listed.status_code == 200, listed.body
    assert [i["export_id"] for i in body(listed)["items"]] == ["exp_20261124", "exp_20261123"]
    # And reads one, then downloads each file it lists
    detail = body(api.get(credit_platform, "/v1/exports/exp_20261124"))
    assert detail["previous_manifest_sha256"] == delivered["first"].manifest_sha256
    got: dict[str, bytes] = {}
    for item in detail["files"]:
        answer = api.get(credit_platform, f"/v1/exports/exp_20261124/files/{item['name']}")
        assert answer.status_code == 200, (item, answer.body)
        got[item["name"]] = answer.body
        stored = boto3.client("s3").get_object(Bucket=EXPORTS_BUCKET, Key=f"{x.folder(D2)}/{item['name']}")
        assert answer.body == stored["Body"].read()
        assert answer.headers["X-Content-SHA256"] == hashlib.sha256(answer.body).hexdigest()
    # Then what it downloaded verifies: the CSV with its BOM and type, the checksums, the signature
    csv_answer = api.get(credit_platform, "/v1/exports/exp_20261124/files/delta-00001.csv")
    assert csv_answer.headers["Content-Type"].startswith("text/csv") and csv_answer.body.startswith(x.BOM)
    for line in got[x.CHECKSUMS].decode().splitlines():
        digest, name = line.split("  ")
        assert hashlib.sha256(got[name]).hexdigest() == digest
    signature = base64.b64decode(got[x.SIGNATURE])
    assert signature_ok(got[x.PUBLIC_KEY], got[x.MANIFEST], signature)
    assert hashlib.sha256(got[x.MANIFEST]).hexdigest() == detail["manifest_sha256"]
    assert json.loads(got["delta-00001.jsonl"])["op"] == "REMOVE"

    # When it acknowledges with another hash, nothing changes; with the manifest's hash, the delivery is acknowledged
    path = "/v1/exports/exp_20261124/acknowledgement"
    wrong = api.post(credit_platform, path, {"manifest_sha256": "0" * 64})
    assert wrong.status_code == 409 and body(wrong)["error"]["code"] == "EXPORT_MANIFEST_MISMATCH"
    done = api.post(credit_platform, path, {"manifest_sha256": detail["manifest_sha256"], "note": "已入库"})
    assert done.status_code == 200 and body(done)["status"] == "acknowledged", done.body
    again = api.post(credit_platform, path, {"manifest_sha256": detail["manifest_sha256"]})
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert body(again)["acknowledged_at"] == body(done)["acknowledged_at"]
    # And the acknowledgement is audited with who acknowledged which manifest
    events = [
        e for e in platform.store.query(AUDIT, "export#exp_20261124").items if e["action"] == "export.acknowledged"
    ]
    assert len(events) == 1 and events[0]["actor_id"] == "city-credit"
    assert events[0]["details"]["manifest_sha256"] == detail["manifest_sha256"]
    # And unknown deliveries, malformed ids and files a delivery does not list are not found
    for path in (
        "/v1/exports/exp_20261130",
        "/v1/exports/exp_2026",
        "/v1/exports/exp_20261123/files/delta-00009.csv",
        "/v1/exports/exp_20261123/files/..%2Fmanifest.json",
    ):
        answer = api.get(credit_platform, path)
        assert answer.status_code == 404 and body(answer)["error"]["code"] == "EXPORT_NOT_FOUND", (path, answer.body)


def test_no_other_caller_reaches_the_exports_and_the_platform_nothing_else(
    api: Api, hospital: Key, channel: Key, operator: Key, credit_platform: Key, delivered: dict[str, Any]
) -> None:
    # Given every other caller kind, Then each export operation is refused
    sha = delivered["first"].manifest_sha256
    for key in (hospital, channel, operator):
        for method, path, sent in (
            ("GET", "/v1/exports", None),
            ("GET", "/v1/exports/exp_20261123", None),
            ("GET", "/v1/exports/exp_20261123/files/delta-00001.csv", None),
            ("POST", "/v1/exports/exp_20261123/acknowledgement", {"manifest_sha256": sha}),
        ):
            answer = api.call(key, method, path, sent)
            assert answer.status_code == 403, (key.principal_id, path, answer.body)
            assert body(answer)["error"]["code"] == "FORBIDDEN"
    # And the credit platform is refused everywhere else
    for method, path, sent in (
        ("GET", "/v1/accounts/acc_01JDX3M4V8K2QF6T9ZB7N5R1WH", None),
        ("POST", "/v1/accounts/lookup", {"id_number": "11010519491231002X"}),
        ("GET", "/v1/bills/bil_01JDX3Q5R8S1TV4WX7YZ2A6B9C", None),
        ("GET", "/v1/reviews", None),
        ("GET", "/v1/aging", None),
        ("GET", "/v1/tasks", None),
        ("POST", "/v1/callers", {"kind": "hospital", "id": "h-9", "name": "H"}),
    ):
        answer = api.call(credit_platform, method, path, sent)
        assert answer.status_code == 403, (path, answer.body)


@pytest.mark.parametrize("city", ["xiamen", "lianyungang"], indirect=True)
def test_the_scheduled_export_writes_only_where_the_policy_allows(platform: Any, city: str) -> None:
    from app import app

    # When the hourly schedule fires
    with Client(app) as client:
        event = client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
        )
        ran = client.lambda_.invoke("export_blacklist", event).payload
    keys = list(platform.objects.keys("exports/"))
    if city == "xiamen":
        # Then a city without export writes nothing at all, and says why
        assert ran["exported"] == 0 and "does not enable export" in ran["skipped"]
        assert keys == []
    else:
        # Then an exporting city delivers the last closed day (nothing listed: an empty, signed delivery)
        assert ran["exported"] == 1 and ran["windows"][0]["counts"] == {"added": 0, "removed": 0}
        assert export.verify(platform.objects).ok and any(k.endswith("/manifest.json") for k in keys)
