"""The token check of revoked devices: refuses them, and refuses everyone until the revocations were read."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from sync.access import Principal
from sync.admin import RevocationCheck, Revocations
from sync.errors import AuthError, StoreError
from sync.store import DeviceSeen, SqlStore

TABLET = Principal(user="u", tenant="acme", device="tablet-1", roles=frozenset({"technician"}))


class Fixed:
    """A verifier that accepts any token as ``TABLET``."""

    async def verify(self, token: str) -> Principal:
        return TABLET


async def test_until_the_revocations_are_read_no_token_is_accepted(store: SqlStore) -> None:
    unstarted = SqlStore(str(store._url.render_as_string(hide_password=False)))  # noqa: SLF001
    revocations = Revocations(unstarted)
    check = RevocationCheck(Fixed(), revocations)
    assert await revocations.load() is False
    with pytest.raises(StoreError, match="could not be read yet"):
        await check.verify("t")

    revocations = Revocations(store)
    check = RevocationCheck(Fixed(), revocations)
    assert await revocations.load() is True
    assert await check.verify("t") == TABLET
    await store.save_devices([DeviceSeen(tenant="acme", device="tablet-1", user="u", seen_at=datetime.now(UTC))])
    await store.revoke_device("acme", "tablet-1", at=datetime.now(UTC), by="ops")
    restarted = Revocations(store)
    await restarted.load()
    with pytest.raises(AuthError) as refused:
        await RevocationCheck(Fixed(), restarted).verify("t")
    assert refused.value.code == "device_revoked"


class SlowRead:
    """A device store whose reads of the revocations return what was stored when they began, later."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store
        self.release = asyncio.Event()
        self.started = asyncio.Event()

    async def revoked_devices(self) -> list[tuple[str, str]]:
        before = await self._store.revoked_devices()
        self.started.set()
        await self.release.wait()
        return before

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)


@pytest.mark.parametrize("action", ["restore", "revoke"])
async def test_an_action_taken_during_a_read_of_the_store_is_not_undone_by_that_read(store: SqlStore,
                                                                                     action: str) -> None:
    """A read of the revocations that began before a restore (or revoke) here must not take it back."""
    await store.save_devices([DeviceSeen(tenant="acme", device="tablet-1", user="u", seen_at=datetime.now(UTC))])
    if action == "restore":
        await store.revoke_device("acme", "tablet-1", at=datetime.now(UTC), by="ops")
    slow = SlowRead(store)
    revocations = Revocations(slow)  # type: ignore[arg-type]
    slow.release.set()
    await revocations.load()
    slow.release.clear()
    slow.started.clear()

    reading = asyncio.create_task(revocations.follow_store())
    await slow.started.wait()
    if action == "restore":
        await revocations.restore("acme", "tablet-1")
    else:
        await revocations.revoke(Node(), "acme", "tablet-1", by="ops")
    slow.release.set()
    await reading
    assert revocations.is_revoked("acme", "tablet-1") is (action == "revoke")
    await revocations.follow_store()  # the next read sees the store as the action left it
    assert revocations.is_revoked("acme", "tablet-1") is (action == "revoke")


class Node:
    sessions: set[object] = set()
    hooks = None
