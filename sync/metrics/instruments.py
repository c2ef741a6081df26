"""The hub's Prometheus instruments, on a registry of their own (one per hub, so tests can run several).

Names and meanings are documented in the README (Operators, Metrics). Counters that other parts update
later (the bus's lag, the cache's hits and misses) are defined here so their names are settled now.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["Instruments"]

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2000)


class Instruments:
    """Every metric the hub updates itself (the rest are read from its state at scrape time)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        def counter(name: str, text: str, labels: tuple[str, ...] = ()) -> Counter:
            return Counter(name, text, labels, registry=registry)

        def histogram(name: str, text: str, buckets: tuple[float, ...], labels: tuple[str, ...] = ()) -> Histogram:
            return Histogram(name, text, labels, buckets=buckets, registry=registry)

        self.connections_opened = counter("fieldsync_connections_opened", "Sockets accepted on /sync.")
        self.connections_closed = counter("fieldsync_connections_closed", "Sockets ended, whoever closed them.")
        self.documents_loaded = counter("fieldsync_documents_loaded", "Documents loaded into memory from the store.")
        self.documents_unloaded = counter("fieldsync_documents_unloaded", "Idle documents dropped from memory.")
        self.refusals = counter("fieldsync_refusals", "Refusals sent to clients, by code.", ("code",))
        self.conflicts = counter("fieldsync_conflicts", "Conflicts and violations found by the referee.",
                                 ("kind", "code"))
        self.commit_batch_size = histogram("fieldsync_commit_batch_size", "Updates per group-commit transaction.",
                                           BATCH_BUCKETS)
        self.commit_seconds = histogram("fieldsync_commit_seconds", "Duration of each group-commit transaction.",
                                        LATENCY_BUCKETS)
        self.ack_latency = histogram(
            "fieldsync_ack_latency_seconds",
            "From receiving an update to its commit (when SyncStatus(true) is sent), observed once per transaction "
            "for its oldest update: the slowest acknowledgement of the batch.", LATENCY_BUCKETS)
        self.store_query_seconds = histogram("fieldsync_store_query_seconds", "Store units of work, by action.",
                                             LATENCY_BUCKETS, ("action",))
        self.event_loop_lag = Gauge("fieldsync_event_loop_lag_seconds",
                                    "How late the event loop last ran a timer (sampled every 0.5 s).",
                                    registry=registry)
        self.bus_lag = Gauge("fieldsync_bus_lag_seconds",
                             "Age of the newest bus message when this node received it (set by the bus).",
                             registry=registry)
        self.cache_hits = counter("fieldsync_cache_hits", "Cache lookups answered from the cache, by cache.",
                                  ("cache",))
        self.cache_misses = counter("fieldsync_cache_misses", "Cache lookups that went to the store, by cache.",
                                    ("cache",))
