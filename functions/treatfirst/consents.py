"""Consent texts rendered with Jinja2 from the city policy: the exact text a patient signs.

The API records each consent with its version and the SHA-256 of this exact text; the docs site renders
the same function, so the published text and hash are the ones the API checks.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from treatfirst.domain.ids import mask_resident_id
from treatfirst.domain.money import format_yuan
from treatfirst.domain.policy import Policy, label

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class RenderedConsent:
    kind: str
    version: str
    title: str
    title_en: str
    text: str
    sha256: str


@lru_cache(maxsize=1)
def environment() -> Environment:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape  # first render only

    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["yuan"] = format_yuan
    env.filters["zh"] = lambda codes, sep="、": sep.join(label(c, "zh") for c in codes)
    env.filters["en"] = lambda codes, sep=", ": sep.join(label(c, "en") for c in codes)
    env.filters["label_zh"] = lambda code: label(code, "zh")
    env.filters["label_en"] = lambda code: label(code, "en")
    return env


def id_example(policy: Policy) -> str:
    """How an ID number of this city shows once masked (the masking the API applies), e.g. 3207**********1234."""
    return mask_resident_id(f"{policy.city_code}19900101123X"[:14] + "1234")


def render_consent(policy: Policy, kind: str) -> RenderedConsent:
    spec = policy.consent(kind)
    template = environment().get_template(f"consent/{kind}.md.j2")
    text = template.render(policy=policy, consent=spec, id_example=id_example(policy))
    return RenderedConsent(
        kind, spec.version, spec.title, spec.title_en, text, hashlib.sha256(text.encode()).hexdigest()
    )


def render_all(policy: Policy) -> list[RenderedConsent]:
    return [render_consent(policy, spec.kind) for spec in policy.consents]
