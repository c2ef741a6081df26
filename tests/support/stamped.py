"""A stamped write over the raw protocol client, as the device SDK makes it."""

from __future__ import annotations

from conflict import Hlc, write_field
from tests.support.client import HubClient


async def write(client: HubClient, name: str, fields: dict[str, object], *, clock: Hlc, user: str,
                roles: tuple[str, ...]) -> bool:
    """Write ``fields`` the way the device SDK does (stamped), as one update; whether the hub stored it."""
    doc = client.docs[name]
    updates: list[bytes] = []
    subscription = doc.observe(lambda event: updates.append(event.update))
    with doc.transaction():
        for field, value in fields.items():
            write_field(doc, field, value, clock=clock, user=user, roles=roles)
    doc.unobserve(subscription)
    return await client.send_update(name, updates[0])
