"""One patient's whole journey through TreatFirst, as a hospital HIS and a payment channel drive it.

Enrol (or find) the patient, open a visit, post its fee lines, close it into a bill, pay the bill, and print
the credit line after each step. Every request is signed by `treatfirst.client.TreatFirstClient`.

Against the local platform (`make serve` prints the demo hospital and channel keys each time it starts):

    TF_URL=http://127.0.0.1:8000 \\
    TF_HOSPITAL_KEY_ID=key_... TF_HOSPITAL_SECRET=... \\
    TF_CHANNEL_KEY_ID=key_... TF_CHANNEL_SECRET=... \\
    .venv/bin/python site/examples/treat_first.py

The docs site includes this file, and tests/docs/test_example.py runs it over HTTP for both example cities.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from treatfirst.client import ApiResponse, TreatFirstClient

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")


def ok(response: ApiResponse) -> Any:
    """The body of a successful answer; any error stops here with its code and request id."""
    if response.status >= 300:
        error = response.body["error"]
        raise RuntimeError(f"{response.status} {error['code']}: {error['message']} (request {error['request_id']})")
    return response.body


# --8<-- [start:consents]
def ask_each(texts: list[dict[str, Any]], answer: Callable[[dict[str, Any]], bool]) -> list[dict[str, str]]:
    """Show each text on its own screen and take the patient's own answer to it: never one box for all.

    `answer(text)` is the patient's choice for that one text (True: 本人已阅读并同意 was ticked). A required text
    refused ends the enrollment; an optional one refused (credit reporting) costs nothing and is left out. A
    notice (mode "notice", a statutory basis) is shown and acknowledged, not agreed to."""
    given = []
    for text in texts:
        accepted = answer(text)
        if not accepted and (text["required"] or text["mode"] == "notice"):
            raise RuntimeError(
                f"{text['title']}: the patient must accept it to enroll; they can still pay at the window"
            )
        if accepted:
            given.append({"kind": text["kind"], "version": text["version"], "text_sha256": text["text_sha256"]})
    return given


# --8<-- [end:consents]


def patient_choice(text: dict[str, Any]) -> bool:
    """This example's patient accepts what the service needs and declines the optional credit reporting."""
    return bool(text["required"] or text["mode"] == "notice")


# --8<-- [start:enrol]
def find_or_enrol(
    his: TreatFirstClient, patient: dict[str, Any], answer: Callable[[dict[str, Any]], bool] = patient_choice
) -> dict[str, Any]:
    """At registration: find the patient's account by ID number, or enrol them with the consents they accepted."""
    found = his.post("/v1/accounts/lookup", {"id_number": patient["id_number"]})
    if found.error_code != "ACCOUNT_NOT_FOUND":
        return dict(ok(found))
    # Each text is shown and answered on its own; the API checks each accepted SHA-256 is the text it serves.
    consents = ask_each(ok(his.get("/v1/consents"))["items"], answer)
    policy = ok(his.get("/v1/policy"))["policy"]
    if policy["eligibility"]["model"] == "score_banded":  # e.g. Xiamen: the limit follows the city credit score
        patient = {**patient, "credit_score": {"source": policy["eligibility"]["score_sources"][0], "value": 720}}
    body = {**patient, "consents": consents}
    return dict(ok(his.post("/v1/enrollments", body, idempotency_key=patient["verification"]["check_id"])))


# --8<-- [end:enrol]


# --8<-- [start:visit]
def treat(his: TreatFirstClient, account_id: str, his_visit_id: str, fee_lines: list[dict[str, Any]]) -> Any:
    """Open a visit, post each fee line as it happens, close the visit: the answer carries the bill."""
    visit = ok(
        his.post(
            "/v1/visits",
            {"account_id": account_id, "his_visit_id": his_visit_id},
            idempotency_key=f"{his_visit_id}-open",
        )
    )
    for line in fee_lines:
        # The HIS's own fee-line id is the idempotency key: a post retried after a time-out is charged once.
        ok(his.post(f"/v1/visits/{visit['visit_id']}/charges", line, idempotency_key=line["fee_line_id"]))
    return ok(his.post(f"/v1/visits/{visit['visit_id']}/close", idempotency_key=f"{his_visit_id}-close"))["bill"]


# --8<-- [end:visit]


# --8<-- [start:pay]
def pay(channel: TreatFirstClient, bill: dict[str, Any], channel_txn_id: str) -> Any:
    """The payment channel reports the patient's payment against the bill; the credit comes back at once."""
    payment = {
        "channel_txn_id": channel_txn_id,
        "amount_fen": bill["outstanding_fen"],
        "paid_at": datetime.now(CHINA).isoformat(timespec="seconds"),
        "allocations": [{"bill_id": bill["bill_id"], "amount_fen": bill["outstanding_fen"]}],
    }
    return ok(channel.post("/v1/payments", payment, idempotency_key=channel_txn_id))


# --8<-- [end:pay]


def fee_line(his_visit_id: str, n: int, item_code: str, item_name: str, insurance_fen: int, self_pay_fen: int) -> Any:
    return {
        "fee_line_id": f"{his_visit_id}-{n}",
        "item_code": item_code,
        "item_name": item_name,
        "occurred_at": datetime.now(CHINA).isoformat(timespec="seconds"),
        "total_fen": insurance_fen + self_pay_fen,
        "insurance_fen": insurance_fen,
        "personal_account_fen": 0,
        "self_pay_fen": self_pay_fen,
    }


def credit_line(channel: TreatFirstClient, account_id: str) -> dict[str, int]:
    """The patient's credit line, as their app (a channel key) sees it; a hospital key sees available_fen only."""
    return dict(ok(channel.get(f"/v1/accounts/{account_id}"))["credit_line"])


def journey(his: TreatFirstClient, channel: TreatFirstClient, run: str) -> list[tuple[str, dict[str, int]]]:
    """The whole journey; returns the credit line after each step."""
    steps: list[tuple[str, dict[str, int]]] = []
    account = find_or_enrol(
        his,
        {
            "name": "张三",
            "id_number": "11010519491231002X",
            "phone": "13800138000",
            "insurance_status": "normal",
            "verification": {"method": "face", "check_id": "face-0001", "verified_at": "2026-11-24T08:00:00+08:00"},
        },
    )
    steps.append(("enrolled", credit_line(channel, account["account_id"])))
    visit_no = f"HIS-{run}"
    bill = treat(
        his,
        account["account_id"],
        visit_no,
        [
            fee_line(visit_no, 1, "REG-001", "普通门诊挂号", 0, 1000),
            fee_line(visit_no, 2, "LAB-001", "血常规", 2500, 1000),
            fee_line(visit_no, 3, "DRUG-001", "阿莫西林胶囊", 1800, 1230),
        ],
    )
    steps.append(
        (
            f"bill {bill['bill_id']}, {bill['amount_fen']} fen, due {bill['due_at']}",
            credit_line(channel, account["account_id"]),
        )
    )
    pay(channel, bill, channel_txn_id=f"WX-{run}")
    steps.append(("paid", credit_line(channel, account["account_id"])))
    return steps


def main() -> None:
    url = os.environ.get("TF_URL", "http://127.0.0.1:8000")
    # --8<-- [start:client]
    # One client per key: it signs every request (X-TF-Key-Id, X-TF-Timestamp, X-TF-Nonce, X-TF-Signature).
    his = TreatFirstClient(url, key_id=os.environ["TF_HOSPITAL_KEY_ID"], secret=os.environ["TF_HOSPITAL_SECRET"])
    channel = TreatFirstClient(url, key_id=os.environ["TF_CHANNEL_KEY_ID"], secret=os.environ["TF_CHANNEL_SECRET"])
    print(his.get("/v1/health").body)  # public: {"status": "ok", "policy_version": ..., "policy_sha256": ...}
    # --8<-- [end:client]
    for step, credit in journey(his, channel, run=datetime.now(CHINA).strftime("%Y%m%d%H%M%S")):
        print(f"{step}: " + ", ".join(f"{k} {v}" for k, v in credit.items()))


if __name__ == "__main__":
    main()
