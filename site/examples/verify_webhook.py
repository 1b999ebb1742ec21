"""Receiving TreatFirst webhooks in Python: verify, de-duplicate, then act (the receiver side, for a HIS).

Verification uses the Standard Webhooks reference library (pip install standardwebhooks): it checks the
signature over the RAW body bytes and refuses a timestamp more than 5 minutes from now. Never verify a body you
parsed and re-serialised. Answer 2xx quickly; answer 410 only to stop deliveries to this endpoint for good.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


def receive(
    secret: str,
    raw_body: bytes,
    headers: Mapping[str, str],
    seen: Callable[[str], bool],
    handle: Callable[[dict[str, Any]], None],
) -> int:
    """The HTTP status to answer one delivery with. `seen(webhook_id)` records an id and says whether it was
    already handled (deliveries are at least once: the same event can come twice, always with the same id)."""
    lowered = {name.lower(): value for name, value in headers.items()}
    try:
        event = Webhook(secret).verify(raw_body, lowered)
    except WebhookVerificationError:
        return 400  # not from TreatFirst, altered, or too old: do nothing
    if seen(lowered["webhook-id"]):
        return 204  # a repeat: already handled
    handle(event)  # e.g. event["type"] == "bill.paid": mark event["data"]["bill_id"] paid in the HIS
    return 204
