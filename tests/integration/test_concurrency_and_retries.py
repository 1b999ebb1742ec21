"""On DynamoDB Local: concurrent posts never exceed the limit; retries after a lost response charge once."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from treatfirst.domain import ledger
from treatfirst.domain.errors import ConcurrentUpdate, IdempotencyKeyReused, TreatFirstError
from treatfirst.messages.common import Empty
from treatfirst.messages.visits import ChargeRequest
from treatfirst.services import charges, closing
from treatfirst.services.ports import CHARGES, LEDGER

from tests.factories import charge, command
from tests.integration.conftest import Platform, line_of


def every_item(platform: Platform, table: str, hash_value: str) -> list[dict[str, Any]]:
    """All items under one hash key, page by page."""
    found: list[dict[str, Any]] = []
    start = None
    while True:
        page = platform.store.query(table, hash_value, limit=100, start=start)
        found += page.items
        if page.cursor is None:
            return found
        start = page.cursor


def ledger_entries(platform: Platform, account_id: str) -> list[dict[str, Any]]:
    return every_item(platform, LEDGER, account_id)


def all_charges(platform: Platform, visit_id: str) -> list[dict[str, Any]]:
    return every_item(platform, CHARGES, visit_id)


def test_twenty_threads_posting_200_charges_never_exceed_the_limit(platform: Platform) -> None:
    # Given one credit line and 200 charges whose self-pay adds up to well over its limit
    account_id, visit_id, limit = platform.enrolled_visit()
    rng = random.Random(20261124)
    bodies = [charge(rng.randint(1, 2 * limit // 200 * 3)) for _ in range(200)]
    assert sum(b["self_pay_fen"] for b in bodies) > limit
    accepted: list[int] = []
    refused: list[str] = []
    lock = threading.Lock()

    def post(body: dict[str, Any]) -> None:
        key = f"post-{body['fee_line_id']}"
        for _ in range(20):  # a CONCURRENT_UPDATE (busy line) is retried with the same key
            try:
                result = charges.post_charge(
                    platform.ctx(), platform.hospital, visit_id, command(ChargeRequest, body), key
                )
            except ConcurrentUpdate:
                continue
            except TreatFirstError as error:
                with lock:
                    refused.append(error.code)
                return
            with lock:
                accepted.append(result.body["self_pay_fen"])
            return
        raise AssertionError("a post stayed busy through 20 attempts")

    # When 20 threads post them at once
    with ThreadPoolExecutor(max_workers=20) as pool:
        list(pool.map(post, bodies))

    # Then every charge was either accepted or refused for lack of credit, and the limit held
    line = line_of(platform, account_id)
    assert len(accepted) + len(refused) == 200
    assert set(refused) <= {"CREDIT_LIMIT_EXCEEDED"} and refused
    assert line["held_fen"] == sum(accepted) <= limit
    assert ledger.invariant_violations(line) == []
    assert ledger.recompute(ledger_entries(platform, account_id)) == line
    stored = all_charges(platform, visit_id)
    assert len(stored) == len(accepted)
    assert sum(c["self_pay_fen"] for c in stored) == line["held_fen"]


class LostResponse(Exception):
    """The request reached DynamoDB and committed, but the caller never saw the answer."""


@pytest.mark.parametrize("with_key", [True, False], ids=["idempotency-key", "fee-line-id"])
def test_every_post_retried_after_a_lost_response_charges_once(platform: Platform, with_key: bool) -> None:
    # Given a post whose TransactWriteItems commits and then loses its response, for each of 20 charges
    account_id, visit_id, _ = platform.enrolled_visit()
    events = platform.store.client.meta.events
    armed = {"lose": False}

    def lose_response(**_: Any) -> None:
        if armed["lose"]:
            armed["lose"] = False
            raise LostResponse()

    events.register("after-call.dynamodb.TransactWriteItems", lose_response)
    bodies = [charge(100 + i) for i in range(20)]
    try:
        for body in bodies:
            key = f"k-{body['fee_line_id']}" if with_key else None
            armed["lose"] = True
            with pytest.raises(LostResponse):
                charges.post_charge(platform.ctx(), platform.hospital, visit_id, command(ChargeRequest, body), key)
            # When the HIS retries the same post
            retried = charges.post_charge(
                platform.ctx(), platform.hospital, visit_id, command(ChargeRequest, body), key
            )
            # Then it gets the first result back
            assert retried.replayed and retried.body["fee_line_id"] == body["fee_line_id"]
    finally:
        events.unregister("after-call.dynamodb.TransactWriteItems", lose_response)

    # And each charge was held exactly once
    line = line_of(platform, account_id)
    assert line["held_fen"] == sum(b["self_pay_fen"] for b in bodies)
    assert len(all_charges(platform, visit_id)) == 20
    holds = [e for e in ledger_entries(platform, account_id) if e["kind"] == "hold"]
    assert len(holds) == 20
    assert ledger.recompute(ledger_entries(platform, account_id)) == line


def test_same_key_different_body_is_refused_and_changes_nothing(platform: Platform) -> None:
    account_id, visit_id, _ = platform.enrolled_visit()
    body = charge(500)
    charges.post_charge(platform.ctx(), platform.hospital, visit_id, command(ChargeRequest, body), "same-key")
    before = line_of(platform, account_id)
    with pytest.raises(IdempotencyKeyReused):
        charges.post_charge(
            platform.ctx(), platform.hospital, visit_id, command(ChargeRequest, charge(501)), "same-key"
        )
    assert line_of(platform, account_id) == before
    assert len(all_charges(platform, visit_id)) == 1


def test_close_racing_posts_never_loses_a_hold(platform: Platform) -> None:
    # Given posts racing a close of the same visit
    account_id, visit_id, _ = platform.enrolled_visit()
    bodies = [charge(10) for _ in range(30)]
    outcomes: list[str] = []

    def post(body: dict[str, Any]) -> None:
        try:
            charges.post_charge(platform.ctx(), platform.hospital, visit_id, command(ChargeRequest, body), None)
            outcomes.append("posted")
        except TreatFirstError as error:
            outcomes.append(error.code)

    def close() -> None:
        for _ in range(50):
            try:
                closing.close_visit(platform.ctx(), platform.hospital, visit_id, Empty(), None)
                return
            except ConcurrentUpdate:
                continue

    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(post, b) for b in bodies[:15]] + [pool.submit(close)]
        futures += [pool.submit(post, b) for b in bodies[15:]]
        for future in futures:
            future.result()

    # Then the bill holds exactly what was posted before the close, and nothing is left held
    line = line_of(platform, account_id)
    posted = outcomes.count("posted")
    assert set(outcomes) <= {"posted", "VISIT_CLOSED", "CONCURRENT_UPDATE"}
    assert line["held_fen"] == 0 and line["owed_fen"] == 10 * posted
    assert ledger.recompute(ledger_entries(platform, account_id)) == line
