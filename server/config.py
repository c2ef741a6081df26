"""Server settings, read from ``FIELDSYNC_*`` environment variables and validated before anything is served.

The variable names are a contract with operators and tests (DESIGN.md section 6). An unknown ``FIELDSYNC_*``
variable is refused, so a typo never falls back silently to a default; only names starting with
``FIELDSYNC_TEST_`` are left alone, for test harnesses to pass their own knobs.
"""

from __future__ import annotations

import math
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import msgspec

from server.api.sla import DEFAULT_SLA, parse_sla
from sync import DEFAULT_SCOPES_FILE, ConfigError, HubConfig

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
    "jwt_secret": "FIELDSYNC_JWT_SECRET",
    "jwt_public_key": "FIELDSYNC_JWT_PUBLIC_KEY",
    "environment": "FIELDSYNC_ENV",
    "log_level": "FIELDSYNC_LOG_LEVEL",
    "secret_file": "FIELDSYNC_SECRET_FILE",
    "scopes_file": "FIELDSYNC_SCOPES_FILE",
    "report_sla": "FIELDSYNC_REPORT_SLA",
    "cache_url": "FIELDSYNC_CACHE_URL",
}
#: Optional settings where an empty variable means "unset" (common in compose files).
_OPTIONAL = frozenset({"redis_url", "jwt_secret", "jwt_public_key", "cache_url"})


class Settings(msgspec.Struct, kw_only=True, frozen=True):
    """Everything one hub process needs to start. Defaults run the embedded mode."""

    host: str = "127.0.0.1"
    """Interface to listen on (``FIELDSYNC_HOST``)."""

    port: int = 8765
    """TCP port to listen on, 1-65535 (``FIELDSYNC_PORT``)."""

    database_url: str = "sqlite+aiosqlite:///./fieldsync.db"
    """SQLAlchemy async URL of the store (``FIELDSYNC_DATABASE_URL``); Postgres is ``postgresql+asyncpg://...``."""

    redis_url: str | None = None
    """Redis for the bus and cache (``FIELDSYNC_REDIS_URL``); ``None`` keeps everything in process. Parsed, but
    ``fieldsync serve`` refuses it until the Redis bus exists (``server.startup.check_serve_settings``)."""

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

    cache_url: str | None = None
    """Redis for the REST API's cache (``FIELDSYNC_CACHE_URL``, ``redis://host:6379/0``); unset: in process, right
    for one hub node only."""

    report_sla: str = DEFAULT_SLA
    """Service levels of the open-ages report (``FIELDSYNC_REPORT_SLA``): ``<type>.<STATUS>=<hours>h``, comma-separated."""

    hub: HubConfig = HubConfig()
    """Engine limits and timings, each from ``FIELDSYNC_<FIELD>`` (``FIELDSYNC_MAX_FRAME_BYTES``, ...)."""

    def __post_init__(self) -> None:
        if not self.host:
            raise ConfigError("FIELDSYNC_HOST must not be empty")
        if not 1 <= self.port <= 65535:
            raise ConfigError(f"FIELDSYNC_PORT must be between 1 and 65535, got {self.port}")
        if not self.database_url:
            raise ConfigError("FIELDSYNC_DATABASE_URL must not be empty")
        if self.environment not in ENVIRONMENTS:
            raise ConfigError(f"FIELDSYNC_ENV must be one of {', '.join(ENVIRONMENTS)}, got {self.environment!r}")
        if self.log_level not in LOG_LEVELS:
            raise ConfigError(f"FIELDSYNC_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {self.log_level!r}")
        if not self.secret_file:
            raise ConfigError("FIELDSYNC_SECRET_FILE must not be empty")
        if not self.scopes_file:
            raise ConfigError("FIELDSYNC_SCOPES_FILE must not be empty")
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


def variables() -> list[str]:
    """Every ``FIELDSYNC_*`` variable the hub reads: the server's, then the engine's tunables."""
    return [*_SERVER_VARIABLES.values(), *(variable for variable, _ in hub_tunables())]


def hub_tunables() -> list[tuple[str, Any]]:
    """Each engine variable (``HubConfig`` field) with its default."""
    return [(hub_variable(f.name), f.default) for f in msgspec.structs.fields(HubConfig)]


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
        if name == "port":
            values[name] = _parse(variable, raw, int)
        elif name == "log_level":
            values[name] = raw.lower()
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


def resolve_jwt_secret(settings: Settings, *, generate: bool = True) -> tuple[str | None, bool]:
    """The HS256 secret to use and whether it was generated just now.

    A configured ``jwt_secret`` wins. Production never reads or writes the secret file and refuses to go on
    with neither a secret nor a public key. Development with neither a secret nor a public key reads
    ``secret_file``; the hub (``generate``) creates it with a fresh secret (mode 0600) the first time, while
    ``fieldsync token`` only reads it, so a token is never signed with a secret no hub uses. ``None`` means
    only RS256 tokens are accepted.
    """
    if settings.jwt_secret is not None:
        return settings.jwt_secret, False
    if settings.environment == "production":
        if settings.jwt_public_key is None:
            raise ConfigError("production needs FIELDSYNC_JWT_SECRET or FIELDSYNC_JWT_PUBLIC_KEY")
        return None, False
    if settings.jwt_public_key is not None:
        return None, False
    if generate:
        return _read_or_create_secret(Path(settings.secret_file))
    path = Path(settings.secret_file)
    try:
        return _read_secret(path), False
    except FileNotFoundError:
        missing = (f"no secret to sign with: FIELDSYNC_JWT_SECRET is not set and {path.resolve()} "
                   f"(FIELDSYNC_SECRET_FILE) does not exist")
        if path.is_absolute():
            raise ConfigError(f"{missing}; the hub creates it when it first starts with this FIELDSYNC_SECRET_FILE: "
                              f"start the hub first, or set FIELDSYNC_JWT_SECRET to the hub's secret") from None
        raise ConfigError(
            f"{missing}; the hub creates its development secret in {settings.secret_file} of the directory it runs "
            f"in (the repository root for bin/hub) when it first starts: run this command there, or set "
            f"FIELDSYNC_SECRET_FILE to that file"
        ) from None


def _read_or_create_secret(path: Path) -> tuple[str, bool]:
    try:
        return _read_secret(path), False
    except FileNotFoundError:
        pass
    secret = secrets.token_urlsafe(32)
    # Write a private temporary file, then link it into place: the link fails if another process won the race,
    # and nobody can ever read a half-written secret file.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secret + "\n")
        try:
            os.link(tmp, path)
        except FileExistsError:
            return _read_secret(path), False
    except OSError as exc:
        raise ConfigError(f"cannot write the development secret to {path} (FIELDSYNC_SECRET_FILE): {exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return secret, True


def _read_secret(path: Path) -> str:
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the secret file {path} (FIELDSYNC_SECRET_FILE): {exc}") from None
    if not secret:
        raise ConfigError(f"the secret file {path} (FIELDSYNC_SECRET_FILE) is empty; delete it or put a secret in it")
    return secret


def resolve_public_key(settings: Settings) -> str | None:
    """The RS256 public key as PEM text, reading the file when ``jwt_public_key`` is a path."""
    value = settings.jwt_public_key
    if value is None:
        return None
    if value.startswith("-----BEGIN"):
        # A PEM pasted into one env line often carries literal "\n" sequences instead of newlines.
        return value.replace("\\n", "\n") if "\n" not in value else value
    try:
        return Path(value).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"FIELDSYNC_JWT_PUBLIC_KEY: cannot read the key file {value}: {exc}") from None


def describe(settings: Settings) -> dict[str, Any]:
    """A view of ``settings`` safe to log: secrets and URL passwords are redacted."""
    view: dict[str, Any] = msgspec.structs.asdict(settings)
    view["hub"] = msgspec.structs.asdict(settings.hub)
    view["database_url"] = redact_url(settings.database_url)
    view["redis_url"] = None if settings.redis_url is None else redact_url(settings.redis_url)
    view["cache_url"] = None if settings.cache_url is None else redact_url(settings.cache_url)
    view["jwt_secret"] = None if settings.jwt_secret is None else "<redacted>"
    if settings.jwt_public_key is not None and settings.jwt_public_key.startswith("-----BEGIN"):
        view["jwt_public_key"] = "<PEM>"
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
