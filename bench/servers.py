"""The servers under test, each a subprocess on a free loopback port, always stopped afterwards.

- ``fieldsync-sqlite`` / ``fieldsync-postgres``: ``python -m server serve`` on a fresh SQLite file in a
  temporary directory, or a fresh Postgres database created for the run and dropped after it.
- ``pycrdt-websocket-memory`` / ``pycrdt-websocket-sqlite``: ``bench/pycrdt_server.py``.
- ``raw-relay``: ``bench/relay.py``.

Figures of the server process come from ``/proc``: ``VmRSS`` and ``VmHWM`` (peak) from ``status``, CPU
seconds from ``utime + stime`` in ``stat``. A database server's own processes (Postgres) are not counted.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from server.auth import mint_token

FIELDSYNC_SQLITE = "fieldsync-sqlite"
FIELDSYNC_POSTGRES = "fieldsync-postgres"
PYCRDT_MEMORY = "pycrdt-websocket-memory"
PYCRDT_SQLITE = "pycrdt-websocket-sqlite"
RELAY = "raw-relay"
ALL_SERVERS = (FIELDSYNC_SQLITE, FIELDSYNC_POSTGRES, PYCRDT_MEMORY, PYCRDT_SQLITE, RELAY)
#: The hub with FIELDSYNC_METRICS=off, named with --servers only: what metrics cost, in the same run.
METRICS_OFF = {"fieldsync-sqlite-metrics-off": FIELDSYNC_SQLITE, "fieldsync-postgres-metrics-off": FIELDSYNC_POSTGRES}
#: The hub with FIELDSYNC_WS_DEFLATE=on and clients offering permessage-deflate, named with --servers only: what
#: compression costs, in the same run. The plain labels' clients never offer it, whatever the hub's default.
DEFLATE = {"fieldsync-sqlite-deflate": FIELDSYNC_SQLITE, "fieldsync-postgres-deflate": FIELDSYNC_POSTGRES}
#: Each variant label: the hub it varies, and what it sets.
VARIANTS = {**METRICS_OFF, **DEFLATE}
_VARIANT_ENV = {**{label: {"FIELDSYNC_METRICS": "off"} for label in METRICS_OFF},
                **{label: {"FIELDSYNC_WS_DEFLATE": "on"} for label in DEFLATE}}
KNOWN_SERVERS = (*ALL_SERVERS, *VARIANTS)
FIELDSYNC = (FIELDSYNC_SQLITE, FIELDSYNC_POSTGRES, *VARIANTS)

POSTGRES_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
JWT_SECRET = "fieldsync-bench-secret-0123456789abcdef-0123456789"
TENANT = "bench"

#: Hub settings for every benchmark run. The rate limits are raised so that the benchmark measures the
#: hub rather than its per-device limiter, and so is the limit of sockets one address may have waiting for
#: their first Auth (the generator opens up to 100 at once, all from 127.0.0.1); documents unload 2 s after
#: their last subscriber leaves (30 s by default) so the cold catch-up and the reconnect storm need not wait
#: half a minute per run.
HUB_ENV = {
    "FIELDSYNC_MESSAGES_PER_SECOND": "1000000",
    "FIELDSYNC_MESSAGE_BURST": "1000000",
    "FIELDSYNC_MAX_UNAUTHENTICATED_PER_ADDRESS": "1000000",
    "FIELDSYNC_IDLE_UNLOAD_SECONDS": "2",
    "FIELDSYNC_LOG_LEVEL": "warning",
}
IDLE_UNLOAD_SECONDS = float(HUB_ENV["FIELDSYNC_IDLE_UNLOAD_SECONDS"])
HUB_TENANT_ROLES = ("supervisor",)  # reaches every record under the default access rules: fan-out is measured, not access

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_PR_SET_PDEATHSIG = 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    # a server never outlives the benchmark, even when the benchmark itself is killed
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Target:
    """What a load-generator process needs to reach a server (picklable)."""

    label: str
    dialect: str  # "hocuspocus" or "y-websocket"
    base_url: str
    secret: str | None = None
    sync: bool = True  # False for the relay: no y-protocol handshake, just its hello
    deflate: bool = False  # clients offer permessage-deflate (the server decides whether it is used)

    def url(self, document: str) -> str:
        """The socket URL for ``document`` (y-websocket names the document by the path)."""
        if self.dialect == "hocuspocus":
            return self.base_url
        return f"{self.base_url}/{document}"

    def token(self, device: str) -> str:
        assert self.secret is not None
        return mint_token(self.secret, sub=f"user-{device}", tenant=TENANT, device=device,
                          roles=list(HUB_TENANT_ROLES), ttl_seconds=24 * 3600)


@dataclass
class Server:
    """One running server process."""

    label: str
    process: subprocess.Popen[bytes]
    port: int
    workdir: Path
    target: Target
    database_url: str | None = None
    ystore_path: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    def _status(self, key: str) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
        raise RuntimeError(f"{key} not in /proc/{self.pid}/status")

    def rss(self) -> int:
        """Resident set size in bytes."""
        return self._status("VmRSS")

    def peak_rss(self) -> int:
        """Largest resident set size since the process started, in bytes."""
        return self._status("VmHWM")

    def cpu_seconds(self) -> float:
        """User plus system CPU time of the process so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime (fields 14 and 15)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM (the hub commits and acknowledges what it received), SIGKILL if it hangs; idempotent."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def log_tail(self, size: int = 3000) -> str:
        path = self.workdir / "server.log"
        return path.read_text(errors="replace")[-size:] if path.exists() else ""


def _spawn(command: list[str], workdir: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with open(workdir / "server.log", "ab") as log:
        return subprocess.Popen(command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT,
                                preexec_fn=_die_with_parent)


def _wait_ready(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.alive():
            raise RuntimeError(f"{server.label} exited with {server.process.returncode}:\n{server.log_tail()}")
        try:
            if server.label in FIELDSYNC:
                with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/readyz", timeout=1) as response:
                    if response.status == 200:
                        return
            else:
                with socket.create_connection(("127.0.0.1", server.port), timeout=1):
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{server.label} not ready in {timeout:g} s:\n{server.log_tail()}")


async def _postgres(statement: str) -> None:
    conn = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=10)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def postgres_available() -> str | None:
    """None when the Postgres server answers, else why not."""
    try:
        asyncio.run(_postgres("SELECT 1"))
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, asyncio.TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def store_of(label: str) -> str:
    """The fieldsync server a label runs on the same store as (itself, or what a variant label varies)."""
    return VARIANTS.get(label, label)


@contextmanager
def _database(label: str, workdir: Path) -> Iterator[str | None]:
    label = store_of(label)
    if label == FIELDSYNC_SQLITE:
        yield f"sqlite+aiosqlite:///{workdir}/hub.db"
    elif label == FIELDSYNC_POSTGRES:
        name = f"fieldsync_bench_{uuid.uuid4().hex[:12]}"
        asyncio.run(_postgres(f'CREATE DATABASE "{name}"'))
        try:
            base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
            yield f"{base}/{name}"
        finally:
            asyncio.run(_postgres(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        yield None


def _environment(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDSYNC_")}
    env.update(extra)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parent.parent), env.get("PYTHONPATH")]))
    return env


@contextmanager
def running(label: str, *, timeout: float = 60) -> Iterator[Server]:
    """Start server ``label`` on fresh storage; stop it (and drop its database) however the block ends."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{label}-") as tmp, _database(label, Path(tmp)) as database_url:
        workdir = Path(tmp)
        port = free_port()
        python = sys.executable
        if label in FIELDSYNC:
            assert database_url is not None
            env = _environment({**HUB_ENV, "FIELDSYNC_PORT": str(port), "FIELDSYNC_DATABASE_URL": database_url,
                                "FIELDSYNC_JWT_SECRET": JWT_SECRET, "FIELDSYNC_SECRET_FILE": str(workdir / "secret"),
                                **_VARIANT_ENV.get(label, {})})
            command = [python, "-m", "server", "serve"]
            target = Target(label, "hocuspocus", f"ws://127.0.0.1:{port}/sync", secret=JWT_SECRET,
                            deflate=label in DEFLATE)
        elif label in (PYCRDT_MEMORY, PYCRDT_SQLITE):
            env = _environment({})
            command = [python, "-m", "bench.pycrdt_server", "--port", str(port)]
            if label == PYCRDT_SQLITE:
                command += ["--store", "sqlite", "--db", str(workdir / "ystore.db")]
            target = Target(label, "y-websocket", f"ws://127.0.0.1:{port}")
        elif label == RELAY:
            env = _environment({})
            command = [python, "-m", "bench.relay", "--port", str(port)]
            target = Target(label, "y-websocket", f"ws://127.0.0.1:{port}", sync=False)
        else:
            raise ValueError(f"unknown server {label!r}")
        process = _spawn(command, workdir, env)
        server = Server(label, process, port, workdir, target, database_url=database_url,
                        ystore_path=workdir / "ystore.db" if label == PYCRDT_SQLITE else None)
        try:
            _wait_ready(server, timeout)
            yield server
        finally:
            server.stop()


REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


@contextmanager
def cluster(count: int, *, timeout: float = 60) -> Iterator[list[Server]]:
    """``count`` fieldsync nodes on one fresh Postgres database and the Redis bus (a fresh key prefix)."""
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp, \
            _database(FIELDSYNC_POSTGRES, Path(tmp)) as database_url:
        assert database_url is not None
        prefix = f"bench-{uuid.uuid4().hex[:12]}"
        servers: list[Server] = []
        try:
            for i in range(count):
                workdir = Path(tmp) / f"node{i}"
                workdir.mkdir()
                port = free_port()
                env = _environment({**HUB_ENV, "FIELDSYNC_PORT": str(port), "FIELDSYNC_DATABASE_URL": database_url,
                                    "FIELDSYNC_JWT_SECRET": JWT_SECRET, "FIELDSYNC_REDIS_URL": REDIS_URL,
                                    "FIELDSYNC_REDIS_PREFIX": prefix,
                                    "FIELDSYNC_SECRET_FILE": str(workdir / "secret")})
                process = _spawn([sys.executable, "-m", "server", "serve"], workdir, env)
                target = Target(FIELDSYNC_POSTGRES, "hocuspocus", f"ws://127.0.0.1:{port}/sync", secret=JWT_SECRET)
                servers.append(Server(FIELDSYNC_POSTGRES, process, port, workdir, target, database_url=database_url))
            for server in servers:
                _wait_ready(server, timeout)
            yield servers
        finally:
            for server in servers:
                server.stop()


class ServerUsage:
    """The server's CPU seconds and peak RSS over the timed part of a run: ``run_workers`` start/finish hooks."""

    def __init__(self, server: Server) -> None:
        self._server = server
        self._cpu_at_start = 0.0
        self.cpu_s = 0.0
        self.peak_rss_mb = 0.0

    def started(self, _: float) -> None:
        self._cpu_at_start = self._server.cpu_seconds()

    def finished(self, _: object) -> None:
        self.cpu_s = self._server.cpu_seconds() - self._cpu_at_start
        self.peak_rss_mb = self._server.peak_rss() / 2**20
