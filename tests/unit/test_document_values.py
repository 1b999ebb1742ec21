"""Document attributes are converted without boto3 (cold start), exactly as boto3's own serializer would."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from hypothesis import given
from hypothesis import strategies as st
from treatfirst.adapters.dynamo import document_value, plain_document

leaves = st.none() | st.booleans() | st.integers(min_value=-(10**15), max_value=10**15) | st.text(max_size=8)
documents = st.recursive(
    leaves, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
)


@given(st.dictionaries(st.text(max_size=5), documents, max_size=4))
def test_the_same_attribute_values_as_boto3_and_back(value: dict[str, Any]) -> None:
    # Given any document of strings, integers, booleans, lists and maps
    # When it is converted / Then DynamoDB gets what boto3 would send, and reading it back gives the value
    assert document_value(value) == TypeSerializer().serialize(value)
    assert plain_document(document_value(value)) == value
    assert plain_document(document_value(value)) == TypeDeserializer().deserialize(document_value(value))
