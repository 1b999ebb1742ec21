"""TreatFirst's Chalice app: the /v1 HTTP API and the scheduled functions. Glue only."""

from typing import Any

from chalice.app import Chalice, Rate, SQSEvent
from chalicelib import gateway
from chalicelib.events import (
    deliver_webhooks,
    dispatch_messages,
    export_blacklist,
    purge_identities,
    run_clearing,
    start_collection,
    sweep_shards,
)
from chalicelib.routes import api

app = Chalice(app_name="treatfirst", configure_logs=False)  # chalicelib.logs owns logging
app.experimental_feature_flags.update(["BLUEPRINTS"])
app.register_blueprint(api)
gateway.install(app)  # every answer in the one error shape: 404/405 and no 415 for a bodiless request


@app.schedule(Rate(1, unit=Rate.HOURS), name="collect")
def collect(event: object) -> dict[str, Any]:
    """Hourly: the collection sweep of every business date closed since the last run (one queue message per shard
    on AWS; in process locally). Reads the sparse, sharded by_next_step index: never a scan."""
    return start_collection()


# The queue is the stack's own (infra/functions.yaml CollectShard.queue; tools/package.py points the event source at
# it); the name here is only what `chalice package` needs to generate the event source.
@app.on_sqs_message(queue="treatfirst-collection", batch_size=1, name="collect_shard")
def collect_shard(event: SQSEvent) -> dict[str, Any]:
    """One shard of the sweep, through the business date its message names."""
    return sweep_shards([record.body for record in event])


@app.schedule(Rate(5, unit=Rate.MINUTES), name="dispatch_outbox")
def dispatch_outbox(event: object) -> dict[str, Any]:
    """Every 5 minutes: the day's patient statements (from 09:00 city time, where the policy sends them), then every
    pending SMS row of the outbox to the city's SMS gateway (at least once, stable id)."""
    return dispatch_messages()


@app.schedule(Rate(1, unit=Rate.HOURS), name="export_blacklist")
def export_blacklist_schedule(event: object) -> dict[str, Any]:
    """Hourly: the blacklist export delivers each closed business day once, in order, to the exports bucket (signed
    manifest last); where the city policy does not allow export it writes nothing."""
    return export_blacklist()


@app.schedule(Rate(1, unit=Rate.DAYS), name="purge_identities")
def purge(event: object) -> dict[str, Any]:
    """Daily: erase (crypto-shred) the identities of people who left, once the policy's retention has ended; then
    delete their records whose retention (treatfirst.inventory) has ended."""
    return purge_identities()


@app.schedule(Rate(1, unit=Rate.MINUTES), name="dispatch_webhooks")
def dispatch_webhooks(event: object) -> dict[str, int]:
    """Every minute: events go to the hospitals' and channels' webhook endpoints, signed (Standard Webhooks), at
    least once with a stable webhook-id, retried on the specification's schedule; 410 Gone disables an endpoint."""
    return deliver_webhooks()


@app.schedule(Rate(1, unit=Rate.HOURS), name="clear")
def clear(event: object) -> dict[str, Any]:
    """Hourly: the daily clearing of every business date whose cut-off passed since the last cleared one (files per
    party in the exports bucket, clearing.ready events). Reads the sparse, sharded per-day ledger index: no scan."""
    return run_clearing()
