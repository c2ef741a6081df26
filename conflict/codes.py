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
    #: A stamp is dated further ahead of the hub's clock than it accepts; the entry is put back.
    FUTURE_STAMP = "stamp_from_the_future"
    #: An appended list entry names another author or device than the writer, or the list is the hub's own.
    FORGED_ENTRY = "forged_entry"
    #: The update created the record in a shape its author may not reach (another customer's claim): undone.
    OUT_OF_REACH = "out_of_reach"
    #: The rules could not judge the update; everything it changed is undone.
    NOT_JUDGED = "not_judged"
    #: The author's access to this record (the hub's access rules) does not include the field or list it changed.
    NOT_WRITABLE = "field_not_writable"
