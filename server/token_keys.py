"""Where the keys that verify tokens come from: the configured secret, the development secret file, the PEM
public key (text or file).

Kept apart from ``server.config`` because these read and write files, while the settings are pure parsing.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from server.config import Settings
from sync import ConfigError

__all__ = ["resolve_jwt_secret", "resolve_public_key"]


def resolve_jwt_secret(settings: Settings, *, generate: bool = True) -> tuple[str | None, bool]:
    """The HS256 secret to use and whether it was generated just now.

    A configured ``jwt_secret`` wins. Production never reads or writes the secret file and refuses to go on
    without a key source: a secret, a public key or a JWKS URL. Development reads ``secret_file`` when HS256
    tokens are wanted (no other key source is set, or ``jwt_algorithms`` names HS256); the hub (``generate``)
    creates it with a fresh secret (mode 0600) the first time, while ``fieldsync token`` only reads it, so a
    token is never signed with a secret no hub uses. ``None`` means no HS256 tokens are accepted.
    """
    if settings.jwt_secret is not None:
        return settings.jwt_secret, False
    others = settings.jwt_public_key is not None or settings.jwks_url is not None
    if settings.environment == "production":
        if not others:
            raise ConfigError("production needs FIELDSYNC_JWT_SECRET, FIELDSYNC_JWT_PUBLIC_KEY or FIELDSYNC_JWKS_URL")
        return None, False
    wanted = "HS256" in settings.jwt_algorithms if settings.jwt_algorithms is not None else not others
    if not wanted:
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
