"""The example the docs include (site/examples/treat_first.py) runs, over real HTTP, for both example cities.

The app is served in a thread by a small HTTP front that hands each request to Chalice's local gateway (what
`chalice local` does), on moto's in-process DynamoDB with the tables from infra/. The example's own client,
`treatfirst.client.TreatFirstClient`, signs and sends every request through urllib.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from chalice.test import Client
from treatfirst.client import TreatFirstClient
from treatfirst.services.callers import register
from treatfirst.services.context import Context

from tests.stacks import moto_platform

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "site" / "examples" / "treat_first.py"
PREFIX = "tf-docs-"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("treat_first_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Front(BaseHTTPRequestHandler):
    """Hands the raw request to Chalice's local gateway and writes its answer back."""

    chalice: Client

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        answer = self.chalice.http.request(self.command, self.path, headers=dict(self.headers.items()), body=body)
        self.send_response(answer.status_code)
        for name, value in answer.headers.items():
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    do_GET = do_POST = _forward

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(params=["lianyungang", "xiamen"])
def served(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Any]]:
    with moto_platform(monkeypatch, PREFIX, request.param) as rt:
        ctx = Context(store=rt.store, cipher=rt.cipher, clock=rt.clock, policy=rt.policy)
        keys = {
            kind: register(ctx, None, kind=kind, principal_id=f"docs-{kind}", name=kind)
            for kind in ("hospital", "channel")
        }
        from app import app

        with Client(app) as chalice:
            front = type("Front", (_Front,), {"chalice": chalice})
            server = ThreadingHTTPServer(("127.0.0.1", 0), front)
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
            thread.start()
            try:
                yield f"http://127.0.0.1:{server.server_address[1]}", keys
            finally:
                server.shutdown()
                server.server_close()
                thread.join()


def test_the_documented_journey_runs_and_moves_the_credit_line(served: tuple[str, Any]) -> None:
    # Given the example, a hospital key and a channel key on a running platform
    url, keys = served
    example = load_example()
    his = TreatFirstClient(url, key_id=keys["hospital"].key_id, secret=keys["hospital"].secret)
    channel = TreatFirstClient(url, key_id=keys["channel"].key_id, secret=keys["channel"].secret)

    # When the example runs its journey twice (the second run finds the patient instead of enrolling again)
    first = example.journey(his, channel, run="1")
    second = example.journey(his, channel, run="2")

    # Then the self-pay of the visit moved available -> owed at the close and back at the payment
    for steps in (first, second):
        (_, enrolled), (_, billed), (_, paid) = steps
        limit = enrolled["limit_fen"]
        assert enrolled["available_fen"] == limit and enrolled["owed_fen"] == 0
        assert billed["owed_fen"] == 1000 + 1000 + 1230 and billed["held_fen"] == 0
        assert billed["available_fen"] == limit - billed["owed_fen"]
        assert paid == enrolled
    assert first[0][1]["limit_fen"] > 0
