"""Who is calling: the authenticated caller, its kind and the scopes its key carries (from treatfirst.access)."""

from __future__ import annotations

from dataclasses import dataclass

from treatfirst.access import SCOPES, authorise
from treatfirst.domain.errors import Forbidden

__all__ = ["SCOPES", "Caller"]


@dataclass(frozen=True)
class Caller:
    key_id: str
    kind: str  # hospital | channel | operator (financier, credit_platform: reserved)
    principal_id: str  # hospital id, channel id or operator id
    scopes: tuple[str, ...]

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            raise Forbidden(f"this key lacks the {scope} scope")

    def may(self, resource: str, operation: str) -> str:
        """The view this caller gets for the operation (treatfirst.access), or FORBIDDEN."""
        return authorise(self, resource, operation)

    @property
    def actor(self) -> str:
        return f"{self.kind}:{self.principal_id}"
