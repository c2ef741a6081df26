"""The domain rules the hub applies to every client write of a record: decisions only, no I/O.

``RecordRules.evaluate`` judges one update from what it changed (a ``conflict.change.Change``) and who sent it.
It returns an ``Outcome``: the hub's own writes that put the record back in line with its policies and
lifecycle, the conflicts found, and the violations to report to the author. The hub applies the writes
(``sync.referee.corrections``), stores the conflicts and violations, and sends the notices.

The decisions themselves are the domain's (``conflict``): stamps are checked with ``check_stamp``, fields
resolved with ``resolve_field``, status changes judged with ``check_resolved_status``, lists with
``check_list_kept`` and ``check_append``. What this module adds is the hub's side of invariant 6: every value
the hub overrides is accounted for, as a conflict (a write that lost to one its author had not seen) or as a
violation (a write that was not allowed), including writes that came without any stamp.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from conflict import (
    FieldConflict, FieldResolution, FieldStamp, RecordType, ViolationCode, check_append, check_list_kept,
    check_stamp, check_status_path, parse_clocks, previous_version, removed_entries, resolve_field,
)
from conflict.outcome import NOTHING, Author, ListRemove, FieldWrite, ListAppend, Outcome, StampRestore, StatusChange, Violation
from conflict.change import MISSING, Change
from conflict.unwritable import split_unwritable
from conflict.hlc import MAX_COUNTER, HlcTimestamp, wall_clock_ms
from conflict.stamps import make_stamp

_ENTRY_METADATA = ("hlc", "user", "device")
#: List roots only the hub appends to.
HUB_LISTS = frozenset({"history"})

#: How far ahead of the hub's clock a stamp may be dated (device clocks drift; a forged year 2200 does not pass).
MAX_AHEAD_MS = 5 * 60 * 1000


def _present(value: Any) -> Any:
    return None if value is MISSING else value


def _stamp_view(stamp: FieldStamp) -> dict[str, Any]:
    return {"value": stamp.value, "device": stamp.device, "user": stamp.user, "hlc": stamp.hlc.encode(),
            "roles": sorted(stamp.roles)}


def _of_fields(clocks: Mapping[str, Any], fields: set[str]) -> dict[str, Any]:
    """The entries of ``clocks`` that stamp one of ``fields``: all a decision about those fields reads."""
    return {key: entry for key, entry in clocks.items() if isinstance(key, str) and key.partition("@")[0] in fields}


def _digest(value: Any) -> str:
    try:
        data = msgspec.json.encode(value, order="sorted")
    except (TypeError, msgspec.EncodeError):
        data = repr(value).encode()
    return hashlib.blake2b(data, digest_size=10).hexdigest()


class RecordRules:
    """Judges client updates of record documents."""

    def evaluate(
        self, kind: RecordType, change: Change, author: Author, update_id: str,
        writable: frozenset[str] | None = None, *, now_ms: int | None = None, max_ahead_ms: int = MAX_AHEAD_MS,
    ) -> Outcome:
        """The hub's answer to one update of ``author`` that made ``change``; ``update_id`` names the update.

        ``writable`` names the fields, lists and texts the author's access lets it change (``None``: all): a
        change of any other one is undone first, and the rest of the update is judged as usual. ``now_ms`` is the
        hub's clock: a field written without a stamp (a stock Yjs client) is stamped for the author at that time
        and judged like any stamped write, and a stamp more than ``max_ahead_ms`` ahead of it is refused.
        """
        now_ms = wall_clock_ms() if now_ms is None else now_ms
        if change.empty:
            return NOTHING
        if writable is not None:
            change, denied = split_unwritable(kind, change, author, update_id, writable)
            if denied.writes_anything and change.empty:
                return denied
        else:
            denied = NOTHING
        outcome = self._evaluate(kind, change, author, update_id, now_ms, max_ahead_ms)
        if not denied.writes_anything:
            return outcome
        return Outcome(
            restores=denied.restores + outcome.restores, writes=denied.writes + outcome.writes, appends=outcome.appends,
            removals=denied.removals + outcome.removals, texts=denied.texts + outcome.texts, conflicts=outcome.conflicts,
            violations=denied.violations + outcome.violations, status_change=outcome.status_change,
        )

    def _evaluate(
        self, kind: RecordType, change: Change, author: Author, update_id: str, now_ms: int, max_ahead_ms: int
    ) -> Outcome:
        if change.empty:
            return NOTHING
        restores, clocks, stamped, found = self._check_stamps(kind, change, author, now_ms, max_ahead_ms)
        touched = set(change.record_now)
        record = {name: value for name, value in change.record_now.items() if value is not MISSING}
        table = parse_clocks(_of_fields(clocks, touched))
        previous = parse_clocks(_of_fields(change.clocks_before, touched))
        writes: dict[str, FieldWrite] = {}
        conflicts: list[FieldConflict] = []
        refused: list[Violation] = []
        status_change: StatusChange | None = None

        for name in kind.scalar_fields:
            if name not in touched:
                continue
            resolution = resolve_field(kind, name, record, table, previous)
            conflicts.extend(resolution.conflicts)
            conflicts.extend(self._lost_writes(resolution, stamped.get(name, ())))
            if resolution.needs_correction:
                writes[name] = FieldWrite(name, resolution.value, resolution)
            if name == kind.status_field:
                before = _present(change.before(name))
                refusal, reached = self._judge_status(kind, before, resolution)
                if refusal is not None:
                    # the valid steps of an offline chain stand; the status goes back to where the first refused
                    # step started, under the hub's stamp (newer than the refused write)
                    writes[name] = FieldWrite(name, reached)
                    refused.append(refusal)
                    if reached != before and reached is not None and resolution.winner is not None:
                        status_change = StatusChange(before, reached, resolution.winner.user)
                elif resolution.winner is not None:
                    now = resolution.value if name in writes else record.get(name)
                    if now is not None and now != before:
                        status_change = StatusChange(before, now, resolution.winner.user)

        violations = [self._with_kept(v, writes, record) for group in found.values() for v in group]
        violations += [self._with_kept(v, writes, record) for v in refused]
        appends, removals, list_violations = self._check_lists(kind, change, author)
        return Outcome(
            restores=tuple(restores),
            writes=tuple(writes.values()),
            appends=tuple(appends),
            removals=tuple(removals),
            conflicts=tuple(conflicts),
            violations=tuple(violations + list_violations),
            status_change=status_change,
        )

    @staticmethod
    def _judge_status(
        kind: RecordType, before: str | None, resolution: FieldResolution
    ) -> tuple[Violation | None, str | None]:
        """The lifecycle's verdict on every step to the status the policy picked, from the hub's status before;
        the refusal of the first invalid step, if any, and the last status validly reached."""
        verdict, reached = check_status_path(kind, before, resolution)
        winner = resolution.winner
        if verdict or winner is None:  # a refusal always judges a winning write
            return None, reached
        code = verdict.code or ViolationCode.INVALID_TRANSITION
        return Violation(code, resolution.field, verdict.reason, _stamp_view(winner),
                         f"{code}|{winner.key}|{winner.hlc.encode()}"), reached

    # -- stamps ------------------------------------------------------------------------------------

    def _check_stamps(
        self, kind: RecordType, change: Change, author: Author, now_ms: int, max_ahead_ms: int
    ) -> tuple[list[StampRestore], dict[str, Any], dict[str, tuple[FieldStamp, ...]], dict[str, list[Violation]]]:
        """Every ``clocks`` entry the update set or removed must be a valid stamp of the author, dated no further
        ahead than ``max_ahead_ms``; every field it changed without a stamp gets one for the author, at ``now_ms``.

        Returns the restores of forged entries (and the stamps the hub writes for the author), the clocks as
        judged, the author's accepted-identity stamps by field, and the violations found, by field.
        """
        before, after = change.clocks_before, change.clocks_after
        clocks = dict(after)
        restores: list[StampRestore] = []
        stamped: dict[str, list[FieldStamp]] = {}
        found: dict[str, list[Violation]] = {}
        for key in sorted(set(before) | set(after), key=str):
            old, new = before.get(key, MISSING), after.get(key, MISSING)
            if old == new:
                continue
            name = str(key).partition("@")[0] or str(key)  # the field it stamps (or claims to)
            table = parse_clocks({key: new}) if new is not MISSING else None
            stamp = table.latest(name) if table is not None else None
            code = ViolationCode.STAMP_MISMATCH
            if stamp is not None and stamp.hlc.wall_ms - now_ms > max_ahead_ms:
                code = ViolationCode.FUTURE_STAMP
                reason = (f"stamp {key!r} is dated {stamp.hlc.wall_ms - now_ms} ms ahead of the hub's clock "
                          f"(at most {max_ahead_ms} ms is accepted)")
                rejected = {"value": stamp.value, "hlc": stamp.hlc.encode()}
            elif stamp is not None:
                verdict = check_stamp(kind, stamp, device=author.device, user=author.user, roles=author.roles)
                if verdict or verdict.code is not ViolationCode.STAMP_MISMATCH:
                    stamped.setdefault(name, []).append(stamp)
                    if not verdict:
                        identity = f"{verdict.code}|{key}|{stamp.hlc.encode()}"
                        found.setdefault(name, []).append(
                            Violation(verdict.code or ViolationCode.ROLE_NOT_ALLOWED, name, verdict.reason,
                                      _stamp_view(stamp), identity))
                    continue
                reason = verdict.reason
                rejected = {"value": stamp.value, "hlc": stamp.hlc.encode(), "claimed": _stamp_view(stamp)}
            elif new is MISSING:
                reason, rejected = f"stamp {key!r} was removed", {"value": None, "stamp": old}
            else:
                problem = table.problems[0].message if table is not None and table.problems else "unreadable"
                reason, rejected = f"stamp {key!r} is malformed: {problem}", {"value": None, "stamp": new}
            rejected.update(device=author.device, user=author.user)  # who sent it, whatever it claims
            restores.append(StampRestore(key, None if old is MISSING else old))
            if old is MISSING:
                clocks.pop(key, None)
            else:
                clocks[key] = old
            identity = f"{code}|{key}|{_digest(new)}"
            found.setdefault(name, []).append(Violation(code, name, reason, rejected, identity))
        for name in sorted(set(change.record_before) - set(stamped) - set(found)):
            if name not in kind.scalar_fields or name not in change.record_now:
                continue
            stamp = _attributed(name, _present(change.record_now[name]), clocks, author, now_ms)
            restores.append(StampRestore(stamp.key, stamp.to_entry()))
            clocks[stamp.key] = stamp.to_entry()
            stamped[name] = [stamp]
            verdict = check_stamp(kind, stamp, device=author.device, user=author.user, roles=author.roles)
            if not verdict:
                found.setdefault(name, []).append(Violation(
                    verdict.code or ViolationCode.ROLE_NOT_ALLOWED, name, verdict.reason, _stamp_view(stamp),
                    f"{verdict.code}|{stamp.key}|{stamp.hlc.encode()}"))
        return restores, clocks, {k: tuple(v) for k, v in stamped.items()}, found

    @staticmethod
    def _lost_writes(resolution: FieldResolution, fresh: Iterable[FieldStamp]) -> list[FieldConflict]:
        """The author's writes that lost without the domain calling it a conflict.

        ``resolve_field`` judges concurrency by each write's ``prev`` time, so a write that arrives late, after
        a newer write whose author had seen something newer still, loses silently there. Its author had not
        seen the winner (its own time would be greater), so for the hub it is a conflict all the same.
        """
        winner = resolution.winner
        if winner is None or not resolution.policy.allows(winner.roles):
            return []
        reported = {(c.loser.device, c.loser.hlc) for c in resolution.conflicts}
        return [
            FieldConflict(field=resolution.field, winner=winner, loser=stamp)
            for stamp in fresh
            if stamp.hlc < winner.hlc and stamp.value != winner.value and resolution.policy.allows(stamp.roles)
            and (stamp.device, stamp.hlc) not in reported
        ]

    @staticmethod
    def _with_kept(violation: Violation, writes: Mapping[str, FieldWrite], record: Mapping[str, Any]) -> Violation:
        kept = writes[violation.field].value if violation.field in writes else record.get(violation.field)
        return Violation(violation.code, violation.field, violation.message, violation.rejected, violation.key, kept)

    # -- lists -------------------------------------------------------------------------------------

    @staticmethod
    def _check_lists(
        kind: RecordType, change: Change, author: Author
    ) -> tuple[list[ListAppend], list[ListRemove], list[Violation]]:
        """Append-only lists keep every entry; an appended entry is its writer's own (author and device) and never
        the hub's history; role-owned entry fields change only by their owners."""
        appends: list[ListAppend] = []
        removals: list[ListRemove] = []
        violations: list[Violation] = []
        who = {"device": author.device, "user": author.user}
        for root, (before, after) in sorted(change.lists.items()):
            verdict = check_list_kept(kind, root, before, after)
            if not verdict:
                missing = removed_entries(before, after)
                appends.extend(ListAppend(root, entry) for entry in missing)
                violations.append(Violation(
                    ViolationCode.ENTRY_REMOVED, root, verdict.reason, {"value": missing, **who},
                    f"{ViolationCode.ENTRY_REMOVED}|{root}|{_digest(missing)}", kept=missing,
                ))
            existing = list(before)
            for entry in removed_entries(after, before):
                if not isinstance(entry, Mapping):
                    existing.append(entry)
                    continue
                if root in HUB_LISTS or _forged(entry, author):
                    removals.append(ListRemove(root, dict(entry)))
                    reason = (f"{kind.name}.{root} is written by the hub only" if root in HUB_LISTS
                              else f"an entry of {kind.name}.{root} must name its writer ({author.user}, {author.device})")
                    kept = None if root in HUB_LISTS else {**dict(entry), **who}
                    violations.append(Violation(ViolationCode.FORGED_ENTRY, root, reason, {"value": dict(entry), **who},
                                                f"{ViolationCode.FORGED_ENTRY}|{root}|{_digest(entry)}", kept=kept))
                    if kept is None:
                        continue
                    appends.append(ListAppend(root, kept))
                    entry = kept
                verdict = check_append(kind, root, entry, author.roles, existing)
                if not verdict:
                    corrected = _corrected_version(kind, root, entry, existing, author.roles)
                    if corrected is not None:
                        if not isinstance(entry.get("id"), str):  # an item of its own: replaced, not versioned
                            removals.append(ListRemove(root, dict(entry)))
                        appends.append(ListAppend(root, corrected, stamped=True))
                    violations.append(Violation(
                        verdict.code or ViolationCode.ROLE_NOT_ALLOWED, root, verdict.reason,
                        {"value": dict(entry), **who}, f"{verdict.code}|{root}|{_digest(entry)}", kept=corrected,
                    ))
                existing.append(entry)
        return appends, removals, violations

def _corrected_version(
    kind: RecordType, root: str, entry: Mapping[str, Any], existing: list[Any], roles: frozenset[str]
) -> dict[str, Any] | None:
    """A newer version of ``entry``'s item with the fields the author may not change put back.

    An entry without an ``id`` is an item of its own: its corrected copy replaces it.
    """
    item_id = entry.get("id")
    previous = previous_version(existing, item_id) if isinstance(item_id, str) else None
    corrected = {key: value for key, value in entry.items() if key not in _ENTRY_METADATA}
    for name, policy in kind.entry_policies.get(root, {}).items():
        if policy.allows(roles):
            continue
        if previous is not None and name in previous:
            corrected[name] = previous[name]
        else:
            corrected.pop(name, None)  # back to the schema's default
    return corrected


def _attributed(name: str, value: Any, clocks: Mapping[str, Any], author: Author, now_ms: int) -> FieldStamp:
    """The stamp the hub writes for an author who changed ``name`` without one: the author's, newer than any.

    The author overwrote the value it held, so it had seen the latest stamp (``prev``); the time is the hub's,
    or just after the latest stamp when that is ahead (a stamp can be ahead by at most the accepted drift).
    """
    latest = parse_clocks(_of_fields(clocks, {name})).latest(name)
    if latest is None or now_ms > latest.hlc.wall_ms:
        hlc = HlcTimestamp(wall_ms=now_ms, counter=0, node=author.device)
    else:
        hlc = HlcTimestamp(wall_ms=latest.hlc.wall_ms, counter=min(latest.hlc.counter + 1, MAX_COUNTER),
                           node=author.device)
    return make_stamp(name, value, hlc=hlc, user=author.user, roles=author.roles,
                      prev=None if latest is None else latest.hlc)


def _forged(entry: Mapping[str, Any], author: Author) -> bool:
    """True when ``entry`` names another writer than ``author`` (an entry naming none is the author's)."""
    user, device = entry.get("user"), entry.get("device")
    return (user is not None and user != author.user) or (device is not None and device != author.device)
