"""Scheduled and queued event glue. Each job imports its services when it runs: the API function imports this
module too (app.py), and need not load the sweep, the dispatcher or the webhooks at its cold start."""

from __future__ import annotations

import json
import logging
import os
from datetime import date
from typing import Any

from treatfirst.config import runtime
from treatfirst.domain.ids import new_id
from treatfirst.services.unit_of_work import Context

from chalicelib.logs import log

QUEUE_URL = "TF_COLLECTION_QUEUE_URL"  # set on AWS: the schedule fans out over this queue


def _context() -> Context:
    rt = runtime()
    return Context(store=rt.store, cipher=rt.cipher, clock=rt.clock, policy=rt.policy, request_id=new_id("job"))


def start_collection() -> dict[str, Any]:
    """The hourly schedule. On AWS: one queue message per shard (each consumer sweeps its shard, so a city of
    any size fits Lambda's limits). Locally (no queue): the same sweep, every shard, in this process."""
    from treatfirst.services import collection, reports

    ctx = _context()
    url = os.environ.get(QUEUE_URL)
    if url:
        from treatfirst.adapters.queue import SqsQueue

        messages = collection.fan_out_messages(ctx)
        SqsQueue(url).send_all(messages)
        result: dict[str, Any] = {"queued": len(messages), "through": messages[0]["through"] if messages else None}
    else:
        result = {**collection.sweep(ctx).as_dict(), "reports": reports.roll_up(ctx)}
    log(logging.INFO, "collection.start", request_id=ctx.request_id, **result)
    return result


def sweep_shards(bodies: list[str]) -> dict[str, Any]:
    """The queue consumer: sweep each shard named through its date (a message delivered twice changes nothing)."""
    from treatfirst.services import collection, reports

    ctx = _context()
    total = collection.SweepResult()
    for body in bodies:
        message = json.loads(body)
        total.add(collection.sweep_shard(ctx, str(message["shard"]), date.fromisoformat(message["through"])))
    result: dict[str, Any] = total.as_dict()
    if any(json.loads(body)["shard"] == "0" for body in bodies):  # one consumer a run records the report closings
        result["reports"] = reports.roll_up(ctx)
    log(logging.INFO, "collection.shards", request_id=ctx.request_id, shards=len(bodies), **result)
    return result


def dispatch_messages() -> dict[str, Any]:
    from treatfirst.services.dispatch import dispatch
    from treatfirst.services.schedule import publisher
    from treatfirst.services.statements import send_statements

    ctx = _context()
    statements = send_statements(ctx).as_dict()  # 信用日账: written from 09:00 city time, then dispatched below
    result = dispatch(ctx, publisher())
    log(
        logging.INFO,
        "dispatch_outbox",
        request_id=ctx.request_id,
        errors=result.errors,
        statements=statements,
        **result.as_dict(),
    )
    return {**result.as_dict(), "statements": statements}


def export_blacklist() -> dict[str, Any]:
    """The blacklist export: every closed business day not delivered yet (nothing where the policy does not allow
    export). Logs counts only: no identifier, no name."""
    from treatfirst.services import export

    rt = runtime()
    ctx = _context()
    result = export.run(ctx, rt.objects, rt.signer) if export.why_not(ctx.policy) is None else export.run_nothing(ctx)
    log(logging.INFO, "export.blacklist", request_id=ctx.request_id, **export.log_fields(result))
    return result


def purge_identities() -> dict[str, Any]:
    """The daily erasure of identities whose retention after leaving has ended, then the deletion of records whose
    retention has ended (treatfirst.services.purge)."""
    from treatfirst.services.purge import purge_daily

    ctx = _context()
    result = purge_daily(ctx)
    log(logging.INFO, "purge_identities", request_id=ctx.request_id, **result)
    return result


def deliver_webhooks() -> dict[str, int]:
    from treatfirst.services import webhooks

    ctx = _context()
    result = webhooks.dispatch_events(ctx)
    log(logging.INFO, "dispatch_webhooks", request_id=ctx.request_id, errors=result.errors, **result.as_dict())
    return result.as_dict()


def run_clearing() -> dict[str, Any]:
    """The hourly clearing: every business date closed since the clearing watermark, files in the exports bucket."""
    from treatfirst.services import clearing

    ctx = _context()
    result = clearing.run(ctx, runtime().objects).as_dict()
    log(logging.INFO, "clearing.run", request_id=ctx.request_id, **result)
    return result
