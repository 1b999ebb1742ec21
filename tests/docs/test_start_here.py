"""The home page tells each party its first three steps, and the checklists state only what the code does."""

from __future__ import annotations

import re
from pathlib import Path

from treatfirst import openapi

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "site"
CODE = ROOT / "functions" / "treatfirst"


def _code_defines(pattern: str) -> bool:
    """A function, class, route or setting of that name anywhere in the package (not a word in a docstring)."""
    regex = re.compile(rf"(def |class |[\"'/]){pattern}", re.I)
    return any(regex.search(path.read_text(encoding="utf-8")) for path in CODE.rglob("*.py"))


def test_home_page_gives_each_party_three_first_steps_in_both_languages() -> None:
    # Given the home page of each language (Chinese at the site's root, English under en/)
    zh = (SITE / "zh" / "index.md").read_text(encoding="utf-8")
    en = (SITE / "en" / "index.md").read_text(encoding="utf-8")
    # Then each party has a card of exactly three numbered steps, in the page's own language only
    assert "Hospital" not in zh and "医院" not in en
    for part, parties in (
        (zh, ("医院", "支付渠道", "城市", "集成方")),
        (en, ("Hospital", "Payment channel", "City", "Integrator")),
    ):
        cards = re.split(r"\n-   \*\*", part)[1:]
        assert [card.split("**", 1)[0].split("（")[0].split(" ")[0].split("/")[0] for card in cards][:4] == [
            p.split(" ")[0] for p in parties
        ]
        for card in cards:
            assert re.findall(r"^    (\d)\. ", card, re.M) == ["1", "2", "3"], card[:40]


def test_checklists_say_how_to_use_the_test_clock_and_the_webhooks() -> None:
    # Given the checklists in both languages
    zh = (SITE / "zh" / "checklists.md").read_text(encoding="utf-8")
    en = (SITE / "en" / "checklists.md").read_text(encoding="utf-8")
    # Then they name the webhook routes, which the code has
    assert {"/v1/webhook-endpoints", "/v1/events"} <= set(openapi.document()["paths"])
    for text in (zh, en):
        assert "POST /v1/webhook-endpoints" in text and "GET /v1/events?after=" in text
        assert "no webhooks" not in text and "不发送 webhook" not in text
    # And the test clock, which the code has, is named with its route and command (local stack only)
    assert _code_defines(r"\w*test_?clock")
    for text in (zh, en):
        assert "/v1/test-clock/advance" in text and "treatfirst-admin clock advance" in text
    # And a city's launch names the commands that exist
    for command in ("check-policy", "register operator", "make package"):
        assert command in zh and command in en
