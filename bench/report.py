"""The printed table: per workload, each figure's median [min - max] per server, and fieldsync's ratios.

Ratios are fieldsync's median divided by the reference's median (pycrdt-websocket in memory, and the raw
relay). For a figure where higher is better a ratio above 1 means fieldsync is ahead; where lower is
better, below 1 does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bench.figures import FIGURES, TARGETS, Figure
from bench.servers import FIELDSYNC, PYCRDT_MEMORY, RELAY, VARIANTS
from bench.stats import Summary, ratio

Runs = Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]]  # workload -> server -> per-run figures


def summarise(results: Runs) -> dict[str, dict[str, dict[str, Summary | None]]]:
    """workload -> server -> figure -> Summary over the runs."""
    out: dict[str, dict[str, dict[str, Summary | None]]] = {}
    for workload, servers in results.items():
        out[workload] = {}
        for server, runs in servers.items():
            out[workload][server] = {
                figure.key: Summary.of([run.get(figure.key) for run in runs]) for figure in FIGURES[workload]
            }
    return out


def _number(value: float, decimals: int) -> str:
    return f"{value:,.{decimals}f}"


def _cell(summary: Summary | None, figure: Figure) -> str:
    if summary is None:
        return "n/a"
    text = _number(summary.median, figure.decimals)
    if summary.runs > 1 and summary.low != summary.high:
        text += f" [{_number(summary.low, figure.decimals)} – {_number(summary.high, figure.decimals)}]"
    return text


def _ratio_cell(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}×"


def _direction(figure: Figure) -> str:
    if figure.higher_is_better is None:
        return ""
    return " ↑" if figure.higher_is_better else " ↓"


def workload_table(workload: str, summary: Mapping[str, Mapping[str, Summary | None]]) -> list[str]:
    """Markdown rows: one per (figure, server) that has a value."""
    servers = list(summary)
    lines = ["| figure | server | median [min – max] | ÷ pycrdt-ws memory | ÷ raw relay |",
             "|---|---|---:|---:|---:|"]
    for figure in FIGURES[workload]:
        shown = [s for s in servers if summary[s].get(figure.key) is not None]
        for n, server in enumerate(shown):
            value = summary[server][figure.key]
            to_pycrdt = to_relay = ""
            if server in FIELDSYNC and figure.higher_is_better is not None:
                to_pycrdt = _ratio_cell(ratio(value, summary.get(PYCRDT_MEMORY, {}).get(figure.key)))
                to_relay = _ratio_cell(ratio(value, summary.get(RELAY, {}).get(figure.key)))
            label = f"{figure.label}{_direction(figure)}" if n == 0 else ""
            lines.append(f"| {label} | {server} | {_cell(value, figure)} | {to_pycrdt} | {to_relay} |")
    return lines


def variants_table(workload: str, summary: Mapping[str, Mapping[str, Summary | None]]) -> list[str]:
    """Markdown rows: each variant server's figures divided by those of the hub it varies, run in the same
    invocation; empty when no variant ran with its base."""
    pairs = [(variant, base) for variant, base in VARIANTS.items() if variant in summary and base in summary]
    if not pairs:
        return []
    lines = ["| figure | variant ÷ base | variant | base | ratio |", "|---|---|---:|---:|---:|"]
    for figure in FIGURES[workload]:
        if figure.higher_is_better is None:
            continue
        for variant, base in pairs:
            value, reference = summary[variant].get(figure.key), summary[base].get(figure.key)
            if value is None or reference is None:
                continue
            lines.append(f"| {figure.label}{_direction(figure)} | {variant} ÷ {base} | "
                         f"{_number(value.median, figure.decimals)} | {_number(reference.median, figure.decimals)} | "
                         f"{_ratio_cell(ratio(value, reference))} |")
    return lines


def targets_table(summary: Mapping[str, Mapping[str, Mapping[str, Summary | None]]]) -> list[str]:
    """Issue 6's targets, per fieldsync store: the value, met or not, and by how much it is missed."""
    lines = ["| target | server | value | needed | met | missed by |", "|---|---|---:|---:|---|---:|"]
    for target in TARGETS:
        servers = summary.get(target.workload, {})
        for server in FIELDSYNC:
            value = servers.get(server, {}).get(target.key)
            if value is None:
                continue
            needed: float | None = target.limit
            if target.relative_to_pycrdt:
                reference = servers.get(PYCRDT_MEMORY, {}).get(target.key)
                needed = None if reference is None else reference.median * target.limit
            if needed is None:
                lines.append(f"| {target.text} | {server} | {value.median:,.1f} | n/a (no baseline) | | |")
                continue
            met = value.median >= needed if target.at_least else value.median <= needed
            if met:
                missed = ""
            elif needed == 0:
                missed = f"{value.median:,.0f}"
            elif target.at_least:
                missed = f"needs {needed / value.median:.2f}× more"
            else:
                missed = f"{value.median / needed:.2f}× over"
            lines.append(f"| {target.text} | {server} | {value.median:,.1f} | {needed:,.1f} | "
                         f"{'yes' if met else 'no'} | {missed} |")
    return lines
