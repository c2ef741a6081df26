"""The REST API: records, reports and (later) conflict review, under ``/api``, behind bearer tokens.

``api_app_config`` gives what ``server.app`` adds to the Litestar app: route handlers, the ``principal``
dependency, exception handlers, compression and the OpenAPI document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar.config.compression import CompressionConfig
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin, YamlRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from server.api.answers import AnswerCache
from server.api.bearer import principal
from server.api.conflicts import ConflictsController
from server.api.errors import exception_handlers
from server.api.records import RecordsController
from server.api.reports import ReportsController
from server.api.sla import DEFAULT_SLA, parse_sla
from sync import Cache, CacheInvalidation, InProcessCache, RedisCache

__all__ = ["DEFAULT_SLA", "AnswerCache", "ApiConfig", "answer_cache", "api_app_config", "parse_sla"]

#: Where the viewer's routes serve the Swagger UI's files (``server.viewer``).
SWAGGER_ASSETS = "/viewer/swagger"
_DESCRIPTION = (
    "Read the records of your tenant, their history and reports, and review conflicts. Every route takes "
    "`Authorization: Bearer <token>` (the same JWT as `/sync`); the tenant is always the token's, and every "
    "answer holds only what the token may read. Refusals are JSON `{\"error\", \"message\"}`, with `parameter` "
    "naming a bad parameter (400); 401 without a valid token, 403 without access, 404 for an unknown record."
)


@dataclass(frozen=True, slots=True)
class ApiConfig:
    """What the Litestar app needs for the API (passed as keyword arguments to ``Litestar``)."""

    route_handlers: list[Any]
    dependencies: dict[str, Provide]
    exception_handlers: dict[type[Exception], Any]
    compression_config: CompressionConfig
    openapi_config: OpenAPIConfig
    state: dict[str, Any] = field(default_factory=dict)


def api_app_config(*, version: str, production: bool, report_sla: str = DEFAULT_SLA) -> ApiConfig:
    """The API's part of the app. The Swagger page is served only outside production, with its scripts from the
    hub itself (``swagger-ui-dist``, copied by ``bin/setup`` next to the viewer's bundle), never from a CDN."""
    swagger = SwaggerRenderPlugin(
        js_url=f"{SWAGGER_ASSETS}/swagger-ui-bundle.js", css_url=f"{SWAGGER_ASSETS}/swagger-ui.css",
        standalone_preset_js_url=f"{SWAGGER_ASSETS}/swagger-ui-standalone-preset.js",
    )
    plugins = [YamlRenderPlugin()] if production else [swagger, YamlRenderPlugin()]
    return ApiConfig(
        route_handlers=[RecordsController, ReportsController, ConflictsController],
        dependencies={"principal": Provide(principal)},
        exception_handlers=exception_handlers,
        # brotli when the client accepts it, else gzip; small answers are not worth compressing
        compression_config=CompressionConfig(backend="brotli", brotli_gzip_fallback=True, minimum_size=1024),
        openapi_config=OpenAPIConfig(
            title="fieldsync",
            version=version,
            description=_DESCRIPTION,
            path="/schema",
            render_plugins=plugins,
            components=Components(security_schemes={
                "bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT"),
            }),
            security=[{"bearer": []}],
        ),
        state={"report_sla": parse_sla(report_sla)},
    )


def answer_cache(cache: Cache | None, url: str | None) -> AnswerCache:
    """The API's answer cache on ``cache``, else Redis at ``url``, else in this process; attach its
    ``invalidation`` to the hub."""
    backend = cache if cache is not None else RedisCache(url) if url else InProcessCache()
    return AnswerCache(backend, CacheInvalidation(backend))
