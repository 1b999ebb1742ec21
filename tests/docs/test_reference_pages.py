"""The API reference in each language: every operation has a Chinese summary, every field of every message struct
a Chinese note, every error code a Chinese meaning; the English pages carry the structs' own English."""

from __future__ import annotations

import re
from typing import Any

from treatfirst import openapi
from treatfirst.domain.errors import all_error_classes
from treatfirst.domain.policy import POLICY_FIELDS, DocumentationOnly
from treatfirst.messages import notes_zh

from tools.mkdocs_hooks import (
    MEANING_ZH,
    REASONS_ZH,
    SUMMARY_ZH,
    _field_table,
    api_pages,
    errors_page,
    operations,
)

CJK = re.compile(r"[\u4e00-\u9fff]")


def _descriptions(schema: dict[str, Any]) -> list[str]:
    """The English descriptions a property shows: its own, or its nullable alternative's."""
    found = [schema["description"]] if schema.get("description") else []
    for alternative in schema.get("anyOf", []):
        if alternative.get("description"):
            found.append(alternative["description"])
    return found


def test_every_field_of_every_struct_has_a_chinese_note() -> None:
    # Given every property of every schema of the OpenAPI document the API serves
    doc = openapi.document()
    missing, untranslated = [], []
    for name, schema in doc["components"]["schemas"].items():
        for field, prop in schema.get("properties", {}).items():
            # Then it has a Chinese note (inline x-zh, Struct.field or field in treatfirst.messages.notes_zh)
            note = notes_zh.field_note(name, field, prop)
            if not note or not CJK.search(note):
                missing.append(f"{name}.{field}")
            # And each English description it shows has a Chinese translation
            untranslated += [d for d in _descriptions(prop) if d not in notes_zh.DESCRIPTIONS]
        if schema.get("description") and schema["description"] not in notes_zh.DESCRIPTIONS:
            untranslated.append(schema["description"])
    for _method, _path, op in operations(doc):
        for param in op.get("parameters", []):
            untranslated += [d for d in _descriptions(param) if d not in notes_zh.DESCRIPTIONS]
    assert missing == [], "add a Chinese note to treatfirst/messages/notes_zh.py FIELDS (or Meta x-zh)"
    assert sorted(set(untranslated)) == [], "add the Chinese of these descriptions to notes_zh.DESCRIPTIONS"


def test_a_field_without_a_chinese_note_would_be_found() -> None:
    # Given a struct field nobody wrote a note for
    note = notes_zh.field_note("Invented", "never_named_field_xyz", {})
    # Then the lookup says so (the test above would list it)
    assert note is None
    # And an inline note in the struct's metadata wins over the glossary
    assert notes_zh.field_note("Visit", "status", {notes_zh.ZH_KEY: "内联说明"}) == "内联说明"


def test_every_operation_has_a_chinese_summary_and_every_code_a_chinese_meaning() -> None:
    doc = openapi.document()
    assert sorted(op["operationId"] for _m, _p, op in operations(doc) if op["operationId"] not in SUMMARY_ZH) == []
    assert all(CJK.search(text) for text in SUMMARY_ZH.values())
    assert sorted(c.code for c in all_error_classes() if c.code not in MEANING_ZH) == []
    # And the city pages say in Chinese why a policy field drives no code yet
    reasons = {e.reason for e in POLICY_FIELDS.values() if isinstance(e, DocumentationOnly)}
    assert sorted(reasons - REASONS_ZH.keys()) == [], "add their Chinese to REASONS_ZH in tools/mkdocs_hooks.py"
    # and keep no translation of a reason no field gives any more (a page saying "not built yet" of built work)
    assert sorted(REASONS_ZH.keys() - reasons) == [], "remove them from REASONS_ZH in tools/mkdocs_hooks.py"


def test_the_chinese_field_table_shows_the_notes_and_the_english_one_the_structs_descriptions() -> None:
    # Given the charge request's table in each language
    doc = openapi.document()
    schemas = doc["components"]["schemas"]
    zh = "\n".join(_field_table({"$ref": "#/components/schemas/ChargeRequest"}, schemas, "zh"))
    en = "\n".join(_field_table({"$ref": "#/components/schemas/ChargeRequest"}, schemas, "en"))
    # Then the Chinese one says what each field is, in Chinese, with its bounds (values written by hand here): the
    # field's own description when it has one, else what it is and what its type says
    assert (
        "| `self_pay_fen` | integer | 是 | 自付：冻结在信用额度上（唯一占用额度的部分）；≥ 0；≤ 1000000000000 |" in zh
    )
    assert "| `quantity` | integer |  | 数量；≥ 1；≤ 100000；默认 `1` |" in zh
    assert "| `item_code` | string | 是 | 收费项目编码；1–64 个字符：A-Z a-z 0-9 _ . : -；格式 " in zh
    visit = "\n".join(_field_table({"$ref": "#/components/schemas/Visit"}, schemas, "zh"))
    assert (
        "| `held_fen` | integer | 是 | 就诊中冻结的自付金额（分）；"
        "金额，单位分，整数；不接受小数、字符串或布尔值；≥ 0；" in visit
    )
    # And the English one the struct's own description
    assert (
        "| `self_pay_fen` | integer | yes | 自付: held on the credit line (the only part that uses credit); "
        "≥ 0; ≤ 1000000000000 |" in en
    )


def test_each_language_gets_its_own_reference_pages() -> None:
    # Given the pages of each language
    doc = openapi.document()
    zh, en = api_pages(doc, "zh"), api_pages(doc, "en")
    assert zh.keys() == en.keys()
    # Then the English pages carry no Chinese outside the examples' sample values and the structs' own terms
    visits = en["reference/api/visits.md"].split("**Example**")[0]
    assert "## `POST /v1/visits` {#openVisit}" in visits and "开立就诊" not in visits
    assert "权限" not in en["reference/api.md"] and "Scope" not in zh["reference/api.md"]
    # And the Chinese index lists every operation with its Chinese summary
    assert "| [`POST /v1/visits`](api/visits.md#openVisit){#openVisit} | 开立就诊。 |" in zh["reference/api.md"]
    assert "HTTP 500" in errors_page(doc, "zh") and "只有 HTTP 500 表示平台故障" in errors_page(doc, "zh")
    assert "平台" not in errors_page(doc, "en")
