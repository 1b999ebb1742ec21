"""Shared test set-up: `functions/` on the path (the Chalice app imports as `app`), a clean AWS environment."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ROOT / "functions"
if str(FUNCTIONS) not in sys.path:
    sys.path.insert(0, str(FUNCTIONS))


def _share_botocore_loaders() -> None:
    """One botocore data loader per data path for the whole test process.

    botocore parses its service models (several MB of JSON) once per session; moto and PynamoDB start new sessions
    in every test, so the moto tiers spent close to half their time parsing the same files again. A Lambda keeps
    one warm session for all its clients, which is what this gives the tests: the loader and its cache are
    shared, the sessions and clients are still new."""
    import functools

    import botocore.session

    botocore.session.create_loader = functools.lru_cache(maxsize=None)(botocore.session.create_loader)


_share_botocore_loaders()
