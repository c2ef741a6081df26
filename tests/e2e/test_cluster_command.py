"""``bin/cluster``: nodes on one Postgres and Redis behind one port; an edit through one reaches the other."""

from __future__ import annotations

import os
import signal
import socket
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
    port, base = free_port(), free_ports_in_a_row(2)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDSYNC_")}
    env["FIELDSYNC_REDIS_PREFIX"] = redis_prefix
    command = [sys.executable, "-m", "server.cluster", "2", "--port", str(port), "--base-port", str(base),
               "--database-url", postgres_server.url(database), "--redis-url", shared_redis_url,
               "--workdir", str(tmp_path / "cluster")]
    # a session of its own: a failing test kills the command and the nodes it started, leaving nothing behind
    process = subprocess.Popen(command, cwd=REPO, env=env, stderr=subprocess.PIPE, text=True, start_new_session=True)
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
                                                   roles=["supervisor"], ttl_seconds=600))
            assert await first.set_fields(name, {"phase": "IN_PROGRESS"})
            await second.wait_for(name, lambda doc: doc.get("record", type=Map).to_py() == {"phase": "IN_PROGRESS"})
        process.send_signal(signal.SIGINT)
        assert process.wait(60) == 0
        logs = [(tmp_path / "cluster" / f"node-{i}.log").read_text() for i in (1, 2)]
        assert sum("database migrated to the newest schema" in text for text in logs) == 1
        assert not any("Traceback" in text for text in logs), "the nodes stopped cleanly"
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # the nodes too, whatever state the command is in
        except ProcessLookupError:
            pass
        process.wait(10)
        run_sync(postgres_server.drop(database))


def run_cluster(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDSYNC_")}
    return subprocess.run([sys.executable, "-m", "server.cluster", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_an_unreachable_postgres_is_reported_without_starting_nodes(tmp_path: Path) -> None:
    done = run_cluster("2", "--database-url", "postgresql+asyncpg://postgres@127.0.0.1:1/fieldsync",
                       "--workdir", str(tmp_path))
    assert done.returncode == 2
    assert "cluster: cannot prepare the database" in done.stderr and "Traceback" not in done.stderr
    assert not list(tmp_path.glob("node-*.log"))



def free_ports_in_a_row(count: int) -> int:
    """A port such that it and the ``count - 1`` after it are free now (the nodes take consecutive ports)."""
    for _ in range(50):
        base = free_port()
        sockets = []
        try:
            for offset in range(count):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", base + offset))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise AssertionError("no free run of ports")

@pytest.mark.parametrize("args", [("0",), ("33",), ("2", "--database-url", "sqlite+aiosqlite:///x.db")])
def test_bad_arguments_are_refused(tmp_path: Path, args: tuple[str, ...]) -> None:
    done = run_cluster(*args, "--workdir", str(tmp_path))
    assert done.returncode == 2 and "error:" in done.stderr


def test_a_node_that_cannot_start_stops_the_cluster_with_its_log_named(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    database = f"fieldsync_cluster_{uuid.uuid4().hex[:12]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDSYNC_")}
    env["FIELDSYNC_SCOPES_FILE"] = str(tmp_path / "missing.toml")
    try:
        done = subprocess.run([sys.executable, "-m", "server.cluster", "2", "--port", str(free_port()),
                               "--database-url", postgres_server.url(database), "--workdir", str(tmp_path)],
                              cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    finally:
        run_sync(postgres_server.drop(database))
    assert done.returncode == 1
    assert "did not become ready; see" in done.stderr and "node-1.log" in done.stderr
    assert "FIELDSYNC_SCOPES_FILE" in (tmp_path / "node-1.log").read_text()
