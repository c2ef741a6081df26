"""Deciding scalar fields after a merge: the policy's winner, the conflicts, and whether to correct.

Everything here is a pure function of the merged ``record`` and ``clocks`` maps, so any two replicas holding
the same updates reach the same decision whatever order the updates came in. The hub calls
``resolve_record`` after applying an update; for every resolution with ``needs_correction`` it writes the
winner's value into ``record`` (an ordinary update every replica receives), and it stores each new conflict
(keyed by ``FieldConflict.key``, so recording twice is harmless) with ``needs_review`` ones in its review
queue. Passing the pre-merge ``clocks`` as ``previous_clocks`` limits conflicts and rejected writes to those
the merge brought in.

The status field also obeys the lifecycle: ``check_resolved_status`` judges the status the policy picked
against the status the hub held before the merge, with the roles of the write that set it. When it is refused,
the hub writes the previous status back under its own stamp (``conflict.write_field``), which is newer than
the refused write and so wins on every replica, and the refused stamp stays in ``clocks`` as evidence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from conflict.lifecycle import LIFECYCLES, check_transition
from conflict.policies import FieldPolicy
from conflict.records.registry import RecordType, lookup_record_type
from conflict.stamps import FieldStamp, StampTable, parse_clocks
from conflict.verdicts import ALLOWED, Verdict


class FieldConflict(msgspec.Struct, frozen=True, kw_only=True):
    """Two writes of one field made without either author having seen the other's value."""

    field: str
    winner: FieldStamp
    loser: FieldStamp
    #: The policy's pick is not enough: a person must look (see ``resolve_field``).
    needs_review: bool = False

    @property
    def key(self) -> str:
        """A stable identity: the same conflict found again (on another merge, another hub node) has the same key."""
        return f"{self.field}|{self.winner.hlc.encode()}|{self.loser.hlc.encode()}"


class FieldResolution(msgspec.Struct, frozen=True, kw_only=True):
    """The policy's decision for one scalar field of a merged record."""

    field: str
    policy: FieldPolicy
    #: The write the policy keeps; ``None`` when no write the policy accepts exists.
    winner: FieldStamp | None
    #: The value the merged ``record`` map holds (``None`` when absent).
    current: Any
    #: The ``record`` map does not hold the policy's value: the hub must write ``value``.
    needs_correction: bool
    conflicts: tuple[FieldConflict, ...] = ()
    #: Writes the policy ignores because their author's roles may not write the field.
    rejected: tuple[FieldStamp, ...] = ()

    @property
    def value(self) -> Any:
        """The value the field must hold; ``None`` means absent."""
        return None if self.winner is None else self.winner.value


def _record_type(record_type: RecordType | str) -> RecordType:
    return record_type if isinstance(record_type, RecordType) else lookup_record_type(record_type)


def _concurrent(winner: FieldStamp, other: FieldStamp) -> bool:
    # ``other`` is older than ``winner``; the winner's author had seen it unless ``prev`` predates it.
    return winner.prev is None or winner.prev < other.hlc


def _is_new(stamp: FieldStamp, previous: StampTable | None) -> bool:
    return previous is None or not previous.contains(stamp)


def _needs_review(record_type: RecordType, field: str, winner: FieldStamp, loser: FieldStamp) -> bool:
    """A status conflict in which either side ends the record's life (approved against rejected, say)."""
    lifecycle = LIFECYCLES.get(record_type.name)
    if lifecycle is None or field != record_type.status_field:
        return False
    return winner.value in lifecycle.final or loser.value in lifecycle.final


def resolve_field(
    record_type: RecordType | str,
    field: str,
    record: Mapping[str, Any],
    clocks: Mapping[str, Any] | StampTable,
    previous_clocks: Mapping[str, Any] | StampTable | None = None,
) -> FieldResolution:
    """Apply ``field``'s policy to the merged ``record`` and ``clocks``.

    Last-writer-wins by HLC time picks the stamp with the greatest time, never the Yjs client id; role-owned
    fields do the same among stamps whose roles own the field. A field without any stamp keeps whatever the
    map holds, except a role-owned one, which no owner has written and so must be absent.
    """
    kind = _record_type(record_type)
    policy = kind.policy_for(field)
    table = parse_clocks(clocks)
    previous = parse_clocks(previous_clocks) if previous_clocks is not None else None

    accepted = [s for s in table.for_field(field) if policy.allows(s.roles)]
    rejected = tuple(s for s in table.for_field(field) if not policy.allows(s.roles) and _is_new(s, previous))
    current = record.get(field) if isinstance(record, Mapping) else None
    winner = accepted[-1] if accepted else None

    if winner is not None:
        needs_correction = current != winner.value
    else:
        needs_correction = bool(policy.owners) and current is not None

    conflicts: list[FieldConflict] = []
    if winner is not None:
        for other in accepted[:-1]:
            if other.value == winner.value or not _concurrent(winner, other):
                continue
            if _is_new(winner, previous) or _is_new(other, previous):
                review = _needs_review(kind, field, winner, other)
                conflicts.append(FieldConflict(field=field, winner=winner, loser=other, needs_review=review))
    return FieldResolution(
        field=field,
        policy=policy,
        winner=winner,
        current=current,
        needs_correction=needs_correction,
        conflicts=tuple(conflicts),
        rejected=rejected,
    )


def resolve_record(
    record_type: RecordType | str,
    record: Mapping[str, Any],
    clocks: Mapping[str, Any] | StampTable,
    previous_clocks: Mapping[str, Any] | StampTable | None = None,
) -> tuple[FieldResolution, ...]:
    """Resolve every scalar field of the schema that has a stamp or an owner, in schema order.

    Fields the schema does not know are kept in the document and left alone: a newer app version owns them.
    """
    kind = _record_type(record_type)
    table = parse_clocks(clocks)
    previous = parse_clocks(previous_clocks) if previous_clocks is not None else None
    present = record if isinstance(record, Mapping) else {}
    return tuple(
        resolve_field(kind, field, present, table, previous)
        for field in kind.scalar_fields
        if table.for_field(field) or (kind.policy_for(field).owners and present.get(field) is not None)
    )


def check_resolved_status(
    record_type: RecordType | str, previous_status: str | None, resolution: FieldResolution
) -> Verdict:
    """Whether the status the policy picked may follow ``previous_status`` (the hub's status before the merge).

    The author is the winning write: its roles, as stamped (``check_stamp`` has verified them against the token),
    must allow the transition. A resolution of another field, or one that keeps the status, is allowed.
    """
    return check_status_path(record_type, previous_status, resolution)[0]


def check_status_path(
    record_type: RecordType | str, previous_status: str | None, resolution: FieldResolution
) -> tuple[Verdict, str | None]:
    """Each step from ``previous_status`` through the winner's path to its value, judged in order.

    Returns the first refusal (or ``ALLOWED``) and the last status the chain validly reached. Steps of the path
    up to ``previous_status`` were already judged (the device was in touch then) and are skipped.
    """
    kind = _record_type(record_type)
    winner = resolution.winner
    if resolution.field != kind.status_field or winner is None or winner.value == previous_status:
        return ALLOWED, previous_status
    chain = [*winner.path, winner.value]
    if previous_status in chain:
        chain = chain[len(chain) - chain[::-1].index(previous_status):]
    current = previous_status
    for status in chain:
        if status == current:
            continue
        verdict = check_transition(kind.name, current, status, winner.roles)
        if not verdict:
            return verdict, current
        current = status
    return ALLOWED, current
