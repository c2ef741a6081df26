"""A description of the machine and software a run used, for the record."""

from __future__ import annotations

import asyncio
import os
import platform
import resource
import subprocess
from importlib import metadata
from pathlib import Path

import asyncpg

PACKAGES = ("pycrdt", "pycrdt-websocket", "pycrdt-store", "litestar", "uvicorn", "websockets", "sqlalchemy",
            "aiosqlite", "asyncpg")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 2**20
    return 0.0


def _postgres_version(url: str) -> str | None:
    async def ask() -> str:
        conn = await asyncpg.connect(url, timeout=5)
        try:
            return str(await conn.fetchval("SHOW server_version"))
        finally:
            await conn.close()

    try:
        return asyncio.run(ask())
    except Exception:  # noqa: BLE001 - only a description
        return None


def _source() -> str:
    """The commit the hub ran from, and whether its code had uncommitted changes."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
        changed = subprocess.run(["git", "status", "--porcelain", "--", "sync", "server", "conflict", "migrations"],
                                 cwd=root, capture_output=True, text=True, timeout=10, check=True).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    return f"{head}" + (f" with {len(changed)} uncommitted file(s) in the hub's packages" if changed else "")


def describe(postgres_url: str | None) -> dict[str, object]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return {
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gib": round(_memory_gib(), 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "source": _source(),
        "postgres": _postgres_version(postgres_url) if postgres_url else None,
        "load_average": Path("/proc/loadavg").read_text().split()[:3],
        "open_files_limit": soft,
        "open_files_hard_limit": hard,
        "packages": versions,
    }


def raise_open_files_limit() -> int:
    """Raise this process's (and so its children's) open-files soft limit to the hard limit; returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = max(soft, 65536)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]
