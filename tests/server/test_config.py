from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import msgspec
import pytest

from server.claims import ClaimNames
from server.config import Settings, claim_names, describe, load_settings
from sync.config import HubConfig
from sync.errors import ConfigError

SECRET = "s" * 40


def test_empty_environ_gives_embedded_defaults() -> None:
    settings = load_settings({})
    assert settings == Settings()
    assert settings.host == "127.0.0.1"
    assert settings.port == 8765
    assert settings.database_url == "sqlite+aiosqlite:///./fieldsync.db"
    assert settings.redis_url is None
    assert settings.jwt_secret is None
    assert settings.jwt_public_key is None
    assert settings.environment == "development"
    assert settings.log_level == "info"
    assert settings.secret_file == "./fieldsync.secret"
    assert settings.hub == HubConfig()


def test_unrelated_variables_are_ignored() -> None:
    assert load_settings({"PATH": "/bin", "FIELDSYNCX": "1", "FIELDSYNC_TEST_PG_URL": "x"}) == Settings()


def test_every_server_variable_is_parsed() -> None:
    settings = load_settings(
        {
            "FIELDSYNC_HOST": "0.0.0.0",
            "FIELDSYNC_PORT": "9000",
            "FIELDSYNC_DATABASE_URL": "postgresql+asyncpg://hub:pw@db/fieldsync",
            "FIELDSYNC_REDIS_URL": "redis://cache:6379/0",
            "FIELDSYNC_JWT_SECRET": SECRET,
            "FIELDSYNC_JWT_PUBLIC_KEY": "/etc/fieldsync/jwt.pem",
            "FIELDSYNC_ENV": "production",
            "FIELDSYNC_LOG_LEVEL": "DEBUG",
            "FIELDSYNC_SECRET_FILE": "/var/lib/fieldsync/secret",
            "FIELDSYNC_JWT_AUDIENCE": "fieldsync-api",
            "FIELDSYNC_JWT_ISSUER": "https://idp.example/",
            "FIELDSYNC_JWT_ALGORITHMS": "hs256, RS256",
            "FIELDSYNC_LOG_FORMAT": "TEXT",
            "FIELDSYNC_METRICS": "off",
            "FIELDSYNC_METRICS_TOKEN": "scrape-me",
            "FIELDSYNC_METRICS_PORT": "9100",
            "FIELDSYNC_ADMIN_TOKEN": "ey.admin.jwt",
        }
    )
    assert settings == Settings(
        host="0.0.0.0",
        port=9000,
        database_url="postgresql+asyncpg://hub:pw@db/fieldsync",
        redis_url="redis://cache:6379/0",
        jwt_secret=SECRET,
        jwt_public_key="/etc/fieldsync/jwt.pem",
        environment="production",
        log_level="debug",
        secret_file="/var/lib/fieldsync/secret",
        jwt_audience="fieldsync-api",
        jwt_issuer="https://idp.example/",
        jwt_algorithms=("HS256", "RS256"),
        log_format="text",
        metrics="off",
        metrics_token="scrape-me",
        metrics_port=9100,
        admin_token="ey.admin.jwt",
    )


def test_empty_optional_variables_mean_unset() -> None:
    settings = load_settings({"FIELDSYNC_REDIS_URL": "", "FIELDSYNC_JWT_SECRET": " ", "FIELDSYNC_JWT_PUBLIC_KEY": "",
                              "FIELDSYNC_JWKS_URL": "", "FIELDSYNC_JWT_AUDIENCE": "", "FIELDSYNC_JWT_ISSUER": " ",
                              "FIELDSYNC_JWT_ALGORITHMS": ""})
    assert settings == Settings()


def test_a_jwks_url_is_read() -> None:
    settings = load_settings({"FIELDSYNC_JWKS_URL": "https://idp.example/.well-known/jwks.json"})
    assert settings.jwks_url == "https://idp.example/.well-known/jwks.json"


@pytest.mark.parametrize(("environ", "message"), [
    ({"FIELDSYNC_JWKS_URL": "idp.example/jwks.json"}, "FIELDSYNC_JWKS_URL must be an http:// or https:// URL"),
    ({"FIELDSYNC_JWKS_URL": "file:///etc/jwks.json"}, "FIELDSYNC_JWKS_URL must be an http:// or https:// URL"),
    ({"FIELDSYNC_JWKS_URL": "https:///jwks.json"}, "FIELDSYNC_JWKS_URL must be an http:// or https:// URL"),
    ({"FIELDSYNC_JWKS_URL": "https://idp.example/jwks.json", "FIELDSYNC_JWT_PUBLIC_KEY": "/etc/jwt.pem"},
     "set FIELDSYNC_JWT_PUBLIC_KEY or FIELDSYNC_JWKS_URL, not both"),
    ({"FIELDSYNC_JWKS_URL": "https://idp.example/jwks.json", "FIELDSYNC_JWT_ALGORITHMS": "HS256"},
     "FIELDSYNC_JWKS_URL is set, but FIELDSYNC_JWT_ALGORITHMS=HS256 accepts none of the algorithms its keys "
     "verify (ES256, RS256)"),
    ({"FIELDSYNC_JWT_SECRET": SECRET, "FIELDSYNC_JWT_ALGORITHMS": "RS256"},
     "FIELDSYNC_JWT_SECRET is set, but FIELDSYNC_JWT_ALGORITHMS=RS256 leaves out HS256"),
    ({"FIELDSYNC_JWT_ALGORITHMS": "RS256,none"}, "FIELDSYNC_JWT_ALGORITHMS: NONE is not one of HS256, RS256, ES256"),
    ({"FIELDSYNC_JWT_ALGORITHMS": "HS512"}, "FIELDSYNC_JWT_ALGORITHMS: HS512 is not one of HS256, RS256, ES256"),
    ({"FIELDSYNC_JWT_ALGORITHMS": " , "}, "FIELDSYNC_JWT_ALGORITHMS names no algorithm"),
])
def test_contradicting_key_settings_are_refused(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(environ)
    assert str(info.value).startswith(message)


def test_every_hub_field_is_read_and_converted() -> None:
    environ: dict[str, str] = {}
    expected: dict[str, int | float] = {}
    for field in msgspec.structs.fields(HubConfig):
        value = field.default * 2 + 1
        environ[f"FIELDSYNC_{field.name.upper()}"] = str(value)
        expected[field.name] = value
    hub = load_settings(environ).hub
    for name, value in expected.items():
        assert getattr(hub, name) == value
        assert type(getattr(hub, name)) is type(value)


def test_named_hub_variables() -> None:
    hub = load_settings({"FIELDSYNC_MAX_FRAME_BYTES": "4096", "FIELDSYNC_COMPACTION_THRESHOLD": " 10 ",
                         "FIELDSYNC_MESSAGES_PER_SECOND": "2.5", "FIELDSYNC_IDLE_UNLOAD_SECONDS": "5"}).hub
    assert hub.max_frame_bytes == 4096
    assert hub.compaction_threshold == 10
    assert hub.messages_per_second == 2.5
    assert hub.idle_unload_seconds == 5.0


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("FIELDSYNC_PORT", "http"),
        ("FIELDSYNC_PORT", "80.5"),
        ("FIELDSYNC_PORT", "0"),
        ("FIELDSYNC_PORT", "70000"),
        ("FIELDSYNC_PORT", "-1"),
        ("FIELDSYNC_HOST", ""),
        ("FIELDSYNC_DATABASE_URL", " "),
        ("FIELDSYNC_ENV", "staging"),
        ("FIELDSYNC_LOG_LEVEL", "loud"),
        ("FIELDSYNC_SECRET_FILE", ""),
        ("FIELDSYNC_MAX_FRAME_BYTES", "big"),
        ("FIELDSYNC_MAX_FRAME_BYTES", "-5"),
        ("FIELDSYNC_MAX_FRAME_BYTES", "0"),
        ("FIELDSYNC_COMPACTION_THRESHOLD", "1.5"),
        ("FIELDSYNC_MESSAGES_PER_SECOND", "0"),
        ("FIELDSYNC_MESSAGES_PER_SECOND", "nan"),
        ("FIELDSYNC_AUTH_TIMEOUT_SECONDS", "inf"),
        ("FIELDSYNC_GROUP_COMMIT_DELAY_MS", "-1"),
    ],
)
def test_bad_value_names_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        load_settings({variable: value})


def test_unknown_variable_is_refused() -> None:
    with pytest.raises(ConfigError, match="FIELDSYNC_MAX_FRAME_BYTE\\b") as info:
        load_settings({"FIELDSYNC_MAX_FRAME_BYTE": "10", "FIELDSYNC_PROT": "1", "FIELDSYNC_TEST_ANYTHING": "1"})
    assert "FIELDSYNC_PROT" in str(info.value)
    assert "FIELDSYNC_TEST_ANYTHING" not in str(info.value)


def test_production_refuses_a_short_secret() -> None:
    with pytest.raises(ConfigError, match="FIELDSYNC_JWT_SECRET"):
        load_settings({"FIELDSYNC_ENV": "production", "FIELDSYNC_JWT_SECRET": "short"})


def test_describe_redacts_secrets() -> None:
    settings = Settings(
        jwt_secret=SECRET,
        database_url="postgresql+asyncpg://hub:db-password@db:5432/fieldsync",
        redis_url="redis://:redis-password@cache:6379/0",
        jwt_public_key="-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    )
    view = describe(settings)
    text = repr(view)
    for secret in (SECRET, "db-password", "redis-password", "AAAA"):
        assert secret not in text
    assert view["database_url"] == "postgresql+asyncpg://hub:<redacted>@db:5432/fieldsync"
    assert view["redis_url"] == "redis://:<redacted>@cache:6379/0"
    assert view["port"] == 8765
    assert view["hub"]["max_frame_bytes"] == HubConfig().max_frame_bytes
    assert describe(Settings())["jwt_secret"] is None
    assert describe(Settings())["database_url"] == Settings().database_url
    jwks = describe(Settings(jwks_url="https://hub:jwks-password@idp.example/jwks.json"))["jwks_url"]
    assert jwks == "https://hub:<redacted>@idp.example/jwks.json"


def test_load_settings_defaults_to_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("FIELDSYNC_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("FIELDSYNC_PORT", "8123")
    assert load_settings().port == 8123


def test_redis_prefix_is_parsed_and_defaults_to_fieldsync() -> None:
    assert load_settings({}).redis_prefix == "fieldsync"
    assert load_settings({"FIELDSYNC_REDIS_PREFIX": "acme-prod"}).redis_prefix == "acme-prod"
    with pytest.raises(ConfigError, match="FIELDSYNC_REDIS_PREFIX"):
        load_settings({"FIELDSYNC_REDIS_PREFIX": "two words"})


def test_redis_with_sqlite_is_refused_sqlite_is_single_node() -> None:
    with pytest.raises(ConfigError, match="SQLite is single-node"):
        load_settings({"FIELDSYNC_REDIS_URL": "redis://127.0.0.1:6379/0"})
    with pytest.raises(ConfigError, match="SQLite is single-node"):
        load_settings({"FIELDSYNC_REDIS_URL": "redis://127.0.0.1:6379/0",
                       "FIELDSYNC_DATABASE_URL": "sqlite+aiosqlite:///./hub.db"})


def test_a_redis_url_of_another_scheme_is_refused_without_its_password() -> None:
    with pytest.raises(ConfigError, match="redis://") as refused:
        load_settings({"FIELDSYNC_REDIS_URL": "http://:hunter2@cache:6379",
                       "FIELDSYNC_DATABASE_URL": "postgresql+asyncpg://db/fieldsync"})
    assert "hunter2" not in str(refused.value)


def test_claim_names_are_read_and_checked() -> None:
    settings = load_settings({"FIELDSYNC_JWT_ROLES_CLAIM": "https://acme.example/roles",
                              "FIELDSYNC_JWT_DEVICE_CLAIM": "sid", "FIELDSYNC_JWT_TENANT_CLAIM": "",
                              "FIELDSYNC_JWT_TEAMS_CLAIM": "groups"})
    assert claim_names(settings) == ClaimNames(roles="https://acme.example/roles", device="sid", teams="groups")
    with pytest.raises(ConfigError, match="must be four different claims"):
        load_settings({"FIELDSYNC_JWT_TEAMS_CLAIM": "roles"})


@pytest.mark.parametrize(("environ", "message"), [
    ({"FIELDSYNC_LOG_FORMAT": "yaml"}, "FIELDSYNC_LOG_FORMAT must be one of json, text"),
    ({"FIELDSYNC_METRICS": "maybe"}, "FIELDSYNC_METRICS must be on or off"),
    ({"FIELDSYNC_METRICS_PORT": "0"}, "FIELDSYNC_METRICS_PORT must be between 1 and 65535"),
    ({"FIELDSYNC_METRICS_PORT": "x"}, "FIELDSYNC_METRICS_PORT must be an int"),
    ({"FIELDSYNC_METRICS_PORT": "8765"}, "FIELDSYNC_METRICS_PORT must differ from FIELDSYNC_PORT"),
])
def test_operator_settings_are_validated(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(environ)


def test_logs_are_json_in_production_and_text_in_development_unless_chosen() -> None:
    assert load_settings({"FIELDSYNC_ENV": "production", "FIELDSYNC_JWT_SECRET": SECRET}).json_logs
    assert not load_settings({}).json_logs
    assert load_settings({"FIELDSYNC_LOG_FORMAT": "json"}).json_logs
    assert not load_settings({"FIELDSYNC_ENV": "production", "FIELDSYNC_JWT_SECRET": SECRET,
                              "FIELDSYNC_LOG_FORMAT": "text"}).json_logs


def test_scrape_and_admin_tokens_are_redacted() -> None:
    view = describe(load_settings({"FIELDSYNC_METRICS_TOKEN": "scrape-me", "FIELDSYNC_ADMIN_TOKEN": "ey.a.b"}))
    assert view["metrics_token"] == view["admin_token"] == "<redacted>"


def test_trusted_proxies_are_addresses_and_networks() -> None:
    settings = load_settings({"FIELDSYNC_TRUSTED_PROXIES": " 10.0.0.0/8, 192.168.4.7 ,fd00::/8,"})
    assert settings.trusted_proxies == ("10.0.0.0/8", "192.168.4.7", "fd00::/8")
    assert load_settings({"FIELDSYNC_TRUSTED_PROXIES": ""}).trusted_proxies == (), "empty: no proxy is trusted"


@pytest.mark.parametrize(("value", "says"), [
    ("lb.internal", "'lb.internal' is not an IP address or network"),
    ("*", "'*' is not an IP address or network"),
    ("10.1.0.0/8", "'10.1.0.0/8' is not an IP address or network (10.1.0.0/8 has host bits set)"),
])
def test_a_trusted_proxy_that_is_not_an_address_is_refused(value: str, says: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({"FIELDSYNC_TRUSTED_PROXIES": value})
    assert str(info.value).startswith(f"FIELDSYNC_TRUSTED_PROXIES: {says}")
