"""Extensions: every hub event reaches them, in order; a failing one costs nobody an acknowledgement."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from sync.access import Principal, Scope
from sync.hooks import Extension, Hooks
from sync.protocol import Sync, SyncStep
from sync.store import ConflictRecord, LogEntry
from tests.support.inproc import Connection, running_hub, token
from tests.support.stored import record_updates
from tests.sync.replicas import Replica, create

NAME = "work_order:WO-1"


class Recorder(Extension):
    """Notes every event it gets, with its own name, into a shared journal."""

    def __init__(self, label: str, journal: list[tuple[str, str, Any]]) -> None:
        self.name = label
        self.journal = journal

    def _note(self, event: str, detail: Any = None) -> None:
        self.journal.append((self.name, event, detail))

    def connection_opened(self, connection: Any) -> None:
        self._note("connection_opened")

    def connection_closed(self, connection: Any) -> None:
        self._note("connection_closed")

    def document_authenticated(self, connection: Any, name: str, principal: Principal, scope: Scope) -> None:
        self._note("document_authenticated", (name, principal.user, scope.value))

    def document_loaded(self, room: Any) -> None:
        self._note("document_loaded", room.name)

    def document_unloaded(self, room: Any) -> None:
        self._note("document_unloaded", room.name)

    def update_committed(self, entries: Sequence[LogEntry]) -> None:
        self._note("update_committed", tuple(entry.name for entry in entries))

    def conflict_recorded(self, rows: Sequence[ConflictRecord]) -> None:
        self._note("conflict_recorded", tuple((row.kind, row.field, row.code) for row in rows))

    def refusal_sent(self, connection: Any, name: str, code: str) -> None:
        self._note("refusal_sent", (name, code))


class Broken(Extension):
    """Raises from every hook it has."""

    name = "broken"

    def connection_opened(self, connection: Any) -> None:
        raise RuntimeError("broken hook")

    def document_authenticated(self, connection: Any, name: str, principal: Principal, scope: Scope) -> None:
        raise RuntimeError("broken hook")

    def update_committed(self, entries: Sequence[LogEntry]) -> None:
        raise RuntimeError("broken hook")


def events(journal: list[tuple[str, str, Any]], label: str) -> list[str]:
    return [event for who, event, _ in journal if who == label]


async def test_every_event_of_a_session_reaches_the_extensions_in_their_order(tmp_path: Path) -> None:
    journal: list[tuple[str, str, Any]] = []
    first, second = Recorder("first", journal), Recorder("second", journal)
    async with running_hub(tmp_path, extensions=[first, second], idle_unload_seconds=0.2) as hub:
        conn = Connection(hub)
        await conn.open(NAME)
        conn.socket.push(Sync(NAME, SyncStep.UPDATE, record_updates(1)[1][0]))
        await conn.socket.wait(lambda: conn.socket.statuses(NAME) == [True])
        viewer = Connection(hub)
        await viewer.open(NAME, token(sub="v1", device="d2", roles=("viewer",)))
        viewer.socket.push(Sync(NAME, SyncStep.UPDATE, record_updates(1, key="other")[1][0]))
        await viewer.socket.wait_notice(NAME, "readonly")
        await conn.finish()
        await viewer.finish()
        await hub.flush_projections()
        room = hub.rooms[("acme", NAME)]
        assert hub.unload_idle(now=room.idle_since + 1) == 1

    seen = events(journal, "first")
    assert seen == events(journal, "second"), "both extensions get the same events"
    assert seen[:4] == ["connection_opened", "document_loaded", "document_authenticated", "update_committed"]
    assert seen.count("connection_opened") == seen.count("connection_closed") == 2
    assert seen[-1] == "document_unloaded"
    details = {(event, repr(detail)) for who, event, detail in journal if who == "first"}
    assert ("document_authenticated", repr((NAME, "u1", "read-write"))) in details
    assert ("document_authenticated", repr((NAME, "v1", "readonly"))) in details
    assert ("update_committed", repr((NAME,))) in details
    assert ("refusal_sent", repr((NAME, "readonly"))) in details
    order = [who for who, event, _ in journal if event == "update_committed"]
    assert order == ["first", "second"], "one event, extensions in the order given"


async def test_a_rule_violation_is_raised_as_a_recorded_conflict(tmp_path: Path) -> None:
    journal: list[tuple[str, str, Any]] = []
    async with running_hub(tmp_path, extensions=[Recorder("rec", journal)]) as hub:
        base = await create(hub, NAME, {"status": "OPEN", "title": "Pump 3"})
        tech = Replica(NAME, user="tech-1", device="dev-1", roles=("technician",), base=base)
        assert await tech.connect(hub) == "read-write"
        tech.send(tech.write("status", "CLOSED"))  # a technician may not close a work order
        assert await tech.settled() == [True]
    recorded = [detail for _, event, detail in journal if event == "conflict_recorded"]
    assert recorded and recorded[0][0][:2] == ("violation", "status")
    assert ("rec", "refusal_sent", (NAME, recorded[0][0][2])) in journal, "the author was told, with the code"


async def test_a_failing_hook_is_logged_and_never_delays_or_loses_an_ack(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    journal: list[tuple[str, str, Any]] = []
    caplog.set_level(logging.ERROR, logger="sync.hooks")
    async with running_hub(tmp_path, extensions=[Broken(), Recorder("after", journal)]) as hub:
        conn = Connection(hub)
        await conn.open(NAME)
        updates = record_updates(5)[1]
        for update in updates:
            conn.socket.push(Sync(NAME, SyncStep.UPDATE, update))
        await conn.socket.wait(lambda: conn.socket.statuses(NAME) == [True] * 5, timeout=5)
        await conn.finish()
        stored = await hub.store.log_length("acme", NAME)
    assert stored == 5
    assert events(journal, "after").count("update_committed") >= 1, "the extension after the broken one still runs"
    failures = [r for r in caplog.records if "broken" in r.getMessage()]
    assert {"connection_opened", "document_authenticated", "update_committed"} <= {
        r.getMessage().split()[2] for r in failures
    }


def test_only_overridden_hooks_are_called() -> None:
    class OnlyCommits(Extension):
        calls = 0

        def update_committed(self, entries: Sequence[LogEntry]) -> None:
            OnlyCommits.calls += 1

    hooks = Hooks([OnlyCommits()])
    assert [len(hooks._listeners[e]) for e in ("update_committed", "connection_opened")] == [1, 0]
    hooks.update_committed([LogEntry("acme", NAME, b"")])
    hooks.conflict_recorded([])  # nothing recorded: no event
    assert OnlyCommits.calls == 1
