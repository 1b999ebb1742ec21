"""The blacklist export: golden bytes, the chain, re-runs, consent, the legal-basis gate, parts, acknowledgement.

The blacklist's change log, consents and identities are fakes here (tests/functional and tests/integration run the
real ones); what is under test is what the export writes from them. UPDATE_GOLDEN=1 rewrites the golden files
(then read the diff: a change of bytes is a change of what the credit platform receives).
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import hashlib
import io
import json
import os
import subprocess
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from treatfirst.adapters.crypto import LocalCipher
from treatfirst.adapters.memory import MemoryStore
from treatfirst.adapters.objects import MemoryObjects
from treatfirst.adapters.signing import LocalSigner, signature_ok
from treatfirst.domain import export as x
from treatfirst.domain.clock import FixedClock
from treatfirst.domain.errors import ExportManifestMismatch, ExportNotFound, Forbidden
from treatfirst.domain.policy import LegalBasis, Policy, example_policy, parse_policy
from treatfirst.messages.exports import AcknowledgementRequest
from treatfirst.services import export
from treatfirst.services.identity import SCOPES, Caller
from treatfirst.services.paging import PageQuery
from treatfirst.services.ports import ACCOUNTS, AUDIT, BLACKLIST, EXPORTS, Put
from treatfirst.services.unit_of_work import Context

GOLDEN = Path(__file__).parent / "golden" / "export"
KEY = (GOLDEN / "test-signing-key.pem").read_bytes()
D1, D2, D3 = date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25)
BASIS = {"policy_version": "2026.11-1", "policy_sha256": "ab" * 32, "legal_basis": "示例依据 Example basis"}
PEOPLE = {
    "acc_A": {"name": "张三", "id_number": "11010519491231002X", "phone": "13800138000"},
    "acc_B": {"name": "李四", "id_number": "110105194912310037", "phone": "13800138001"},
    "acc_C": {"name": "王五", "id_number": "110105194912310045", "phone": "13800138002"},
}


def change(n: int, kind: str, account: str, day: date, reason: str, amount: int = 35000) -> dict[str, Any]:
    return {
        "change_id": f"blc_R{account[-1]}_{n:02d}",
        "record_id": f"blr_R{account[-1]}",
        "account_id": account,
        "kind": kind,
        "business_date": day.isoformat(),
        "at": f"{day.isoformat()}T02:00:0{n}.000Z",
        "reason": reason,
        "amount_fen": amount,
        "bills": [
            {"bill_id": "bil_2", "amount_fen": amount - 5000, "due_at": "2026-08-09T23:59:59+08:00"},
            {"bill_id": "bil_1", "amount_fen": 5000, "due_at": "2026-08-01T23:59:59+08:00"},
        ],
        "basis": BASIS,
        "listed_at": "2026-11-01T02:00:00.000Z",
        "valid_until": "2029-10-31",
    }


# A listed person with consent (A), one without (B), one with consent (C); B's and A's records leave on day 2.
CHANGES = [
    change(0, "added", "acc_A", D1, "overdue_unpaid"),
    change(0, "added", "acc_B", D1, "overdue_unpaid", 120000),
    change(0, "added", "acc_C", D1, "overdue_unpaid", 800),
    change(1, "removed", "acc_A", D2, "repaid"),
    change(1, "removed", "acc_B", D2, "appeal_accepted"),
]


class Fakes:
    def __init__(self, consenting: set[str]) -> None:
        self.consenting = consenting
        self.changes = list(CHANGES)
        self.identities_read: list[str] = []

    def sources(self) -> export.Sources:
        def changes(ctx: Context, *, city_code: str, from_date: date, to_date: date) -> Iterator[dict[str, Any]]:
            return iter([c for c in self.changes if from_date.isoformat() <= c["business_date"] < to_date.isoformat()])

        def on_record(ctx: Context, account_id: str, kind: str) -> bool:
            assert kind == "credit_reporting"
            return account_id in self.consenting

        def identity_of(ctx: Context, account: Mapping[str, Any]) -> Mapping[str, Any]:
            self.identities_read.append(str(account["account_id"]))
            return PEOPLE[str(account["account_id"])]

        return export.Sources(changes, on_record, identity_of)


class Setup:
    def __init__(self, policy: Policy, consenting: set[str] | None = None) -> None:
        self.store = MemoryStore()
        self.objects = MemoryObjects()
        self.signer = LocalSigner(KEY)
        self.clock = FixedClock(datetime(2026, 11, 24, 1, 0, tzinfo=UTC))  # 09:00 in the city: the 23rd is closed
        self.policy = policy
        self.fakes = Fakes({"acc_A", "acc_C"} if consenting is None else consenting)
        for account in PEOPLE:
            self.store.commit([Put(ACCOUNTS, {"account_id": account, "status": "active"})])
        self.platform = Caller("key_p", "credit_platform", "city-credit", SCOPES["credit_platform"])

    def ctx(self) -> Context:
        return Context(
            store=self.store, cipher=LocalCipher(b"k" * 32), clock=self.clock, policy=self.policy, sleep=lambda _: None
        )

    def window(self, day: date, **kw: Any) -> export.WindowResult:
        return export.export_window(self.ctx(), self.objects, self.signer, day, self.fakes.sources(), **kw)

    def files(self, day: date) -> dict[str, bytes]:
        base = x.folder(day) + "/"
        return {k[len(base) :]: v for k, v in self.objects.objects.items() if k.startswith(base)}


def ack(sha: str, note: str | None = None) -> AcknowledgementRequest:
    return AcknowledgementRequest(manifest_sha256=sha, note=note)


def golden_policy() -> Policy:
    """Lianyungang's policy with the values the files carry pinned, so an edit of the example city's file does not
    change the golden bytes (the city code, operator, version, hash and export basis are the test's own)."""
    return dataclasses.replace(
        example_policy("lianyungang"),
        version="golden-1",
        sha256="cd" * 32,
        operator_name="示例市医疗保障局",
        blacklist_export_basis=LegalBasis("示例文件〔2020〕1号", "示例标题", "第十条", "示例依据全文"),
    )


@pytest.fixture
def setup() -> Setup:
    return Setup(golden_policy())


def _golden(day: date, files: dict[str, bytes]) -> None:
    folder = GOLDEN / day.isoformat()
    if os.environ.get("UPDATE_GOLDEN") == "1":
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (folder / name).write_bytes(data)
    expected = {p.name: p.read_bytes() for p in sorted(folder.iterdir())}
    assert sorted(files) == sorted(expected)
    for name, data in files.items():
        assert data == expected[name], f"{day}/{name} differs from its golden file"


def test_two_days_are_delivered_as_the_golden_files_show(setup: Setup) -> None:
    # Given three listed persons, B without credit-reporting consent, then A repaid and B's appeal accepted
    # When the two days are delivered
    first, second = setup.window(D1), setup.window(D2)
    # Then the bytes are exactly the golden files (fields, order, CSV with BOM, checksums, key, signature, manifest)
    _golden(D1, setup.files(D1))
    _golden(D2, setup.files(D2))
    # And B is withheld on both days: never added, so never removed (the platform never learns of B)
    assert (first.counts, first.withheld["no_consent"]) == ({"added": 2, "removed": 0}, 1)
    assert (second.counts, second.withheld["never_delivered"]) == ({"added": 0, "removed": 1}, 1)
    assert "110105194912310037" not in b"".join(setup.objects.objects.values()).decode()
    # And the second manifest names the first by its SHA-256, with the next sequence number
    manifest = json.loads(setup.files(D2)[x.MANIFEST])
    assert manifest["previous_manifest_sha256"] == x.sha256_hex(setup.files(D1)[x.MANIFEST])
    assert (manifest["sequence"], manifest["window"]) == (2, {"from": "2026-11-24", "to": "2026-11-25"})


def test_the_files_read_back_as_the_catalogue_says(setup: Setup) -> None:
    setup.window(D1)
    files = setup.files(D1)
    # The CSV opens with a BOM, then the catalogue's header; Python's csv reads the same rows as the JSON Lines
    assert files["delta-00001.csv"].startswith(b"\xef\xbb\xbfop,change_id,record_id,")
    rows = list(csv.DictReader(io.StringIO(files["delta-00001.csv"].decode("utf-8-sig"))))
    lines = [json.loads(line) for line in files["delta-00001.jsonl"].splitlines()]
    assert [list(line) for line in lines] == [list(x.FIELD_NAMES)] * 2
    assert [{k: str(v) for k, v in line.items() if v is not None} for line in lines] == [
        {k: v for k, v in row.items() if v != ""} for row in rows
    ]
    # The full ID number is in the file (its one lawful place), with the earliest due date and the decision basis
    assert lines[0] | {"id_number": "11010519491231002X", "first_due_at": "2026-08-01T23:59:59+08:00"} == lines[0]
    assert (lines[0]["op"], lines[0]["amount_fen"], lines[0]["bill_count"]) == ("ADD", 35000, 2)
    assert lines[0]["source_org_code"] == "320700"


def test_a_re_run_writes_identical_bytes_and_keeps_the_chain(setup: Setup) -> None:
    # Given two delivered days
    setup.window(D1)
    setup.window(D2)
    before = dict(setup.objects.objects)
    # When the first day is run again (consent of A withdrawn since: A's addition was delivered, it stays)
    setup.fakes.consenting.discard("acc_A")
    again = setup.window(D1)
    # Then every byte is the same, and the registry still holds one delivery per day
    assert again.rerun and setup.objects.objects == before
    assert [i["item_key"] for i in setup.store.query(EXPORTS, "blacklist").items] == ["2026-11-23", "2026-11-24"]
    assert export.verify(setup.objects).ok


def test_a_re_run_that_would_change_a_delivered_file_is_refused_and_changes_nothing(setup: Setup) -> None:
    setup.window(D1)
    before = setup.files(D1)
    setup.fakes.changes.append(change(5, "added", "acc_C", D1, "overdue_unpaid"))  # history rewritten
    with pytest.raises(export.ExportChainBroken, match="another manifest"):
        setup.window(D1)
    assert setup.files(D1) == before  # not one delivered byte changed, the data parts included


def test_a_re_run_restores_a_lost_file_with_the_same_bytes(setup: Setup) -> None:
    setup.window(D1)
    before = setup.files(D1)
    setup.objects.delete(f"{x.folder(D1)}/delta-00001.csv")
    assert not export.verify(setup.objects).ok
    assert setup.window(D1).rerun
    assert setup.files(D1) == before and export.verify(setup.objects).ok


def test_the_chain_detects_a_missing_delivery(setup: Setup) -> None:
    # Given three delivered days that verify
    for day in (D1, D2, D3):
        setup.window(day)
    assert export.verify(setup.objects).as_dict() == {
        "ok": True,
        "checked": ["exp_20261123", "exp_20261124", "exp_20261125"],
        "problems": [],
    }
    # When the middle delivery disappears
    for name in setup.files(D2):
        setup.objects.delete(f"{x.folder(D2)}/{name}")
    # Then the verifier says which days are missing and that the link is broken
    verdict = export.verify(setup.objects)
    assert not verdict.ok
    assert any("2026-11-24 to 2026-11-24 are missing" in p for p in verdict.problems)
    assert any("previous_manifest_sha256 does not match" in p for p in verdict.problems)


def test_the_chain_detects_a_missing_first_delivery_and_an_edited_file(setup: Setup) -> None:
    for day in (D1, D2):
        setup.window(day)
    setup.objects.objects[f"{x.folder(D2)}/delta-00001.csv"] += b"x"
    for name in setup.files(D1):
        setup.objects.delete(f"{x.folder(D1)}/{name}")
    problems = export.verify(setup.objects).problems
    assert any("names a previous delivery (2026-11-23) that is not there" in p for p in problems)
    assert any("delta-00001.csv: SHA-256 or size differs" in p for p in problems)


def test_a_forged_signature_or_another_key_is_caught(setup: Setup) -> None:
    setup.window(D1)
    manifest = f"{x.folder(D1)}/{x.MANIFEST}"
    raw = setup.objects.objects[manifest]
    signature = base64.b64decode(setup.files(D1)[x.SIGNATURE])
    assert signature_ok(setup.signer.signing().public_pem, raw, signature)
    # A manifest changed after signing (even in a way that keeps it canonical) no longer verifies
    doc = json.loads(raw)
    doc["counts"]["added"] = 1
    setup.objects.objects[manifest] = x.canonical(doc)
    assert any("signature does not verify" in p for p in export.verify(setup.objects).problems)
    # A delivery verified against a pinned key that is not the one used is refused
    setup.objects.objects[manifest] = raw
    assert export.verify(setup.objects).ok
    assert any("not the pinned key" in p for p in export.verify(setup.objects, pinned_key_sha256="00" * 32).problems)


def test_openssl_verifies_the_signature_as_the_docs_say(setup: Setup, tmp_path: Path) -> None:
    # The commands on the export page, run as a receiver would
    setup.window(D1)
    for name, data in setup.files(D1).items():
        (tmp_path / name).write_bytes(data)
    run = {"cwd": tmp_path, "capture_output": True, "text": True}
    assert subprocess.run(["sha256sum", "-c", "SHA256SUMS"], check=False, **run).returncode == 0  # type: ignore[call-overload]
    decode = ["openssl", "base64", "-d", "-A", "-in", x.SIGNATURE, "-out", "manifest.json.sig"]
    assert subprocess.run(decode, check=False, **run).returncode == 0  # type: ignore[call-overload]
    verify = ["openssl", "dgst", "-sha256", "-verify", x.PUBLIC_KEY, "-signature", "manifest.json.sig", x.MANIFEST]
    ok = subprocess.run(verify, check=False, **run)  # type: ignore[call-overload]
    assert ok.returncode == 0 and "Verified OK" in ok.stdout
    # And the key's fingerprint, computed as the page says, is the one the manifest names
    der = subprocess.run(
        ["openssl", "pkey", "-pubin", "-in", x.PUBLIC_KEY, "-outform", "DER"],
        cwd=tmp_path,
        capture_output=True,
        check=True,
    ).stdout
    assert hashlib.sha256(der).hexdigest() == json.loads(setup.files(D1)[x.MANIFEST])["signature"]["public_key_sha256"]
    (tmp_path / x.MANIFEST).write_bytes(setup.files(D1)[x.MANIFEST].replace(b'"sequence":1', b'"sequence":2'))
    assert subprocess.run(verify, check=False, **run).returncode != 0  # type: ignore[call-overload]


def _policy_file() -> str:
    return (Path(export.__file__).parent.parent / "policies" / "lianyungang.yaml").read_text(encoding="utf-8")


def test_a_city_without_a_structured_legal_basis_writes_nothing() -> None:
    raw = _policy_file()
    start, end = raw.index("  legal_basis:       #"), raw.index("  consent_required:")
    basis_as_text = parse_policy(raw[:start] + '  legal_basis: "某市条例第十条（示例）"\n' + raw[end:])
    assert basis_as_text.blacklist_export_enabled and basis_as_text.blacklist_legal_basis
    for policy in (example_policy("xiamen"), basis_as_text):
        # Given a city whose policy does not enable export, or names its basis only as a sentence
        s = Setup(policy)
        # When the scheduled export runs, and even when a window is asked for directly
        result = export.run(s.ctx(), s.objects, s.signer, s.fakes.sources())
        with pytest.raises(export.ExportChainBroken):
            s.window(D1)
        # Then nothing is written anywhere: no file, no registry item, no identity decrypted
        assert result["exported"] == 0 and result["skipped"]
        assert s.objects.objects == {} and s.store.query(EXPORTS, "blacklist").items == []
        assert s.fakes.identities_read == []


def test_where_consent_is_not_required_every_listed_person_is_delivered() -> None:
    policy = parse_policy(
        _policy_file()
        .replace("  consent_required: true", "  consent_required: false")
        .replace("kind: credit_reporting, mode: consent", "kind: credit_reporting, mode: notice")  # told, not asked
    )
    s = Setup(policy, consenting=set())
    assert s.window(D1).counts == {"added": 3, "removed": 0}
    assert s.window(D2).counts == {"added": 0, "removed": 2}


def test_a_record_added_and_removed_on_one_day_is_delivered_both_ways(setup: Setup) -> None:
    # The removal sees the addition of the same window, before its marker is committed
    setup.fakes.changes = [
        change(0, "added", "acc_A", D1, "overdue_unpaid"),
        change(1, "removed", "acc_A", D1, "repaid"),
    ]
    assert setup.window(D1).counts == {"added": 1, "removed": 1}


def test_consent_required_city_delivers_only_consenting_persons(setup: Setup) -> None:
    setup.fakes.consenting = {"acc_C"}
    setup.window(D1)
    delivered = [json.loads(line)["record_id"] for line in setup.files(D1)["delta-00001.jsonl"].splitlines()]
    assert delivered == ["blr_RC"]
    assert setup.fakes.identities_read == ["acc_C"]  # nobody else's identity is even decrypted


def test_a_large_window_is_split_into_parts_each_downloadable(setup: Setup) -> None:
    # Given 40 additions and parts of at most 1 KB
    setup.fakes.changes = [
        {**change(0, "added", "acc_A", D1, "overdue_unpaid"), "change_id": f"blc_{i:03d}", "record_id": f"blr_{i:03d}"}
        for i in range(40)
    ]
    result = setup.window(D1, part_bytes=1024)
    files = setup.files(D1)
    jsonl = sorted(n for n in files if n.endswith(".jsonl"))
    csvs = sorted(n for n in files if n.endswith(".csv"))
    # Then every part stays within the bound, every CSV part has its BOM and header, and no row is lost
    assert len(jsonl) > 3 and len(csvs) > 3
    assert all(len(files[n]) <= 1024 for n in jsonl + csvs)
    assert all(files[n].startswith(x.BOM + x.CSV_HEADER) for n in csvs)
    assert sum(len(files[n].splitlines()) for n in jsonl) == result.counts["added"] == 40
    assert sum(len(files[n].splitlines()) - 1 for n in csvs) == 40
    assert b"".join(files[n] for n in jsonl).count(b"\n") == 40
    assert export.verify(setup.objects).ok


def test_the_schedule_catches_up_closed_days_in_order(setup: Setup) -> None:
    ctx = setup.ctx()
    # The first run delivers the last closed day only: nothing from before the city enabled export
    assert export.due_windows(ctx) == [D1]
    export.run(ctx, setup.objects, setup.signer, setup.fakes.sources())
    # After an outage of two more days the next run delivers both, oldest first
    setup.clock.advance(days=2)
    result = export.run(setup.ctx(), setup.objects, setup.signer, setup.fakes.sources())
    assert [w["window_from"] for w in result["windows"]] == ["2026-11-24", "2026-11-25"]
    assert export.run(setup.ctx(), setup.objects, setup.signer, setup.fakes.sources())["exported"] == 0
    assert export.verify(setup.objects).ok


def test_a_window_after_a_gap_is_refused(setup: Setup) -> None:
    setup.window(D1)
    with pytest.raises(export.ExportChainBroken, match="in order"):
        setup.window(D3)


def test_the_platform_lists_reads_downloads_and_acknowledges(setup: Setup) -> None:
    setup.window(D1)
    setup.window(D2)
    ctx, platform = setup.ctx(), setup.platform
    listed = export.list_exports(ctx, platform, PageQuery(limit=1))
    assert [i["export_id"] for i in listed["items"]] == ["exp_20261124"] and listed["has_more"]
    nxt = export.list_exports(ctx, platform, PageQuery(limit=1, cursor=listed["cursor"]))
    assert [i["export_id"] for i in nxt["items"]] == ["exp_20261123"]
    detail = export.get_export(ctx, platform, "exp_20261123")
    names = [f["name"] for f in detail["files"]]
    assert names[-1] == x.MANIFEST and x.SIGNATURE in names and "delta-00001.csv" in names
    # A download is the stored file, with its SHA-256 in a header
    got = export.download(ctx, platform, setup.objects, "exp_20261123", "delta-00001.csv")
    assert got.text.encode() == setup.files(D1)["delta-00001.csv"]
    assert got.headers["X-Content-SHA256"] == x.sha256_hex(setup.files(D1)["delta-00001.csv"])
    with pytest.raises(ExportNotFound):
        export.download(ctx, platform, setup.objects, "exp_20261123", "delta-00009.csv")
    with pytest.raises(ExportNotFound):
        export.get_export(ctx, platform, "exp_20261130")
    # The acknowledgement names the manifest the platform checked; another hash is refused
    sha = detail["manifest_sha256"]
    with pytest.raises(ExportManifestMismatch):
        export.acknowledge(ctx, platform, "exp_20261123", ack("0" * 64))
    done = export.acknowledge(ctx, platform, "exp_20261123", ack(sha, "入库 12 条"))
    assert (done.body["status"], done.replayed) == ("acknowledged", False)
    again = export.acknowledge(setup.ctx(), platform, "exp_20261123", ack(sha))
    assert again.replayed and again.body["acknowledged_at"] == done.body["acknowledged_at"]
    events = setup.store.query(AUDIT, "export#exp_20261123").items
    assert [e["action"] for e in events].count("export.acknowledged") == 1
    acked = next(e for e in events if e["action"] == "export.acknowledged")
    assert (acked["actor_kind"], acked["details"]["manifest_sha256"]) == ("credit_platform", sha)


@pytest.mark.parametrize("kind", ["hospital", "channel", "operator"])
def test_no_other_caller_kind_reaches_the_exports(setup: Setup, kind: str) -> None:
    setup.window(D1)
    other = Caller("key_x", kind, "someone", SCOPES[kind])
    ctx = setup.ctx()
    for call in (
        lambda: export.list_exports(ctx, other, PageQuery()),
        lambda: export.get_export(ctx, other, "exp_20261123"),
        lambda: export.download(ctx, other, setup.objects, "exp_20261123", "delta-00001.csv"),
        lambda: export.acknowledge(ctx, other, "exp_20261123", ack("0" * 64)),
    ):
        with pytest.raises(Forbidden):
            call()


def test_the_real_change_log_feeds_the_export_in_its_order(setup: Setup) -> None:
    # Given two records listed through the blacklist's own record and change-log writers (publication at listing)
    from treatfirst.services import blacklist

    setup.clock.current = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)  # 04:00 on the 23rd in the city: D1 is open
    ctx = setup.ctx()
    notice = [{"message_id": "msg_1", "sent_at": "2026-11-20T02:00:00.000Z"}]
    bills = [{"bill_id": "bil_1", "amount_fen": 35000, "due_at": "2026-08-01T23:59:59+08:00"}]
    for account in ("acc_A", "acc_C"):
        record = blacklist.record_item(
            ctx,
            account_id=account,
            cause={"source": "ladder", "step": "report", "anchor": "2026-08-01", "days_overdue": 90},
            bills=bills,
            notice=notice,
            strike_bills=[],
            on=D1,
        )
        ctx.commit([Put(BLACKLIST, record), blacklist.change_put(ctx, record, "added", record["reason"], 0)])
        setup.clock.advance(minutes=1)
    # When the day is exported with the real change log (consent and identity still the fakes)
    setup.clock.current = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    fakes = setup.fakes.sources()
    sources = export.Sources(on_record=fakes.on_record, identity_of=fakes.identity_of)
    result = export.export_window(setup.ctx(), setup.objects, setup.signer, D1, sources)
    # Then both additions are delivered in the change log's order, with its fields
    lines = [json.loads(line) for line in setup.files(D1)["delta-00001.jsonl"].splitlines()]
    assert result.counts == {"added": 2, "removed": 0}
    assert [line["name"] for line in lines] == ["张三", "王五"]
    assert {line["reason"] for line in lines} == {"overdue_unpaid"} and lines[0]["business_date"] == "2026-11-23"
    assert lines[0]["legal_basis"] == setup.policy.blacklist.legal_basis.text  # type: ignore[union-attr]


def test_the_verify_command_checks_a_folder_and_exits_2_on_a_broken_chain(
    setup: Setup, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from treatfirst import cli
    from treatfirst.adapters.objects import FolderObjects

    # Given three days delivered to a folder laid out as the bucket
    setup.objects = FolderObjects(tmp_path)  # type: ignore[assignment]
    for day in (D1, D2, D3):
        setup.window(day)
    pin = setup.signer.signing().key_sha256
    # When the operator verifies it, pinning the key: every delivery checks out
    assert cli.main(["export", "verify", "--dir", str(tmp_path), "--pin", pin]) == 0
    assert json.loads(capsys.readouterr().out)["checked"] == ["exp_20261123", "exp_20261124", "exp_20261125"]
    # And when a day's manifest is gone, the command fails (status 2) and names the broken link
    (tmp_path / x.folder(D2) / x.MANIFEST).unlink()
    assert cli.main(["export", "verify", "--dir", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert json.loads(out)["ok"] is False and "2026-11-24" in err and len(err.strip().splitlines()) == 1
