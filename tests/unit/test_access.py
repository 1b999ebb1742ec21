"""The access table: every signed route is in it, scopes come from it, and the minimum-necessary rules hold."""

from __future__ import annotations

import pytest
from treatfirst import openapi
from treatfirst.access import ACCESS, ROUTES, SCOPES, authorise, grant_for
from treatfirst.domain.errors import Forbidden
from treatfirst.services.identity import Caller


def test_every_signed_operation_is_in_the_table_and_the_table_names_only_real_ones() -> None:
    doc = openapi.document()
    signed = {
        op["operationId"]: op["x-treatfirst-scope"]
        for item in doc["paths"].values()
        for op in item.values()
        if op.get("x-treatfirst-scope")
    }
    routed = {op_id for ids in ROUTES.values() for op_id in ids}
    assert routed == set(signed)
    for grant in ACCESS:
        for op_id in ROUTES[(grant.resource, grant.operation)]:
            assert signed[op_id] == grant.scope, (grant, op_id)


def test_the_minimum_necessary_rules_as_written_down() -> None:
    # fixed expectations, written by hand: who may withdraw, and what each kind sees of an account
    assert [g.kind for g in ACCESS if (g.resource, g.operation) == ("accounts", "withdraw")] == ["channel"]
    views = {g.kind: g.view for g in ACCESS if (g.resource, g.operation) == ("accounts", "read")}
    assert views == {"hospital": "credit", "channel": "payer", "operator": "masked"}
    assert grant_for("hospital", "bills", "list") is None and grant_for("hospital", "bills", "read").view == "own"  # type: ignore[union-attr]
    assert SCOPES == {
        "hospital": (
            "enrollments:write",
            "accounts:read",
            "visits:write",
            "visits:read",
            "bills:read",
            "clearing:read",
            "webhooks:write",
            "webhooks:read",
            "reconciliation:write",
        ),
        "channel": (
            "enrollments:write",
            "accounts:read",
            "bills:read",
            "payments:write",
            "clearing:read",
            "blacklist:write",
            "privacy:write",
            "webhooks:write",
            "webhooks:read",
            "reconciliation:write",
        ),
        "operator": (
            "callers:write",
            "accounts:read",
            "visits:read",
            "bills:read",
            "collection:write",
            "collection:read",
            "clearing:read",
            "reviews:read",
            "reviews:write",
            "blacklist:read",
            "blacklist:write",
            "privacy:read",
            "privacy:write",
            "reconciliation:read",
            "reconciliation:write",
        ),
        "financier": ("clearing:read",),
        "credit_platform": (
            "exports:read",
            "exports:write",
        ),
    }
    # clearing files: each party its own; only operators read any party's; a financier reads nothing else
    views = {g.kind: g.view for g in ACCESS if g.resource == "clearing"}
    assert views == {"hospital": "own", "financier": "own", "channel": "own", "operator": "any"}
    assert SCOPES["financier"] == ("clearing:read",)
    # a person's privacy requests come only through a channel, the patient's side; operators answer the queue
    assert [g.kind for g in ACCESS if (g.resource, g.operation) == ("privacy", "request")] == ["channel"]
    assert {g.kind for g in ACCESS if g.resource == "privacy" and g.operation in ("queue", "answer")} == {"operator"}
    # reconciliation: a hospital its own day, a channel its own statement, operators the suspense list
    assert {(g.kind, g.resource) for g in ACCESS if g.scope.startswith("reconciliation:")} == {
        ("hospital", "reconciliations"),
        ("channel", "statements"),
        ("operator", "suspense"),
    }
    # collection is for operators only: hospitals and channels see no message, task, pause or clock
    collection = {"messages", "tasks", "collection", "moratoriums", "test_clock"}
    assert {g.kind for g in ACCESS if g.resource in collection} == {"operator"}
    # the blacklist: a channel reads the person's status and files the person's appeal, nothing else of it; the
    # city credit platform sees none of it (it receives exports only)
    blacklist = {(g.kind, g.resource, g.operation) for g in ACCESS if g.resource.startswith("blacklist")}
    assert {(r, o) for k, r, o in blacklist if k == "channel"} == {
        ("blacklist", "status"),
        ("blacklist_appeals", "file"),
    }
    assert not [g for g in ACCESS if g.kind == "credit_platform" and g.resource.startswith("blacklist")]
    assert [g.kind for g in ACCESS if g.operation == "annul_strike"] == ["operator"]
    # emergency review items and totals are the operator's alone
    assert {g.kind for g in ACCESS if g.resource in ("reviews", "reports")} == {"operator"}
    # the city credit platform reaches the export's deliveries and nothing else, and nobody else reaches them
    assert {g.resource for g in ACCESS if g.kind == "credit_platform"} == {"exports"}
    assert {g.kind for g in ACCESS if g.resource == "exports"} == {"credit_platform"}


def test_authorise_needs_the_grant_and_the_scope_on_the_key() -> None:
    hospital = Caller("key_h", "hospital", "h-1", SCOPES["hospital"])
    assert authorise(hospital, "accounts", "read") == "credit"
    with pytest.raises(Forbidden):
        authorise(hospital, "accounts", "withdraw")
    narrowed = Caller("key_n", "channel", "c-1", ("bills:read",))
    with pytest.raises(Forbidden):
        authorise(narrowed, "accounts", "withdraw")
    financier = Caller("key_f", "financier", "f-1", ())
    with pytest.raises(Forbidden):
        authorise(financier, "bills", "read")
