"""The review queue's intake of refused updates, and the order of what a connection answers about them."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sync.access import Principal
from sync.errors import AuthError, StoreError
from sync.protocol import Stateless, SyncStatus, decode_frame
from sync.protocol.control import decode_control
from sync.connection.replies import Replies
from sync.referee.rejections import Kept, Rejections
from sync.store import ConflictRecord, SqlStore

TABLET = Principal(user="u", tenant="acme", device="tablet-1", roles=frozenset({"technician"}))
PHONE = Principal(user="u", tenant="acme", device="phone-1", roles=frozenset({"technician"}))
NAME = "work_order:WO-1"


class Clock:
    def __init__(self) -> None:
        self.now = 7200.0

    def __call__(self) -> float:
        return self.now


async def test_each_device_has_its_share_per_hour_and_a_new_hour_gives_it_again(store: SqlStore) -> None:
    clock, recorded = Clock(), []
    rejections = Rejections(store, per_hour=3, on_recorded=recorded.extend, clock=clock)
    kept = [await rejections.keep(TABLET, NAME, bytes([1, i])) for i in range(5)]
    assert kept == [Kept.STORED] * 3 + [Kept.OVER_LIMIT] * 2
    assert await rejections.keep(PHONE, NAME, b"\x01\x09") is Kept.STORED, "another device: its own share"
    stored = [row for row in await store.list_conflicts("acme", name=NAME) if row.kind == "rejected"]
    assert len(stored) == len(recorded) == 4
    assert rejections.prune() == 0, "this hour's counts stay"
    clock.now += 3600
    assert rejections.prune() == 2
    assert await rejections.keep(TABLET, NAME, b"\x01\x20") is Kept.STORED


class DownStore:
    async def save_conflicts(self, rows: Sequence[ConflictRecord]) -> None:
        raise StoreError("database is down")


async def test_a_store_that_cannot_take_the_update_is_said_so() -> None:
    recorded: list[ConflictRecord] = []
    rejections = Rejections(DownStore(), per_hour=3, on_recorded=recorded.extend)  # type: ignore[arg-type]
    assert await rejections.keep(TABLET, NAME, b"\x01") is Kept.STORE_FAILED
    assert recorded == []


async def test_a_refusal_settled_later_keeps_its_notice_in_the_order_of_the_statuses() -> None:
    """A client pairs each SyncStatus(false) with the next notice: a later refusal must not overtake."""
    sent: list[bytes] = []
    replies = Replies(sent.append)
    later: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    replies.ack(NAME, later)
    replies.ack(NAME, False, AuthError("readonly", "this token may only read the document"))
    assert sent == [], "nothing overtakes the first status"
    later.set_exception(AuthError("write_rejected", "kept for review"))
    await asyncio.sleep(0)
    frames = [decode_frame(data) for data in sent]
    answers = [("status", f.applied) if isinstance(f, SyncStatus) else ("notice", decode_control(f.payload).code)
               for f in frames if isinstance(f, (SyncStatus, Stateless))]
    assert answers == [("notice", "write_rejected"), ("status", False), ("status", False), ("notice", "readonly")]
