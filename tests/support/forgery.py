"""Forged writes of one work order, and what must hold of the hub's copy after each: shared by the forgery
properties on an in-process hub (``tests/sync``) and on a hub process (``tests/e2e``).

Forgeries: stamps dated in the year 2200 or at the largest encodable clock, stamps naming another device or
user or claiming roles the token lacks, list entries naming another author, entries appended to the hub's own
history. Honest writes are stamped (as the SDK writes) or unstamped (as a stock Yjs client writes).
"""

from __future__ import annotations

from hypothesis import strategies as st
from pycrdt import Array, Doc, Map

from conflict import LIFECYCLES, HlcTimestamp, ViolationCode, record_type_for, wall_clock_ms
from conflict.hlc import MAX_COUNTER, MAX_WALL_MS
from conflict.rules import MAX_AHEAD_MS
from tests.support.device_doc import DeviceDoc

KIND = record_type_for("work_order:X")
LIFECYCLE = LIFECYCLES["work_order"]
STATUSES = ("OPEN", "SCHEDULED", "IN_PROGRESS", "PENDING_APPROVAL", "COMPLETED", "CLOSED", "CANCELLED")
#: The writers, by user, and their tokens' roles; every one of them may write the record.
WHO = {"tech": ("technician",), "sup": ("supervisor",), "viewer-ish": ("technician",)}
OPERATIONS = ("stamped", "unstamped", "future", "limit", "foreign_device", "foreign_user", "claimed_role",
              "forged_note", "forged_history")
#: What the author of each forgery is told (a Stateless error notice), whatever else its update did.
REPORTED = {
    "future": ViolationCode.FUTURE_STAMP, "limit": ViolationCode.FUTURE_STAMP,
    "foreign_device": ViolationCode.STAMP_MISMATCH, "foreign_user": ViolationCode.STAMP_MISMATCH,
    "claimed_role": ViolationCode.STAMP_MISMATCH,
    "forged_note": ViolationCode.FORGED_ENTRY, "forged_history": ViolationCode.FORGED_ENTRY,
}
#: A wall time in the year 2200, in ms.
YEAR_2200_MS = 7_258_118_400_000


def writes(max_size: int = 6) -> st.SearchStrategy[list[tuple[str, str, str]]]:
    """A sequence of writes: (writer, operation, the status it moves to where it writes one)."""
    return st.lists(st.tuples(st.sampled_from(sorted(WHO)), st.sampled_from(OPERATIONS), st.sampled_from(STATUSES)),
                    min_size=1, max_size=max_size)


def forge(device: DeviceDoc, operation: str, status: str) -> bytes:
    """One update of ``operation`` kind from ``device``, moving the status to ``status`` where it writes one."""
    if operation == "stamped":
        return device.write("status", status)
    if operation == "unstamped":
        return device.edit(lambda doc: doc.get("record", type=Map).__setitem__("status", status))
    if operation == "claimed_role":
        return device.write("status", status, roles=("supervisor", "admin"))
    if operation == "foreign_user":  # a name not the writer's own
        return device.write("status", status, user="tech" if device.user == "sup" else "sup")
    if operation in ("future", "limit", "foreign_device"):
        wall = {"future": YEAR_2200_MS, "limit": MAX_WALL_MS}.get(operation, wall_clock_ms())
        node = "someone-else" if operation == "foreign_device" else device.device
        hlc = HlcTimestamp(wall_ms=wall, counter=MAX_COUNTER if operation == "limit" else 0, node=node)
        stamp = {"hlc": hlc.encode(),
                 "user": device.user, "roles": list(device.roles), "value": status, "prev": None}

        def change(doc: Doc) -> None:
            doc.get("record", type=Map)["status"] = status
            doc.get("clocks", type=Map)[f"status@{node}"] = stamp
        return device.edit(change)
    if operation == "forged_note":
        return device.edit(lambda doc: doc.get("notes", type=Array).append(
            {"text": f"approved by the manager ({device.device})", "user": "manager-1", "device": "manager-pc"}))
    return device.edit(lambda doc: doc.get("history", type=Array).append(
        {"old": "OPEN", "new": "CLOSED", "by": "manager-1", "user": "hub"}))


def check_rules(doc: Doc, senders: dict[str, str]) -> None:
    """What must hold of the hub's document after every merge; ``senders`` maps each writer's device to its user."""
    history = doc.get("history", type=Array).to_py() or []
    for entry in history:
        assert entry.get("user") == "hub", f"a history entry not written by the hub: {entry}"
        if entry.get("old") is not None:
            assert entry["new"] in LIFECYCLE.statuses and (entry["old"], entry["new"]) in {
                (t.source, t.target) for t in LIFECYCLE.transitions}, f"an invalid transition stands: {entry}"
    ceiling = wall_clock_ms() + MAX_AHEAD_MS
    for key, stamp in (doc.get("clocks", type=Map).to_py() or {}).items():
        assert HlcTimestamp.decode(stamp["hlc"]).wall_ms <= ceiling, f"a stamp from the future stands: {key}"
    for note in doc.get("notes", type=Array).to_py() or []:
        device = note.get("device")
        assert device in senders and note.get("user") == senders[device], f"a forged author stands: {note}"


def reported(operation: str, codes: list[str]) -> None:
    """The author of a forgery was told, with the rule's code, among the notices its update drew (``codes``)."""
    want = REPORTED.get(operation)
    assert want is None or want in codes, f"{operation} drew {codes}, not {want}"

