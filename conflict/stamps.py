"""The ``clocks`` convention: every scalar write leaves a stamp saying who wrote what, and when.

Writing scalar field ``f`` of the ``record`` map, in the same transaction, a writer also sets
``clocks["f@<device>"]`` to::

    {"hlc": "<encoded HLC time>", "user": "<user>", "roles": ["<role>", ...], "value": <the value>,
     "prev": "<greatest HLC time among the stamps of f the writer had seen>" | null}

Why one key per (field, device) rather than one per field: Yjs resolves concurrent writes of one map key by
client id, so a single ``clocks[f]`` would keep only one of two concurrent stamps, and the replica that
received the losing side would never learn it existed. Each device only ever writes its own keys, so no stamp
is ever lost to another, and every replica holding the same updates sees the same stamps and reaches the same
decision (``conflict.resolution``) without knowing what it held before the merge. Keeping the value in the stamp
keeps what every device entered after the ``record`` map shows another value. The table stays bounded:
one stamp per field per device that ever wrote it.

``prev`` tells concurrent writes from overwrites: a write whose ``prev`` is older than another stamp was made
without having seen that stamp. The HLC node of a stamp must be its device (the key's suffix), and the roles
are those of the author's token; the hub checks both when it receives a stamp (``conflict.permissions``).
Deleting a field is writing ``null``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any

import msgspec

from conflict.errors import HlcError
from conflict.hlc import HlcTimestamp

#: The root Map of scalar fields.
RECORD_ROOT = "record"
#: The root Map of write stamps.
CLOCKS_ROOT = "clocks"


def stamp_key(field: str, device: str) -> str:
    """The ``clocks`` key of ``device``'s stamp for ``field``."""
    return f"{field}@{device}"


def split_stamp_key(key: str) -> tuple[str, str] | None:
    """(field, device) of a ``clocks`` key, or ``None`` when it is not one. Field names never hold ``@``."""
    field, sep, device = key.partition("@")
    return (field, device) if field and sep and device else None


class FieldStamp(msgspec.Struct, frozen=True, kw_only=True):
    """One write of one scalar field, as recorded in ``clocks``."""

    field: str
    device: str
    hlc: HlcTimestamp
    user: str
    roles: frozenset[str] = frozenset()
    value: Any = None
    prev: HlcTimestamp | None = None
    path: tuple[Any, ...] = ()
    """For a status: the values this device wrote before this one, oldest first, since it last saw another
    device's write; the hub judges every step of the path, not only the jump to ``value``."""

    @property
    def key(self) -> str:
        return stamp_key(self.field, self.device)

    def to_entry(self) -> dict[str, Any]:
        """The JSON object stored at ``clocks[self.key]``."""
        return {
            "hlc": self.hlc.encode(),
            "user": self.user,
            "roles": sorted(self.roles),
            "value": self.value,
            "prev": None if self.prev is None else self.prev.encode(),
            **({"path": list(self.path)} if self.path else {}),
        }


def make_stamp(
    field: str, value: Any, *, hlc: HlcTimestamp, user: str, roles: Iterable[str], prev: HlcTimestamp | None,
    path: Iterable[Any] = (),
) -> FieldStamp:
    """A stamp for a write made at ``hlc``; the device is the clock's node."""
    return FieldStamp(field=field, device=hlc.node, hlc=hlc, user=user, roles=frozenset(roles), value=value, prev=prev,
                      path=tuple(path)[-MAX_PATH:])


class StampProblem(msgspec.Struct, frozen=True):
    """A ``clocks`` entry that does not follow the convention; it is ignored by every decision."""

    key: str
    message: str


class StampTable(msgspec.Struct, frozen=True):
    """The parsed ``clocks`` map: valid stamps by field (ordered by HLC time), and the entries that were not."""

    by_field: dict[str, tuple[FieldStamp, ...]]
    problems: tuple[StampProblem, ...] = ()

    def for_field(self, field: str) -> tuple[FieldStamp, ...]:
        return self.by_field.get(field, ())

    def latest(self, field: str) -> FieldStamp | None:
        """The stamp of ``field`` with the greatest HLC time, whoever wrote it."""
        stamps = self.for_field(field)
        return stamps[-1] if stamps else None

    def contains(self, stamp: FieldStamp) -> bool:
        """Whether this table holds exactly that write (same key, same time)."""
        return any(s.device == stamp.device and s.hlc == stamp.hlc for s in self.for_field(stamp.field))


#: The longest status path a stamp carries (older steps were judged when the device was last in touch).
MAX_PATH = 16


class _StoredStamp(msgspec.Struct):
    hlc: str
    user: str
    roles: list[str] = []
    path: Annotated[list[Any], msgspec.Meta(max_length=MAX_PATH)] = []
    value: Any = None
    prev: str | None = None


def _parse_entry(key: str, entry: Any) -> FieldStamp | str:
    parts = split_stamp_key(key) if isinstance(key, str) else None
    if parts is None:
        return "key is not '<field>@<device>'"
    field, device = parts
    try:
        stored = msgspec.convert(entry, _StoredStamp)
        hlc = HlcTimestamp.decode(stored.hlc)
        prev = None if stored.prev is None else HlcTimestamp.decode(stored.prev)
    except (msgspec.ValidationError, HlcError) as exc:
        return str(exc)
    if hlc.node != device:
        return f"HLC node {hlc.node!r} is not the key's device {device!r}"
    if prev is not None and prev >= hlc:
        return "prev is not older than the stamp itself"
    return FieldStamp(
        field=field,
        device=device,
        hlc=hlc,
        user=stored.user,
        roles=frozenset(stored.roles),
        value=stored.value,
        prev=prev,
        path=tuple(stored.path),
    )


def parse_clocks(clocks: Mapping[str, Any] | StampTable | None) -> StampTable:
    """Parse a ``clocks`` map (as ``Map.to_py()`` returns it). Never raises on its content."""
    if isinstance(clocks, StampTable):
        return clocks
    if not isinstance(clocks, Mapping):
        return StampTable({}, () if clocks is None else (StampProblem("", "clocks is not a map"),))
    by_field: dict[str, list[FieldStamp]] = {}
    problems: list[StampProblem] = []
    for key in sorted(clocks, key=str):
        parsed = _parse_entry(key, clocks[key])
        if isinstance(parsed, str):
            problems.append(StampProblem(str(key), parsed))
        else:
            by_field.setdefault(parsed.field, []).append(parsed)
    ordered = {field: tuple(sorted(stamps, key=lambda s: s.hlc)) for field, stamps in sorted(by_field.items())}
    return StampTable(ordered, tuple(problems))


def new_stamps(
    before: Mapping[str, Any] | StampTable | None, after: Mapping[str, Any] | StampTable
) -> tuple[FieldStamp, ...]:
    """The stamps of ``after`` that ``before`` does not hold: the writes an update brought in."""
    old, new = parse_clocks(before), parse_clocks(after)
    return tuple(stamp for stamps in new.by_field.values() for stamp in stamps if not old.contains(stamp))
