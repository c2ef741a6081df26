"""``bin/cluster N``: N hub nodes on the local Postgres and Redis, behind one round-robin port.

For trying the production shape on one machine: every node runs ``fieldsync serve`` on its own port
(``--base-port`` + 1, + 2, ...), all on one Postgres database (created if missing) and one Redis, and
``server.proxy.RoundRobinProxy`` listens on ``--port`` for clients that take one URL. Nodes log to
``<workdir>/node-<i>.log``. Ctrl-C stops the proxy, then each node gracefully (SIGTERM).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from server.proxy import RoundRobinProxy

DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/fieldsync"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bin/cluster", description=__doc__.splitlines()[0])
    parser.add_argument("nodes", type=int, nargs="?", default=3, help="how many hub nodes (default 3)")
    parser.add_argument("--port", type=int, default=8765, help="the round-robin port clients use (default 8765)")
    parser.add_argument("--base-port", type=int, default=8800, help="node i listens on base-port + i (default 8800)")
    parser.add_argument("--database-url", default=os.environ.get("FIELDSYNC_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--redis-url", default=os.environ.get("FIELDSYNC_REDIS_URL", DEFAULT_REDIS_URL))
    parser.add_argument("--workdir", type=Path, default=Path("cluster"), help="logs and the development secret")
    args = parser.parse_args(argv)
    if not 1 <= args.nodes <= 32:
        parser.error("nodes must be between 1 and 32")
    if make_url_backend(args.database_url) != "postgresql":
        parser.error("the nodes of a cluster share one Postgres database: --database-url must be postgresql+asyncpg://")
    return args


def make_url_backend(url: str) -> str:
    try:
        return make_url(url).get_backend_name()
    except ArgumentError:
        return ""


async def ensure_database(url: str) -> None:
    """Create the Postgres database of ``url`` when it does not exist yet (the nodes migrate it)."""
    target = make_url(url)
    admin = target.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    conn = await asyncpg.connect(admin, timeout=10)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", target.database):
            await conn.execute(f'CREATE DATABASE "{target.database}"')
    finally:
        await conn.close()


def start_node(index: int, port: int, args: argparse.Namespace) -> subprocess.Popen[bytes]:
    env = dict(os.environ)  # other FIELDSYNC_* settings apply to every node
    env.update(FIELDSYNC_PORT=str(port), FIELDSYNC_DATABASE_URL=args.database_url, FIELDSYNC_REDIS_URL=args.redis_url)
    log = open(args.workdir / f"node-{index}.log", "ab")  # noqa: SIM115 - the node owns it for its lifetime
    return subprocess.Popen([sys.executable, "-m", "server", "serve"], cwd=args.workdir, env=env, stdout=log,
                            stderr=subprocess.STDOUT)


def wait_ready(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    return False


async def run(args: argparse.Namespace) -> int:
    args.workdir.mkdir(parents=True, exist_ok=True)
    try:
        await ensure_database(args.database_url)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, ArgumentError, TimeoutError) as exc:
        print(f"cluster: cannot prepare the database of {make_url(args.database_url).render_as_string()} "
              f"({type(exc).__name__}: {exc}); is Postgres running (bin/services)?", file=sys.stderr)
        return 2
    ports = [args.base_port + i + 1 for i in range(args.nodes)]
    nodes = [start_node(i + 1, port, args) for i, port in enumerate(ports)]  # all at once: one migrates
    try:
        for i, (port, node) in enumerate(zip(ports, nodes), start=1):
            if not await asyncio.to_thread(wait_ready, port, node):
                print(f"cluster: node {i} did not become ready; see {args.workdir}/node-{i}.log", file=sys.stderr)
                return 1
        proxy = RoundRobinProxy([("127.0.0.1", port) for port in ports], port=args.port)
        await proxy.start()
        print(f"cluster: {args.nodes} nodes on ports {ports[0]}-{ports[-1]}; clients use "
              f"ws://127.0.0.1:{proxy.port}/sync (Ctrl-C stops)", file=sys.stderr)
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        await stop.wait()
        await proxy.close()
        return 0
    finally:
        for node in nodes:
            if node.poll() is None:
                node.send_signal(signal.SIGTERM)
        for node in nodes:
            try:
                node.wait(20)
            except subprocess.TimeoutExpired:
                node.kill()


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(run(parse(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
