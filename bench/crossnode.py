"""``python -m bench.crossnode``: paced fan-out across hub nodes, next to the same workload on one node.

Two fieldsync nodes on one Postgres database and the Redis bus. Each run measures, on a fresh cluster
each time, the paced fan-out (``bench.fanout``: 50 documents × 1 writer + 4 subscribers, 2,000 updates/s
for 5 s by default) twice: writers and subscribers on the same node ("one node"), and writers on node A
with every subscriber on node B ("cross-node"), where each delivery goes writer → A → commit → Redis →
B → subscriber. Runs alternate between the two so a slow minute of the machine does not fall on one.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from bench import fanout
from bench.machine import describe, raise_open_files_limit
from bench.servers import POSTGRES_ADMIN_URL, cluster
from bench.stats import percentile

FIGURES = ("send_rate", "deliveries_per_s", "delivery_p50_ms", "delivery_p95_ms", "delivery_p99_ms", "ack_p50_ms",
           "ack_p99_ms", "missing_deliveries", "writes_lost", "cpu_s")
#: cpu_s is the writers' node only (the subscribers' node of the cross-node layout is not counted).
LAYOUTS = ("one node", "cross-node")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.crossnode", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rate", type=float, default=2000.0, help="updates/s over all writers (default 2000)")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--documents", type=int, default=50)
    parser.add_argument("--subscribers", type=int, default=4)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    raise_open_files_limit()
    params = fanout.FanoutParams(documents=args.documents, subscribers=args.subscribers, paced=True, rate=args.rate,
                                 seconds=args.seconds, timeout=120)
    results: dict[str, list[dict[str, Any]]] = {layout: [] for layout in LAYOUTS}
    started = time.monotonic()
    for run in range(args.runs):
        for layout in LAYOUTS:
            with cluster(2) as (a, b):
                figures = fanout.measure(a, params, procs=1, run=run, subscribers_on=b if layout == "cross-node" else None)
            results[layout].append(figures)
            print(f"[crossnode] run {run + 1}/{args.runs} {layout}: p50 {figures['delivery_p50_ms']:.1f} ms, "
                  f"p99 {figures['delivery_p99_ms']:.1f} ms", file=sys.stderr, flush=True)
    machine = describe(POSTGRES_ADMIN_URL)
    print(render(results, params, machine, args.runs, time.monotonic() - started))
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "results": results}, indent=1, default=str))
    return 0


def render(results: dict[str, list[dict[str, Any]]], params: fanout.FanoutParams, machine: dict[str, Any],
           runs: int, seconds: float) -> str:
    lines = [
        f"machine: {machine['cpus']} CPUs ({machine['cpu_model']}), load average at start "
        f"{' '.join(machine['load_average'])}; hub source {machine['source']}",
        f"workload: {params.documents} documents × (1 writer + {params.subscribers} subscribers), {params.rate:g} "
        f"updates/s for {params.seconds:g} s; 2 nodes on Postgres + Redis; {runs} runs each "
        f"(median [min – max]), {seconds / 60:.1f} min",
        "",
        "| figure | " + " | ".join(LAYOUTS) + " |",
        "|---|" + "---:|" * len(LAYOUTS),
    ]
    for figure in FIGURES:
        cells = []
        for layout in LAYOUTS:
            values = [r[figure] for r in results[layout] if r.get(figure) is not None]
            cells.append(_cell(values))
        lines.append(f"| {figure} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(values: list[float]) -> str:
    if not values:
        return "–"
    median = percentile(sorted(values), 50)
    return f"{median:,.1f} [{min(values):,.1f} – {max(values):,.1f}]"


if __name__ == "__main__":
    raise SystemExit(main())
