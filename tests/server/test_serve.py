"""``fieldsync serve`` and ``migrate`` as a user runs them: real processes, their exit status and stderr.

A start that is refused says so in one line, without a traceback, and changes nothing: no SQLite file,
no migrated tables, no development secret.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.protocol.control import SCOPES_DOCUMENT
from tests.support.client import HubClient
from tests.support.databases import PostgresServer
from tests.support.hub import TEST_SECRET, HubProcess, free_port

ROOT = Path(__file__).resolve().parents[2]


def fieldsync(*args: str, cwd: Path, timeout: float = 60, **variables: str) -> subprocess.CompletedProcess[str]:
    """``python -m server ARGS`` in ``cwd`` with no FIELDSYNC_* variables but ``variables``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDSYNC_")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(variables)
    return subprocess.run([sys.executable, "-m", "server", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The refusal: exit status 2, nothing on stdout, a single ``fieldsync: ...`` line on stderr."""
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("fieldsync: ") and result.stderr.count("\n") == 1, result.stderr
    return result.stderr.strip()


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port another process listens on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_a_taken_port_stops_serve_before_anything_is_written(tmp_path: Path, taken_port: int) -> None:
    result = fieldsync("serve", cwd=tmp_path, FIELDSYNC_PORT=str(taken_port))
    line = one_line(result)
    assert line.startswith(f"fieldsync: cannot listen on 127.0.0.1:{taken_port}: the port is in use")
    assert "FIELDSYNC_PORT" in line and "FIELDSYNC_HOST" in line
    assert list(tmp_path.iterdir()) == [], "neither fieldsync.db nor fieldsync.secret may be created"


@pytest.mark.postgres
def test_a_taken_port_leaves_postgres_unmigrated(tmp_path: Path, taken_port: int, fresh_postgres_url: str) -> None:
    result = fieldsync("serve", cwd=tmp_path, FIELDSYNC_PORT=str(taken_port), FIELDSYNC_DATABASE_URL=fresh_postgres_url,
                       FIELDSYNC_JWT_SECRET=TEST_SECRET)
    assert "FIELDSYNC_PORT" in one_line(result)
    tables = subprocess.run(
        [sys.executable, "-c", "import asyncio, asyncpg, sys\n"
         "async def main():\n"
         "    conn = await asyncpg.connect(sys.argv[1])\n"
         "    print(await conn.fetchval(\"SELECT count(*) FROM pg_tables WHERE schemaname = 'public'\"))\n"
         "    await conn.close()\n"
         "asyncio.run(main())", fresh_postgres_url.replace("postgresql+asyncpg", "postgresql")],
        capture_output=True, text=True, timeout=60,
    )
    assert tables.stdout.strip() == "0", tables.stderr


@pytest.mark.parametrize("command", ["serve", "migrate"])
@pytest.mark.parametrize(
    ("url", "write"),
    [
        ("sqlite:///./hub.db", "write sqlite+aiosqlite:///./hub.db"),
        ("postgresql://postgres@127.0.0.1/fieldsync", "write postgresql+asyncpg://postgres@127.0.0.1/fieldsync"),
    ],
)
def test_a_url_without_the_async_driver_is_one_line(tmp_path: Path, command: str, url: str, write: str) -> None:
    result = fieldsync(command, cwd=tmp_path, FIELDSYNC_DATABASE_URL=url, FIELDSYNC_PORT=str(free_port()))
    assert one_line(result).startswith(f"fieldsync: FIELDSYNC_DATABASE_URL needs the async driver: {write}")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["serve", "migrate"])
def test_an_unreachable_database_names_host_and_port(tmp_path: Path, command: str) -> None:
    port = free_port()
    result = fieldsync(command, cwd=tmp_path, FIELDSYNC_PORT=str(free_port()), FIELDSYNC_JWT_SECRET=TEST_SECRET,
                       FIELDSYNC_DATABASE_URL=f"postgresql+asyncpg://postgres@127.0.0.1:{port}/fieldsync")
    line = one_line(result)
    assert line.startswith(f"fieldsync: cannot reach PostgreSQL at 127.0.0.1:{port}")
    assert "check the host and port in FIELDSYNC_DATABASE_URL" in line


@pytest.mark.postgres
@pytest.mark.parametrize("command", ["serve", "migrate"])
def test_a_missing_database_suggests_createdb(tmp_path: Path, command: str, postgres_server: PostgresServer) -> None:
    url = postgres_server.url("fieldsync_absent_db")
    result = fieldsync(command, cwd=tmp_path, FIELDSYNC_PORT=str(free_port()), FIELDSYNC_JWT_SECRET=TEST_SECRET,
                       FIELDSYNC_DATABASE_URL=url)
    line = one_line(result)
    assert "database 'fieldsync_absent_db' does not exist" in line
    assert "create it with: createdb -h " in line and line.endswith(" fieldsync_absent_db")


def test_a_redis_url_with_sqlite_is_refused_at_start(tmp_path: Path) -> None:
    result = fieldsync("serve", cwd=tmp_path, FIELDSYNC_PORT=str(free_port()),
                       FIELDSYNC_REDIS_URL="redis://127.0.0.1:6379/0")
    line = one_line(result)
    assert line.startswith("fieldsync: FIELDSYNC_REDIS_URL is for several hub nodes, and SQLite is single-node")
    assert "unset FIELDSYNC_REDIS_URL" in line
    assert list(tmp_path.iterdir()) == []


def test_migrate_creates_the_sqlite_database(tmp_path: Path) -> None:
    result = fieldsync("migrate", cwd=tmp_path, FIELDSYNC_DATABASE_URL="sqlite+aiosqlite:///./hub.db")
    assert result.returncode == 0, result.stderr
    assert "database migrated to the newest schema" in result.stderr
    assert (tmp_path / "hub.db").exists()


async def test_development_prints_the_secret_file_and_a_command_that_mints_a_token(tmp_path: Path) -> None:
    hub = HubProcess(tmp_path, f"sqlite+aiosqlite:///{tmp_path}/hub.db", {"FIELDSYNC_JWT_SECRET": ""})
    hub.start()
    try:
        log = hub.log.read_text()
        secret_file = tmp_path / "fieldsync.secret"
        assert f"fieldsync: generated a development JWT secret in {secret_file}" in log
        assert secret_file.read_text().strip() not in log
        (command,) = [line.strip() for line in log.splitlines() if line.startswith("  FIELDSYNC_SECRET_FILE=")]
        assignment, *argv = shlex.split(command)
        name, value = assignment.split("=", 1)
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDSYNC_")} | {name: value}
        minted = subprocess.run(argv, cwd=elsewhere, env=env, capture_output=True, text=True, timeout=60)
        assert minted.returncode == 0, minted.stderr
        async with HubClient.connect(hub.ws_url) as client:
            assert await client.authenticate(SCOPES_DOCUMENT, minted.stdout.strip()) == "read-write"
        assert list(elsewhere.iterdir()) == []
    finally:
        hub.stop()


def test_no_secret_hint_with_a_configured_secret(hub: HubProcess) -> None:
    assert "mint a token" not in hub.log.read_text()
    assert not (hub.workdir / "fieldsync.secret").exists()


@pytest.mark.parametrize(("variables", "says"), [
    ({"FIELDSYNC_ENV": "production"},
     "fieldsync: production needs FIELDSYNC_JWT_SECRET, FIELDSYNC_JWT_PUBLIC_KEY or FIELDSYNC_JWKS_URL"),
    ({"FIELDSYNC_JWKS_URL": "http://127.0.0.1:9/jwks.json", "FIELDSYNC_JWT_ALGORITHMS": "HS256"},
     "fieldsync: FIELDSYNC_JWKS_URL is set, but FIELDSYNC_JWT_ALGORITHMS=HS256 accepts none of the algorithms"),
    ({"FIELDSYNC_JWT_ALGORITHMS": "ES256", "FIELDSYNC_JWT_SECRET": ""},
     "fieldsync: FIELDSYNC_JWT_ALGORITHMS names ES256, but no key verifies it: set FIELDSYNC_JWKS_URL"),
], ids=["production-without-a-key", "jwks-with-hs256-only", "algorithm-without-a-key"])
def test_serve_refuses_token_settings_that_cannot_work(tmp_path: Path, variables: dict[str, str], says: str) -> None:
    result = fieldsync("serve", cwd=tmp_path, FIELDSYNC_PORT=str(free_port()), **variables)
    assert one_line(result).startswith(says)
    assert list(tmp_path.iterdir()) == [], "a refused start leaves no database and no secret file"
