"""Factories that build valid requests (tests change one thing at a time)."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime
from typing import Any, TypeVar

from treatfirst.consents import render_all
from treatfirst.domain.ids import ric_check_digit
from treatfirst.domain.policy import Policy
from treatfirst.messages.common import Request, convert

R = TypeVar("R", bound=Request)

_serial = itertools.count(1)


def resident_id(born: str = "19800101", region: str = "320703", rng: random.Random | None = None) -> str:
    """A checksum-valid resident ID number, unique per call."""
    seq = f"{next(_serial) % 1000:03d}" if rng is None else f"{rng.randrange(1000):03d}"
    first17 = f"{region}{born}{seq}"
    return first17 + ric_check_digit(first17)


def consents_for(policy: Policy) -> list[dict[str, str]]:
    return [{"kind": c.kind, "version": c.version, "text_sha256": c.sha256} for c in render_all(policy)]


def enrollment(policy: Policy, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "张三",
        "id_number": resident_id(),
        "phone": f"138{next(_serial) % 10**8:08d}",
        "insurance_status": "normal",
        "verification": {
            "method": "face",
            "check_id": f"face-{next(_serial)}",
            "verified_at": "2026-11-24T08:00:00+08:00",
        },
        "consents": consents_for(policy),
    }
    if policy.eligibility_model == "score_banded":
        body["credit_score"] = {"source": policy.score_sources[0], "value": 720}
    body.update(overrides)
    return body


def charge(
    self_pay_fen: int = 1000, *, insurance_fen: int = 0, personal_account_fen: int = 0, **overrides: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "fee_line_id": f"FL{next(_serial):08d}",
        "item_code": "LAB-001",
        "item_name": "血常规",
        "quantity": 1,
        "occurred_at": datetime(2026, 11, 24, 9, 30, tzinfo=UTC).isoformat(),
        "total_fen": self_pay_fen + insurance_fen + personal_account_fen,
        "insurance_fen": insurance_fen,
        "personal_account_fen": personal_account_fen,
        "self_pay_fen": self_pay_fen,
    }
    body.update(overrides)
    return body


def command(kind: type[R], body: dict[str, Any] | None = None) -> R:
    """A request body as the typed command the HTTP edge would hand the service (same strict rules)."""
    return convert(body if body is not None else {}, kind)
