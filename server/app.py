"""The Litestar application: probes and the REST API around one hub (``/sync`` is ``server.ws``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from litestar import Litestar

from server.api import answer_cache, api_app_config
from server.config import Settings
from server.health import healthz, readyz
from server.viewer import viewer_handlers
from sync import Cache, ConfigError, Hub, SqlStore, Store, TokenVerifier, load_definitions


def create_app(
    settings: Settings, *, verifier: TokenVerifier, store: Store | None = None, cache: Cache | None = None
) -> Litestar:
    """Build the app; the store is opened and the hub started by the app's lifespan.

    ``cache`` keeps the REST API's answers (default: Redis at ``FIELDSYNC_CACHE_URL``, else in process).

    Sync sockets (``/sync``) are served by ``server.ws.SyncEndpoint`` wrapped around this app.

    Raises ``ConfigError`` when the scopes file (``FIELDSYNC_SCOPES_FILE``) is missing or invalid.
    """
    try:
        scopes = load_definitions(settings.scopes_file)
    except ConfigError as exc:
        raise ConfigError(f"FIELDSYNC_SCOPES_FILE: {exc}") from None
    store = store or SqlStore(settings.database_url)
    answers = answer_cache(cache, settings.cache_url)
    hub = Hub(store, verifier, config=settings.hub, scopes=scopes, extensions=[answers.invalidation])

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await store.start()
        await answers.cache.start()
        try:
            async with hub.running():
                yield
        finally:
            await answers.cache.close()
            await store.close()

    api = api_app_config(version=_version(), production=settings.environment == "production",
                         report_sla=settings.report_sla)
    app = Litestar(
        route_handlers=[healthz, readyz, *api.route_handlers, *viewer_handlers()],
        lifespan=[lifespan],
        dependencies=api.dependencies,
        exception_handlers=api.exception_handlers,
        compression_config=api.compression_config,
        openapi_config=api.openapi_config,
    )
    for key, value in api.state.items():
        setattr(app.state, key, value)
    app.state.hub = hub
    app.state.answers = answers
    app.state.settings = settings
    return app


def _version() -> str:
    try:
        return version("fieldsync")
    except PackageNotFoundError:
        return "0+unknown"
