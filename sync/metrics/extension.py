"""Metrics as an extension: hooks increment counters, everything else is read from the hub when scraped.

The hot path pays nothing here: per-socket traffic and acknowledgements are plain integers the connection
keeps anyway (``sync.connection.traffic``, ``Replies``), and this collector sums them at scrape time; the
hooks it uses run per socket, per transaction or per refusal, never per frame.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from sync.connection.traffic import KINDS
from sync.hooks import Document, Extension
from sync.metrics.instruments import Instruments
from sync.store import ConflictRecord, LogEntry

__all__ = ["LOOP_SAMPLE_SECONDS", "Metrics"]

LOOP_SAMPLE_SECONDS = 0.5


class Metrics(Extension, Collector):
    """The hub's metrics on ``registry`` (a new one by default); ``bind`` it to the hub it is attached to."""

    name = "metrics"

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.instruments = Instruments(self.registry)
        self.registry.register(self)
        self.hub: Any = None
        n = len(KINDS)
        # what closed sockets carried: live ones are summed at scrape time
        self._closed = {"frames_in": [0] * n, "bytes_in": [0] * n, "frames_out": [0] * n, "bytes_out": [0] * n}
        self._closed_acks = [0, 0]
        self._refusals: dict[str, Any] = {}
        self._queries: dict[str, Any] = {}

    def bind(self, hub: Any) -> None:
        self.hub = hub
        hub.store.on_query = self._query

    # -- hooks -------------------------------------------------------------------------------------

    def connection_opened(self, connection: Any) -> None:
        self.instruments.connections_opened.inc()

    def connection_closed(self, connection: Any) -> None:
        self.instruments.connections_closed.inc()
        traffic = connection.outlet.traffic
        for field, totals in self._closed.items():
            for i, value in enumerate(getattr(traffic, field)):
                totals[i] += value
        self._closed_acks[0] += connection.replies.acked
        self._closed_acks[1] += connection.replies.refused

    def document_loaded(self, room: Document) -> None:
        self.instruments.documents_loaded.inc()

    def document_unloaded(self, room: Document) -> None:
        self.instruments.documents_unloaded.inc()

    def update_committed(self, entries: Sequence[LogEntry]) -> None:
        if self.hub is None:
            return
        size, waited, took = self.hub.committer.last_batch
        self.instruments.commit_batch_size.observe(size)
        self.instruments.commit_seconds.observe(took)
        self.instruments.ack_latency.observe(waited)

    def conflict_recorded(self, rows: Sequence[ConflictRecord]) -> None:
        for row in rows:
            self.instruments.conflicts.labels(row.kind, row.code or "").inc()

    def refusal_sent(self, connection: Any, name: str, code: str) -> None:
        child = self._refusals.get(code)
        if child is None:
            child = self._refusals[code] = self.instruments.refusals.labels(code)
        child.inc()

    def _query(self, action: str, seconds: float) -> None:
        child = self._queries.get(action)
        if child is None:
            child = self._queries[action] = self.instruments.store_query_seconds.labels(action)
        child.observe(seconds)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await asyncio.sleep(LOOP_SAMPLE_SECONDS)
            self.instruments.event_loop_lag.set(max(0.0, loop.time() - started - LOOP_SAMPLE_SECONDS))

    # -- scrape ------------------------------------------------------------------------------------

    def collect(self) -> Iterator[Metric]:
        hub = self.hub
        if hub is None:
            return
        sessions = list(hub.sessions)
        yield _gauge("fieldsync_connections", "Open sockets on /sync.", len(sessions))
        yield _gauge("fieldsync_rooms", "Documents in this node's memory.", len(hub.rooms))
        totals = {field: list(values) for field, values in self._closed.items()}
        acks = list(self._closed_acks)
        for session in sessions:
            traffic = session.outlet.traffic
            for field, values in totals.items():
                for i, value in enumerate(getattr(traffic, field)):
                    values[i] += value
            acks[0] += session.replies.acked
            acks[1] += session.replies.refused
        for field, metric, text in (
            ("frames_in", "fieldsync_frames_received", "Frames received, by message type."),
            ("bytes_in", "fieldsync_bytes_received", "Bytes of frames received, by message type."),
            ("frames_out", "fieldsync_frames_sent", "Frames sent, by message type."),
            ("bytes_out", "fieldsync_bytes_sent", "Bytes of frames sent, by message type."),
        ):
            family = CounterMetricFamily(metric, text, labels=("type",))
            for kind, value in zip(KINDS, totals[field]):
                family.add_metric((kind,), value)
            yield family
        family = CounterMetricFamily("fieldsync_acks", "SyncStatus sent: committed (true) or refused (false).",
                                     labels=("result",))
        family.add_metric(("committed",), acks[0])
        family.add_metric(("refused",), acks[1])
        yield family
        committed = hub.committer.committed
        yield CounterMetricFamily("fieldsync_updates_committed",
                                  "Updates applied and committed (corrections included).", value=committed)
        yield CounterMetricFamily("fieldsync_commit_batches", "Group-commit transactions.", value=hub.committer.batches)
        yield _gauge("fieldsync_updates_pending_commit", "Updates waiting for a transaction.", hub.committer.pending)


def _gauge(name: str, text: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, text, value=value)
