"""Device replicas of one record for hub tests: a pycrdt document edited through the domain API
(``tests.support.device_doc``), and a connection to an in-process hub (``tests.support.inproc``) that sends its
updates and applies what it gets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pycrdt import Doc

from sync.hub import Hub
from sync.protocol import Authenticated, AuthToken, Frame, PermissionDenied, Stateless, Sync, SyncStatus, SyncStep
from sync.protocol.control import ErrorNotice, decode_control
from sync.store import ConflictRecord
from tests.support.device_doc import DeviceDoc, content, record  # the hub tests import these two from here too
from tests.support.inproc import Connection, token


class Replica(DeviceDoc):
    """One device's copy of one record, connected to an in-process hub."""

    def __init__(
        self, name: str, *, user: str, device: str, roles: Iterable[str], wall_ms: Callable[[], int] | None = None,
        base: bytes | None = None, client_id: int | None = None,
    ) -> None:
        super().__init__(name, user=user, device=device, roles=roles, wall_ms=wall_ms, base=base, client_id=client_id)
        self.conn: Connection | None = None
        self.denied: str | None = None
        self._applied = 0  # frames of the connection already applied to ``doc``
        self._sent = 0

    # -- the connection ----------------------------------------------------------------------------

    @property
    def frames(self) -> list[Frame]:
        assert self.conn is not None
        return self.conn.socket.received

    async def connect(self, hub: Hub, *, auth: str | None = None) -> str | None:
        """Authenticate; the scope, or ``None`` when denied (the reason is in ``denied``)."""
        self.conn = Connection(hub)
        self.conn.socket.push(AuthToken(self.name, auth or self.token()))
        await self.conn.socket.wait(lambda: any(
            isinstance(f, Authenticated | PermissionDenied) and f.document == self.name for f in self.frames))
        answer = next(f for f in self.frames if isinstance(f, Authenticated | PermissionDenied))
        self.denied = answer.reason if isinstance(answer, PermissionDenied) else None
        return answer.scope if isinstance(answer, Authenticated) else None

    def token(self, **claims: Any) -> str:
        return token(**{"sub": self.user, "device": self.device, "roles": self.roles, **claims})

    def send(self, update: bytes) -> None:
        assert self.conn is not None
        self.conn.socket.push(Sync(self.name, SyncStep.UPDATE, update))
        self._sent += 1

    def send_state(self) -> None:
        """What a reconnecting provider sends: its whole state as a step 2."""
        assert self.conn is not None
        self.conn.socket.push(Sync(self.name, SyncStep.STEP2, self.doc.get_update()))
        self._sent += 1

    async def settled(self, timeout: float = 10) -> list[bool]:
        """Wait for a SyncStatus for everything sent; all of them, in order."""
        assert self.conn is not None
        await self.conn.socket.wait(lambda: len(self.conn.socket.statuses(self.name)) >= self._sent, timeout)
        return self.conn.socket.statuses(self.name)

    def receive(self) -> None:
        """Apply, in order, the updates received since the last call (what a live provider does)."""
        frames = self.frames
        for frame in frames[self._applied:]:
            if isinstance(frame, Sync) and frame.document == self.name and frame.step is not SyncStep.STEP1:
                self.doc.apply_update(frame.data)
        self._applied = len(frames)

    async def live(self, predicate: Callable[[Doc], bool], timeout: float = 10) -> None:
        """Wait until the updates this replica is sent (no pull) make ``predicate`` true of its document."""
        assert self.conn is not None

        def check() -> bool:
            self.receive()
            return predicate(self.doc)

        await self.conn.socket.wait(check, timeout)

    async def pull(self, timeout: float = 10) -> None:
        """Ask the hub for everything this replica lacks (a step 1 answered by a step 2 only) and apply it."""
        assert self.conn is not None
        self.receive()
        before = len(self.frames)
        self.conn.socket.push(Sync(self.name, SyncStep.STEP1, self.doc.get_state(), reply=True))
        await self.conn.socket.wait(lambda: any(
            isinstance(f, Sync) and f.step is SyncStep.STEP2 for f in self.frames[before:]), timeout)
        self.receive()

    def notices(self) -> list[ErrorNotice]:
        found = []
        for frame in self.frames:
            if isinstance(frame, Stateless) and frame.document == self.name:
                message = decode_control(frame.payload)
                if isinstance(message, ErrorNotice):
                    found.append(message)
        return found

    def statuses(self) -> list[bool]:
        return [f.applied for f in self.frames if isinstance(f, SyncStatus) and f.document == self.name]

    async def close(self) -> None:
        if self.conn is not None:
            await self.conn.finish()


T0 = 1_763_800_000_000  # a fixed wall time, in ms, for device clocks


def at(ms: int) -> Callable[[], int]:
    """A device clock stopped at ``ms``: the HLC counter orders that device's writes."""
    return lambda: ms


async def create(hub: Hub, name: str, fields: dict[str, object], *, roles: tuple[str, ...] = ("supervisor",),
                 user: str = "office", steps: tuple[dict[str, object], ...] = ()) -> bytes:
    """A record created (and moved through ``steps``) by an online device; the hub's state afterwards."""
    office = Replica(name, user=user, device="office-pc", roles=roles, wall_ms=at(T0 - 60_000))
    for field, value in fields.items():
        office.write(field, value)
    for step in steps:
        for field, value in step.items():
            office.write(field, value)
    assert await office.connect(hub) == "read-write"
    for update in office.updates:
        office.send(update)
    assert all(await office.settled())
    assert office.notices() == [], "the setup itself broke no rule"
    await office.close()
    return hub.rooms[("acme", name)].doc.get_update()


async def conflicts_of(hub: Hub, name: str) -> list[ConflictRecord]:
    await hub.referee.conflicts.flush()
    return await hub.store.list_conflicts("acme", name=name)


async def converged(hub: Hub, name: str, *replicas: Replica) -> None:
    """Bring every replica up to date and check it holds exactly the hub's document."""
    room = hub.rooms[("acme", name)]
    assert room.watch is not None
    for replica in replicas:
        await replica.pull()
        assert content(replica.doc, room.watch.record_type) == content(room.doc, room.watch.record_type), replica.device
