from __future__ import annotations

from conflict import (
    FieldStamp,
    HlcTimestamp,
    ViolationCode,
    check_append,
    check_field_write,
    check_list_kept,
    check_stamp,
    make_stamp,
)


def test_only_owners_may_write_role_owned_fields() -> None:
    refused = check_field_write("warranty_claim/internal", "fraud_suspected", ["technician"])
    assert refused.code is ViolationCode.ROLE_NOT_ALLOWED
    assert "claims_manager" in refused.reason
    assert check_field_write("warranty_claim/internal", "fraud_suspected", ["claims_manager"])
    assert check_field_write("warranty_claim/internal", "fraud_suspected", ["admin"])
    assert not check_field_write("policy", "annual_premium", ["customer"])
    assert check_field_write("policy", "annual_premium", ["agent"])
    assert check_field_write("work_order", "priority", ["technician"])


def _stamp(field: str, roles: list[str], device: str = "dev-1", user: str = "u1") -> FieldStamp:
    return make_stamp(field, True, hlc=HlcTimestamp(1, 0, device), user=user, roles=roles, prev=None)


def test_a_stamp_must_be_the_senders_own() -> None:
    ok = _stamp("title", ["technician"])
    assert check_stamp("work_order", ok, device="dev-1", user="u1", roles=["technician", "viewer"])
    for device, user in (("dev-2", "u1"), ("dev-1", "u2")):
        verdict = check_stamp("work_order", ok, device=device, user=user, roles=["technician"])
        assert verdict.code is ViolationCode.STAMP_MISMATCH
    forged = _stamp("fraud_suspected", ["claims_manager"])
    verdict = check_stamp("warranty_claim/internal", forged, device="dev-1", user="u1", roles=["technician"])
    assert verdict.code is ViolationCode.STAMP_MISMATCH
    assert "claims_manager" in verdict.reason
    honest = _stamp("fraud_suspected", ["technician"])
    verdict = check_stamp("warranty_claim/internal", honest, device="dev-1", user="u1", roles=["technician"])
    assert verdict.code is ViolationCode.ROLE_NOT_ALLOWED


def test_anyone_may_append_a_pending_payment_but_only_managers_change_its_status() -> None:
    pending = {"id": "pay-1", "amount": "100.00", "currency": "EUR", "status": "PENDING"}
    assert check_append("warranty_claim", "payments", pending, ["claims_agent"])
    assert check_append("warranty_claim", "payments", {"id": "pay-1", "amount": 100}, ["technician"])
    paid = {**pending, "status": "PAID"}
    refused = check_append("warranty_claim", "payments", paid, ["claims_agent"])
    assert refused.code is ViolationCode.ROLE_NOT_ALLOWED
    assert "payments[].status" in refused.reason
    assert check_append("warranty_claim", "payments", paid, ["claims_manager"])
    assert check_append("insurance_claim", "payments", paid, ["admin"])
    assert not check_append("insurance_claim", "payments", paid, ["adjuster"])


def test_a_new_version_may_keep_but_not_change_an_owned_field() -> None:
    history = [
        {"id": "pay-1", "amount": 100, "status": "PENDING", "hlc": "0000000000001-000000-dev-a"},
        {"id": "pay-1", "amount": 100, "status": "PAID", "hlc": "0000000000002-000000-dev-m"},
    ]
    same_status = {"id": "pay-1", "amount": 100, "status": "PAID", "reference": "bank-42"}
    assert check_append("warranty_claim", "payments", same_status, ["claims_agent"], history)
    # Leaving the status out of a new version resets it to the default: a change.
    assert not check_append("warranty_claim", "payments", {"id": "pay-1", "amount": 100}, ["claims_agent"], history)
    back_to_pending = {**same_status, "status": "PENDING"}
    assert not check_append("warranty_claim", "payments", back_to_pending, ["claims_agent"], history)
    assert check_append("warranty_claim", "notes", {"text": "anything"}, ["customer"], history)


def test_append_only_lists_must_keep_every_entry() -> None:
    before = [{"text": "a"}, {"text": "b"}, {"text": "b"}]
    assert check_list_kept("work_order", "notes", before, [*before, {"text": "c"}])
    verdict = check_list_kept("work_order", "notes", before, [{"text": "b"}, {"text": "a"}])
    assert verdict.code is ViolationCode.ENTRY_REMOVED
    assert check_list_kept("work_order", "title", ["x"], [])  # not a list root: no rule
