"""The token check of revoked devices: refuses them, and refuses everyone until the revocations were read."""

from __future__ import annotations

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
