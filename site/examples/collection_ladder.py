"""One unpaid bill walked along the city's collection ladder with the test clock (local stack only).

A hospital makes a bill, nobody pays it, and an operator moves the platform's clock forward to each step of the
ladder the city's policy declares (`GET /v1/policy`), printing what the platform shows at each one: days overdue,
the central bank's aging band, the step, the SMS and phone tasks written. Every request is signed by
`treatfirst.client.TreatFirstClient`.

Against the local platform (`make serve` starts it with the test clock and prints the demo keys):

    TF_URL=http://127.0.0.1:8000 \\
    TF_HOSPITAL_KEY_ID=key_... TF_HOSPITAL_SECRET=... \\
    TF_OPERATOR_KEY_ID=key_... TF_OPERATOR_SECRET=... \\
    .venv/bin/python site/examples/collection_ladder.py

tests/docs/test_collection_example.py runs it over HTTP for both example cities.
"""

from __future__ import annotations

import math
import os
from datetime import datetime, timedelta
from typing import Any

from treat_first import fee_line, find_or_enrol, ok, treat  # the journey example next to this file
from treatfirst.client import TreatFirstClient


# --8<-- [start:walk]
def walk(his: TreatFirstClient, operator: TreatFirstClient, run: str) -> list[dict[str, Any]]:
    """Make one bill, then move the clock to each ladder step (least severe first); returns what each shows."""
    account = find_or_enrol(
        his,
        {
            "name": "张三",
            "id_number": "11010519491231002X",
            "phone": "13800138000",
            "insurance_status": "normal",
            "verification": {"method": "face", "check_id": f"face-l{run}", "verified_at": "2026-11-24T08:00:00+08:00"},
        },
    )
    visit_no = f"HIS-L{run}"
    lines = [
        fee_line(visit_no, 1, "REG-001", "普通门诊挂号", 0, 1500),
        fee_line(visit_no, 2, "CT-001", "CT 检查", 0, 8500),
    ]
    bill = treat(his, account["account_id"], visit_no, lines)  # 100 yuan: above every step's minimum amount
    ladder = list(reversed(ok(his.get("/v1/policy"))["policy"]["collection_ladder"]))  # least severe first
    state_path = f"/v1/accounts/{account['account_id']}/collection"

    seen: list[dict[str, Any]] = []
    due = datetime.fromisoformat(bill["due_at"])
    for step in ladder:
        # move the platform's clock to a minute past the due time, `day_offset` days later (whole hours, rounded up)
        now = datetime.fromisoformat(ok(operator.get("/v1/test-clock"))["now"].replace("Z", "+00:00"))
        hours = max(1, math.ceil((due + timedelta(days=step["day_offset"], minutes=1) - now).total_seconds() / 3600))
        move = {"days": hours // 24, "hours": hours % 24, "reason": f"example: {step['name']}"}
        moved = ok(operator.post("/v1/test-clock/advance", move))
        state = ok(operator.get(state_path))
        messages = ok(operator.get(f"/v1/accounts/{account['account_id']}/messages"))["items"]
        seen.append(
            {
                "step": step["name"],
                "day_offset": step["day_offset"],
                "now": moved["now"],
                "bill_status": ok(operator.get(f"/v1/bills/{bill['bill_id']}"))["status"],
                "state": state,
                "messages": [(m["kind"], (m.get("params") or {}).get("step"), m.get("text")) for m in messages],
            }
        )
    return seen


# --8<-- [end:walk]


def main() -> None:
    url = os.environ.get("TF_URL", "http://127.0.0.1:8000")
    his = TreatFirstClient(url, key_id=os.environ["TF_HOSPITAL_KEY_ID"], secret=os.environ["TF_HOSPITAL_SECRET"])
    operator = TreatFirstClient(url, key_id=os.environ["TF_OPERATOR_KEY_ID"], secret=os.environ["TF_OPERATOR_SECRET"])
    clock = ok(operator.get("/v1/test-clock"))
    for row in walk(his, operator, run=str(clock["offset_seconds"])):
        state = row["state"]
        print(
            f"{row['now']} {row['step']} (day {row['day_offset']}): bill {row['bill_status']}, "
            f"{state['days_overdue']} days overdue, step {state['step']}, "
            f"aging {[b['aging'] for b in state['unpaid']]}, {len(row['messages'])} messages"
        )
        for kind, step, text in row["messages"]:
            print(f"    {kind} [{step or '-'}] {text or ''}")


if __name__ == "__main__":
    main()
