"""A real hub process for end-to-end tests: ``python -m server serve`` on a free port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from server.auth import mint_token
from tests.support.inproc import OPEN_ACCESS_FILE

TEST_SECRET = "fieldsync-test-secret-0123456789abcdef-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class HubProcess:
    """Starts, kills and restarts one hub process on a fixed port and database.

    ``jwt_secret=None`` starts it as ``bin/hub`` does on a fresh clone: in development mode without
    ``FIELDSYNC_JWT_SECRET``, so it keeps a generated secret in ``workdir/fieldsync.secret`` (``token`` does not
    apply then: tokens come from ``fieldsync token`` run in ``workdir``).
    """

    def __init__(self, workdir: Path, database_url: str, env: dict[str, str] | None = None, *,
                 jwt_secret: str | None = TEST_SECRET) -> None:
        self.workdir = workdir
        self.database_url = database_url
        self.jwt_secret = jwt_secret
        self.port = free_port()
        self.extra_env = env or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.log = workdir / "hub.log"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/sync"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def token(self, sub: str = "u1", tenant: str = "acme", device: str = "d1",
              roles: Sequence[str] = ("technician",), ttl_seconds: int = 3600, teams: Sequence[str] = ()) -> str:
        return mint_token(TEST_SECRET, sub=sub, tenant=tenant, device=device, roles=list(roles), teams=list(teams),
                          ttl_seconds=ttl_seconds)

    def start(self, timeout: float = 30) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDSYNC_") or k.startswith("FIELDSYNC_TEST_")}
        env.update(
            FIELDSYNC_PORT=str(self.port),
            FIELDSYNC_DATABASE_URL=self.database_url,
            FIELDSYNC_LOG_LEVEL="warning",
            # tests of anything but access run under rules that let every writer role reach every record;
            # the access tests pass the hub's own default file (DEFAULT_ACCESS_FILE) in ``env``
            FIELDSYNC_ACCESS_FILE=str(OPEN_ACCESS_FILE),
        )
        if self.jwt_secret is not None:
            env["FIELDSYNC_JWT_SECRET"] = self.jwt_secret
        env.update(self.extra_env)  # may override the defaults above ("" unsets an optional variable)
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "server", "serve"], cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"hub exited with {self.process.returncode}:\n{self.log.read_text()[-4000:]}")
            try:
                with urllib.request.urlopen(f"{self.http_url}/readyz", timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"hub not ready in {timeout} s:\n{self.log.read_text()[-4000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def terminate(self, timeout: float = 20) -> int:
        """SIGTERM and wait; returns the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def restart(self) -> None:
        self.start()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def marked_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """Extra hub environment from a ``@pytest.mark.hub_env(FIELDSYNC_X="...")`` marker."""
    marker = request.node.get_closest_marker("hub_env")
    return {key: str(value) for key, value in marker.kwargs.items()} if marker else {}


@pytest.fixture
def hub(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[HubProcess]:
    """A hub process on a fresh SQLite file."""
    process = HubProcess(tmp_path, f"sqlite+aiosqlite:///{tmp_path}/hub.db", marked_env(request))
    process.start()
    yield process
    process.stop()


@pytest.fixture
def hub_on_store(tmp_path: Path, store_url: str, request: pytest.FixtureRequest) -> Iterator[HubProcess]:
    """A hub process on each store: a fresh SQLite file and a fresh Postgres database."""
    process = HubProcess(tmp_path, store_url, marked_env(request))
    process.start()
    yield process
    process.stop()
