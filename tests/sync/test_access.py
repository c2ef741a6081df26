"""Access rules: which scope a token gets on a document, from its roles and the document's record type."""

from __future__ import annotations

from pathlib import Path

import pytest

from sync.access import Principal, Scope, scope_for
from sync.errors import AuthError
from sync.protocol import AuthToken, PermissionDenied
from tests.support.inproc import Connection, running_hub, token


def principal(*roles: str) -> Principal:
    return Principal(user="u1", tenant="acme", device="d1", roles=frozenset(roles))


@pytest.mark.parametrize("name", ["work_order:WO-1", "policy:POL-9", "insurance_claim:IC-5", "warranty_claim:WC-77"])
def test_records_are_read_write_for_writers_and_readonly_for_viewers(name: str) -> None:
    assert scope_for(principal("technician"), name) is Scope.READ_WRITE
    assert scope_for(principal("customer"), name) is Scope.READ_WRITE
    assert scope_for(principal("viewer"), name) is Scope.READONLY


@pytest.mark.parametrize("roles", [("technician",), ("claims_agent",), ("claims_manager",), ("admin",),
                                   ("customer", "supervisor")])
def test_the_internal_companion_is_open_to_its_readers(roles: tuple[str, ...]) -> None:
    assert scope_for(principal(*roles), "warranty_claim:WC-77/internal") is Scope.READ_WRITE


@pytest.mark.parametrize("roles", [("customer",), ("viewer",), ("agent", "customer"), ("janitor",)])
def test_the_internal_companion_is_refused_to_everyone_else(roles: tuple[str, ...]) -> None:
    with pytest.raises(AuthError) as refused:
        scope_for(principal(*roles), "warranty_claim:WC-77/internal")
    assert refused.value.code == "forbidden"


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("invoice:INV-1", "unknown_record_type"),
        ("work_order:WO-1/internal", "unknown_record_type"),
        ("warranty_claim:WC-1/secret", "unknown_record_type"),
        ("work_order", "invalid_document_name"),
        ("Work_order:WO-1", "invalid_document_name"),
    ],
)
def test_unknown_record_types_and_bad_names_are_refused(name: str, code: str) -> None:
    with pytest.raises(AuthError) as refused:
        scope_for(principal("admin"), name)
    assert refused.value.code == code


async def test_a_refused_document_gets_permission_denied_with_the_code(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        conn = Connection(hub)
        conn.socket.push(AuthToken("invoice:INV-1", token()))
        denied = await conn.socket.wait_frame(PermissionDenied, document="invoice:INV-1")
        assert denied.reason.startswith("unknown_record_type: ")
        await conn.open("work_order:WO-1")  # the socket keeps serving other documents
        await conn.finish()
