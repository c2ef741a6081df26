"""Which state vector covers which: how a session decides its step 2 may be empty."""

from __future__ import annotations

from pycrdt import Doc, Map

from client_sdk.link import covers


def test_a_state_vector_covers_what_it_has_seen() -> None:
    a, b = Doc(), Doc()
    a.get("record", type=Map)["x"] = 1
    b.apply_update(a.get_update())
    assert covers(b.get_state(), a.get_state())
    a.get("record", type=Map)["y"] = 2
    assert not covers(b.get_state(), a.get_state())
    assert covers(a.get_state(), b.get_state())
    assert covers(b.get_state(), Doc().get_state()), "everything covers the empty document"
