from __future__ import annotations

import pytest

from conflict import DocumentName, InvalidDocumentName, parse_document_name


def test_names_parse_into_type_id_and_part() -> None:
    assert parse_document_name("work_order:WO-1042") == DocumentName("work_order", "WO-1042")
    name = parse_document_name("warranty_claim:WC-77/internal")
    assert (name.record_type, name.record_id, name.part) == ("warranty_claim", "WC-77", "internal")
    assert name.kind == "warranty_claim/internal"
    assert str(name) == "warranty_claim:WC-77/internal"
    assert parse_document_name("policy:POL-9").kind == "policy"


@pytest.mark.parametrize(
    "name",
    [
        "",
        "work_order",
        "work_order:",
        ":WO-1",
        "Work_Order:WO-1",
        "work_order:WO 1",
        "work_order:WO-1/",
        "work_order:WO-1/a/b",
        "work_order:-x",
        "a:" + "x" * 121,
    ],
)
def test_malformed_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidDocumentName):
        parse_document_name(name)


def test_non_strings_are_refused() -> None:
    with pytest.raises(InvalidDocumentName):
        parse_document_name(None)  # type: ignore[arg-type]
