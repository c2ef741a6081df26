from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from pycrdt import Array, Doc, Map, Text

from conflict.copies import plain

scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**53), 2**53), st.floats(allow_nan=False),
                    st.text(max_size=8), st.binary(max_size=4))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=4), inner, max_size=4)),
    max_leaves=12,
)


def _shared(value: object) -> object:
    """The value as a Y type when it is a container (so nested shared types are exercised)."""
    if isinstance(value, dict):
        return Map({key: _shared(item) for key, item in value.items()})
    if isinstance(value, list):
        return Array([_shared(item) for item in value])
    return value


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.text(max_size=6), values, max_size=8), st.lists(values, max_size=6))
def test_plain_is_what_to_py_returns(record: dict[str, object], entries: list[object]) -> None:
    doc = Doc()
    root, array = doc.get("record", type=Map), doc.get("events", type=Array)
    for key, value in record.items():
        root[key] = _shared(value)
    for value in entries:
        array.append(_shared(value))
    root["note"] = Text("free text")
    assert plain(root) == root.to_py()
    assert plain(array) == array.to_py()
    assert plain(doc.get("empty", type=Map)) == {} and plain(doc.get("none", type=Array)) == []


def test_plain_of_a_type_outside_a_document() -> None:
    assert plain(Map()) is None and plain(Map({"a": 1})) == {"a": 1} and plain(Array([1, 2])) == [1, 2]
