"""Every code a client can receive from the hub, in one place.

Close codes end a whole WebSocket. Error codes travel inside a Stateless ``error`` notice (or as the
prefix of a PermissionDenied reason) and concern one document; the connection stays open. The README's
protocol section documents each of them. Notices about a write the hub corrected carry a
``conflict.ViolationCode`` instead.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class CloseCode(IntEnum):
    """WebSocket close codes the hub uses."""

    GOING_AWAY = 1001
    UNSUPPORTED_DATA = 1003
    MESSAGE_TOO_BIG = 1009
    BAD_FRAME = 4400
    DEVICE_REVOKED = 4403
    CONNECTION_TIMEOUT = 4408
    SLOW_CONSUMER = 4409
    TOO_MANY_CONNECTIONS = 4429


class ErrorCode(StrEnum):
    """Per-document error codes (Stateless ``error`` notices and PermissionDenied reasons)."""

    # frame and payload
    BAD_FRAME = "bad_frame"
    FRAME_TOO_LARGE = "frame_too_large"
    INVALID_UPDATE = "invalid_update"
    MISSING_DEPENDENCIES = "missing_dependencies"
    INVALID_STATE_VECTOR = "invalid_state_vector"
    INVALID_AWARENESS = "invalid_awareness"
    INVALID_DOCUMENT_NAME = "invalid_document_name"
    UNKNOWN_RECORD_TYPE = "unknown_record_type"
    UNSUPPORTED_MESSAGE = "unsupported_message"
    INVALID_CONTROL = "invalid_control"
    # sync scopes (on the ``$scopes`` control document)
    UNKNOWN_SCOPE = "unknown_scope"
    INVALID_SCOPE_PARAMS = "invalid_scope_params"
    TOO_MANY_SCOPES = "too_many_scopes"
    # authentication and authorization
    TOKEN_MISSING = "token_missing"
    TOKEN_INVALID = "token_invalid"
    TOKEN_EXPIRED = "token_expired"
    TENANT_MISMATCH = "tenant_mismatch"
    FORBIDDEN = "forbidden"
    NOT_AUTHENTICATED = "not_authenticated"
    READONLY = "readonly"
    ACCESS_REVOKED = "access_revoked"
    WRITE_REJECTED = "write_rejected"
    DEVICE_REVOKED = "device_revoked"
    # limits
    RATE_LIMITED = "rate_limited"
    TOO_MANY_DOCUMENTS = "too_many_documents"
    QUEUE_FULL = "queue_full"
    DOCUMENT_TOO_LARGE = "document_too_large"
    AWARENESS_TOO_LARGE = "awareness_too_large"
    # only the hub speaks as the hub
    AWARENESS_NOT_OWNED = "awareness_not_owned"
    RESERVED_MESSAGE = "reserved_message"
    # storage
    STORE_UNAVAILABLE = "store_unavailable"
    # review (the hub's Python API now, the admin API later)
    CONFLICT_NOT_FOUND = "conflict_not_found"
    CONFLICT_RESOLVED = "conflict_resolved"
    INVALID_RESOLUTION = "invalid_resolution"
    # the admin API (HTTP answers, ``{"code": ..., "reason": ...}``)
    DEVICE_NOT_FOUND = "device_not_found"
    DOCUMENT_NOT_LOADED = "document_not_loaded"
    DOCUMENT_IN_USE = "document_in_use"
    DOCUMENT_ON_OTHER_NODE = "document_on_other_node"
