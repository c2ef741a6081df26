from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from server.config import Settings, load_settings
from server.token_keys import resolve_jwt_secret, resolve_public_key
from sync.errors import ConfigError

SECRET = "s" * 40


def test_production_without_any_key_is_refused(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    settings = load_settings({"FIELDSYNC_ENV": "production", "FIELDSYNC_SECRET_FILE": str(secret_file)})
    with pytest.raises(ConfigError, match="production needs FIELDSYNC_JWT_SECRET, FIELDSYNC_JWT_PUBLIC_KEY or FIELDSYNC_JWKS_URL"):
        resolve_jwt_secret(settings)
    assert not secret_file.exists()


def test_configured_secret_wins(tmp_path: Path) -> None:
    settings = Settings(jwt_secret=SECRET, secret_file=str(tmp_path / "secret"))
    assert resolve_jwt_secret(settings) == (SECRET, False)
    assert resolve_jwt_secret(Settings(environment="production", jwt_secret=SECRET)) == (SECRET, False)
    assert not (tmp_path / "secret").exists()


@pytest.mark.parametrize("source", [{"jwt_public_key": "k.pem"}, {"jwks_url": "https://idp.example/jwks.json"}])
def test_a_public_key_or_a_jwks_url_alone_means_no_secret(tmp_path: Path, source: dict[str, str]) -> None:
    for environment in ("development", "production"):
        settings = Settings(environment=environment, secret_file=str(tmp_path / "secret"), **source)
        assert resolve_jwt_secret(settings) == (None, False)
    assert not (tmp_path / "secret").exists()


def test_development_keeps_its_secret_when_hs256_is_named_beside_a_jwks(tmp_path: Path) -> None:
    settings = Settings(jwks_url="https://idp.example/jwks.json", jwt_algorithms=("RS256", "HS256"),
                        secret_file=str(tmp_path / "secret"))
    secret, generated = resolve_jwt_secret(settings)
    assert generated and secret == (tmp_path / "secret").read_text().strip()


def test_no_secret_is_generated_when_hs256_is_not_accepted(tmp_path: Path) -> None:
    settings = Settings(jwt_algorithms=("RS256",), secret_file=str(tmp_path / "secret"))
    assert resolve_jwt_secret(settings) == (None, False)
    assert not (tmp_path / "secret").exists()


def test_development_secret_is_generated_once_and_reused(tmp_path: Path) -> None:
    secret_file = tmp_path / "fieldsync.secret"
    settings = load_settings({"FIELDSYNC_SECRET_FILE": str(secret_file)})
    secret, generated = resolve_jwt_secret(settings)
    assert generated is True
    assert secret and len(secret) >= 32
    assert secret_file.read_text().strip() == secret
    if sys.platform != "win32":
        assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert resolve_jwt_secret(settings) == (secret, False)
    assert [p.name for p in tmp_path.iterdir()] == ["fieldsync.secret"]


def test_existing_secret_file_is_used(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text("handmade-secret\n")
    assert resolve_jwt_secret(Settings(secret_file=str(secret_file))) == ("handmade-secret", False)


def test_empty_secret_file_is_refused(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text("\n")
    with pytest.raises(ConfigError, match="FIELDSYNC_SECRET_FILE"):
        resolve_jwt_secret(Settings(secret_file=str(secret_file)))


def test_unwritable_secret_location_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="FIELDSYNC_SECRET_FILE"):
        resolve_jwt_secret(Settings(secret_file=str(tmp_path / "missing-dir" / "secret")))


def test_public_key_from_text_or_file(tmp_path: Path) -> None:
    pem = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
    assert resolve_public_key(Settings(jwt_public_key=pem)) == pem
    assert resolve_public_key(Settings(jwt_public_key=pem.replace("\n", "\\n"))) == pem
    path = tmp_path / "jwt.pem"
    path.write_text(pem)
    assert resolve_public_key(Settings(jwt_public_key=str(path))) == pem
    assert resolve_public_key(Settings()) is None
    with pytest.raises(ConfigError, match="FIELDSYNC_JWT_PUBLIC_KEY"):
        resolve_public_key(Settings(jwt_public_key=str(tmp_path / "absent.pem")))
