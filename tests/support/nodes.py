"""Several hub processes on one database and one Redis (a key prefix of the test's own): a cluster."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from pycrdt import Doc, Map

from tests.support.client import HubClient
from tests.support.hub import HubProcess

#: Devices in these tests write far faster than a person; the per-device limits are not what is tested.
UNLIMITED = {"FIELDSYNC_MESSAGES_PER_SECOND": "1000000", "FIELDSYNC_MESSAGE_BURST": "1000000"}


def make_nodes(tmp_path: Path, count: int, database_url: str, redis_url: str, prefix: str,
               **env: str) -> list[HubProcess]:
    nodes = []
    for i in range(count):
        workdir = tmp_path / f"node{i}"
        workdir.mkdir(parents=True, exist_ok=True)
        nodes.append(HubProcess(workdir, database_url, {
            "FIELDSYNC_REDIS_URL": redis_url, "FIELDSYNC_REDIS_PREFIX": prefix, **UNLIMITED, **env}))
    return nodes


def start_all(nodes: list[HubProcess]) -> None:
    """Start every node at the same moment; returns once each is ready."""
    with ThreadPoolExecutor(len(nodes)) as pool:
        for future in [pool.submit(node.start, 60) for node in nodes]:
            future.result()


@contextmanager
def running(nodes: list[HubProcess]) -> Iterator[list[HubProcess]]:
    try:
        start_all(nodes)
        yield nodes
    finally:
        for node in nodes:
            node.stop()


def readiness_body(node: HubProcess) -> dict[str, str]:
    """What the node's ``/readyz`` says, whatever its status."""
    try:
        with urllib.request.urlopen(f"{node.http_url}/readyz", timeout=2) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return json.loads(exc.read())


def readiness(node: HubProcess) -> int:
    """The status of the node's ``/readyz`` (0 when it does not answer)."""
    try:
        with urllib.request.urlopen(f"{node.http_url}/readyz", timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return 0


async def room_record(node: HubProcess, name: str, device: str = "checker") -> dict[str, object]:
    """What ``node`` serves for ``name`` (its room, loaded or reloaded), as the record map."""
    async with HubClient.connect(node.ws_url) as client:
        doc = await client.open(name, node.token(device=device), doc=Doc())
        return doc.get("record", type=Map).to_py()
