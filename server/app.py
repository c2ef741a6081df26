"""The Litestar application: the sync endpoint and probes around one hub."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar

from server.config import Settings
from server.health import healthz, readyz
from sync import Bus, ConfigError, Hub, RedisBus, SqlStore, Store, TokenVerifier, load_definitions, load_rules


def create_app(settings: Settings, *, verifier: TokenVerifier, store: Store | None = None) -> Litestar:
    """Build the app; the store is opened and the hub started by the app's lifespan.

    Sync sockets (``/sync``) are served by ``server.ws.SyncEndpoint`` wrapped around this app.

    Raises ``ConfigError`` when the scopes file (``FIELDSYNC_SCOPES_FILE``) or the access rules
    (``FIELDSYNC_ACCESS_FILE``) are missing or invalid.
    """
    try:
        scopes = load_definitions(settings.scopes_file)
    except ConfigError as exc:
        raise ConfigError(f"FIELDSYNC_SCOPES_FILE: {exc}") from None
    try:
        access = load_rules(settings.access_file)
    except ConfigError as exc:
        raise ConfigError(f"FIELDSYNC_ACCESS_FILE: {exc}") from None
    store = store or SqlStore(settings.database_url)
    # several nodes share one Redis bus; without Redis the hub is the only node (in-process bus)
    bus: Bus | None = RedisBus(settings.redis_url, prefix=settings.redis_prefix) if settings.redis_url else None
    hub = Hub(store, verifier, config=settings.hub, scopes=scopes, access=access, bus=bus)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await store.start()
        try:
            async with hub.running():
                yield
        finally:
            await store.close()

    app = Litestar(route_handlers=[healthz, readyz], lifespan=[lifespan])
    app.state.hub = hub
    app.state.settings = settings
    return app
