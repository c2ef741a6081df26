"""Every refusal a client receives, logged once at info: its code, the user, device and document.

An extension on the ``refusal_sent`` hook. It never logs a token or a record's content: what it writes is
the refusal's code and the identity the hub verified (nothing a client merely claimed).
"""

from __future__ import annotations

import logging
from typing import Any

from sync.hooks import Extension

__all__ = ["RefusalLog"]

log = logging.getLogger("sync.refusals")


class RefusalLog(Extension):
    name = "refusal-log"

    def refusal_sent(self, connection: Any, name: str, code: str) -> None:
        principal = getattr(connection, "principal", None)
        if principal is None:
            tenant = user = device = "-"
        else:
            tenant, user, device = principal.tenant, principal.user, principal.device
        log.info("refused %s: code=%s tenant=%s user=%s device=%s document=%r", "document" if name else "connection",
                 code, tenant, user, device, name[:120])
