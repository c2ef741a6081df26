from __future__ import annotations

from sync.connection.admission import Admission


def test_unauthenticated_connections_are_counted_per_address() -> None:
    admission = Admission(limit=2)
    first, second = admission.admit("10.0.0.1"), admission.admit("10.0.0.1")
    assert first and second and admission.admit("10.0.0.1") is None
    assert admission.admit("10.0.0.2") is not None, "another address has its own count"
    first.release()
    first.release()  # idempotent: a socket that authenticated and then ended gives its place back once
    assert admission.held("10.0.0.1") == 1
    assert admission.admit("10.0.0.1") is not None
