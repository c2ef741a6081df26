"""``SyncClient``: keeps a ``LocalReplica`` in sync with the hub, across any number of lost connections.

It owns one background task. That task connects, runs a ``DeviceSession`` with a heartbeat until the
connection ends, and reconnects after a backoff delay, for ever unless the hub refuses the token (then it
stops and reports ``AuthRejected`` until ``set_token``) or ``max_attempts`` is reached.

The token is a string, or a provider (``client_sdk.credentials``): an async callable the client asks for a
fresh token before the current one expires, re-authenticating every open document with it on the same
socket. When the hub ends a token the provider gave and the hub had accepted (``token_expired``), the client
asks for a new one and reconnects at once; a provider's token refused outright stops it as a string would. The state it exposes
(offline, connecting, syncing, synced), the pending count and the last error change only through
``_set_state`` and ``_report``, and every change is also an event.

The waits (``wait_synced``, ``wait_for``) fail loudly: a refusal that waiting cannot cure raises
``SyncFailed`` at once, with its code; a timeout raises ``SyncTimeout`` saying what was still pending.

``follow`` and ``unfollow`` manage sync scopes: they write to the replica (so they work offline and last
across restarts) and take effect on the current connection, or on the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random as _random
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

from client_sdk.backoff import Backoff
from client_sdk.first_to_end import first_to_end
from client_sdk.nodes import HubNodes
from client_sdk.config import SyncConfig
from client_sdk.credentials import Credentials, TokenProvider
from client_sdk.timeouts import sync_timeout
from sync.protocol.codes import ErrorCode
from client_sdk.errors import (
    AuthRejected, DeviceRevoked, HubProtocolError, LinkDead, ReplicaError, SyncFailed, SyncTimeout,
)
from client_sdk.events import Listeners
from client_sdk.replica import LocalReplica, ScopeChange, subscription_id
from client_sdk.session import OPEN_ERRORS, TOKEN_CODES, Connection, DeviceSession, SessionContext, Traffic
from client_sdk.state import (
    ClientStatus, Connected, Disconnected, ErrorReported, ReconnectScheduled, StateChanged, SyncError, SyncEvent,
    SyncProgress, SyncState, TokenRefreshFailed, check_transition,
)

log = logging.getLogger(__name__)

T = TypeVar("T")


class SyncClient:
    """Syncs every followed document of ``replica`` with the hub at ``url`` (``ws://host:port/sync``).

    ``url`` may be several hub nodes' URLs (or one load-balanced URL): the client uses one at a time and, when
    a node cannot be reached or its connection ends, tries the next one at once, then backs off once it has
    tried them all; on every node it resumes by state vectors and sends only what is still unacknowledged.
    ``token`` is the token string, or a provider: an async callable returning a fresh one (see the module).

    ``clock`` (monotonic seconds: when the link was last heard from), ``random`` (uniform in [0, 1), the
    backoff's jitter) and ``sleep`` (the backoff's wait) are injectable so tests can drive heartbeat and
    backoff without waiting. Pacing inside a connection (retries after refusals) runs on the event loop's time.
    """

    def __init__(self, replica: LocalReplica, url: str | Sequence[str], token: str | TokenProvider, *,
                 config: SyncConfig | None = None,
                 clock: Callable[[], float] = time.monotonic, random: Callable[[], float] = _random.random,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.replica = replica
        self.nodes = HubNodes(url)
        self.config = config or SyncConfig()
        self.traffic = Traffic()
        """Bytes and frames over every connection so far."""
        self._credentials = Credentials(
            token, margin=self.config.token_refresh_margin, report=self._report_event, sleep=sleep,
            backoff=Backoff(self.config.backoff_base, self.config.backoff_cap, random=random))
        self._accepted = False
        """The last connection's token was accepted for some document."""
        self._clock = clock
        self._sleep = sleep
        self._backoff = Backoff(self.config.backoff_base, self.config.backoff_cap,
                                max_attempts=self.config.max_attempts, random=random)
        self._state = SyncState.OFFLINE
        self._last_error: SyncError | None = None
        self._events: Listeners[SyncEvent] = Listeners()
        self._session: DeviceSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        self._work = asyncio.Event()
        self._progress: tuple[int, int] | None = None
        self._failure: SyncFailed | None = None
        """Why the client stopped for good (a refused token, or it gave up), until it is started again."""
        self._writes: set[asyncio.Task[Any]] = set()
        """``follow``/``unfollow`` writes still running; ``close`` waits for them."""
        self._unsubscribe = [replica.on_outbox.add(self._outbox_changed), replica.on_follow.add(self._followed),
                             replica.on_scope.add(self._scope_changed)]

    # -- the app's view --------------------------------------------------------------------------------

    @property
    def state(self) -> SyncState:
        return self._state

    @property
    def pending(self) -> int:
        """Local updates not yet acknowledged by the hub."""
        return self.replica.pending_count()

    @property
    def last_error(self) -> SyncError | None:
        return self._last_error

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def status(self) -> ClientStatus:
        session = self._session
        synced, total = session.progress() if session else (0, len(self.replica.followed()))
        return ClientStatus(state=self._state, pending=self.pending, documents=total, synced_documents=synced,
                            last_error=self._last_error)

    def on_event(self, callback: Callable[[SyncEvent], Any]) -> Callable[[], None]:
        """Call ``callback`` with every ``SyncEvent``; returns a function that removes it."""
        return self._events.add(callback)

    async def wait_for(self, predicate: Callable[[SyncClient], bool], timeout: float | None = None) -> None:
        """Wait until ``predicate(self)`` holds (checked after every change).

        Raises ``SyncFailed`` at once when the client has stopped for good (the hub refused the token, or the
        client gave up): nothing can change then until ``set_token`` or ``start``. Raises ``SyncTimeout`` (a
        ``TimeoutError``) when ``timeout`` seconds pass first; its message says what is still pending.
        """
        await self._wait(predicate, timeout, lambda: self._failure)

    async def wait_synced(self, timeout: float | None = None) -> None:
        """Wait until every followed document is in sync and the outbox is empty.

        Raises as ``wait_for`` does, and also at once when the hub refused a followed document for good on
        this connection (``forbidden``, ``unknown_record_type``, ``invalid_document_name``...): the error
        names the document, which the app should stop following.
        """
        await self._wait(lambda client: client.state is SyncState.SYNCED and client.pending == 0, timeout,
                         self._refusal)

    async def _wait(self, predicate: Callable[[SyncClient], bool], timeout: float | None,
                    failure: Callable[[], SyncFailed | None]) -> None:
        async def until() -> None:
            while not predicate(self):
                failed = failure()
                if failed is not None:
                    raise failed
                self._changed.clear()
                await self._changed.wait()

        try:
            await asyncio.wait_for(until(), timeout)
        except TimeoutError:
            raise self._timeout(timeout) from None

    def _refusal(self) -> SyncFailed | None:
        """Why waiting for the sync is hopeless now, if it is."""
        if self._failure is not None:
            return self._failure
        refused = self._session.refused() if self._session is not None else []
        if not refused:
            return None
        first = refused[0]
        more = f" (and {len(refused) - 1} more documents refused)" if len(refused) > 1 else ""
        return SyncFailed(first.code, first.message + more, document=first.document)

    def _timeout(self, timeout: float | None) -> SyncTimeout:
        return sync_timeout(timeout, self._state, self.replica, self._session, self._last_error)

    # -- scopes ----------------------------------------------------------------------------------------

    def follow(self, scope: str, *, keep_removed: bool = False, **params: str) -> asyncio.Task[str]:
        """Follow sync scope ``scope`` with ``params``: every record it holds, now and as records enter it.

        Written to the replica by the returned task (await it to know it is stored; it gives the subscription
        id), then subscribed on the current connection or the next one; a bad scope name or param raises here.
        Following the same scope with the same params again is the same subscription. A record that leaves
        the scope is deleted locally unless ``keep_removed`` (then its last copy stays, no longer synced),
        another followed scope holds it, it was followed by name, or it has edits the hub has not stored yet
        (deleted once they are).
        """
        subscription_id(scope, params)  # fail in the caller, not in the task
        return self._write(self.replica.follow_scope(scope, params, keep_removed=keep_removed))

    def unfollow(self, scope: str, *, forget: bool = True, **params: str) -> asyncio.Task[ScopeChange | None]:
        """Stop following ``scope`` with ``params``; ``forget`` deletes the records no other follow holds.

        Records with edits the hub has not stored yet are kept until it has.
        """
        return self._write(self.replica.unfollow_scope(subscription_id(scope, params), forget=forget))

    def _write(self, write: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        task = asyncio.create_task(write)
        self._writes.add(task)
        task.add_done_callback(self._written)
        return task

    def _written(self, task: asyncio.Task[Any]) -> None:
        self._writes.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("scope change not saved: %s", task.exception())
        self._recompute()

    # -- control ---------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start syncing in the background (no-op when running)."""
        if not self.running:
            self._backoff.reset()
            self._failure = None
            self._task = asyncio.create_task(self._run(), name="fieldsync-sync-client")

    async def stop(self) -> None:
        """Close the connection and stop; the replica stays usable offline and ``start`` resumes."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._set_state(SyncState.OFFLINE)

    async def close(self) -> None:
        """Stop and detach from the replica (after the ``follow``/``unfollow`` writes still running)."""
        await asyncio.gather(*self._writes, return_exceptions=True)
        await self.stop()
        for unsubscribe in self._unsubscribe:
            unsubscribe()

    async def __aenter__(self) -> SyncClient:
        self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    def set_token(self, token: str) -> None:
        """Use ``token`` from now on: the open documents are authenticated again with it on the same socket.

        Restarts a client that stopped on a refused token.
        """
        self._credentials.replace(token)
        if self._session is not None:
            self._session.reauthenticate()
        if self._task is not None and self._task.done():
            self.start()

    # -- the loop ------------------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            while not (self.replica.followed() or self.replica.pending_count()
                       or self.replica.scopes.subscriptions()):
                self._work.clear()
                await self._work.wait()  # nothing to sync: do not hold a socket the hub would time out
            await self._credentials.current()  # a provider is asked (again and again, if it fails) while offline
            self._set_state(SyncState.CONNECTING)
            url = self.url
            try:
                conn = await Connection.open(url, timeout=self.config.connect_timeout, traffic=self.traffic,
                                             clock=self._clock)
            except OPEN_ERRORS as exc:
                self._report(SyncError(code="unreachable", message=f"cannot reach {url}: {exc}"))
            else:
                try:
                    await self._serve(conn)
                except AuthRejected as exc:
                    self._set_state(SyncState.OFFLINE)
                    if not (self._credentials.renewable and self._accepted and exc.code in TOKEN_CODES):
                        self._stop_for_good(exc)
                        return
                    self._report(SyncError(code=exc.code, message=exc.message))
                    self._credentials.drop()
                    continue  # the provider's next token, at once
                except Exception as exc:  # a field device keeps trying; the bug is logged with its trace
                    log.exception("sync connection failed")
                    self._report(SyncError(code="client_error", message=f"{type(exc).__name__}: {exc}"))
            self._set_state(SyncState.OFFLINE)
            if self.nodes.next():
                continue  # another node is there to try at once; the backoff paces whole rounds of them
            delay = self._backoff.next_delay()
            if delay is None:
                self._stop_for_good(SyncFailed("gave_up", f"no sync after {self._backoff.attempts} attempts"))
                return
            self._events.emit(ReconnectScheduled(self._backoff.attempts, delay))
            await self._sleep(delay)

    @property
    def url(self) -> str:
        """The hub URL in use (or tried next)."""
        return self.nodes.current

    async def _serve(self, conn: Connection) -> None:
        credentials = self._credentials
        session = DeviceSession(SessionContext(conn, self.replica, lambda: credentials.token or "", self.config,
                                               clock=time.monotonic, report=self._report_event,
                                               changed=self._recompute))
        self._session = session
        self._progress = None
        self._events.emit(Connected())
        self._set_state(SyncState.SYNCING)
        self._accepted = False
        try:
            await first_to_end(
                conn.serve(session.handle),
                session.run(),
                conn.heartbeat(self.config.heartbeat_interval, self.config.heartbeat_timeout),
                credentials.keep_fresh(session.reauthenticate),
            )
        except LinkDead as exc:
            conn.abort()
            self._report(SyncError(code="link_dead", message=str(exc)))
        except DeviceRevoked as exc:  # every unsent edit stays in the outbox; a restore lets them through
            self._report(SyncError(code=ErrorCode.DEVICE_REVOKED, message=exc.reason))
        except (HubProtocolError, ReplicaError) as exc:
            self._report(SyncError(code="client_error", message=str(exc)))
        else:  # the hub (or the network) closed the socket: say why
            code = conn.close_code
            if code not in (None, 1000):
                self._report(SyncError(code=f"close_{code}", message=conn.close_reason or "connection closed"))
        finally:
            self._session = None
            self._accepted = session.accepted
            await conn.close()
            self._events.emit(Disconnected(conn.close_code, conn.close_reason))

    # -- state -----------------------------------------------------------------------------------------

    def _set_state(self, new: SyncState) -> None:
        old = self._state
        if new is old:
            return
        check_transition(old, new)
        self._state = new
        if new is SyncState.SYNCED:
            self._backoff.reset()  # a successful sync: the next loss starts again from the base delay
        self._events.emit(StateChanged(old, new))
        self._changed.set()

    def _recompute(self) -> None:
        session = self._session
        if session is None or self._state not in (SyncState.SYNCING, SyncState.SYNCED):
            return
        progress = session.progress()
        if progress != self._progress and progress[1]:
            self._progress = progress
            self._events.emit(SyncProgress(*progress))
        # a follow still being written is not subscribed yet: the device is not in sync with it
        synced = session.all_synced() and not self._writes
        self._set_state(SyncState.SYNCED if synced else SyncState.SYNCING)
        self._changed.set()

    def _report(self, error: SyncError) -> None:
        self._report_event(ErrorReported(error))

    def _stop_for_good(self, failure: SyncFailed) -> None:
        self._failure = failure  # before the report: the report wakes the waits, which raise it
        self._report(SyncError(code=failure.code, message=failure.message, fatal=True))

    def _report_event(self, event: SyncEvent) -> None:
        if isinstance(event, ErrorReported):
            self._last_error = event.error
            log.info("sync: %s (%s) %s", event.error.code, event.error.document or "-", event.error.message)
        elif isinstance(event, TokenRefreshFailed):
            self._last_error = SyncError(code="token_unavailable", message=f"the token provider failed: {event.error}")
        self._events.emit(event)
        self._changed.set()

    def _outbox_changed(self, name: str) -> None:
        self._to_session(lambda session: session.outbox_changed(name))
        self._changed.set()  # the pending count grew

    def _followed(self, name: str) -> None:
        self._to_session(lambda session: session.follow(name))

    def _scope_changed(self, change: ScopeChange) -> None:
        self._to_session(lambda session: session.scope_changed(change))

    def _to_session(self, act: Callable[[DeviceSession], None]) -> None:
        """Act on the current connection, if any; and wake the loop that waits for something to sync."""
        if self._session is not None:
            act(self._session)
        self._work.set()
