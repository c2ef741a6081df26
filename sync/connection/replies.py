"""What a connection answers: SyncStatus in arrival order, error notices and PermissionDenied.

Every step 2 and update gets exactly one SyncStatus, in the order received, each sent once its outcome
is settled (committed, refused, or failed to commit); a refusal carries an error notice with its code. An
outcome settled later with a refusal (a future failed with a ``FieldsyncError``) has its notice sent right
before its status, so a client pairing statuses with notices in order pairs them right.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from sync.errors import FieldsyncError, LimitExceeded, StoreError
from sync.protocol import AuthToken, Frame, PermissionDenied, Stateless, Sync, SyncStep, encode_frame, encode_sync_status
from sync.protocol.control import ErrorNotice, encode_control

Outcome = asyncio.Future[None] | bool


class Replies:
    """Acknowledgements and refusals of one connection, written through ``send``."""

    def __init__(self, send: Callable[[bytes], None], *, on_refusal: Callable[[str, str], None] | None = None) -> None:
        self._send = send
        self._on_refusal = on_refusal
        self._acks: deque[tuple[str, Outcome, FieldsyncError | None]] = deque()
        self._awaited: asyncio.Future[None] | None = None
        self.acked = 0
        """SyncStatus(true) sent on this connection."""
        self.refused = 0
        """SyncStatus(false) sent on this connection."""

    @property
    def pending(self) -> int:
        """Updates received whose SyncStatus has not been sent yet (most wait for their commit)."""
        return len(self._acks)

    def ack(self, name: str, outcome: Outcome, refusal: FieldsyncError | None = None) -> None:
        """Queue a SyncStatus for ``name``: sent after every earlier one, once ``outcome`` is settled; a
        ``refusal`` (of a False outcome) goes as a notice right after its status, so notices keep their order too."""
        self._acks.append((name, outcome, refusal))
        if isinstance(outcome, asyncio.Future) and not outcome.done():
            # the updates of one commit share its future: one wake-up sends all of their statuses
            if outcome is not self._awaited:
                self._awaited = outcome
                outcome.add_done_callback(self._flush)
        else:
            self._flush()

    def _flush(self, _: object = None) -> None:
        while self._acks:
            name, outcome, refusal = self._acks[0]
            if isinstance(outcome, asyncio.Future):
                if not outcome.done():
                    return
                error = outcome.exception() if not outcome.cancelled() else StoreError("cancelled")
                applied = error is None
                if isinstance(error, FieldsyncError):  # its notice goes right before its status, in order
                    self.notice(name, error)
            else:
                applied = outcome
            self._acks.popleft()
            if applied:
                self.acked += 1
            else:
                self.refused += 1
            self._send(encode_sync_status(name, applied))
            if refusal is not None:
                self.notice(name, refusal)

    def notice(self, name: str, exc: FieldsyncError, *, field: str | None = None) -> None:
        """A Stateless error notice with the refusal's code."""
        retry_after = exc.retry_after if isinstance(exc, (LimitExceeded, StoreError)) else None
        self.notify(name, ErrorNotice(code=str(exc.code), message=exc.reason, retry_after=retry_after, field=field))

    def notify(self, name: str, notice: ErrorNotice) -> None:
        """Send ``notice`` (every refusal and correction a client receives carries one, with its code)."""
        self._send(encode_frame(Stateless(name, encode_control(notice))))
        self._refused(name, notice.code)

    def deny(self, name: str, exc: FieldsyncError) -> None:
        """Answer an Auth with ``PermissionDenied("<code>: <reason>")``."""
        self._send(encode_frame(PermissionDenied(name, f"{exc.code}: {exc.reason}")))
        self._refused(name, str(exc.code))

    def _refused(self, name: str, code: str) -> None:
        if self._on_refusal is not None:
            self._on_refusal(name, code)

    def refuse(self, frame: Frame, exc: FieldsyncError) -> None:
        """Refuse ``frame``: PermissionDenied for an Auth; otherwise a notice, and SyncStatus(false) for an update."""
        name = getattr(frame, "document", "")
        if isinstance(frame, AuthToken):
            self.deny(name, exc)
            return
        if isinstance(frame, Sync) and frame.step is not SyncStep.STEP1:
            self.ack(name, False, exc)
        else:
            self.notice(name, exc)
