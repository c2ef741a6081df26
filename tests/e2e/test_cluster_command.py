"""``bin/cluster``: nodes on one Postgres and Redis behind one port; an edit through one reaches the other."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from pycrdt import Map

from server.auth import mint_token
from tests.support.client import HubClient
from tests.support.databases import PostgresServer, run_sync
from tests.support.hub import free_port

pytestmark = pytest.mark.postgres

REPO = Path(__file__).resolve().parents[2]


async def test_two_nodes_behind_one_port(tmp_path: Path, postgres_server: PostgresServer, shared_redis_url: str,
                                         redis_prefix: str) -> None:
    database = f"fieldsync_cluster_{uuid.uuid4().hex[:12]}"
    port, base = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDSYNC_")}
    env["FIELDSYNC_REDIS_PREFIX"] = redis_prefix
    command = [sys.executable, "-m", "server.cluster", "2", "--port", str(port), "--base-port", str(base),
               "--database-url", postgres_server.url(database), "--redis-url", shared_redis_url,
               "--workdir", str(tmp_path / "cluster")]
    process = subprocess.Popen(command, cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        deadline = time.monotonic() + 60
        line = ""
        while "clients use" not in line:
            assert time.monotonic() < deadline and process.poll() is None, f"cluster did not start: {line}"
            line = process.stderr.readline()
        assert f"ws://127.0.0.1:{port}/sync" in line
        secret = (tmp_path / "cluster" / "fieldsync.secret").read_text().strip()
        url = f"ws://127.0.0.1:{port}/sync"
        name = "work_order:WO-9"
        async with HubClient.connect(url) as first, HubClient.connect(url) as second:
            for i, client in enumerate((first, second)):
                await client.open(name, mint_token(secret, sub="u1", tenant="acme", device=f"d{i}",
                                                   roles=["technician"], ttl_seconds=600))
            assert await first.set_fields(name, {"status": "IN_PROGRESS"})
            await second.wait_for(name, lambda doc: doc.get("record", type=Map).to_py() == {"status": "IN_PROGRESS"})
        process.send_signal(signal.SIGINT)
        assert process.wait(60) == 0
        logs = [(tmp_path / "cluster" / f"node-{i}.log").read_text() for i in (1, 2)]
        assert sum("database migrated to the newest schema" in text for text in logs) == 1
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        run_sync(postgres_server.drop(database))
