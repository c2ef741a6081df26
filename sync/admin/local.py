"""This node's sockets and rooms as the admin API shows them, read from the hub's live state.

Read per request for the node asked, and every second for the snapshot the node shows the others
(``sync.admin.nodes``), so a room's encoded size is computed once per version of the document, not per read.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sync.admin.activity import Activity
from sync.admin.views import ConnectionView, RoomView, TrafficView
from sync.connection.link import LinkState
from sync.connection.traffic import KINDS

__all__ = ["LocalViews"]

Key = tuple[str, str]


class LocalViews:
    """Views of the hub it is ``bind``-ed to; ``tenant=None`` reads every tenant's, as (tenant, view) pairs."""

    def __init__(self, activity: Activity) -> None:
        self.activity = activity
        self.hub: Any = None
        self._sizes: dict[Key, tuple[Any, int, int]] = {}  # key -> (its room, the room's version, encoded size)

    def connections(self, tenant: str | None = None) -> Iterator[tuple[str, ConnectionView]]:
        node = self.hub.node_id
        self.activity.sample()
        for session in list(self.hub.sessions):
            principal = session.principal
            if principal is None or (tenant is not None and principal.tenant != tenant):
                continue
            traffic = session.outlet.traffic
            yield principal.tenant, ConnectionView(
                id=f"{node}-{traffic.id}", node=node, user=principal.user, device=principal.device,
                client_version=traffic.client_version, since=_at(traffic.opened),
                last_activity=_at(self.activity.last_activity(session)),
                documents=sorted(name for name, link in session.links.items() if link.state is LinkState.AUTHENTICATED),
                received=_traffic(traffic.frames_in, traffic.bytes_in),
                sent=_traffic(traffic.frames_out, traffic.bytes_out),
                acks_pending=session.replies.pending, acks_sent=session.replies.acked,
                refusals_sent=session.replies.refused,
            )

    def rooms(self, tenant: str | None = None) -> Iterator[tuple[str, RoomView]]:
        node = self.hub.node_id
        rooms = list(self.hub.rooms.items())
        if tenant is None:  # a pass over every room: forget the sizes of rooms unloaded since
            self._sizes = {key: self._sizes[key] for key, _ in rooms if key in self._sizes}
        for key, room in rooms:
            room_tenant, name = key
            if tenant is not None and room_tenant != tenant:
                continue
            written = self.activity.last_write.get(key)
            yield room_tenant, RoomView(
                document=name, node=node, subscribers=len(room.subscribers), size_bytes=self._size(key, room),
                log_length=room.log_length, last_write=_at(written) if written is not None else None,
                pending_writes=room.pending_writes,
            )

    def _size(self, key: Key, room: Any) -> int:
        version = room.shared.version
        known = self._sizes.get(key)
        if known is None or known[0] is not room or known[1] != version:  # a room reloaded starts at version 0
            known = self._sizes[key] = (room, version, len(room.doc.get_update()))
        return known[2]


def _traffic(frames: list[int], sizes: list[int]) -> TrafficView:
    return TrafficView(frames=sum(frames), bytes=sum(sizes),
                       frames_by_type={KINDS[i]: count for i, count in enumerate(frames) if count})


def _at(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)
