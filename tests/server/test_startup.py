"""The start-up checks: each mistake is one ``ConfigError`` line that says what to write or check."""

from __future__ import annotations

import errno
import socket
from pathlib import Path

import pytest

from server.config import Settings
from server.startup import _bind_problem, bind_listener, check_database_url, check_serve_settings, probe_database
from sync.errors import ConfigError
from tests.support.databases import PostgresServer
from tests.support.hub import free_port


@pytest.mark.parametrize(
    ("url", "write"),
    [
        ("postgresql://fieldsync@db/fieldsync", "write postgresql+asyncpg://fieldsync@db/fieldsync"),
        ("postgres://fieldsync@db:5433/fieldsync", "write postgresql+asyncpg://fieldsync@db:5433/fieldsync"),
        ("postgresql+psycopg2://fieldsync@db/fieldsync", "write postgresql+asyncpg://fieldsync@db/fieldsync"),
        ("sqlite:///./fieldsync.db", "write sqlite+aiosqlite:///./fieldsync.db"),
        ("sqlite+pysqlite:////var/lib/hub.db", "write sqlite+aiosqlite:////var/lib/hub.db"),
    ],
)
def test_a_url_without_the_async_driver_says_what_to_write(url: str, write: str) -> None:
    with pytest.raises(ConfigError) as info:
        check_database_url(url)
    assert str(info.value).startswith("FIELDSYNC_DATABASE_URL needs the async driver: " + write)
    assert "\n" not in str(info.value)


def test_the_suggested_url_never_shows_the_password() -> None:
    with pytest.raises(ConfigError) as info:
        check_database_url("postgresql://hub:s3cret-pw@db/fieldsync")
    assert "s3cret-pw" not in str(info.value)
    assert "postgresql+asyncpg://hub:<redacted>@db/fieldsync" in str(info.value)


@pytest.mark.parametrize("url", ["mysql://hub@db/fieldsync", "not a url", "oracle+cx_oracle://db"])
def test_other_databases_and_garbage_name_both_supported_forms(url: str) -> None:
    with pytest.raises(ConfigError, match="FIELDSYNC_DATABASE_URL") as info:
        check_database_url(url)
    assert "sqlite+aiosqlite:///" in str(info.value) and "postgresql+asyncpg://" in str(info.value)


@pytest.mark.parametrize("url", ["sqlite+aiosqlite:///./fieldsync.db", "postgresql+asyncpg://hub:pw@db:5432/fs"])
def test_async_urls_pass(url: str) -> None:
    assert check_database_url(url).render_as_string(hide_password=False) == url


def test_a_redis_url_with_the_single_node_sqlite_store_is_refused() -> None:
    with pytest.raises(ConfigError) as info:
        Settings(redis_url="redis://127.0.0.1:6379/0")
    message = str(info.value)
    assert message.startswith("FIELDSYNC_REDIS_URL is for several hub nodes, and SQLite is single-node")
    assert "unset FIELDSYNC_REDIS_URL" in message
    check_serve_settings(Settings(redis_url="redis://127.0.0.1:6379/0", database_url="postgresql+asyncpg://h/db"))


def test_serve_settings_check_the_database_url() -> None:
    with pytest.raises(ConfigError, match="sqlite\\+aiosqlite"):
        check_serve_settings(Settings(database_url="sqlite:///hub.db"))


def test_a_taken_port_names_both_variables() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(ConfigError) as info:
            bind_listener("127.0.0.1", port)
    assert str(info.value).startswith(f"cannot listen on 127.0.0.1:{port}: the port is in use")
    assert "FIELDSYNC_PORT" in str(info.value) and "FIELDSYNC_HOST" in str(info.value)


def test_a_host_that_is_not_this_machine_names_fieldsync_host() -> None:
    with pytest.raises(ConfigError, match="192.0.2.1 is not an address of this machine; set FIELDSYNC_HOST"):
        bind_listener("192.0.2.1", free_port())  # TEST-NET-1: never assigned to a real interface


def test_an_unresolvable_host_names_fieldsync_host() -> None:
    with pytest.raises(ConfigError, match="FIELDSYNC_HOST"):
        bind_listener("no-such-host.invalid", free_port())


def test_a_bound_listener_serves_the_port_it_was_given() -> None:
    port = free_port()
    listener = bind_listener("127.0.0.1", port)
    try:
        assert listener.getsockname() == ("127.0.0.1", port)
    finally:
        listener.close()


async def test_a_sqlite_probe_creates_nothing(tmp_path: Path) -> None:
    await probe_database(f"sqlite+aiosqlite:///{tmp_path}/hub.db")
    assert list(tmp_path.iterdir()) == []


async def test_a_sqlite_file_in_a_missing_directory_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=f"the directory {tmp_path}/absent of the SQLite file"):
        await probe_database(f"sqlite+aiosqlite:///{tmp_path}/absent/hub.db")


async def test_a_refused_port_names_the_host_and_port() -> None:
    port = free_port()  # nothing listens there once the probe socket is closed
    with pytest.raises(ConfigError) as info:
        await probe_database(f"postgresql+asyncpg://postgres@127.0.0.1:{port}/fieldsync", timeout=5)
    message = str(info.value)
    assert message.startswith(f"cannot reach PostgreSQL at 127.0.0.1:{port}")
    assert "FIELDSYNC_DATABASE_URL" in message and f"pg_isready -h 127.0.0.1 -p {port}" in message


async def test_an_unknown_host_names_the_host() -> None:
    with pytest.raises(ConfigError, match="cannot reach PostgreSQL at no-such-host.invalid:5432"):
        await probe_database("postgresql+asyncpg://postgres@no-such-host.invalid/fieldsync", timeout=5)


@pytest.mark.postgres
async def test_a_missing_database_suggests_createdb(postgres_server: PostgresServer) -> None:
    url = postgres_server.base.set(database="fieldsync_absent_db")
    with pytest.raises(ConfigError) as info:
        await probe_database(url.render_as_string(hide_password=False))
    host, port = url.host or "localhost", url.port or 5432
    user = f" -U {url.username}" if url.username else ""
    assert str(info.value) == (f"database 'fieldsync_absent_db' does not exist on {host}:{port}; create it with: "
                               f"createdb -h {host} -p {port}{user} fieldsync_absent_db")


@pytest.mark.postgres
async def test_an_unknown_user_is_told_to_check_the_url(postgres_server: PostgresServer) -> None:
    url = postgres_server.base.set(username="fieldsync_no_such_role", password="pw")
    with pytest.raises(ConfigError) as info:
        await probe_database(url.render_as_string(hide_password=False))
    assert "refused the login" in str(info.value) and "check the user and password" in str(info.value)
    assert "pw" not in str(info.value).replace("password", "")


@pytest.mark.postgres
async def test_a_reachable_database_passes(postgres_url: str) -> None:
    await probe_database(postgres_url)


@pytest.mark.parametrize(
    ("error", "says"),
    [
        (OSError(errno.EACCES, "Permission denied"), "ports below 1024 need privileges); set FIELDSYNC_PORT"),
        (OSError(errno.EINVAL, "Invalid argument"), "Invalid argument; check FIELDSYNC_HOST and FIELDSYNC_PORT"),
    ],
)
def test_other_bind_failures_name_the_variables(error: OSError, says: str) -> None:
    # Tests run as root, which may bind any port: these failures are shown with the errors the kernel gives.
    assert _bind_problem("127.0.0.1", 80, error).startswith("cannot listen on 127.0.0.1:80: ")
    assert says in _bind_problem("127.0.0.1", 80, error)
