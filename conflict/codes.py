"""Why a change was refused or corrected: the codes a device receives (in a Stateless ``error`` notice)."""

from __future__ import annotations

from enum import StrEnum


class ViolationCode(StrEnum):
    """The reason a status change, a field write or a list change breaks a domain rule."""

    #: No transition of the record type's lifecycle leads from the old status to the new one.
    INVALID_TRANSITION = "invalid_transition"
    #: The transition or field exists, but none of the author's roles may make or write it.
    ROLE_NOT_ALLOWED = "role_not_allowed"
    #: A clock stamp names another device or user, or claims roles the author's token lacks.
    STAMP_MISMATCH = "stamp_mismatch"
    #: An entry of an append-only list was removed or changed in place.
    ENTRY_REMOVED = "entry_removed"
    #: A field that follows the ``clocks`` convention was changed without a stamp; its stamped value stands.
    UNSTAMPED_WRITE = "unstamped_write"
    #: The author's access to this record (the hub's access rules) does not include the field or list it changed.
    NOT_WRITABLE = "field_not_writable"
