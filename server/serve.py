"""``fieldsync serve`` and ``fieldsync migrate``: run the hub under uvicorn with a graceful shutdown."""

from __future__ import annotations

import asyncio
import logging
import shlex
import signal
import socket
import sys
from pathlib import Path
from types import FrameType

import uvicorn

from server.allocator import return_large_buffers
from server.app import create_app
from server.auth import JwtVerifier
from server.config import Settings, describe, resolve_jwt_secret, resolve_public_key
from server.handshake import handshake_protocol
from server.startup import bind_listener, check_database_url, check_serve_settings, probe_database
from server.ws import SyncEndpoint
from sync import Hub, StoreError, upgrade

log = logging.getLogger("fieldsync")


class HubServer(uvicorn.Server):
    """Uvicorn, but on SIGTERM/SIGINT the hub first commits and acknowledges what it received and closes
    every socket with 1001 (going away); only then does uvicorn close the rest."""

    def __init__(self, config: uvicorn.Config, hub: Hub) -> None:
        super().__init__(config)
        self.hub = hub

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await self.hub.shutdown()
        await super().shutdown(sockets)


def build_verifier(settings: Settings) -> JwtVerifier:
    """The token verifier; in development it may create the secret file, and says where it is."""
    secret, generated = resolve_jwt_secret(settings)
    if settings.environment == "development" and settings.jwt_secret is None and secret is not None:
        print(development_hint(Path(settings.secret_file).resolve(), generated), file=sys.stderr)
    return JwtVerifier(secret=secret, public_key=resolve_public_key(settings))


def development_hint(secret_file: Path, generated: bool) -> str:
    """Where the development secret is, and a command that mints a token for it from any directory."""
    script = Path(sys.executable).with_name("fieldsync")
    command = shlex.quote(str(script)) if script.exists() else f"{shlex.quote(sys.executable)} -m server"
    state = "generated a development JWT secret in" if generated else "development JWT secret in"
    return (f"fieldsync: {state} {secret_file}; mint a token for this hub with:\n"
            f"  FIELDSYNC_SECRET_FILE={shlex.quote(str(secret_file))} {command} token "
            f"--sub tech-17 --tenant acme --device tablet-3 --roles technician")


def run_migrate(settings: Settings) -> int:
    """Bring the database schema to the newest version, after checking the URL and that the database answers."""
    check_database_url(settings.database_url)
    asyncio.run(probe_database(settings.database_url))
    return _migrate(settings)


def _migrate(settings: Settings) -> int:
    try:
        asyncio.run(upgrade(settings.database_url))
    except StoreError as exc:
        print(f"fieldsync: migration failed: {exc.reason}", file=sys.stderr)
        return 1
    print(f"fieldsync: database at newest schema ({describe(settings)['database_url']})", file=sys.stderr)
    return 0


def run_serve(settings: Settings) -> int:
    """Check the configuration, bind the port, migrate, then serve until SIGTERM/SIGINT.

    Every check that can fail comes before the first lasting effect: a refused start leaves no database
    file, no migration and (when the port is taken) no secret file behind.
    """
    logging.basicConfig(level=settings.log_level.upper() if settings.log_level != "trace" else "DEBUG",
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    check_serve_settings(settings)
    listener = bind_listener(settings.host, settings.port)
    try:
        verifier = build_verifier(settings)
        app = create_app(settings, verifier=verifier)  # an invalid scopes file stops here, before any migration
        asyncio.run(probe_database(settings.database_url))
        if _migrate(settings) != 0:
            return 1
        config = uvicorn.Config(
            SyncEndpoint(app),  # /sync sockets go to the hub directly, the rest to the Litestar app (server/ws.py)
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level,
            http=handshake_protocol(settings.hub.handshake_timeout_seconds),  # half-sent upgrades are dropped
            ws="websockets-sansio",
            ws_max_size=settings.hub.max_frame_bytes * 4,
            ws_per_message_deflate=False,
            lifespan="on",
            timeout_graceful_shutdown=10,
        )
        log.info("fieldsync hub on ws://%s:%d/sync (%s)", settings.host, settings.port,
                 describe(settings)["database_url"])
        # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal into the handler that was there
        # before it; this one turns that into a clean exit, so a normal stop is not reported as a crash
        signal.signal(signal.SIGTERM, _stopped)
        return_large_buffers()  # transient frame buffers go back to the system (server/allocator.py)
        HubServer(config, app.state.hub).run(sockets=[listener])
    finally:
        listener.close()
    return 0


def _stopped(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)
