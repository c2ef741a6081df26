"""Prometheus metrics of one hub node: an extension plus counters the connection keeps anyway."""

from __future__ import annotations

from sync.metrics.extension import Metrics
from sync.metrics.instruments import Instruments

__all__ = ["Instruments", "Metrics"]
