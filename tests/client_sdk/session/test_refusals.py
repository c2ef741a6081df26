"""Each refusal code means one thing to the device: stop, retry later, or wait for the next connection."""

from __future__ import annotations

from client_sdk.session.refusals import BLOCKING_CODES, PASSING_CODES, TOKEN_CODES, denial_code


def test_a_code_has_one_meaning() -> None:
    assert not (TOKEN_CODES & PASSING_CODES or TOKEN_CODES & BLOCKING_CODES or PASSING_CODES & BLOCKING_CODES)


def test_a_denial_reason_starts_with_its_code() -> None:
    assert denial_code("forbidden: customers may not open internal notes") == "forbidden"
    assert denial_code("token_expired") == "token_expired"
