"""The collection example (site/examples/collection_ladder.py) runs over real HTTP with the test clock, for both
example cities: one unpaid bill is walked to every step of the city's ladder."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from treatfirst.client import TreatFirstClient
from treatfirst.domain.policy import example_policy
from treatfirst.services.callers import register
from treatfirst.services.pauses import aging_bucket
from treatfirst.services.unit_of_work import Context

from tests.docs import test_example
from tests.stacks import moto_platform

EXAMPLES = test_example.ROOT / "site" / "examples"


@pytest.fixture(params=["lianyungang", "xiamen"])
def served(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str, Any]]:
    monkeypatch.setenv("TF_TEST_CLOCK", "1")  # as `make serve` starts the local stack
    monkeypatch.syspath_prepend(str(EXAMPLES))
    with moto_platform(monkeypatch, test_example.PREFIX, request.param) as rt:
        ctx = Context(store=rt.store, cipher=rt.cipher, clock=rt.clock, policy=rt.policy)
        keys = {
            kind: register(ctx, None, kind=kind, principal_id=f"docs-{kind}", name=kind)
            for kind in ("hospital", "operator")
        }
        from app import app
        from chalice.test import Client

        with Client(app) as chalice:
            import threading
            from http.server import ThreadingHTTPServer

            front = type("Front", (test_example._Front,), {"chalice": chalice})
            server = ThreadingHTTPServer(("127.0.0.1", 0), front)
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
            thread.start()
            try:
                yield request.param, f"http://127.0.0.1:{server.server_address[1]}", keys
            finally:
                server.shutdown()
                server.server_close()
                thread.join()
    sys.modules.pop("treat_first", None)


def test_one_bill_is_walked_to_every_step_of_the_ladder(served: tuple[str, str, Any]) -> None:
    # Given the example, a hospital key and an operator key on a platform with the test clock
    city, url, keys = served
    spec = __import__("importlib.util").util.spec_from_file_location(
        "ladder_example", EXAMPLES / "collection_ladder.py"
    )
    example = __import__("importlib.util").util.module_from_spec(spec)
    spec.loader.exec_module(example)
    # (a clock advance of half a year runs every day's sweep in the request: a generous timeout)
    his = TreatFirstClient(url, key_id=keys["hospital"].key_id, secret=keys["hospital"].secret, timeout=120)
    operator = TreatFirstClient(url, key_id=keys["operator"].key_id, secret=keys["operator"].secret, timeout=120)

    # When it walks one unpaid bill along the ladder
    rows = example.walk(his, operator, run="1")

    # Then it reached every step of the city's ladder (least severe first), each at its day or later, with the
    # bill overdue and the aging band of its days
    policy = example_policy(city)
    assert [r["step"] for r in rows] == [s.name for s in reversed(policy.collection_ladder)]
    for row in rows:
        state = row["state"]
        assert row["bill_status"] in ("overdue", "written_off"), row
        if state["unpaid"]:
            assert state["days_overdue"] >= row["day_offset"], row
            assert [b["aging"] for b in state["unpaid"]] == [aging_bucket(state["days_overdue"])]

    # And at each step exactly the messages the policy declares were written, each once: the step's SMS (unless
    # the step is only a phone task), the operator's phone task, and the SMS reminder before the step
    seen: Counter[tuple[str, str | None]] = Counter()
    for row, step in zip(rows, reversed(policy.collection_ladder), strict=True):
        written = Counter((kind, name) for kind, name, _ in row["messages"])  # the account's messages, any order
        assert written >= seen, row  # nothing written before is gone
        new = written - seen
        expected = {("step", step.name)} if any(a != "phone_task" for a in step.actions) else set()
        if "phone_task" in step.actions:
            expected.add(("phone_task", step.name))
        if step.remind_days_before:
            expected.add(("step_reminder", step.name))
        assert expected <= set(new), (step.name, new)
        assert all(n == 1 for n in written.values()), written  # none twice
        seen = written
    texts = [text for row in rows[-1:] for kind, _, text in row["messages"] if kind != "phone_task"]
    assert texts and all(text and "元" in text for text in texts)  # SMS texts rendered, amounts in yuan
