"""How the SDK treats each refusal code from the hub: stop, retry later, or wait for the next connection."""

from __future__ import annotations

from sync.protocol.codes import ErrorCode

#: Refusals of the token itself: the client stops and tells the app instead of retrying.
TOKEN_CODES = frozenset({ErrorCode.TOKEN_MISSING, ErrorCode.TOKEN_INVALID, ErrorCode.TOKEN_EXPIRED,
                         ErrorCode.TENANT_MISMATCH})
#: Refusals that pass: what was refused (an entry, an Auth, a subscription) is sent again a little later.
PASSING_CODES = frozenset({ErrorCode.RATE_LIMITED, ErrorCode.QUEUE_FULL, ErrorCode.STORE_UNAVAILABLE})
#: Refusals of a write that re-sending on this connection cannot cure; the entries wait for the next connection.
BLOCKING_CODES = frozenset({ErrorCode.READONLY, ErrorCode.INVALID_UPDATE, ErrorCode.FRAME_TOO_LARGE,
                            ErrorCode.NOT_AUTHENTICATED})


def denial_code(reason: str) -> str:
    """The code a ``PermissionDenied`` reason starts with (``forbidden: ...``)."""
    return reason.partition(":")[0].strip()
