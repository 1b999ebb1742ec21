"""The scheduled functions, by name, in the order the test clock runs them after moving time.

Each takes a Context (its own request id) and returns a small JSON-able summary. functions/app.py schedules
them on AWS (via chalicelib/events.py); the test clock route and `treatfirst-admin clock advance` run them in turn.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from treatfirst.services.dispatch import dispatch
from treatfirst.services.ports import Publisher
from treatfirst.services.unit_of_work import Context


def publisher() -> Publisher:
    """The SNS topic the city's SMS gateway subscribes to (TF_REMINDERS_TOPIC_ARN), or locally a list."""
    from treatfirst.adapters.sns import LocalPublisher, SnsPublisher

    topic = os.environ.get("TF_REMINDERS_TOPIC_ARN")
    return SnsPublisher(topic) if topic else LocalPublisher()


def _dispatch(ctx: Context) -> Mapping[str, Any]:
    """The day's statements (信用日账, where the policy sends them; from 09:00 city time), then every pending SMS."""
    from treatfirst.services.statements import send_statements

    statements = send_statements(ctx).as_dict()
    return {**dispatch(ctx, publisher()).as_dict(), "statements": statements}


def _collect(ctx: Context) -> Mapping[str, Any]:
    """The collection sweep in process, every shard, every business date closed since its watermark."""
    from treatfirst.services import reports
    from treatfirst.services.collection import sweep

    return {**sweep(ctx).as_dict(), "reports": reports.roll_up(ctx)}


def _export(ctx: Context) -> Mapping[str, Any]:
    """The blacklist export of every closed day not delivered yet (nothing where the policy does not allow it)."""
    from treatfirst.config import runtime
    from treatfirst.services import export

    if export.why_not(ctx.policy):
        return export.run_nothing(ctx)
    rt = runtime()
    return export.log_fields(export.run(ctx, rt.objects, rt.signer))


def _purge(ctx: Context) -> Mapping[str, Any]:
    """Erase the identities whose retention after leaving has ended, then delete the records whose retention has
    ended (sparse indexes: no scan)."""
    from treatfirst.services.purge import purge_daily

    return purge_daily(ctx)


def _webhooks(ctx: Context) -> Mapping[str, Any]:
    """Events to the webhook endpoints (locally: http to loopback allowed where TF_WEBHOOK_LOOPBACK=1)."""
    from treatfirst.services.webhooks import dispatch_events

    return dispatch_events(ctx).as_dict()


def _clear(ctx: Context) -> Mapping[str, Any]:
    """The daily clearing of every business date closed since its watermark, files in the exports folder/bucket.
    Where no place for files is configured (a test clock without TF_EXPORTS_DIR) it says so and clears nothing."""
    from treatfirst.config import Settings, SettingsError, make_objects
    from treatfirst.services.clearing import run

    try:
        objects = make_objects(Settings.from_env())  # the settings only: this job also runs in the admin command
    except SettingsError as missing:
        return {"skipped": str(missing)}
    return run(ctx, objects).as_dict()


JOBS: dict[str, Callable[[Context], Mapping[str, Any]]] = {
    "collect": _collect,
    "export_blacklist": _export,
    "purge_identities": _purge,
    "clear": _clear,  # after the sweep: its write-offs of a date are in that date's clearing
    "dispatch_outbox": _dispatch,  # after the jobs whose messages it delivers
    "dispatch_webhooks": _webhooks,  # last: it delivers the events the jobs before it wrote
}
