"""The Litestar application: probes, the REST API, the admin API, metrics and the web viewer around one hub.

``/sync`` sockets are served by ``server.ws`` in front of this app.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from litestar import Litestar

from server.admin import admin_router
from server.api import answer_cache, api_app_config
from server.api.visibility import use_rules
from server.config import Settings
from server.health import healthz, readyz
from server.metrics import MetricsListener, metrics
from server.viewer import viewer_handlers
from sync import (
    Admin, Bus, Cache, ConfigError, Hub, Metrics, NodeBoard, RedisBoard, RedisBus, SqlStore, Store, TokenVerifier,
    load_definitions, load_rules,
)


def create_app(
    settings: Settings, *, verifier: TokenVerifier, store: Store | None = None, cache: Cache | None = None
) -> Litestar:
    """Build the app; the store is opened and the hub started by the app's lifespan.

    ``cache`` keeps the REST API's answers (default: Redis at ``FIELDSYNC_CACHE_URL``, else in process).

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
    # each node posts its sockets and rooms there for the others' admin views
    board: NodeBoard | None = RedisBoard(settings.redis_url, prefix=settings.redis_prefix) if settings.redis_url else None
    admin = Admin(store, verifier, board=board)  # revoked devices' tokens are refused by the hub's token check
    meter = Metrics() if settings.metrics == "on" else None
    answers = answer_cache(cache, settings.cache_url)
    extensions = [*admin.extensions, *([meter] if meter else []), answers.invalidation]
    hub = Hub(store, admin.verifier, config=settings.hub, scopes=scopes, access=access, bus=bus, extensions=extensions)
    admin.bind(hub)
    if meter is not None:
        meter.bind(hub)
    listener = MetricsListener(settings, meter.registry) if meter and settings.metrics_port is not None else None

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await store.start()
        await answers.cache.start()
        try:
            await admin.start()
            if listener is not None:
                await listener.start()
            async with hub.running():
                yield
        finally:
            if listener is not None:
                await listener.close()
            await answers.cache.close()
            if board is not None:
                await board.close()
            await store.close()

    use_rules(access)  # REST reads follow the same access rules as /sync
    api = api_app_config(version=_version(), production=settings.environment == "production",
                         report_sla=settings.report_sla)
    routes = [healthz, readyz, admin_router, *([metrics] if meter and settings.metrics_port is None else []),
              *api.route_handlers, *viewer_handlers()]
    # logging_config=None: the process's one logging configuration (server.logs) stays in place
    app = Litestar(
        route_handlers=routes,
        lifespan=[lifespan],
        dependencies=api.dependencies,
        exception_handlers=api.exception_handlers,
        compression_config=api.compression_config,
        openapi_config=api.openapi_config,
        logging_config=None,
    )
    for key, value in api.state.items():
        setattr(app.state, key, value)
    app.state.hub = hub
    app.state.answers = answers
    app.state.settings = settings
    app.state.admin = admin
    app.state.metrics = meter
    return app


def _version() -> str:
    try:
        return version("fieldsync")
    except PackageNotFoundError:
        return "0+unknown"
