"""The onboarding pages' key-lifecycle section states what the code does: the figures, routes and commands."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from treatfirst import cli, openapi
from treatfirst.services import callers

ROOT = Path(__file__).resolve().parents[2]


def section(language: str) -> str:
    text = (ROOT / "site" / language / "onboarding.md").read_text(encoding="utf-8")
    return text[text.index("{#key-lifecycle}") :]


def test_the_figures_are_the_codes() -> None:
    # Fixed values the pages promise, held against the code's constants
    assert callers.REVOCATION_BOUND_SECONDS == 30
    assert callers.UNKNOWN_KEY_SECONDS <= 30
    assert callers.DEFAULT_OVERLAP_SECONDS == 86400
    assert callers.MAX_OVERLAP_SECONDS == 604800
    for language, bound in (("zh", "30 秒"), ("en", "30 seconds")):
        text = section(language)
        assert bound in text and "86400" in text and "604800" in text and "CALLER_EXISTS" in text


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_routes_and_commands_exist(language: str) -> None:
    text = section(language)
    routes = set(re.findall(r"`POST (/v1/callers[^`]*)`", text))
    assert routes == {"/v1/callers", "/v1/callers/{key_id}/rotation", "/v1/callers/{key_id}/revocation"}
    documented = openapi.document()["paths"]
    assert all(
        "post" in documented[r] and documented[r]["post"]["x-treatfirst-scope"] == "callers:write" for r in routes
    )
    commands = re.findall(r"`(treatfirst-admin [^`]+)`", text)
    assert {c.split()[1] for c in commands} == {"register", "rotate", "revoke"}
    for command in commands:
        cli._parser().parse_args(shlex.split(command)[1:])  # exits (fails the test) on an unknown option
