"""One logging configuration for the hub, Litestar and uvicorn: JSON lines or readable text.

``configure_logging`` installs one handler on the root logger; Litestar is built without its own logging
configuration and uvicorn runs with ``log_config=None``, so neither replaces it (uvicorn only sets its loggers'
levels). Every line carries the hub's ``node``; lines about a socket or a document also carry ``connection``,
``tenant``, ``user``, ``device``, ``document`` and ``code`` where they apply (``sync.connection_log``). Tokens and
record contents are never passed to a logger, so neither format can write them.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

__all__ = ["FIELDS", "JsonFormatter", "TextFormatter", "configure_logging", "set_node"]

#: The structured fields a line may carry, in the order the text format shows them.
FIELDS = ("event", "node", "connection", "tenant", "user", "device", "document", "code", "close_code", "seconds",
          "frames_in", "frames_out")
_node = "-"


def set_node(node: str) -> None:
    """The hub's node id, written on every line from now on."""
    global _node
    _node = node


class _NodeFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "node"):
            record.node = _node
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time``, ``level``, ``logger``, ``message``, the structured fields present, and
    ``error`` with the traceback of an exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                line[field] = value
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``time level logger: message [field=value ...]`` for a person reading a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = [f"{field}={getattr(record, field)}" for field in FIELDS[2:]
                  if getattr(record, field, None) is not None]
        return f"{text} [{' '.join(fields)}]" if fields else text


def configure_logging(*, level: str, json_lines: bool, stream: Any = None) -> None:
    """Send every logger's lines through one handler on stderr (or ``stream``) in the chosen format."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    handler.addFilter(_NodeFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel("DEBUG" if level == "trace" else level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "litestar"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
