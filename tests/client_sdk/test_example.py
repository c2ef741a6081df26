"""``examples/technician_offline.py`` runs end to end and tells what happened."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_technician_example_runs_and_converges() -> None:
    result = subprocess.run([sys.executable, "examples/technician_offline.py"], cwd=REPO, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert out.rstrip().endswith("converged")
    for step in ("== 1.", "== 2.", "== 3.", "== 4.", "== 5.", "== 6."):
        assert step in out
    assert "update(s) waiting in the outbox" in out
    assert "same records as the tablet: True" in out
    assert "priority HIGH" in out and "IN_PROGRESS" in out
