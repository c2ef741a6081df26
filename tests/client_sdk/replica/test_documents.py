"""Document states: loaded on first use, state vectors read from their column, in chunks, for any number."""

from __future__ import annotations

from pathlib import Path

import aiosqlite
from pycrdt import Doc, Map

from client_sdk.replica import storage
from client_sdk.replica.documents import DocumentStates
from sync.protocol import EMPTY_STATE_VECTOR


async def test_state_vectors_of_many_documents_come_from_disk_without_loading_them(tmp_path: Path) -> None:
    db, _, states = await storage.open_file(tmp_path / "d.db", "d1", _states)
    names = [f"work_order:WO-{i}" for i in range(1200)]  # more than one chunk of query parameters
    doc = Doc()
    doc.get("record", type=Map)["status"] = "OPEN"
    async with storage.transaction(db):
        for name in names[:700]:
            await states.save(name, doc, 0.0)
    vectors = await states.state_vectors([*names, "work_order:NEW"])
    assert all(vectors[name] == doc.get_state() for name in names[:700])
    assert all(vectors[name] == EMPTY_STATE_VECTOR for name in [*names[700:], "work_order:NEW"])
    assert states.loaded == []
    loaded = await states.load(names[0])
    assert loaded is not None and loaded.get("record", type=Map).to_py() == {"status": "OPEN"}
    assert states.loaded == [names[0]] and await states.load("work_order:NEW") is None
    states.drop(names[0])
    assert states.loaded == []
    await db.close()


async def _states(db: aiosqlite.Connection) -> DocumentStates:
    return DocumentStates(db)
