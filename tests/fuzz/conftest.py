"""Fuzzing tier: the app served over HTTP on 127.0.0.1 by Chalice's own local server (the code `chalice local`
runs), on DynamoDB Local (moto's server where Java is missing), with one key of each caller kind."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from chalice.config import Config
from chalice.local import ChaliceRequestHandler, LocalDevServer
from treatfirst.adapters.crypto import LocalCipher
from treatfirst.adapters.schema import create_tables
from treatfirst.config import Runtime, runtime
from treatfirst.services.callers import register
from treatfirst.services.unit_of_work import Context

from tools.ddblocal import DynamoDBLocal, environment

PREFIX = "tf-fuzz-"
CITY = "lianyungang"
KINDS = ("hospital", "channel", "operator")


@dataclass(frozen=True)
class Key:
    kind: str
    principal_id: str
    key_id: str
    secret: str


class ServerErrors(logging.Handler):
    """Keeps the app's "unhandled error" log lines (exception type and failing line), by request id."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.by_request: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        fields = getattr(record, "fields", {})
        if "request_id" in fields:
            self.by_request[fields["request_id"]] = f"{fields.get('exception')} at {fields.get('where')}"


class QuietHandler(ChaliceRequestHandler):
    """`chalice local`'s request handler without its line per request on stderr."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass(frozen=True)
class Served:
    base_url: str
    keys: dict[str, Key]
    runtime: Runtime
    errors: ServerErrors = field(default_factory=ServerErrors)
    engine: str = "dynamodb-local"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """DynamoDB Local with the tables, a city policy, a key per caller kind, the exports folder the local stack
    has (`make serve` sets TF_EXPORTS_DIR too), and the API on a free port."""
    with pytest.MonkeyPatch.context() as env, DynamoDBLocal() as engine, environment(engine.endpoint):
        for name, value in {
            "TF_TABLE_PREFIX": PREFIX,
            "TF_POLICY": CITY,
            "TF_KEY_MODE": "local",
            "TF_LOCAL_KEY": LocalCipher.new_key(),
            "TF_EXPORTS_DIR": str(tmp_path_factory.mktemp("exports")),
        }.items():
            env.setenv(name, value)
        env.delenv("TF_LOCAL_KEY_FILE", raising=False)
        runtime.cache_clear()
        create_tables(boto3.client("dynamodb"), PREFIX)
        rt = runtime()
        ctx = Context(store=rt.store, cipher=rt.cipher, clock=rt.clock, policy=rt.policy)
        keys = {}
        for kind in KINDS:
            made = register(ctx, None, kind=kind, principal_id=f"fuzz-{kind}", name=f"fuzz {kind}")
            keys[kind] = Key(kind, made.principal_id, made.key_id, made.secret)

        from app import app
        from chalicelib.logs import logger

        errors = ServerErrors()
        app_log = logger()
        app_log.addHandler(errors)
        level = app_log.level
        app_log.setLevel(logging.WARNING)  # thousands of request lines would drown a failure's report

        # LocalDevServer is what `chalice local` runs; an empty Config adds no environment of its own.
        server = LocalDevServer(app, Config(), "127.0.0.1", 0, handler_cls=QuietHandler)
        thread = threading.Thread(target=server.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        try:
            yield Served(f"http://127.0.0.1:{server.server.server_address[1]}", keys, rt, errors, engine.engine)
        finally:
            app_log.removeHandler(errors)
            app_log.setLevel(level)
            server.shutdown()
            server.server.server_close()
            thread.join()
            runtime.cache_clear()
