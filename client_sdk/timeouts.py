"""What a wait of the sync client that ran out of time says: what was still pending, and the last error."""

from __future__ import annotations

from collections.abc import Iterable

from client_sdk.errors import SyncTimeout
from client_sdk.replica import LocalReplica
from client_sdk.session import DeviceSession
from client_sdk.state import SyncError, SyncState


def sync_timeout(timeout: float | None, state: SyncState, replica: LocalReplica, session: DeviceSession | None,
                 last_error: SyncError | None) -> SyncTimeout:
    """The error of a wait that ran out of ``timeout`` seconds, saying what was still pending."""
    pending = {name: replica.pending_count(name) for name in replica.pending_documents()}
    parts = [f"not done after {timeout} s (the client is {state.value})"]
    if pending:
        total = sum(pending.values())
        parts.append(f"{total} outbox {'entry' if total == 1 else 'entries'} unacknowledged "
                     f"({_some(f'{name}: {n}' for name, n in pending.items())})")
    if session is not None:
        states = session.unsynced()
        unsynced = list(states)
        if states:
            parts.append(f"not in sync: {_some(f'{name} ({state.value})' for name, state in states.items())}")
    else:
        unsynced = replica.followed()
        if unsynced:
            parts.append(f"followed, not synced: {_some(unsynced)}")
    error = last_error
    parts.append("last error: " + (f"{error.code} ({error.document or '-'}): {error.message}" if error else "none"))
    return SyncTimeout("; ".join(parts), pending=pending, unsynced=unsynced, last_error=error)


def _some(items: Iterable[str], most: int = 8) -> str:
    """The first ``most`` of ``items``, joined, and how many more there are."""
    items = list(items)
    more = f", and {len(items) - most} more" if len(items) > most else ""
    return ", ".join(items[:most]) + more
