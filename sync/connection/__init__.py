"""One socket: its session, the documents linked on it, its outgoing queue, replies and rate limits."""

from __future__ import annotations

from sync.connection.host import SessionHost, Writer
from sync.connection.limits import DeviceLimits, TokenBucket
from sync.connection.link import Link, LinkState
from sync.connection.outlet import ConnectionState, Outlet, Transport
from sync.connection.replies import Replies
from sync.connection.session import Session

__all__ = [
    "ConnectionState", "DeviceLimits", "Link", "LinkState", "Outlet", "Replies", "Session", "SessionHost",
    "TokenBucket", "Transport", "Writer",
]
