"""TreatFirst's Chalice app: the /v1 HTTP API and the scheduled functions. Glue only."""

from chalice.app import Chalice, Rate
from chalicelib import gateway
from chalicelib.events import dispatch_messages, mark_overdue_bills
from chalicelib.routes import api

app = Chalice(app_name="treatfirst", configure_logs=False)  # chalicelib.logs owns logging
app.experimental_feature_flags.update(["BLUEPRINTS"])
app.register_blueprint(api)
gateway.install(app)  # every answer in the one error shape: 404/405 and no 415 for a bodiless request


@app.schedule(Rate(1, unit=Rate.HOURS), name="mark_overdue")
def mark_overdue(event: object) -> dict[str, int]:
    """Hourly: bills past due move from issued to overdue (sparse, sharded due index; never a scan)."""
    return mark_overdue_bills()


@app.schedule(Rate(5, unit=Rate.MINUTES), name="dispatch_outbox")
def dispatch_outbox(event: object) -> dict[str, int]:
    """Every 5 minutes: pending SMS rows of the outbox go to the city's SMS gateway (at least once, stable id)."""
    return dispatch_messages()
