"""Undoing what an update's author may not change: the fields, lists and texts outside its access, or everything.

``RecordRules.evaluate`` splits off what the author's access does not let it change (``split_unwritable``) before
judging the rest; ``undo`` takes back a whole update that must not stand (a creation out of the author's reach,
or one the rules could not judge). Either way the hub writes the old values back and reports each as a violation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conflict import RecordType, ViolationCode, removed_entries
from conflict.change import MISSING, Change
from conflict.outcome import Author, FieldWrite, ListRemove, Outcome, StampRestore, TextRestore, Violation

__all__ = ["split_unwritable", "undo"]

_UNDO_REASONS = {
    ViolationCode.NOT_WRITABLE: "this token may not change {field} of this record",
    ViolationCode.NOT_JUDGED: "the hub could not judge this change of {field}; it is undone",
    ViolationCode.OUT_OF_REACH: "the record would be created out of this token's reach; {field} is undone",
}


def _present(value: Any) -> Any:
    return None if value is MISSING else value


def undo(
    kind: RecordType, change: Change, author: Author, update_id: str, code: ViolationCode = ViolationCode.NOT_JUDGED
) -> Outcome:
    """Everything ``change`` did, undone and reported with ``code``: for an update the rules could not judge
    (they fail closed), or one that must not stand at all. An edit of a text the author may write stands: the
    hub keeps no copy of such a text to put back (``TextEdit.before`` is ``None``)."""
    return split_unwritable(kind, change, author, update_id, frozenset(), code=code)[1]


def split_unwritable(
    kind: RecordType, change: Change, author: Author, update_id: str, writable: frozenset[str],
    code: ViolationCode = ViolationCode.NOT_WRITABLE,
) -> tuple[Change, Outcome]:
    """The part of ``change`` the author may make, and the hub's undoing of the rest (with its violations)."""
    writes: list[FieldWrite] = []
    removals: list[ListRemove] = []
    violations: list[Violation] = []
    who = {"device": author.device, "user": author.user}
    denied_fields = [name for name in change.record_before if name not in writable and name in change.record_now]
    for name in sorted(denied_fields):
        before = _present(change.record_before[name])
        writes.append(FieldWrite(name, before))
        reason = _UNDO_REASONS[code].format(field=f"{kind.name}.{name}")
        rejected = {"value": _present(change.record_now[name]), **who}
        violations.append(Violation(code, name, reason, rejected, f"{code}|{name}|{update_id}", kept=before))
    kept_lists = {}
    for root, (before, after) in change.lists.items():
        if root in writable:
            kept_lists[root] = (before, after)
            continue
        added = removed_entries(after, before)
        removals.extend(ListRemove(root, dict(entry)) for entry in added if isinstance(entry, Mapping))
        if added:
            violations.append(Violation(code, root, f"this change of {kind.name}.{root} is not accepted ({code})",
                                        {"value": list(added), **who}, f"{code}|{root}|{update_id}"))
        if removed_entries(before, after):
            kept_lists[root] = (before, after)  # the usual rule puts removed entries back
    texts: list[TextRestore] = []
    kept_texts = {}
    for root, edit in sorted(change.texts.items()):
        if root in writable or edit.before is None:  # no copy was kept of a text the author may write
            kept_texts[root] = edit
            continue
        texts.append(TextRestore(root, edit.before, edit.delta))  # the edit is undone, the text reads as before
        reason = _UNDO_REASONS[code].format(field=f"{kind.name}.{root}")
        violations.append(Violation(code, root, reason, {"value": edit.after, **who}, f"{code}|{root}|{update_id}",
                                    kept=edit.before))
    denied = set(denied_fields)
    restores = [
        StampRestore(key, None if (old := change.clocks_before.get(key, MISSING)) is MISSING else old)
        for key in sorted(set(change.clocks_before) | set(change.clocks_after), key=str)
        if str(key).partition("@")[0] in denied and change.clocks_before.get(key, MISSING) != change.clocks_after.get(key, MISSING)
    ]
    allowed = Change(
        record_before={k: v for k, v in change.record_before.items() if k not in denied},
        record_now={k: v for k, v in change.record_now.items() if k not in denied},
        clocks_before={k: v for k, v in change.clocks_before.items() if str(k).partition("@")[0] not in denied},
        clocks_after={k: v for k, v in change.clocks_after.items() if str(k).partition("@")[0] not in denied},
        lists=kept_lists,
        texts=kept_texts,
    )
    return allowed, Outcome(restores=tuple(restores), writes=tuple(writes), removals=tuple(removals),
                            texts=tuple(texts), violations=tuple(violations))
