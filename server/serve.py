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
from server.jwks import JwksKeys, JwksUnavailable
from server.logs import configure_logging, set_node
from server.config import Settings, claim_names, describe
from server.handshake import handshake_protocol
from server.startup import bind_listener, check_database_url, check_serve_settings, probe_database
from server.token_keys import resolve_jwt_secret, resolve_public_key
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
    """The token verifier; in development it may create the secret file, and says where it is.

    With a JWKS URL the keys are fetched once here, before anything is served, so the first devices do not
    wait for them; an identity provider that does not answer yet is a warning, not a refusal to start (it may
    come up after the hub): until it answers, its tokens are refused and fetching is retried as they come.
    """
    secret, generated = resolve_jwt_secret(settings)
    if settings.environment == "development" and settings.jwt_secret is None and secret is not None:
        print(development_hint(Path(settings.secret_file).resolve(), generated), file=sys.stderr)
    jwks = JwksKeys(settings.jwks_url) if settings.jwks_url is not None else None
    verifier = JwtVerifier(secret=secret, public_key=resolve_public_key(settings), jwks=jwks,
                           audience=settings.jwt_audience, issuer=settings.jwt_issuer,
                           algorithms=settings.jwt_algorithms, claims=claim_names(settings))
    if jwks is not None:
        where = describe(settings)["jwks_url"]
        if settings.environment == "production" and not where.startswith("https://"):
            log.warning("FIELDSYNC_JWKS_URL %s is plain HTTP: whoever can reach the path between the hub and the "
                        "identity provider can make the hub trust their keys", where)
        try:
            jwks.refresh()
        except JwksUnavailable as exc:
            log.warning("cannot fetch the JWKS from %s (FIELDSYNC_JWKS_URL) now: %s; its tokens are refused "
                        "until it answers", where, exc)
    return verifier


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


def _migrate(settings: Settings, *, logged: bool = False) -> int:
    """Migrate; report on stderr (``fieldsync migrate``) or through the log (``serve``, whose lines are JSON
    in production)."""
    try:
        migrated = asyncio.run(upgrade(settings.database_url))
    except StoreError as exc:
        if logged:
            log.error("migration failed: %s", exc.reason)
        else:
            print(f"fieldsync: migration failed: {exc.reason}", file=sys.stderr)
        return 1
    # nodes starting together on one Postgres migrate one at a time: the first migrates, the others find it done
    done = "migrated to the newest schema" if migrated else "already at the newest schema"
    done = f"database {done} ({describe(settings)['database_url']})"
    if logged:
        log.info(done)
    else:
        print(f"fieldsync: {done}", file=sys.stderr)
    return 0


def run_serve(settings: Settings) -> int:
    """Check the configuration, bind the port, migrate, then serve until SIGTERM/SIGINT.

    Every check that can fail comes before the first lasting effect: a refused start leaves no database
    file, no migration and (when the port is taken) no secret file behind.
    """
    configure_logging(level=settings.log_level, json_lines=settings.json_logs)
    check_serve_settings(settings)
    listener = bind_listener(settings.host, settings.port)
    try:
        verifier = build_verifier(settings)
        app = create_app(settings, verifier=verifier)  # an invalid scopes file stops here, before any migration
        set_node(app.state.hub.node_id)
        asyncio.run(probe_database(settings.database_url))
        if _migrate(settings, logged=True) != 0:
            return 1
        config = uvicorn.Config(
            SyncEndpoint(app),  # /sync sockets go to the hub directly, the rest to the Litestar app (server/ws.py)
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level,
            log_config=None,  # keep server.logs' configuration: uvicorn only sets its loggers' levels
            http=handshake_protocol(settings.hub.handshake_timeout_seconds),  # half-sent requests are dropped
            ws="websockets-sansio",
            ws_max_size=settings.hub.max_frame_bytes * 4,
            # negotiated only with a client that offers it; the limit above applies to the inflated message
            ws_per_message_deflate=settings.ws_deflate == "on",
            # the client address (server/ws.py counts it per address) comes from X-Forwarded-For only on
            # connections from a trusted proxy; uvicorn's own default would trust 127.0.0.1 and ::1
            proxy_headers=bool(settings.trusted_proxies),
            forwarded_allow_ips=list(settings.trusted_proxies),
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
