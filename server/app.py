"""The Litestar application: the sync endpoint and probes around one hub."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from server.admin import admin_router
from server.config import Settings
from server.health import healthz, readyz
from server.metrics import MetricsListener, metrics
from sync import Admin, Bus, ConfigError, Hub, Metrics, RedisBus, SqlStore, Store, TokenVerifier, load_definitions, load_rules


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
    admin = Admin(store, verifier)  # revoked devices' tokens are refused by the hub's token check
    meter = Metrics() if settings.metrics == "on" else None
    extensions = [*admin.extensions, *([meter] if meter else [])]
    hub = Hub(store, admin.verifier, config=settings.hub, scopes=scopes, access=access, bus=bus, extensions=extensions)
    admin.bind(hub)
    if meter is not None:
        meter.bind(hub)
    listener = MetricsListener(settings, meter.registry) if meter and settings.metrics_port is not None else None

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await store.start()
        try:
            await admin.start()
            if listener is not None:
                await listener.start()
            async with hub.running():
                yield
        finally:
            if listener is not None:
                await listener.close()
            await store.close()

    routes = [healthz, readyz, admin_router, *([metrics] if meter and settings.metrics_port is None else [])]
    openapi = OpenAPIConfig(title="fieldsync", version="0.1.0", components=Components(
        security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")}))
    # logging_config=None: the process's one logging configuration (server.logs) stays in place
    app = Litestar(route_handlers=routes, lifespan=[lifespan], openapi_config=openapi, logging_config=None)
    app.state.hub = hub
    app.state.settings = settings
    app.state.admin = admin
    app.state.metrics = meter
    return app
