"""Canary: the pycrdt internals the hub relies on still exist and behave as ``conflict.pycrdt_compat`` expects.

A failure here names the installed pycrdt version: either pin pycrdt back to ``TESTED_MINOR`` or port
``conflict/pycrdt_compat.py`` to the new internals (and move ``TESTED_MINOR`` and the pin in pyproject.toml).
"""

from __future__ import annotations

from typing import Any

from pycrdt import Array, Doc, Map, Text

from conflict.pycrdt_compat import (
    TESTED_MINOR, installed_version, is_integrated, observe_raw, raw_transaction, text_delta, wrap_event_value,
    wrap_raw,
)

PYCRDT = f"pycrdt {installed_version()} (compat written for {TESTED_MINOR}.x)"


def test_the_installed_pycrdt_is_the_tested_minor() -> None:
    assert installed_version().startswith(TESTED_MINOR + "."), f"{PYCRDT}: port conflict/pycrdt_compat.py"


def test_a_prelim_type_is_not_integrated_and_an_inserted_one_is() -> None:
    doc = Doc()
    prelim = Map({"a": 1})
    assert not is_integrated(prelim), f"{PYCRDT}: BaseType._integrated changed"
    doc["record"] = prelim
    assert is_integrated(doc.get("record", type=Map)), f"{PYCRDT}: BaseType._integrated changed"


def test_raw_reads_in_one_transaction_wrap_nested_types() -> None:
    doc = Doc()
    record = doc.get("record", type=Map)
    record["tags"] = Array(["x", "y"])
    record["n"] = 3
    with doc.transaction() as txn:
        raw_txn = raw_transaction(txn)
        raw = record.integrated
        nested = wrap_raw(record, raw.get(raw_txn, "tags"))
        plain = raw.get(raw_txn, "n")
    assert isinstance(nested, Array), f"{PYCRDT}: BaseType._maybe_as_type_or_doc changed"
    assert plain == 3, f"{PYCRDT}: Transaction._txn or the raw Yrs map's get changed"


def test_raw_observers_report_changed_keys_with_their_old_values() -> None:
    doc = Doc()
    record = doc.get("record", type=Map)
    record["status"] = "OPEN"
    record["parts"] = Array(["p1"])
    seen: list[dict[str, Any]] = []
    subscription = observe_raw(record, lambda event: seen.append(dict(event.keys)))
    record["status"] = "IN_PROGRESS"
    record["parts"] = "none"
    assert subscription is not None
    assert seen and seen[0]["status"]["oldValue"] == "OPEN", f"{PYCRDT}: raw map events changed"
    old_parts = wrap_event_value(seen[1]["parts"]["oldValue"], doc)
    assert isinstance(old_parts, Array), f"{PYCRDT}: pycrdt._base.process_event changed"


def test_raw_text_observers_report_the_edit_as_a_delta_in_utf8_offsets() -> None:
    doc = Doc()
    text = doc.get("description", type=Text)
    text.insert(0, "é leaks")
    seen: list[tuple[dict[str, Any], ...]] = []
    subscription = observe_raw(text, lambda event: seen.append(text_delta(event)))
    with doc.transaction():
        del text[len("é ".encode()):]
        text.insert(len("é ".encode()), "drips")
    assert subscription is not None
    assert seen == [({"retain": 3}, {"delete": 5}, {"insert": "drips"})], f"{PYCRDT}: raw text events changed"
