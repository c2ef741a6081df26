"""What one update changed in a record document, and what the document held before it.

The hub judges a client's update by comparing the record before and after the merge. Copying the whole
record for every update would make a long stream of updates quadratic, so a ``RecordWatch`` observes the
document's roots instead: the ``record`` and ``clocks`` maps report each changed key with its old value,
and list roots are copied only when they change (the copy made after one change is the "before" of the next
one). A text root reports its edit (a Yjs delta), so that the hub can undo exactly that edit; it is copied only
when the caller may need to undo it (a text can be long and is edited keystroke by keystroke).

The watch observes the roots' integrated (Yrs) types directly rather than through ``BaseType.observe``:
pycrdt's wrapper inspects the callback's signature and builds an event object (a new ``Map`` for its
target, its path, its keys) for every change of every observed root, which cost more than applying the
update itself. A map observer reads only the event's ``keys``; a list observer reads nothing; a text observer
reads the event's delta.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from typing import Any

from pycrdt import Array, Doc, Map, Text

from conflict import CLOCKS_ROOT, RECORD_ROOT, RecordType
from conflict.change import MISSING, Change, TextEdit
from conflict.copies import plain
from conflict.pycrdt_compat import observe_raw, text_delta, wrap_event_value

log = logging.getLogger(__name__)


class RecordWatch:
    """Observes the roots of one record document; ``begin`` before an update, ``collect`` after it.

    Changes made while no update is being watched (updates from other hub nodes, the hub's own corrections)
    only mark the list and text copies stale; ``begin`` refreshes them, so they are never taken for the update's
    work.
    """

    def __init__(self, doc: Doc, record_type: RecordType) -> None:
        self.record_type = record_type
        self._doc = doc
        self._record: Map = doc.get(RECORD_ROOT, type=Map)
        self._clocks: Map = doc.get(CLOCKS_ROOT, type=Map)
        self._copies: dict[str, list[Any]] = {}
        self._texts: dict[str, str] = {}
        self._kept_texts: frozenset[str] = frozenset()
        self._stale: set[str] = {*record_type.list_roots, *record_type.text_roots}
        self._armed = False
        self._record_old: dict[str, Any] = {}
        self._clocks_old: dict[str, Any] = {}
        self._changed_lists: set[str] = set()
        #: The deltas each text root reported during the update (``None`` for one that could not be read).
        self._text_edits: dict[str, list[tuple[dict[str, Any], ...] | None]] = {}
        # the subscriptions stop observing when dropped: hold them as long as the watch lives
        self._subscriptions = [
            observe_raw(self._record, lambda event: self._on_map(self._record_old, event)),
            observe_raw(self._clocks, lambda event: self._on_map(self._clocks_old, event)),
            # list roots are observed through their Yrs types only: a pycrdt wrapper costs about 1 KB of
            # memory per root and document for as long as the room is loaded, and is only needed to copy
            *(observe_raw(doc.get(root, type=Array), self._list_observer(root)) for root in record_type.list_roots),
            *(observe_raw(doc.get(root, type=Text), self._text_observer(root)) for root in record_type.text_roots),
        ]

    def begin(self, keep_texts: Collection[str] | None = None) -> None:
        """Start watching one update.

        ``keep_texts`` names the text roots the caller may need to undo an edit of (``None``: every one). Only
        those are copied and reported with their content before and after; an edit of another text is reported
        by its delta alone.
        """
        texts = frozenset(self.record_type.text_roots)
        self._kept_texts = texts if keep_texts is None else texts.intersection(keep_texts)
        for root in self._stale - texts:
            self._copies[root] = plain(self._doc.get(root, type=Array)) or []
        for root in self._stale & self._kept_texts:
            self._texts[root] = str(self._doc.get(root, type=Text))
        self._stale &= texts - self._kept_texts
        self._record_old.clear()
        self._clocks_old.clear()
        self._changed_lists.clear()
        self._text_edits.clear()
        self._armed = True

    def collect(self) -> Change:
        """Stop watching; what the update changed."""
        self._armed = False
        lists: dict[str, tuple[list[Any], list[Any]]] = {}
        for root in self._changed_lists:
            after = plain(self._doc.get(root, type=Array)) or []
            lists[root] = (self._copies[root], after)
            self._copies[root] = after
        texts: dict[str, TextEdit] = {}
        for root, deltas in self._text_edits.items():
            # one transaction makes one event per text; anything else is undone by its result, not its delta
            delta = deltas[0] if len(deltas) == 1 else None
            if root in self._kept_texts:
                after_text = str(self._doc.get(root, type=Text))
                texts[root] = TextEdit(self._texts[root], after_text, delta)
                self._texts[root] = after_text
            else:
                texts[root] = TextEdit(None, None, delta)
                self._stale.add(root)
        touched = set(self._record_old)
        touched.update(key.partition("@")[0] for key in self._clocks_old)
        if not touched:
            return Change(lists=lists, texts=texts)
        clocks_after: dict[str, Any] = plain(self._clocks) or {}
        clocks_before = dict(clocks_after)
        for key, old in self._clocks_old.items():
            if old is MISSING:
                clocks_before.pop(key, None)
            else:
                clocks_before[key] = old
        return Change(
            record_before=dict(self._record_old),
            record_now={name: self._record.get(name, MISSING) for name in touched},
            clocks_before=clocks_before,
            clocks_after=clocks_after,
            lists=lists,
            texts=texts,
        )

    def _on_map(self, old_values: dict[str, Any], event: Any) -> None:
        if not self._armed:
            return
        # an exception must not reach Yrs, which is in the middle of a transaction: never let one out of here
        try:
            for key, change in event.keys.items():
                if key in old_values:
                    continue
                old = change.get("oldValue", MISSING) if change["action"] != "add" else MISSING
                # a nested shared type comes raw from Yrs: wrap it as pycrdt's own events do
                old_values[key] = old if old is MISSING else wrap_event_value(old, self._doc)
        except Exception:
            log.exception("could not read a change of %s", self.record_type.name)

    def _list_observer(self, root: str) -> Callable[[Any], None]:
        return lambda _event: self._on_list(root)

    def _on_list(self, root: str) -> None:
        if self._armed:
            self._changed_lists.add(root)
        else:
            self._stale.add(root)

    def _text_observer(self, root: str) -> Callable[[Any], None]:
        return lambda event: self._on_text(root, event)

    def _on_text(self, root: str, event: Any) -> None:
        if not self._armed:
            self._stale.add(root)
            return
        # the delta can only be read while Yrs runs this callback; an exception must not reach Yrs
        try:
            delta: tuple[dict[str, Any], ...] | None = text_delta(event)
        except Exception:
            log.exception("could not read an edit of %s.%s", self.record_type.name, root)
            delta = None
        self._text_edits.setdefault(root, []).append(delta)
