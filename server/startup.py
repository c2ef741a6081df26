"""The checks ``fieldsync serve`` and ``fieldsync migrate`` run before they change anything.

Each failure is a ``ConfigError`` whose text is one line saying what to write or what to check, so a
newcomer's first mistakes end in a hint instead of a driver's traceback, and a start that fails leaves
the database (and the SQLite file) as it was.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from server.config import Settings, redact_url
from sync import ConfigError

__all__ = ["bind_listener", "check_database_url", "check_serve_settings", "probe_database"]

#: The async driver the store runs on, per database.
DRIVERS = {"postgresql": "postgresql+asyncpg", "sqlite": "sqlite+aiosqlite"}
EXAMPLES = "sqlite+aiosqlite:///./fieldsync.db or postgresql+asyncpg://user@host/database"
DEFAULT_POSTGRES_PORT = 5432
#: PostgreSQL's SQLSTATE codes that have a better hint than the server's message.
UNKNOWN_DATABASE = "3D000"
AUTH_FAILED = frozenset({"28000", "28P01"})


def check_serve_settings(settings: Settings) -> None:
    """What ``fieldsync serve`` refuses before binding or writing anything (the settings checked themselves)."""
    check_database_url(settings.database_url)


def check_database_url(url: str) -> URL:
    """``url`` parsed, when it names one of the store's async drivers; otherwise says what to write."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"FIELDSYNC_DATABASE_URL is not a database URL; write {EXAMPLES}") from None
    backend = "postgresql" if parsed.get_backend_name() in ("postgresql", "postgres") else parsed.get_backend_name()
    driver = DRIVERS.get(backend)
    if driver is None:
        raise ConfigError(
            f"FIELDSYNC_DATABASE_URL names {parsed.drivername}://, but fieldsync stores in SQLite or PostgreSQL; "
            f"write {EXAMPLES}"
        )
    if parsed.drivername != driver:
        fixed = redact_url(parsed.set(drivername=driver).render_as_string(hide_password=False))
        raise ConfigError(
            f"FIELDSYNC_DATABASE_URL needs the async driver: write {fixed} ({driver}://, not {parsed.drivername}://)"
        )
    return parsed


def bind_listener(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` for uvicorn to serve on; binding first means a taken port stops the
    start before the database is migrated or the development secret written."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET  # as uvicorn chooses
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(_bind_problem(host, port, exc)) from None
    return sock


def _bind_problem(host: str, port: int, exc: OSError) -> str:
    where = f"cannot listen on {host}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return (f"{where}: the port is in use; set FIELDSYNC_PORT to a free port (or FIELDSYNC_HOST to another "
                f"interface), or stop the process that holds it")
    if exc.errno == errno.EACCES:
        return f"{where}: permission denied (ports below 1024 need privileges); set FIELDSYNC_PORT to 1024 or above"
    if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
        return (f"{where}: {host} is not an address of this machine; set FIELDSYNC_HOST to one of its addresses "
                f"(127.0.0.1, or 0.0.0.0 for every interface) and FIELDSYNC_PORT to a free port")
    return f"{where}: {exc.strerror or exc}; check FIELDSYNC_HOST and FIELDSYNC_PORT"


async def probe_database(url: str, *, timeout: float = 10) -> None:
    """Connect once to the database at ``url`` (checked by ``check_database_url``), creating nothing."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        _check_sqlite_path(parsed)
        return
    engine = create_async_engine(url, poolclass=NullPool, connect_args={"timeout": timeout})
    try:
        async with asyncio.timeout(timeout + 1):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except (OSError, TimeoutError) as exc:
        raise ConfigError(_unreachable(parsed, exc)) from None
    except SQLAlchemyError as exc:
        raise ConfigError(_refused(parsed, exc)) from None
    finally:
        await engine.dispose()


def _check_sqlite_path(url: URL) -> None:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        return
    directory = Path(url.database).parent
    if not directory.is_dir():
        raise ConfigError(
            f"FIELDSYNC_DATABASE_URL: the directory {directory} of the SQLite file {url.database} does not exist; "
            f"create it or choose another path"
        )


def _server(url: URL) -> tuple[str, int]:
    return url.host or "localhost", url.port or DEFAULT_POSTGRES_PORT


def _unreachable(url: URL, exc: BaseException) -> str:
    host, port = _server(url)
    reason = "no answer" if isinstance(exc, TimeoutError) else (getattr(exc, "strerror", None) or str(exc))
    return (f"cannot reach PostgreSQL at {host}:{port} ({reason}); check the host and port in "
            f"FIELDSYNC_DATABASE_URL and that PostgreSQL runs there (pg_isready -h {host} -p {port})")


def _refused(url: URL, exc: SQLAlchemyError) -> str:
    host, port = _server(url)
    cause = getattr(exc, "orig", None) or exc
    sqlstate = getattr(cause, "sqlstate", None)
    message = (str(cause).strip().splitlines() or [type(cause).__name__])[0][:200]
    if sqlstate == UNKNOWN_DATABASE:
        user = f" -U {url.username}" if url.username else ""
        return (f"database {url.database!r} does not exist on {host}:{port}; create it with: "
                f"createdb -h {host} -p {port}{user} {url.database}")
    if sqlstate in AUTH_FAILED:
        return (f"PostgreSQL at {host}:{port} refused the login ({message}); check the user and password in "
                f"FIELDSYNC_DATABASE_URL")
    return f"cannot use the database {redact_url(url.render_as_string(hide_password=False))}: {message}"
