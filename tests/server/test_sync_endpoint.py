"""The served app: /sync sockets go to the hub directly, everything else to the Litestar app."""

from __future__ import annotations

import urllib.request

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from sync.protocol import Authenticated, AuthToken, decode_frame, encode_frame
from tests.support.hub import HubProcess


@pytest.mark.parametrize("path", ["/sync", "/sync/"])
async def test_sync_sockets_reach_the_hub(hub: HubProcess, path: str) -> None:
    url = hub.ws_url.rsplit("/sync", 1)[0] + path
    async with websockets.connect(url) as socket:
        await socket.send(encode_frame(AuthToken("work_order:WO-1", hub.token())))
        assert decode_frame(await socket.recv()) == Authenticated("work_order:WO-1", "read-write")


async def test_a_socket_on_another_path_is_refused(hub: HubProcess) -> None:
    url = hub.ws_url.rsplit("/sync", 1)[0] + "/elsewhere"
    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(url):
            pass
    assert refused.value.response.status_code == 403, "no socket route but /sync: the handshake is refused"


def test_http_routes_are_served_through_the_wrapper(hub: HubProcess) -> None:
    with urllib.request.urlopen(f"{hub.http_url}/healthz", timeout=5) as response:
        assert response.status == 200
