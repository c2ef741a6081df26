"""Write records straight into a store, as if devices had synced them: for demos, tests and benchmarks.

Each record becomes one stored update (fields written with their stamps, as a device writes them) and its
projection, so a hub started on the store serves it like any other record and scopes find it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pycrdt import Doc

from conflict import Hlc, write_field
from sync.documents.projection import project
from sync.store import LogEntry, Store

SEED_DEVICE = "seed"


def record_update(fields: Mapping[str, Any], *, user: str = "seed", roles: Iterable[str] = ("admin",)) -> Doc:
    """A document holding ``fields`` in its record map, each with a stamp."""
    doc = Doc()
    clock = Hlc(SEED_DEVICE)
    for field, value in fields.items():
        write_field(doc, field, value, clock=clock, user=user, roles=tuple(roles))
    return doc


async def seed_records(store: Store, tenant: str, records: Mapping[str, Mapping[str, Any]], *,
                       batch: int = 500) -> None:
    """Store every ``{name: fields}`` record of ``tenant`` (log entry and projection), ``batch`` per transaction."""
    items = list(records.items())
    for start in range(0, len(items), batch):
        entries, rows = [], []
        for name, fields in items[start:start + batch]:
            doc = record_update(fields)
            entries.append(LogEntry(tenant, name, doc.get_update()))
            row = project(tenant, name, doc)
            if row is not None:
                rows.append(row)
        await store.append(entries)
        await store.save_projections(rows)
