"""Public views of stored items: what the API returns. Identifiers are always masked."""

from __future__ import annotations

from typing import Any

from treatfirst.services.ports import Item


def account_view(item: Item) -> dict[str, Any]:
    return {
        "account_id": item["account_id"],
        "status": item["status"],
        "city_code": item["city_code"],
        "name": item["name_masked"],
        "id_number": item["id_masked"],
        "phone": item["phone_masked"],
        "tier": item.get("tier"),
        "credit_line": {
            "limit_fen": item["limit_fen"],
            "available_fen": item["available_fen"],
            "held_fen": item["held_fen"],
            "owed_fen": item["owed_fen"],
            "emergency_held_fen": item["emergency_held_fen"],
            "emergency_owed_fen": item["emergency_owed_fen"],
        },
        "decision": item["decision"],
        "enrolled_at": item["enrolled_at"],
        "withdrawn_at": item.get("withdrawn_at"),
    }


def visit_view(item: Item) -> dict[str, Any]:
    return {
        "visit_id": item["visit_id"],
        "hospital_id": item["hospital_id"],
        "account_id": item["account_id"],
        "his_visit_id": item.get("his_visit_id"),
        "kind": item["kind"],
        "department": item.get("department"),
        "status": item["status"],
        "opened_at": item["opened_at"],
        "closed_at": item.get("closed_at"),
        "held_fen": item["held_fen"],
        "emergency_held_fen": item["emergency_held_fen"],
        "charge_count": item["charge_count"],
        "bill_id": item.get("bill_id"),
    }


def charge_view(item: Item) -> dict[str, Any]:
    return {
        "visit_id": item["visit_id"],
        "fee_line_id": item["fee_line_id"],
        "item_code": item["item_code"],
        "item_name": item["item_name"],
        "quantity": item["quantity"],
        "occurred_at": item["occurred_at"],
        "total_fen": item["total_fen"],
        "insurance_fen": item["insurance_fen"],
        "personal_account_fen": item["personal_account_fen"],
        "self_pay_fen": item["self_pay_fen"],
        "refunded_insurance_fen": item["refunded_insurance_fen"],
        "refunded_personal_account_fen": item["refunded_personal_account_fen"],
        "refunded_self_pay_fen": item["refunded_self_pay_fen"],
        "emergency": item["emergency"],
        "status": item["status"],
        "posted_at": item["posted_at"],
        "refunds": item.get("refunds", []),
    }


def bill_view(item: Item) -> dict[str, Any]:
    return {
        "bill_id": item["bill_id"],
        "visit_id": item["visit_id"],
        "hospital_id": item["hospital_id"],
        "account_id": item["account_id"],
        "status": item["status"],
        "issued_at": item["issued_at"],
        "due_at": item["due_local"],
        "amount_fen": item["amount_fen"],
        "emergency_amount_fen": item["emergency_amount_fen"],
        "refunded_fen": item["refunded_fen"],
        "paid_fen": item["paid_fen"],
        "outstanding_fen": item["outstanding_fen"],
        "paid_at": item.get("paid_at"),
        "policy_version": item["policy"]["policy_version"],
        "policy_sha256": item["policy"]["policy_sha256"],
    }


def payment_view(item: Item) -> dict[str, Any]:
    return {
        "payment_id": item["payment_id"],
        "channel_id": item["channel_id"],
        "channel_txn_id": item["channel_txn_id"],
        "amount_fen": item["amount_fen"],
        "paid_at": item["paid_at"],
        "received_at": item["received_at"],
        "payer": item["payer"],
        "allocations": item["allocations"],
    }
