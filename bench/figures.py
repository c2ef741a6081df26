"""What each workload reports: its figures, their units, and which way is better; and issue 6's targets."""

from __future__ import annotations

from dataclasses import dataclass

FANOUT_BURST = "fanout_burst"
FANOUT_PACED = "fanout_paced"
CATCHUP = "catchup"
IDLE = "idle"
STORM = "storm"
SCOPE = "scope"
WORKLOADS = (FANOUT_BURST, FANOUT_PACED, CATCHUP, IDLE, STORM, SCOPE)


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    higher_is_better: bool | None = False
    """None: a count to read, not a speed (no ratio is shown)."""
    decimals: int = 1


FIGURES: dict[str, list[Figure]] = {
    FANOUT_BURST: [
        Figure("deliveries_per_s", "deliveries/s", True, 0),
        Figure("delivery_p50_ms", "delivery p50 ms"),
        Figure("delivery_p95_ms", "delivery p95 ms"),
        Figure("delivery_p99_ms", "delivery p99 ms"),
        Figure("acks_per_s", "acks/s", True, 0),
        Figure("ack_p99_ms", "ack p99 ms"),
        Figure("peak_rss_mb", "server peak RSS MB"),
        Figure("cpu_s", "server CPU s", False, 2),
        Figure("writes_lost", "writes lost", None, 0),
        Figure("store_settle_s", "store settle s", None, 1),
        Figure("missing_deliveries", "deliveries missing", None, 0),
        Figure("generator_cpu_s", "generator CPU s", None, 2),
        Figure("generator_load_pct", "generator busy %", None, 0),
    ],
    FANOUT_PACED: [
        Figure("send_rate", "updates sent/s", None, 0),
        Figure("delivery_p50_ms", "delivery p50 ms"),
        Figure("delivery_p95_ms", "delivery p95 ms"),
        Figure("delivery_p99_ms", "delivery p99 ms"),
        Figure("ack_p50_ms", "ack p50 ms"),
        Figure("ack_p95_ms", "ack p95 ms"),
        Figure("ack_p99_ms", "ack p99 ms"),
        Figure("cpu_s", "server CPU s", False, 2),
        Figure("missing_deliveries", "deliveries missing", None, 0),
    ],
    CATCHUP: [
        Figure("cold_ms", "cold ms"),
        Figure("warm_ms", "warm ms"),
        Figure("cold_bytes", "bytes received (cold)", None, 0),
        Figure("warm_bytes", "bytes received (warm)", None, 0),
        Figure("complete", "document complete (1 = yes)", None, 0),
    ],
    IDLE: [
        Figure("kb_per_connection", "server KB per connection"),
        Figure("rss_before_mb", "server RSS before MB", None),
        Figure("rss_after_mb", "server RSS after MB", None),
        Figure("connections", "connections", None, 0),
    ],
    STORM: [
        Figure("storm_s", "all edits acked, all synced s", False, 2),
        Figure("device_p50_s", "device done p50 s", False, 2),
        Figure("edits_acked_per_s", "edits acked/s", True, 0),
        Figure("cpu_s", "server CPU s", False, 2),
        Figure("peak_rss_mb", "server peak RSS MB"),
        Figure("devices_failed", "devices failed", None, 0),
        Figure("refused", "frames refused", None, 0),
        Figure("generator_cpu_s", "generator CPU s", None, 2),
    ],
    SCOPE: [
        Figure("first_s", "first sync s", False, 2),
        Figure("first_kb", "first sync KB (both ways)", None, 0),
        Figure("resync_s", "resync, 1% changed, s", False, 2),
        Figure("resync_kb", "resync, 1% changed, KB", None, 0),
        Figure("unchanged_s", "resync, unchanged, s", False, 2),
        Figure("unchanged_kb", "resync, unchanged, KB", None, 0),
        Figure("records", "records in the scope", None, 0),
        Figure("changed", "records changed", None, 0),
    ],
}


@dataclass(frozen=True)
class Target:
    """One of issue 6's performance targets for the hub (on each store)."""

    workload: str
    key: str
    text: str
    limit: float
    relative_to_pycrdt: bool = False
    """The limit is a multiple of pycrdt-websocket (memory)'s median rather than an absolute value."""
    at_least: bool = False


TARGETS = [
    Target(FANOUT_BURST, "deliveries_per_s", "fan-out burst deliveries/s >= 2.5x pycrdt-websocket (memory)", 2.5,
           relative_to_pycrdt=True, at_least=True),
    Target(FANOUT_BURST, "writes_lost", "fan-out burst: no write lost", 0),
    Target(FANOUT_PACED, "delivery_p99_ms", "fan-out paced delivery p99 < 10 ms", 10),
    Target(FANOUT_PACED, "ack_p99_ms", "fan-out paced ack p99 < 20 ms", 20),
    Target(CATCHUP, "warm_ms", "catch-up warm no slower than pycrdt-websocket (memory) warm", 1.0,
           relative_to_pycrdt=True),
    Target(CATCHUP, "cold_ms", "catch-up cold < 15 ms", 15),
    Target(IDLE, "kb_per_connection", "idle < 25 KB per connection", 25),
]
