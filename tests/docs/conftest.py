"""The docs tier's built site: one strict build per test run, shared by every module that reads it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    mkdocs = Path(sys.executable).parent / "mkdocs"
    result = subprocess.run(
        [str(mkdocs), "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        # This checkout's package, not whichever copy the virtual environment has installed
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(ROOT / "functions")},
        timeout=300,  # both languages are built; a loaded 2-core machine takes a while
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out
