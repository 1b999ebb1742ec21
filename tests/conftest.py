"""Shared test set-up: `functions/` on the path (the Chalice app imports as `app`), a clean AWS environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The docs site, built strictly once per test run and read by the docs and browser tiers."""
    out = tmp_path_factory.mktemp("site")
    mkdocs = Path(sys.executable).parent / "mkdocs"
    result = subprocess.run(
        [str(mkdocs), "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        # This checkout's package, not whichever copy the virtual environment has installed
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(FUNCTIONS)},
        timeout=300,  # both languages are built; a loaded 2-core machine takes a while
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out
