"""One device's copy of one record, edited offline through the domain API: what each edit made is kept in order.

Transport-free: ``tests.sync.replicas.Replica`` sends the edits to an in-process hub, the end-to-end tests hand
``doc`` to a ``tests.support.client.HubClient``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pycrdt import Array, Doc, Map, Text

from conflict import CLOCKS_ROOT, RECORD_ROOT, Hlc, RecordType, append_entry, wall_clock_ms, write_field


class DeviceDoc:
    """One device's copy of one record."""

    def __init__(
        self, name: str, *, user: str, device: str, roles: Iterable[str], wall_ms: Callable[[], int] | None = None,
        base: bytes | None = None, client_id: int | None = None,
    ) -> None:
        self.name = name
        self.user, self.device, self.roles = user, device, tuple(roles)
        self.doc = Doc(client_id=client_id)
        if base:
            self.doc.apply_update(base)
        self.clock = Hlc(device, clock=wall_ms or wall_clock_ms)
        self.updates: list[bytes] = []

    def write(self, field: str, value: Any, *, roles: Iterable[str] | None = None, user: str | None = None) -> bytes:
        """``write_field`` as this device; ``roles``/``user`` override what the stamp claims (a forgery)."""
        return self.edit(lambda doc: write_field(
            doc, field, value, clock=self.clock, user=user or self.user, roles=self.roles if roles is None else roles))

    def write_many(self, fields: dict[str, Any]) -> bytes:
        """Several fields in one transaction: one update."""
        def change(doc: Doc) -> None:
            for field, value in fields.items():
                write_field(doc, field, value, clock=self.clock, user=self.user, roles=self.roles)
        return self.edit(change)

    def append(self, root: str, entry: dict[str, Any]) -> bytes:
        return self.edit(lambda doc: append_entry(doc, root, entry, clock=self.clock, user=self.user))

    def edit(self, change: Callable[[Doc], object]) -> bytes:
        """Make one local transaction; its update is kept in order for sending."""
        captured: list[bytes] = []
        subscription = self.doc.observe(lambda event: captured.append(event.update))
        try:
            with self.doc.transaction():
                change(self.doc)
        finally:
            self.doc.unobserve(subscription)
        self.updates.extend(captured)
        return captured[0] if captured else b""


def content(doc: Doc, kind: RecordType) -> tuple[dict[str, Any], dict[str, Any], dict[str, list[Any]], dict[str, str]]:
    """Every root of a record document, as plain values: what "the same document" means in these tests."""
    return (
        doc.get(RECORD_ROOT, type=Map).to_py() or {},
        doc.get(CLOCKS_ROOT, type=Map).to_py() or {},
        {root: doc.get(root, type=Array).to_py() or [] for root in kind.list_roots},
        {root: str(doc.get(root, type=Text)) for root in kind.text_roots},
    )


def record(doc: Doc) -> dict[str, Any]:
    return doc.get(RECORD_ROOT, type=Map).to_py() or {}
