"""Real Redis for tests: the shared server, with a key prefix per test, and private servers a test may stop.

The shared server comes from ``FIELDSYNC_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``); when it
cannot be reached the tests that need it fail and say so, never skip. Fault tests start their own
``redis-server`` on a free port in a temporary directory (``RedisServer``) and stop it at will, never the
shared one.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.hub import free_port

REDIS_URL_ENV = "FIELDSYNC_TEST_REDIS_URL"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
SHARED_URL = os.environ.get(REDIS_URL_ENV, DEFAULT_REDIS_URL)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0]) if url.count(":") > 1 else 6379


class RedisServer:
    """``redis-server`` on a free port, without persistence, logging to its directory; stopped and started at will."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is required (bin/services installs it)", pytrace=False)
        self.binary = binary
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        with open(self.workdir / "redis.log", "ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", str(self.workdir)],
                stdout=log, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while not _answers(self.port):
            if time.monotonic() > deadline or self.process.poll() is not None:
                pytest.fail(f"redis-server did not start on port {self.port} (see {self.workdir / 'redis.log'})",
                            pytrace=False)
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A private Redis of this test's own, started; stopped afterwards."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def shared_redis_url() -> str:
    """The shared Redis server; the session fails loudly when it does not answer."""
    if not _answers(_port(SHARED_URL)):
        pytest.fail(f"Redis is required and not answering at {SHARED_URL}. Start it with `bin/services` or set "
                    f"{REDIS_URL_ENV}.", pytrace=False)
    return SHARED_URL


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix of this test's own, so tests sharing one Redis never hear each other."""
    return f"fieldsync-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def shared_redis_prefix(shared_redis_url: str) -> str:
    """A key prefix of this test's own on the shared Redis (which must answer)."""
    return f"fieldsync:test:{uuid.uuid4().hex[:12]}:"
