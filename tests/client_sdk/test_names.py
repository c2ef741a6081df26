"""Document names are checked on the device as the hub checks them, before anything is stored or sent."""

from __future__ import annotations

import pytest

from client_sdk import RecordError
from client_sdk.names import record_name, record_type


def test_a_record_name_is_type_colon_id() -> None:
    assert record_name("work_order", "WO-1042") == "work_order:WO-1042"
    assert record_type("work_order:WO-1042").name == "work_order"
    assert record_type("warranty_claim:WC-77/internal").name == "warranty_claim/internal"


@pytest.mark.parametrize("name", ["WO-1042", "work_order:", ":WO-1", "work_order:WO 1", "spaceship:S-1",
                                  "warranty_claim:WC-1/nope", "", "$scopes"])
def test_a_bad_name_or_unknown_type_is_a_record_error(name: str) -> None:
    with pytest.raises(RecordError):
        record_type(name)


def test_a_bad_id_is_a_record_error() -> None:
    with pytest.raises(RecordError):
        record_name("work_order", "WO 1")
