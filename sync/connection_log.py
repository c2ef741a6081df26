"""Sockets opened and closed, and every refusal a client receives, logged once at info with structured fields.

An extension. Each line carries, as ``extra`` fields (the JSON log format writes them as keys, the text format
after the message): ``event``, ``node``, ``connection``, and where they apply ``tenant``, ``user``, ``device``,
``document``, ``code``. It never logs a token or a record's content: only codes and the identity the hub
verified (nothing a client merely claimed).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from sync.hooks import Extension

__all__ = ["ConnectionLog"]

connections = logging.getLogger("sync.connections")
refusals = logging.getLogger("sync.refusals")


class ConnectionLog(Extension):
    name = "connection-log"

    def __init__(self, node: str) -> None:
        self.node = node

    def connection_opened(self, connection: Any) -> None:
        if connections.isEnabledFor(logging.INFO):
            fields = self._fields(connection, "connection_opened")
            connections.info("connection %s opened", fields["connection"], extra=fields)

    def connection_closed(self, connection: Any) -> None:
        if connections.isEnabledFor(logging.INFO):
            fields = self._fields(connection, "connection_closed")
            traffic = connection.outlet.traffic
            fields.update(close_code=connection.outlet.close_code, seconds=round(time.time() - traffic.opened, 3),
                          frames_in=sum(traffic.frames_in), frames_out=sum(traffic.frames_out))
            connections.info("connection %s closed (code %s, %s s)", fields["connection"], fields["close_code"],
                             fields["seconds"], extra=fields)

    def refusal_sent(self, connection: Any, name: str, code: str) -> None:
        if refusals.isEnabledFor(logging.INFO):
            fields = self._fields(connection, "refused")
            fields.update(code=code, document=name[:120] or None)
            refusals.info("refused %s: code=%s tenant=%s user=%s device=%s document=%r",
                          "document" if name else "connection", code, fields["tenant"] or "-", fields["user"] or "-",
                          fields["device"] or "-", name[:120], extra=fields)

    def _fields(self, connection: Any, event: str) -> dict[str, Any]:
        principal = getattr(connection, "principal", None)
        outlet = getattr(connection, "outlet", None)
        return {
            "event": event, "node": self.node,
            "connection": f"{self.node}-{outlet.traffic.id}" if outlet is not None else None,
            "tenant": principal.tenant if principal else None,
            "user": principal.user if principal else None,
            "device": principal.device if principal else None,
        }
