"""What a connection needs of the hub, and nothing more: the hub satisfies ``SessionHost`` structurally."""

from __future__ import annotations

from typing import Any, Protocol

from sync.access import Principal, TokenVerifier
from sync.config import HubConfig
from sync.connection.limits import DeviceLimits
from sync.connection.link import Link
from sync.connection.replies import Replies
from sync.documents.room import Room
from sync.gate import AccessGate
from sync.hooks import Hooks
from sync.protocol import Sender
from sync.referee.rejections import Rejections
from sync.scopes import ScopeService

__all__ = ["SessionHost", "Writer"]


class Writer(Protocol):
    """Takes one client update of an authenticated link and answers it through ``replies`` (``sync.write``)."""

    def write(self, link: Link, update: bytes, author: Principal, origin: Sender, replies: Replies) -> None: ...


class SessionHost(Protocol):
    """The hub as one connection sees it."""

    config: HubConfig
    verifier: TokenVerifier
    device_limits: DeviceLimits
    control_limits: DeviceLimits
    scopes: ScopeService
    hooks: Hooks
    writes: Writer
    sessions: set[Any]
    closing: bool

    gate: AccessGate
    rejections: Rejections

    async def acquire(self, tenant: str, name: str) -> Room: ...
