"""``fieldsync serve`` and ``fieldsync migrate``: run the hub under uvicorn with a graceful shutdown."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import sys
from types import FrameType

import uvicorn

from server.app import create_app
from server.auth import JwtVerifier
from server.config import Settings, describe, resolve_jwt_secret, resolve_public_key
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
    secret, generated = resolve_jwt_secret(settings)
    if generated:
        print(f"fieldsync: generated a development JWT secret in {settings.secret_file}", file=sys.stderr)
    return JwtVerifier(secret=secret, public_key=resolve_public_key(settings))


def run_migrate(settings: Settings) -> int:
    """Bring the database schema to the newest version."""
    try:
        migrated = asyncio.run(upgrade(settings.database_url))
    except StoreError as exc:
        print(f"fieldsync: migration failed: {exc.reason}", file=sys.stderr)
        return 1
    # nodes starting together on one Postgres migrate one at a time: the first migrates, the others find it done
    done = "migrated to the newest schema" if migrated else "already at the newest schema"
    print(f"fieldsync: database {done} ({describe(settings)['database_url']})", file=sys.stderr)
    return 0


def run_serve(settings: Settings) -> int:
    """Check the configuration, migrate, then serve until SIGTERM/SIGINT."""
    logging.basicConfig(level=settings.log_level.upper() if settings.log_level != "trace" else "DEBUG",
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    verifier = build_verifier(settings)
    app = create_app(settings, verifier=verifier)  # an invalid scopes file stops here, before any migration
    if run_migrate(settings) != 0:
        return 1
    config = uvicorn.Config(
        SyncEndpoint(app),  # /sync sockets go to the hub directly, the rest to the Litestar app (server/ws.py)
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        ws="websockets-sansio",
        ws_max_size=settings.hub.max_frame_bytes * 4,
        ws_per_message_deflate=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
    log.info("fieldsync hub on ws://%s:%d/sync (%s)", settings.host, settings.port, describe(settings)["database_url"])
    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal into the handler that was there
    # before it; this one turns that into a clean exit, so a normal stop is not reported as a crash
    signal.signal(signal.SIGTERM, _stopped)
    HubServer(config, app.state.hub).run()
    return 0


def _stopped(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)
