"""Reading the hub's TOML files (scopes, access rules): one way to fail, naming the file."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from sync.errors import ConfigError

__all__ = ["read_toml"]


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """The parsed ``path``; ``ConfigError("<what> <path>: <why>")`` when it cannot be read or parsed."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{what} {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{what} {path}: {exc}") from None
