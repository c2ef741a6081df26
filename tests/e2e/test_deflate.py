"""``FIELDSYNC_WS_DEFLATE``: ``/sync`` negotiates permessage-deflate with a client that offers it when on, never
when off, and a client that does not offer it is served the same either way."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pycrdt import Doc, Map
from websockets.asyncio.client import connect

from tests.support.client import HubClient
from tests.support.hub import HubProcess

NAME = "work_order:WO-9"


@pytest.fixture(params=["on", "off"])
def hub(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[HubProcess]:
    process = HubProcess(tmp_path, f"sqlite+aiosqlite:///{tmp_path}/hub.db", {"FIELDSYNC_WS_DEFLATE": request.param})
    process.start()
    yield process
    process.stop()


def deflate_on(hub: HubProcess) -> bool:
    return hub.extra_env["FIELDSYNC_WS_DEFLATE"] == "on"


def field(doc: Doc, key: str) -> object:
    return doc.get("record", type=Map).get(key)


async def test_an_offer_of_permessage_deflate_is_accepted_only_when_it_is_on(hub: HubProcess) -> None:
    async with connect(hub.ws_url, compression="deflate") as socket:
        assert "permessage-deflate" in (socket.request.headers.get("Sec-WebSocket-Extensions") or "")
        accepted = socket.response.headers.get("Sec-WebSocket-Extensions")
    if deflate_on(hub):
        assert accepted is not None and accepted.startswith("permessage-deflate")
    else:
        assert accepted is None


@pytest.mark.parametrize("compression", ["deflate", None], ids=["offers", "does-not-offer"])
async def test_a_client_syncs_whether_it_offers_deflate_or_not(hub: HubProcess, compression: str | None) -> None:
    """Writes of one client (compressed or not) reach a peer of the other kind, live and from the store."""
    other = None if compression else "deflate"
    token = hub.token()
    big = "x" * 20_000  # a frame large enough that compression matters, and well under the frame limit
    async with HubClient.connect(hub.ws_url, compression=compression) as writer, \
            HubClient.connect(hub.ws_url, compression=other) as reader:
        negotiated = writer.socket.response.headers.get("Sec-WebSocket-Extensions")
        assert (negotiated is not None) == (deflate_on(hub) and compression is not None)
        await writer.open(NAME, token)
        await reader.open(NAME, hub.token(sub="u2", device="d2"))
        assert await writer.set_fields(NAME, {"phase": "IN_PROGRESS", "summary": big})
        doc = await reader.wait_for(NAME, lambda d: field(d, "phase") == "IN_PROGRESS")
        assert field(doc, "summary") == big
    async with HubClient.connect(hub.ws_url, compression=compression) as late:
        await late.open(NAME, hub.token(sub="u3", device="d3"))
        await late.wait_for(NAME, lambda d: field(d, "summary") == big)
