"""The write path when the store fails: a retryable refusal, readers still served, recovery by itself."""

from __future__ import annotations

from pathlib import Path

from pycrdt import Map

from sync.errors import STORE_RETRY_AFTER
from sync.protocol import Sync, SyncStep
from tests.support.delivery import Deliveries, update_payloads
from tests.support.inproc import Connection, running_hub, token
from tests.support.stored import record_updates

NAME = "work_order:WO-1"


async def test_store_down_refuses_writes_with_retry_after_and_keeps_readers_served(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        writer, reader = Connection(hub), Connection(hub)
        await writer.open(NAME)
        await reader.open(NAME, token(device="d2"))
        _, updates = record_updates(3)
        writer.socket.push(Sync(NAME, SyncStep.UPDATE, updates[0]))
        await writer.socket.wait(lambda: writer.socket.statuses(NAME) == [True])

        await hub.store.close()  # the database is gone
        writer.socket.push(Sync(NAME, SyncStep.UPDATE, updates[1]))
        await writer.socket.wait(lambda: writer.socket.statuses(NAME) == [True, False])
        notice = await writer.socket.wait_notice(NAME, "store_unavailable")
        assert notice.retry_after == STORE_RETRY_AFTER
        # a reader of the loaded document is still answered from memory
        late = Connection(hub)
        late.socket.push(Sync(NAME, SyncStep.STEP1, b"\x00"))  # before Auth: held until it is answered
        await late.open(NAME, token(device="d3"))
        step2 = await late.socket.wait_frame(Sync, document=NAME, step=SyncStep.STEP2)
        assert "k0" in Deliveries().replay([step2.data]).record

        await hub.store.start()  # it is back: the writer re-sends, as its outbox makes it do
        writer.socket.push(Sync(NAME, SyncStep.UPDATE, updates[1]))
        writer.socket.push(Sync(NAME, SyncStep.UPDATE, updates[2]))
        await writer.socket.wait(lambda: writer.socket.statuses(NAME) == [True, False, True, True])
        stored = await hub.store.load("acme", NAME)
        assert len(stored.updates) == 3
        # the reader got each update once, the re-sent one included
        replay = Deliveries().replay(update_payloads(reader.socket.received, NAME))
        assert replay.record == {"k0": 0, "k1": 1, "k2": 2} and replay.duplicates == 0
        assert hub.rooms[("acme", NAME)].doc.get("record", type=Map).to_py() == replay.record
        for conn in (writer, reader, late):
            await conn.finish()
