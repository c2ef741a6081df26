"""``python -m bench``: run the workloads against every server and print the table.

Every run of a workload starts each server afresh (new process, new SQLite file or Postgres database) and
stops it afterwards; runs alternate between servers so that a slow minute of the machine does not fall on
one server only.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench import catchup, fanout, idle, scope, storm
from bench.figures import CATCHUP, FANOUT_BURST, FANOUT_PACED, IDLE, SCOPE, STORM, WORKLOADS
from bench.machine import describe, raise_open_files_limit
from bench.report import summarise, targets_table, variants_table, workload_table
from bench.servers import (
    ALL_SERVERS, FIELDSYNC, FIELDSYNC_POSTGRES, FIELDSYNC_SQLITE, HUB_ENV, KNOWN_SERVERS, POSTGRES_ADMIN_URL, RELAY,
    Server, store_of,
    postgres_available, running,
)
from bench.workers import WorkerError

#: file descriptors a process needs beyond its sockets (libraries, logs, the store)
FD_MARGIN = 200


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bench", description="fieldsync benchmark suite (issue 6): prints a "
                                     "table of each workload against fieldsync and its baselines.")
    parser.add_argument("--workload", action="append", choices=WORKLOADS, metavar="NAME",
                        help=f"one of {', '.join(WORKLOADS)}; repeat for several (default: all)")
    parser.add_argument("--store", choices=("sqlite", "postgres", "both"), default="both",
                        help="fieldsync's store(s) (default both); the baselines always run")
    parser.add_argument("--servers", help=f"comma-separated subset of {', '.join(ALL_SERVERS)} (default all), or "
                        "the variants fieldsync-sqlite-metrics-off / fieldsync-postgres-metrics-off "
                        "(FIELDSYNC_METRICS=off) and fieldsync-sqlite-deflate / fieldsync-postgres-deflate "
                        "(FIELDSYNC_WS_DEFLATE=on, clients offering permessage-deflate)")
    parser.add_argument("--runs", type=int, help="runs per workload and server (default 3; --quick: 1)")
    parser.add_argument("--quick", action="store_true",
                        help="tiny parameters for development: 5 documents, 20 updates, 1 s paced, 1 run ...")
    parser.add_argument("--procs", type=int, default=1, help="load-generator processes (default 1)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write every run's raw figures here")
    parser.add_argument("--markdown", type=Path, metavar="PATH", help="also write the report as Markdown here")
    group = parser.add_argument_group("fan-out")
    group.add_argument("--documents", type=int, help="documents (default 50)")
    group.add_argument("--subscribers", type=int, help="subscribers per document (default 4)")
    group.add_argument("--updates", type=int, help="updates per writer in the burst (default 200)")
    group.add_argument("--rate", type=float, help="paced: updates/s over all writers (default 2000)")
    group.add_argument("--seconds", type=float, help="paced: duration (default 5)")
    group = parser.add_argument_group("catch-up")
    group.add_argument("--catchup-updates", type=int, help="updates the document is built from (default 10000)")
    group.add_argument("--warm-samples", type=int, help="fresh warm clients per run (default 5)")
    group = parser.add_argument_group("idle")
    group.add_argument("--connections", type=int, help="connections, one document each (default 2000)")
    group = parser.add_argument_group("reconnect storm")
    group.add_argument("--devices", type=int, help="devices (default 500)")
    group.add_argument("--device-documents", type=int, help="documents per device (default 10)")
    group.add_argument("--edits", type=int, help="offline edits per document (default 3)")
    group = parser.add_argument_group("scope")
    group.add_argument("--scope-records", type=int, help="records in the followed scope (default 1000)")
    return parser


def _pick(value: Any, default: Any, quick: Any, is_quick: bool) -> Any:
    return value if value is not None else (quick if is_quick else default)


def parameters(args: argparse.Namespace) -> dict[str, Any]:
    q = args.quick
    documents = _pick(args.documents, 50, 5, q)
    return {
        FANOUT_BURST: fanout.FanoutParams(documents=documents, subscribers=_pick(args.subscribers, 4, 4, q),
                                          updates=_pick(args.updates, 200, 20, q), timeout=120 if not q else 30),
        FANOUT_PACED: fanout.FanoutParams(documents=documents, subscribers=_pick(args.subscribers, 4, 4, q),
                                          paced=True, rate=_pick(args.rate, 2000.0, 100.0, q),
                                          seconds=_pick(args.seconds, 5.0, 1.0, q), timeout=120 if not q else 30),
        CATCHUP: catchup.CatchupParams(updates=_pick(args.catchup_updates, 10_000, 500, q),
                                       warm_samples=_pick(args.warm_samples, 5, 2, q)),
        IDLE: idle.IdleParams(connections=_pick(args.connections, 2000, 50, q)),
        STORM: storm.StormParams(devices=_pick(args.devices, 500, 20, q), documents=_pick(args.device_documents, 10, 3, q),
                                 edits=_pick(args.edits, 3, 3, q)),
        SCOPE: scope.ScopeParams(records=_pick(args.scope_records, 1000, 100, q)),
    }


def _servers(args: argparse.Namespace) -> list[str]:
    wanted = ALL_SERVERS if not args.servers else tuple(s.strip() for s in args.servers.split(","))
    unknown = [s for s in wanted if s not in KNOWN_SERVERS]
    if unknown:
        raise SystemExit(f"bench: unknown server(s) {', '.join(unknown)}")
    stores = {"sqlite": {FIELDSYNC_SQLITE}, "postgres": {FIELDSYNC_POSTGRES}, "both": set(FIELDSYNC)}[args.store]
    return [s for s in wanted if s not in FIELDSYNC or store_of(s) in stores]


def _fit_connections(params: idle.IdleParams, limit: int, notes: list[str]) -> idle.IdleParams:
    if params.connections + FD_MARGIN <= limit:
        return params
    fitted = max(10, limit - FD_MARGIN)
    notes.append(f"idle: the open-files limit is {limit}, so {fitted} connections instead of {params.connections}")
    return idle.IdleParams(connections=fitted, timeout=params.timeout)


Measure = Callable[[Server, int], dict[str, Any]]


def _measures(params: dict[str, Any], procs: int) -> dict[str, Measure]:
    return {
        FANOUT_BURST: lambda server, run: fanout.measure(server, params[FANOUT_BURST], procs=procs, run=run),
        FANOUT_PACED: lambda server, run: fanout.measure(server, params[FANOUT_PACED], procs=procs, run=run),
        CATCHUP: lambda server, run: catchup.measure(server, params[CATCHUP], run=run),
        IDLE: lambda server, run: idle.measure(server, params[IDLE], procs=procs, run=run),
        STORM: lambda server, run: storm.measure(server, params[STORM], procs=procs, run=run),
        SCOPE: lambda server, run: scope.measure(server, params[SCOPE], run=run),
    }


def _applies(workload: str, server: str) -> bool:
    if workload in (STORM, SCOPE):
        return server in FIELDSYNC  # many documents on one socket: the y-websocket protocol cannot
    if workload == CATCHUP:
        return server != RELAY  # nothing to catch up on
    return True


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    runs = args.runs if args.runs is not None else (1 if args.quick else 3)
    if runs < 1 or args.procs < 1:
        raise SystemExit("bench: --runs and --procs must be at least 1")
    workloads = args.workload or list(WORKLOADS)
    servers = _servers(args)
    notes: list[str] = []
    limit = raise_open_files_limit()
    params = parameters(args)
    params[IDLE] = _fit_connections(params[IDLE], limit, notes)
    if FIELDSYNC_POSTGRES in map(store_of, servers):
        problem = postgres_available()
        if problem:
            _log(f"bench: PostgreSQL is not usable at {POSTGRES_ADMIN_URL} ({problem}); start it (bin/services) "
                 "or run with --store sqlite")
            return 2
    machine = describe(POSTGRES_ADMIN_URL if FIELDSYNC_POSTGRES in map(store_of, servers) else None)
    settings = ", ".join(f"{k}={v}" for k, v in HUB_ENV.items())
    notes.append(f"hub settings: {settings} (rate and admission limits raised so the benchmark measures the "
                 "hub, not its limiters; documents unload 2 s after their last subscriber so cold catch-up and the storm "
                 "need not wait 30 s)")
    notes.append(f"load generator: {args.procs} process(es); the raw-relay rows are its ceiling on this machine")
    measures = _measures(params, args.procs)
    results: dict[str, dict[str, list[dict[str, Any]]]] = {}
    errors: list[str] = []
    started = time.monotonic()
    for workload in workloads:
        targets = [s for s in servers if _applies(workload, s)]
        results[workload] = {s: [] for s in targets}
        for run in range(runs):
            for server in targets:
                began = time.monotonic()
                try:
                    with running(server) as process:
                        figures = measures[workload](process, run)
                except Exception as exc:  # noqa: BLE001 - one failed run must not lose the others
                    errors.append(f"{workload} / {server} / run {run + 1}: {type(exc).__name__}: {exc}")
                    _log(f"bench: {errors[-1]}")
                    if not isinstance(exc, WorkerError):
                        _log(traceback.format_exc())
                    continue
                results[workload][server].append(figures)
                _log(f"[{workload}] run {run + 1}/{runs} {server}: {time.monotonic() - began:.1f} s")
    report = render(workloads, results, params, machine, notes + [f"error: {e}" for e in errors], runs,
                    time.monotonic() - started)
    print(report)
    if args.markdown:
        args.markdown.write_text(report + "\n")
    if args.json:
        args.json.write_text(json.dumps({
            "machine": machine, "hub_env": HUB_ENV, "runs": runs, "procs": args.procs, "notes": notes,
            "errors": errors, "parameters": {w: asdict(p) for w, p in params.items() if w in workloads},
            "results": results,
        }, indent=1, default=str))
    return 1 if errors else 0


def render(workloads: list[str], results: dict[str, Any], params: dict[str, Any], machine: dict[str, Any],
           notes: list[str], runs: int, seconds: float) -> str:
    summary = summarise(results)
    packages = ", ".join(f"{k} {v}" for k, v in machine["packages"].items())
    lines = [
        f"machine: {machine['cpus']} CPUs ({machine['cpu_model']}), {machine['memory_gib']} GiB, "
        f"Linux {machine['kernel']}, Python {machine['python']}"
        + (f", PostgreSQL {machine['postgres']}" if machine.get("postgres") else ""),
        f"packages: {packages}",
        f"hub source: {machine['source']}",
        f"load average when the run began: {' '.join(machine['load_average'])}",
        f"runs: {runs} per workload and server (median [min – max]); total {seconds / 60:.1f} min",
        *(f"note: {n}" for n in notes),
    ]
    for workload in workloads:
        lines += ["", f"### {workload}: {_describe(workload, params[workload])}", ""]
        lines += workload_table(workload, summary[workload])
        variants = variants_table(workload, summary[workload])
        if variants:
            lines += ["", "Variants against the hub they vary (median ÷ median):", ""] + variants
    lines += ["", "### issue 6 targets (fieldsync medians)", ""] + targets_table(summary)
    return "\n".join(lines)


def _describe(workload: str, p: Any) -> str:
    if workload == FANOUT_BURST:
        return f"{p.documents} documents × (1 writer + {p.subscribers} subscribers), {p.updates} updates per writer at once"
    if workload == FANOUT_PACED:
        return (f"{p.documents} documents × (1 writer + {p.subscribers} subscribers), {p.rate:g} updates/s "
                f"for {p.seconds:g} s")
    if workload == CATCHUP:
        return f"one document of {p.updates} updates; fresh client, cold and warm ({p.warm_samples} warm samples)"
    if workload == IDLE:
        return f"{p.connections} connections, one document each"
    if workload == SCOPE:
        return (f"a device follows a scope of {p.records} records: first sync, then resync with "
                f"{p.changed_pct:g}% changed and unchanged (fieldsync only)")
    return (f"{p.devices} devices × {p.documents} documents × {p.edits} offline edits, reconnecting at once "
            "(fieldsync only)")
