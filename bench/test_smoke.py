"""Smoke test of the suite (about 10 s): ``pytest bench/test_smoke.py``. Not part of ``bin/test``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quick_fanout_burst_prints_the_table() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--workload", "fanout_burst", "--store", "sqlite", "--runs", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    table = done.stdout
    for server in ("fieldsync-sqlite", "pycrdt-websocket-memory", "pycrdt-websocket-sqlite", "raw-relay"):
        assert f"| {server} |" in table
    assert "| deliveries/s ↑ | fieldsync-sqlite |" in table
    assert "| writes lost | fieldsync-sqlite | 0 |" in table


def test_quick_cross_node_fanout_prints_both_layouts() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.crossnode", "--runs", "1", "--rate", "100", "--seconds", "1",
         "--documents", "5"],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| figure | one node | cross-node |" in done.stdout
    assert "| writes_lost | 0.0 [0.0 – 0.0] | 0.0 [0.0 – 0.0] |" in done.stdout
    assert "| missing_deliveries | 0.0 [0.0 – 0.0] | 0.0 [0.0 – 0.0] |" in done.stdout
