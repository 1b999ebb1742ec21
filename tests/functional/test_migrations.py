"""The one-off collection-state migration on DynamoDB (moto): accounts enrolled before the ladder get their unpaid
map back from their bills and join the sweep; a rerun changes nothing; the command line runs it."""

from __future__ import annotations

import json
from typing import Any

from treatfirst.services import migrations
from treatfirst.services.ports import ACCOUNTS, AUDIT, Update
from treatfirst.services.unit_of_work import Context

from tests.factories import charge
from tests.functional.conftest import Api, Key


def body(response: Any) -> Any:
    return json.loads(response.body)


def _bill(api: Api, hospital: Key, account_id: str, fen: int) -> str:
    visit = body(api.post(hospital, "/v1/visits", {"account_id": account_id}))["visit_id"]
    assert api.post(hospital, f"/v1/visits/{visit}/charges", charge(fen)).status_code == 201
    return str(body(api.post(hospital, f"/v1/visits/{visit}/close"))["bill"]["bill_id"])


def test_accounts_from_before_the_ladder_get_their_unpaid_map_back(
    api: Api, platform: Any, hospital: Key, channel: Key, enrolled: dict[str, Any]
) -> None:
    # Given an account with two bills, one of them paid, as the platform keeps it today
    account = enrolled["account_id"]
    paid, unpaid = _bill(api, hospital, account, 700), _bill(api, hospital, account, 1200)
    pay = {
        "channel_txn_id": "wx-mig-1",
        "amount_fen": 700,
        "paid_at": "2026-11-24T10:00:00+08:00",
        "allocations": [{"bill_id": paid, "amount_fen": 700}],
    }
    assert api.post(channel, "/v1/payments", pay).status_code == 201
    today = platform.store.get(ACCOUNTS, {"account_id": account})
    assert set(today["unpaid"]) == {unpaid}
    # and the same account stripped of its collection state, as an account enrolled before the ladder is
    gone = {"unpaid": None, "collect_shard": None, "next_step_at": None}
    platform.store.commit([Update(ACCOUNTS, {"account_id": account}, set=gone)])
    ctx = Context(store=platform.store, cipher=platform.cipher, clock=platform.clock, policy=platform.policy)

    # When the migration runs
    result = migrations.collection_state(ctx, platform.store, page_size=2)

    # Then the unpaid map is what the platform keeps today, and the account is on the next sweep date
    after = platform.store.get(ACCOUNTS, {"account_id": account})
    assert after["unpaid"] == today["unpaid"]
    assert (after["collect_shard"], after["next_step_at"]) == (today["collect_shard"], today["next_step_at"])
    assert (result.migrated, result.already, result.failed) == (1, 0, [])
    events = platform.store.query(AUDIT, f"account#{account}", limit=50).items
    assert [e["details"]["bills"] for e in events if e["action"] == "migration.collection_state"] == [[unpaid]]
    # And a rerun changes nothing
    again = migrations.collection_state(ctx, platform.store)
    assert (again.migrated, again.already) == (0, 1)
    assert platform.store.get(ACCOUNTS, {"account_id": account}) == after
