"""The data inventory lists every field the code stores: a field stored but not listed fails here."""

from __future__ import annotations

from treatfirst.adapters.dynamo import MODELS
from treatfirst.inventory import CATEGORIES, NOT_PERSONAL, listed_fields


def stored_fields(models: dict[str, type]) -> set[str]:
    """Every `table.attribute` a model can write (DynamoStore refuses any attribute its model lacks)."""
    return {f"{table}.{name}" for table, model in models.items() for name in model.get_attributes()}  # type: ignore[attr-defined]


def unlisted(stored: set[str]) -> set[str]:
    return stored - listed_fields() - set(NOT_PERSONAL)


def test_every_stored_field_is_listed_as_personal_data_or_as_not_personal() -> None:
    # Given every attribute of every table model, Then each is in a category of the inventory or in NOT_PERSONAL
    stored = stored_fields(MODELS)
    missing = unlisted(stored)
    assert not missing, f"add {sorted(missing)} to a category of treatfirst.inventory (or to NOT_PERSONAL, with why)"
    # And the inventory lists nothing the code does not store, and nothing twice
    assert listed_fields() | set(NOT_PERSONAL) <= stored, sorted((listed_fields() | set(NOT_PERSONAL)) - stored)
    assert not listed_fields() & set(NOT_PERSONAL)


def test_a_new_field_that_nobody_listed_is_caught() -> None:
    # Given a model that stores one more attribute (say a nickname on the accounts table)
    class Extra:
        @staticmethod
        def get_attributes() -> dict[str, object]:
            return {"nickname": object()}

    # Then the check names it
    assert unlisted(stored_fields({**MODELS, "accounts_extra": Extra})) == {"accounts_extra.nickname"}


def test_personal_fields_stored_equal_personal_fields_listed() -> None:
    # The figure for the closing note: personal-data fields stored vs listed (equal)
    stored = stored_fields(MODELS) - set(NOT_PERSONAL)
    assert stored == listed_fields()
    assert len(stored) > 150
    # every category says why, for how long and how it is deleted; sensitive ones say why they are needed
    for c in CATEGORIES:
        assert c.purposes and c.recipients and c.retention and c.deletion, c.code
        assert not c.sensitive or (c.why_zh and c.why_en), c.code
