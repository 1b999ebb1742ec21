"""Eligibility and the limit decision, with the reasons a person may ask for (PIPL art. 24)."""

from __future__ import annotations

from dataclasses import dataclass

from treatfirst.domain.money import format_yuan
from treatfirst.domain.policy import Policy


@dataclass(frozen=True)
class Reason:
    code: str
    message: str


@dataclass(frozen=True)
class Decision:
    eligible: bool
    limit_fen: int
    tier: str | None
    reasons: tuple[Reason, ...]

    def as_record(self, policy: Policy, decided_at: str) -> dict[str, object]:
        return {
            "eligible": self.eligible,
            "limit_fen": self.limit_fen,
            "tier": self.tier,
            "reasons": [{"code": r.code, "message": r.message} for r in self.reasons],
            "automated": True,
            "human_review": f"ask {policy.operator_name_en} on {policy.hotline} for a review by a person",
            "decided_at": decided_at,
            **policy.stamp,
        }


def decide(policy: Policy, *, age: int, insurance_status: str, score: int | None, score_source: str | None) -> Decision:
    reasons: list[Reason] = []
    eligible = True
    if age < policy.min_age:
        eligible = False
        reasons.append(Reason("UNDER_AGE", f"age {age} is below {policy.min_age}; a guardian must link a minor"))
    else:
        reasons.append(Reason("AGE_OK", f"age is at least {policy.min_age}"))
    if insurance_status not in policy.insurance_statuses:
        eligible = False
        reasons.append(Reason("INSURANCE_STATUS", f"insurance status '{insurance_status}' is not accepted"))
    else:
        reasons.append(Reason("INSURANCE_OK", f"insurance status '{insurance_status}' is accepted"))

    tier = None
    limit = 0
    if policy.eligibility_model == "zero_threshold":
        tier = policy.tiers[0]
        reasons.append(Reason("ZERO_THRESHOLD", f"{policy.city_name_en} grants every eligible resident the same limit"))
    elif score is None or score_source not in policy.score_sources:
        eligible = False
        reasons.append(Reason("SCORE_MISSING", f"a credit score from {', '.join(policy.score_sources)} is required"))
    else:
        banded = [t for t in policy.tiers if t.min_score is not None and score >= t.min_score]
        if not banded:
            eligible = False
            reasons.append(
                Reason("SCORE_TOO_LOW", f"score {score} is below the lowest band ({policy.tiers[0].min_score})")
            )
        else:
            tier = banded[-1]
            reasons.append(
                Reason(
                    "SCORE_BAND",
                    f"score {score} from {score_source} falls in band '{tier.name}' (from {tier.min_score})",
                )
            )
    if eligible and tier is not None:
        limit = tier.limit_fen
        reasons.append(
            Reason("LIMIT", f"limit {format_yuan(limit)} CNY from tier '{tier.name}' of policy {policy.version}")
        )
    return Decision(eligible, limit if eligible else 0, tier.name if eligible and tier else None, tuple(reasons))
