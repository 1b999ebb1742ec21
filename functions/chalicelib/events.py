"""Scheduled and queued event glue."""

from __future__ import annotations

import logging

from treatfirst.config import runtime
from treatfirst.domain.ids import new_id
from treatfirst.services.dispatch import dispatch
from treatfirst.services.overdue import mark_overdue
from treatfirst.services.schedule import publisher
from treatfirst.services.unit_of_work import Context

from chalicelib.logs import log


def mark_overdue_bills() -> dict[str, int]:
    rt = runtime()
    ctx = Context(store=rt.store, cipher=rt.cipher, clock=rt.clock, policy=rt.policy, request_id=new_id("job"))
    result = mark_overdue(ctx).as_dict()
    log(logging.INFO, "mark_overdue", request_id=ctx.request_id, **result)
    return result


def dispatch_messages() -> dict[str, int]:
    rt = runtime()
    ctx = Context(store=rt.store, cipher=rt.cipher, clock=rt.clock, policy=rt.policy, request_id=new_id("job"))
    result = dispatch(ctx, publisher())
    log(logging.INFO, "dispatch_outbox", request_id=ctx.request_id, errors=result.errors, **result.as_dict())
    return result.as_dict()
