"""Seeded records are stored like synced ones: a log entry that rebuilds the record, and its projection."""

from __future__ import annotations

from pycrdt import Doc, Map

from conflict import parse_clocks
from tests.support.seed import seed_records
from sync.store import Store


async def test_seeded_records_rebuild_from_the_log_and_are_projected(store: Store) -> None:
    records = {f"work_order:WO-{i}": {"status": "OPEN", "technician": "tech-1", "title": f"Job {i}"} for i in range(7)}
    await seed_records(store, "acme", records, batch=3)
    for name, fields in records.items():
        stored = await store.load("acme", name)
        doc = Doc()
        for update in stored.updates:
            doc.apply_update(update)
        assert doc.get("record", type=Map).to_py() == fields
        assert parse_clocks(doc.get("clocks", type=Map).to_py()).latest("title") is not None, "fields are stamped"
        projection = await store.get_projection("acme", name)
        assert projection is not None and (projection.status, projection.assignee) == ("OPEN", "tech-1")
    assert len(await store.query_projections("acme", type="work_order")) == 7
    assert await store.query_projections("other", type="work_order") == []
