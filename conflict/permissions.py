"""Who may write what: checks the hub runs on the writes an update brings, with the sender's token.

Offline devices cannot be stopped from editing; these checks tell the hub which writes to revert (or to
refuse) and which code to send back. They complement ``check_transition`` for status changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import msgspec

from conflict.codes import ViolationCode
from conflict.entries import previous_version, removed_entries
from conflict.policies import MergeKind
from conflict.records.registry import RecordType, lookup_record_type
from conflict.stamps import FieldStamp
from conflict.verdicts import ALLOWED, Verdict, refuse


def _record_type(record_type: RecordType | str) -> RecordType:
    return record_type if isinstance(record_type, RecordType) else lookup_record_type(record_type)


def check_field_write(record_type: RecordType | str, field: str, roles: Iterable[str]) -> Verdict:
    """Whether an author holding ``roles`` may write scalar ``field``."""
    kind = _record_type(record_type)
    policy = kind.policy_for(field)
    if policy.allows(roles):
        return ALLOWED
    return refuse(
        ViolationCode.ROLE_NOT_ALLOWED,
        f"{kind.name}.{field} may only be written by {', '.join(sorted(policy.owners))}",
    )


def check_stamp(
    record_type: RecordType | str, stamp: FieldStamp, *, device: str, user: str, roles: Iterable[str]
) -> Verdict:
    """Whether a stamp the sender brought is its own and its write is allowed.

    A stamp must name the sender's device and user and claim no role its token lacks: resolution trusts the
    roles written in stamps, so the hub refuses a forged one before it reaches any replica.
    """
    held = frozenset(roles)
    if stamp.device != device or stamp.user != user:
        return refuse(
            ViolationCode.STAMP_MISMATCH,
            f"stamp {stamp.key!r} is by {stamp.user!r} on {stamp.device!r}, but the sender is {user!r} on {device!r}",
        )
    if not stamp.roles <= held:
        extra = ", ".join(sorted(stamp.roles - held))
        return refuse(ViolationCode.STAMP_MISMATCH, f"stamp {stamp.key!r} claims roles the token lacks: {extra}")
    return check_field_write(record_type, stamp.field, stamp.roles)


def _entry_default(kind: RecordType, root: str, field: str) -> Any:
    entry_type = kind.entry_type(root)
    if entry_type is None:
        return None
    for info in msgspec.structs.fields(entry_type):
        if info.name == field and info.default is not msgspec.NODEFAULT:
            return info.default
    return None


def check_append(
    record_type: RecordType | str,
    root: str,
    entry: Mapping[str, Any],
    roles: Iterable[str],
    existing: Sequence[Any] = (),
) -> Verdict:
    """Whether an author holding ``roles`` may append ``entry`` to list ``root`` already holding ``existing``.

    A role-owned entry field (a payment's ``status``) may be left as it was: at its schema default for a new
    item, at the previous version's value for a new version of an item. Changing it needs an owner role.
    """
    kind = _record_type(record_type)
    held = frozenset(roles)
    item_id = entry.get("id") if isinstance(entry, Mapping) else None
    previous = previous_version(existing, item_id) if isinstance(item_id, str) else None
    for field, policy in kind.entry_policies.get(root, {}).items():
        if policy.allows(held):
            continue
        default = _entry_default(kind, root, field)
        baseline = previous.get(field, default) if previous is not None else default
        if entry.get(field, default) != baseline:
            return refuse(
                ViolationCode.ROLE_NOT_ALLOWED,
                f"{kind.name}.{root}[].{field} may only be changed by {', '.join(sorted(policy.owners))}",
            )
    return ALLOWED


def check_list_kept(record_type: RecordType | str, root: str, before: Sequence[Any], after: Sequence[Any]) -> Verdict:
    """Whether append-only list ``root`` still holds every entry it held before an update."""
    kind = _record_type(record_type)
    if kind.policy_for(root).kind is not MergeKind.APPEND_ONLY:
        return ALLOWED
    missing = removed_entries(before, after)
    if not missing:
        return ALLOWED
    return refuse(ViolationCode.ENTRY_REMOVED, f"{len(missing)} entries were removed from append-only list {root!r}")
