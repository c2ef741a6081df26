"""Server settings, read from ``FIELDSYNC_*`` environment variables and validated before anything is served.

The variable names are a contract with operators and tests (DESIGN.md section 6). An unknown ``FIELDSYNC_*``
variable is refused, so a typo never falls back silently to a default; only names starting with
``FIELDSYNC_TEST_`` are left alone, for test harnesses to pass their own knobs.
"""

from __future__ import annotations

import ipaddress
import math
import os
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import msgspec

from server.api.sla import DEFAULT_SLA, parse_sla
from server.claims import ClaimNames
from server.jwks import JWKS_ALGORITHMS
from sync import DEFAULT_ACCESS_FILE, DEFAULT_SCOPES_FILE, ConfigError, HubConfig

PREFIX = "FIELDSYNC_"
#: Variables with this prefix are reserved for test harnesses and ignored by ``load_settings``.
TEST_PREFIX = "FIELDSYNC_TEST_"
ENVIRONMENTS = ("development", "production")
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
#: HS256 needs a 256-bit key (RFC 7518 section 3.2); production refuses anything shorter.
MIN_PRODUCTION_SECRET_BYTES = 32

#: Settings field -> variable, for the fields that are not hub tunables.
_SERVER_VARIABLES = {
    "host": "FIELDSYNC_HOST",
    "port": "FIELDSYNC_PORT",
    "database_url": "FIELDSYNC_DATABASE_URL",
    "redis_url": "FIELDSYNC_REDIS_URL",
    "redis_prefix": "FIELDSYNC_REDIS_PREFIX",
    "jwt_secret": "FIELDSYNC_JWT_SECRET",
    "jwt_public_key": "FIELDSYNC_JWT_PUBLIC_KEY",
    "environment": "FIELDSYNC_ENV",
    "log_level": "FIELDSYNC_LOG_LEVEL",
    "secret_file": "FIELDSYNC_SECRET_FILE",
    "scopes_file": "FIELDSYNC_SCOPES_FILE",
    "access_file": "FIELDSYNC_ACCESS_FILE",
    "jwks_url": "FIELDSYNC_JWKS_URL",
    "jwt_audience": "FIELDSYNC_JWT_AUDIENCE",
    "jwt_issuer": "FIELDSYNC_JWT_ISSUER",
    "jwt_algorithms": "FIELDSYNC_JWT_ALGORITHMS",
    "jwt_tenant_claim": "FIELDSYNC_JWT_TENANT_CLAIM",
    "jwt_device_claim": "FIELDSYNC_JWT_DEVICE_CLAIM",
    "jwt_roles_claim": "FIELDSYNC_JWT_ROLES_CLAIM",
    "jwt_teams_claim": "FIELDSYNC_JWT_TEAMS_CLAIM",
    "log_format": "FIELDSYNC_LOG_FORMAT",
    "metrics": "FIELDSYNC_METRICS",
    "metrics_token": "FIELDSYNC_METRICS_TOKEN",
    "metrics_port": "FIELDSYNC_METRICS_PORT",
    "admin_token": "FIELDSYNC_ADMIN_TOKEN",
    "report_sla": "FIELDSYNC_REPORT_SLA",
    "cache_url": "FIELDSYNC_CACHE_URL",
    "ws_deflate": "FIELDSYNC_WS_DEFLATE",
    "trusted_proxies": "FIELDSYNC_TRUSTED_PROXIES",
}
#: Optional settings where an empty variable means "unset" (common in compose files).
_OPTIONAL = frozenset({"redis_url", "jwt_secret", "jwt_public_key", "jwks_url", "jwt_audience", "jwt_issuer",
                       "jwt_algorithms", "jwt_tenant_claim", "jwt_device_claim", "jwt_roles_claim", "jwt_teams_claim",
                       "log_format", "metrics_token", "metrics_port", "admin_token", "cache_url",
                       "trusted_proxies"})
#: The token algorithms the hub can verify, and the key each needs.
TOKEN_ALGORITHMS = ("HS256", "RS256", "ES256")
LOG_FORMATS = ("json", "text")
SWITCHES = ("on", "off")


class Settings(msgspec.Struct, kw_only=True, frozen=True):
    """Everything one hub process needs to start. Defaults run the embedded mode."""

    host: str = "127.0.0.1"
    """Interface to listen on (``FIELDSYNC_HOST``)."""

    port: int = 8765
    """TCP port to listen on, 1-65535 (``FIELDSYNC_PORT``)."""

    database_url: str = "sqlite+aiosqlite:///./fieldsync.db"
    """SQLAlchemy async URL of the store (``FIELDSYNC_DATABASE_URL``); Postgres is ``postgresql+asyncpg://...``."""

    redis_url: str | None = None
    """Redis for the bus between hub nodes (``FIELDSYNC_REDIS_URL``, ``redis://`` or ``rediss://``); ``None``
    keeps everything in one process. Needs a Postgres database: SQLite is single-node."""

    redis_prefix: str = "fieldsync"
    """Prefix of every Redis key and channel (``FIELDSYNC_REDIS_PREFIX``): one per deployment sharing a Redis."""

    jwt_secret: str | None = None
    """HS256 secret that signs and verifies tokens (``FIELDSYNC_JWT_SECRET``)."""

    jwt_public_key: str | None = None
    """RS256 public key as PEM text, or a path to a PEM file (``FIELDSYNC_JWT_PUBLIC_KEY``)."""

    environment: Literal["development", "production"] = "development"
    """``development`` may generate a secret; ``production`` refuses to start without one (``FIELDSYNC_ENV``)."""

    log_level: str = "info"
    """One of critical, error, warning, info, debug, trace (``FIELDSYNC_LOG_LEVEL``)."""

    secret_file: str = "./fieldsync.secret"
    """Where development keeps its generated HS256 secret (``FIELDSYNC_SECRET_FILE``); never used in production."""

    scopes_file: str = str(DEFAULT_SCOPES_FILE)
    """The scope definitions devices may subscribe to (``FIELDSYNC_SCOPES_FILE``; format in the packaged
    ``sync/scopes/scopes.toml``, the default). The hub refuses to start when it is missing or invalid."""

    access_file: str = str(DEFAULT_ACCESS_FILE)
    """The access rules: who reaches which record (``FIELDSYNC_ACCESS_FILE``; format in the packaged
    ``sync/access/rules.toml``, the default). The hub refuses to start when it is missing or invalid."""

    jwks_url: str | None = None
    """An identity provider's JWKS URL (``FIELDSYNC_JWKS_URL``): RS256 and ES256 tokens are verified with the
    key their ``kid`` names, fetched from it and kept current. Not together with ``jwt_public_key``."""

    jwt_audience: str | None = None
    """When set, every token must name it in ``aud`` (``FIELDSYNC_JWT_AUDIENCE``); unset, ``aud`` is not checked."""

    jwt_issuer: str | None = None
    """When set, every token's ``iss`` must be exactly this (``FIELDSYNC_JWT_ISSUER``)."""

    jwt_algorithms: tuple[str, ...] | None = None
    """The token algorithms accepted, from HS256, RS256, ES256 (``FIELDSYNC_JWT_ALGORITHMS``, comma-separated);
    unset: every one the configured keys verify."""

    jwt_tenant_claim: str = "tenant"
    """The claim that names the token's tenant (``FIELDSYNC_JWT_TENANT_CLAIM``), for providers whose own
    claims are namespaced (``https://acme.example/tenant``)."""

    jwt_device_claim: str = "device"
    """The claim that names the device (``FIELDSYNC_JWT_DEVICE_CLAIM``; ``sid``, a provider's session id,
    fits when it puts no device in its tokens)."""

    jwt_roles_claim: str = "roles"
    """The claim that lists the roles (``FIELDSYNC_JWT_ROLES_CLAIM``)."""

    jwt_teams_claim: str = "teams"
    """The claim that lists the teams, optional in a token (``FIELDSYNC_JWT_TEAMS_CLAIM``)."""

    log_format: str | None = None
    """``json`` (one JSON object per line) or ``text`` (``FIELDSYNC_LOG_FORMAT``); unset: JSON in production,
    text in development."""

    metrics: str = "on"
    """``on`` or ``off`` (``FIELDSYNC_METRICS``): whether the hub keeps Prometheus metrics and serves /metrics."""

    metrics_token: str | None = None
    """Bearer token a scraper must send to /metrics (``FIELDSYNC_METRICS_TOKEN``)."""

    metrics_port: int | None = None
    """Serve /metrics on this port instead of the hub's (``FIELDSYNC_METRICS_PORT``), on ``FIELDSYNC_HOST``."""

    admin_token: str | None = None
    """The admin JWT ``fieldsync admin`` sends (``FIELDSYNC_ADMIN_TOKEN``); the hub itself never reads it."""

    cache_url: str | None = None
    """Redis for the REST API's cache (``FIELDSYNC_CACHE_URL``, ``redis://host:6379/0``); unset: in process, right
    for one hub node only."""

    ws_deflate: str = "off"
    """``on`` or ``off`` (``FIELDSYNC_WS_DEFLATE``): whether ``/sync`` accepts the ``permessage-deflate``
    extension (RFC 7692) when a client offers it. A client that does not offer it is served uncompressed
    either way. Off by default: see the README's configuration section for what it costs."""

    trusted_proxies: tuple[str, ...] = ()
    """Addresses and networks of the load balancers or reverse proxies in front of the hub
    (``FIELDSYNC_TRUSTED_PROXIES``, comma-separated, such as ``10.0.0.0/8,192.168.4.7``). Only a connection from
    one of them has its client address taken from ``X-Forwarded-For`` (the right-most address there that is
    not itself a trusted proxy); from anyone else the header is ignored. The client address is what
    ``FIELDSYNC_MAX_UNAUTHENTICATED_PER_ADDRESS`` counts and what the access log shows. Empty: no proxy is
    trusted, every connection is its peer's address."""

    report_sla: str = DEFAULT_SLA
    """Service levels of the open-ages report (``FIELDSYNC_REPORT_SLA``): ``<type>.<STATUS>=<hours>h``, comma-separated."""

    hub: HubConfig = HubConfig()
    """Engine limits and timings, each from ``FIELDSYNC_<FIELD>`` (``FIELDSYNC_MAX_FRAME_BYTES``, ...)."""

    @property
    def json_logs(self) -> bool:
        """Whether log lines are JSON: ``log_format``, else by environment."""
        return (self.log_format or ("json" if self.environment == "production" else "text")) == "json"

    def __post_init__(self) -> None:
        if not self.host:
            raise ConfigError("FIELDSYNC_HOST must not be empty")
        if not 1 <= self.port <= 65535:
            raise ConfigError(f"FIELDSYNC_PORT must be between 1 and 65535, got {self.port}")
        if not self.database_url:
            raise ConfigError("FIELDSYNC_DATABASE_URL must not be empty")
        if self.redis_url is not None:
            _check_redis(self.redis_url, self.database_url)
        if not self.redis_prefix or any(c.isspace() for c in self.redis_prefix):
            raise ConfigError("FIELDSYNC_REDIS_PREFIX must be a non-empty name without spaces")
        if self.environment not in ENVIRONMENTS:
            raise ConfigError(f"FIELDSYNC_ENV must be one of {', '.join(ENVIRONMENTS)}, got {self.environment!r}")
        if self.log_level not in LOG_LEVELS:
            raise ConfigError(f"FIELDSYNC_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {self.log_level!r}")
        if not self.secret_file:
            raise ConfigError("FIELDSYNC_SECRET_FILE must not be empty")
        if not self.scopes_file:
            raise ConfigError("FIELDSYNC_SCOPES_FILE must not be empty")
        if not self.access_file:
            raise ConfigError("FIELDSYNC_ACCESS_FILE must not be empty")
        if self.log_format is not None and self.log_format not in LOG_FORMATS:
            raise ConfigError(f"FIELDSYNC_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, got {self.log_format!r}")
        if self.metrics not in SWITCHES:
            raise ConfigError(f"FIELDSYNC_METRICS must be on or off, got {self.metrics!r}")
        if self.ws_deflate not in SWITCHES:
            raise ConfigError(f"FIELDSYNC_WS_DEFLATE must be on or off, got {self.ws_deflate!r}")
        if self.metrics_port is not None and not 1 <= self.metrics_port <= 65535:
            raise ConfigError(f"FIELDSYNC_METRICS_PORT must be between 1 and 65535, got {self.metrics_port}")
        if self.metrics_port is not None and self.metrics_port == self.port:
            raise ConfigError("FIELDSYNC_METRICS_PORT must differ from FIELDSYNC_PORT (leave it unset to serve "
                              "/metrics on the hub's port)")
        # A missing key is refused by ``server.token_keys.resolve_jwt_secret``, not here: ``fieldsync migrate`` needs no key.
        try:
            parse_sla(self.report_sla)
        except ConfigError as exc:
            raise ConfigError(f"FIELDSYNC_REPORT_SLA: {exc}") from None
        # A missing key is refused by ``resolve_jwt_secret``, not here: ``fieldsync migrate`` needs no key.
        short = self.jwt_secret is not None and len(self.jwt_secret.encode()) < MIN_PRODUCTION_SECRET_BYTES
        if self.environment == "production" and short:
            raise ConfigError(
                f"FIELDSYNC_JWT_SECRET must be at least {MIN_PRODUCTION_SECRET_BYTES} bytes in production"
            )
        _check_token_keys(self)
        claim_names(self)
        _check_trusted_proxies(self.trusted_proxies)


def claim_names(settings: Settings) -> ClaimNames:
    """The claims a principal is read from; raises ``ConfigError`` when two are the same claim."""
    return ClaimNames(tenant=settings.jwt_tenant_claim, device=settings.jwt_device_claim,
                      roles=settings.jwt_roles_claim, teams=settings.jwt_teams_claim)


def _check_token_keys(settings: Settings) -> None:
    """Refuse key settings that contradict each other; whether a key exists at all is decided at start."""
    if settings.jwks_url is not None:
        parts = urlsplit(settings.jwks_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"FIELDSYNC_JWKS_URL must be an http:// or https:// URL, got {settings.jwks_url!r}")
        if settings.jwt_public_key is not None:
            raise ConfigError("set FIELDSYNC_JWT_PUBLIC_KEY or FIELDSYNC_JWKS_URL, not both: the identity "
                              "provider's keys come from one place")
    allowed = settings.jwt_algorithms
    if allowed is None:
        return
    named = ", ".join(allowed)
    if not allowed:
        raise ConfigError(f"FIELDSYNC_JWT_ALGORITHMS names no algorithm; write some of {', '.join(TOKEN_ALGORITHMS)}")
    unknown = [algorithm for algorithm in allowed if algorithm not in TOKEN_ALGORITHMS]
    if unknown:
        raise ConfigError(f"FIELDSYNC_JWT_ALGORITHMS: {', '.join(unknown)} is not one of {', '.join(TOKEN_ALGORITHMS)}")
    if settings.jwks_url is not None and not set(allowed) & JWKS_ALGORITHMS:
        raise ConfigError(f"FIELDSYNC_JWKS_URL is set, but FIELDSYNC_JWT_ALGORITHMS={named} accepts none of the "
                          f"algorithms its keys verify ({', '.join(sorted(JWKS_ALGORITHMS))})")
    if settings.jwt_secret is not None and "HS256" not in allowed:
        raise ConfigError(f"FIELDSYNC_JWT_SECRET is set, but FIELDSYNC_JWT_ALGORITHMS={named} leaves out HS256, "
                          f"the only algorithm it verifies; unset one of them")


def _check_trusted_proxies(proxies: tuple[str, ...]) -> None:
    """Every entry an IP address or network: uvicorn would take anything else as a literal never matched."""
    for entry in proxies:
        try:
            ipaddress.ip_network(entry)
        except ValueError as exc:
            raise ConfigError(f"FIELDSYNC_TRUSTED_PROXIES: {entry!r} is not an IP address or network ({exc})") from None


def variables() -> list[str]:
    """Every ``FIELDSYNC_*`` variable the hub reads: the server's, then the engine's tunables."""
    return [*_SERVER_VARIABLES.values(), *(variable for variable, _ in hub_tunables())]


def hub_tunables() -> list[tuple[str, Any]]:
    """Each engine variable (``HubConfig`` field) with its default."""
    return [(hub_variable(f.name), f.default) for f in msgspec.structs.fields(HubConfig)]


def _check_redis(redis_url: str, database_url: str) -> None:
    if urlsplit(redis_url).scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(f"FIELDSYNC_REDIS_URL must be a redis://, rediss:// or unix:// URL, got {redact_url(redis_url)!r}")
    if database_url.startswith("sqlite"):
        raise ConfigError(
            "FIELDSYNC_REDIS_URL is for several hub nodes, and SQLite is single-node: use a Postgres "
            "FIELDSYNC_DATABASE_URL (postgresql+asyncpg://...), or unset FIELDSYNC_REDIS_URL"
        )


def hub_variable(field: str) -> str:
    """The environment variable that sets ``HubConfig.<field>``."""
    return PREFIX + field.upper()


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Parse ``environ`` (default ``os.environ``) into ``Settings``; raises ``ConfigError`` naming the variable."""
    env = os.environ if environ is None else environ
    hub_fields = {hub_variable(f.name): f for f in msgspec.structs.fields(HubConfig)}
    known = set(variables())
    unknown = sorted(k for k in env if k.startswith(PREFIX) and k not in known and not k.startswith(TEST_PREFIX))
    if unknown:
        raise ConfigError(f"unknown variable(s) {', '.join(unknown)}; see the README for the FIELDSYNC_* names")

    values: dict[str, Any] = {}
    for name, variable in _SERVER_VARIABLES.items():
        if variable not in env:
            continue
        raw = env[variable].strip()
        if name in _OPTIONAL and not raw:
            continue
        if name in ("port", "metrics_port"):
            values[name] = _parse(variable, raw, int)
        elif name in ("log_level", "log_format", "metrics", "ws_deflate"):
            values[name] = raw.lower()
        elif name == "jwt_algorithms":
            values[name] = tuple(part.strip().upper() for part in raw.split(",") if part.strip())
        elif name == "trusted_proxies":
            values[name] = tuple(part.strip() for part in raw.split(",") if part.strip())
        else:
            values[name] = raw

    hub_values: dict[str, Any] = {}
    for variable, field in hub_fields.items():
        if variable in env:
            value = _parse(variable, env[variable].strip(), field.type)
            try:
                HubConfig(**{field.name: value})  # alone, so the error names exactly this variable
            except ConfigError as exc:
                raise ConfigError(f"{variable}: {exc}") from None
            hub_values[field.name] = value
    try:
        values["hub"] = HubConfig(**hub_values)
    except ConfigError as exc:
        raise ConfigError(f"{', '.join(hub_variable(n) for n in hub_values)}: {exc}") from None
    return Settings(**values)


def _parse(variable: str, raw: str, type_: Any) -> Any:
    kind = getattr(type_, "__name__", str(type_))
    try:
        value = msgspec.convert(raw, type_, strict=False)
    except msgspec.ValidationError:
        raise ConfigError(f"{variable} must be {'an' if kind == 'int' else 'a'} {kind}, got {raw!r}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{variable} must be a finite number, got {raw!r}")
    return value


def describe(settings: Settings) -> dict[str, Any]:
    """A view of ``settings`` safe to log: secrets and URL passwords are redacted."""
    view: dict[str, Any] = msgspec.structs.asdict(settings)
    view["hub"] = msgspec.structs.asdict(settings.hub)
    view["database_url"] = redact_url(settings.database_url)
    view["redis_url"] = None if settings.redis_url is None else redact_url(settings.redis_url)
    view["cache_url"] = None if settings.cache_url is None else redact_url(settings.cache_url)
    view["jwt_secret"] = None if settings.jwt_secret is None else "<redacted>"
    for token in ("metrics_token", "admin_token"):
        view[token] = None if view[token] is None else "<redacted>"
    if settings.jwt_public_key is not None and settings.jwt_public_key.startswith("-----BEGIN"):
        view["jwt_public_key"] = "<PEM>"
    view["jwks_url"] = None if settings.jwks_url is None else redact_url(settings.jwks_url)
    return view


def redact_url(url: str) -> str:
    """``url`` with its password, if any, replaced by ``<redacted>``."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        netloc = f"{parts.username or ''}:<redacted>@{host}" + (f":{parts.port}" if parts.port else "")
    except ValueError:
        return "<unparseable url>"
    return urlunsplit(parts._replace(netloc=netloc))
