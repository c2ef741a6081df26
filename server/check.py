"""``fieldsync check``: what a deployment script asks before (or instead of) starting a hub.

Each check prints one line (``ok`` or ``FAIL`` with what to change); the exit status names the first failure:

- 0: everything checked is fine
- 2: the configuration is invalid (a ``FIELDSYNC_*`` value, the JWT key in production, the scopes file)
- 3: the database does not answer (or does not exist)
- 4: the database answers but its schema is not the newest (run ``fieldsync migrate``)
- 5: ``FIELDSYNC_REDIS_URL`` is set and Redis does not answer
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from server.config import Settings, describe
from server.token_keys import resolve_jwt_secret, resolve_public_key
from server.startup import check_database_url, probe_database
from sync import ConfigError, StoreError, load_definitions, schema_revisions

__all__ = ["EXIT_CONFIG", "EXIT_DATABASE", "EXIT_REDIS", "EXIT_SCHEMA", "run_check"]

EXIT_CONFIG, EXIT_DATABASE, EXIT_SCHEMA, EXIT_REDIS = 2, 3, 4, 5


def run_check(settings: Settings) -> int:
    """Run every check in order, stopping at the first failure; returns the exit status."""
    url = describe(settings)["database_url"]
    steps: list[tuple[str, int, Callable[[], str]]] = [
        ("configuration", EXIT_CONFIG, lambda: _configuration(settings)),
        ("database", EXIT_DATABASE, lambda: _database(settings, url)),
        ("schema", EXIT_SCHEMA, lambda: _schema(settings)),
    ]
    if settings.redis_url is not None:
        steps.append(("redis", EXIT_REDIS, lambda: _redis(settings)))
    for name, status, check in steps:
        try:
            detail = check()
        except (ConfigError, StoreError) as exc:
            print(f"FAIL {name}: {exc.reason}")
            return status
        print(f"ok   {name}: {detail}")
    return 0


def _configuration(settings: Settings) -> str:
    check_database_url(settings.database_url)
    if settings.environment == "production":
        resolve_jwt_secret(settings, generate=False)
        resolve_public_key(settings)
    try:
        scopes = load_definitions(settings.scopes_file)
    except ConfigError as exc:
        raise ConfigError(f"FIELDSYNC_SCOPES_FILE: {exc}") from None
    return f"{settings.environment}, {len(scopes.definitions)} scopes"


def _database(settings: Settings, url: str) -> str:
    parsed = check_database_url(settings.database_url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:") \
            and not Path(parsed.database).exists():  # connecting would create it: a check changes nothing
        raise StoreError(f"the SQLite file {parsed.database} does not exist: run fieldsync migrate (or serve)")
    asyncio.run(probe_database(settings.database_url))
    return f"{url} answers"


def _schema(settings: Settings) -> str:
    current, head = asyncio.run(schema_revisions(settings.database_url))
    if current != head:
        raise StoreError(f"the schema is at {current or 'nothing (no tables)'}, the newest is {head}: "
                         f"run fieldsync migrate")
    return f"at the newest revision ({head})"


def _redis(settings: Settings) -> str:
    import redis

    assert settings.redis_url is not None
    client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=5, socket_timeout=5)
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        raise ConfigError(f"FIELDSYNC_REDIS_URL does not answer: {type(exc).__name__}: {str(exc)[:200]}") from None
    finally:
        client.close()
    return f"{describe(settings)['redis_url']} answers"


