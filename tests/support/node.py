"""The Node that runs the stock Yjs + Hocuspocus client: the interop kit in ``tests/interop`` and its engine.

``bin/test`` puts a Node new enough for the kit on PATH (installing one from the npm registry into ``.tools``
when the machine's is older). Tests that run Node call ``interop_node`` and fail, never skip, without it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

INTEROP_DIR = Path(__file__).resolve().parents[1] / "interop"
#: What the kit's own code imports; each must be installed by ``npm ci --prefix tests/interop``.
REQUIRED_MODULES = ("yjs", "ws", "@hocuspocus/provider")
INSTALL_HINT = "run bin/test, which installs a matching Node into .tools and the kit with `npm ci --prefix tests/interop`"


def required_node_major() -> int:
    """The oldest Node major version the kit runs on: ``engines.node`` (``>=N``) of its package.json."""
    engines = json.loads((INTEROP_DIR / "package.json").read_text())["engines"]["node"]
    match = re.fullmatch(r">=\s*(\d+)(\.\d+)*", engines.strip())
    if match is None:
        raise ValueError(f"tests/interop/package.json: engines.node {engines!r} is not of the form '>=N'")
    return int(match.group(1))


def node_major(node: str) -> int:
    """The major version of the Node executable ``node``."""
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True, timeout=30).stdout
    return int(version.strip().lstrip("v").split(".")[0])


def interop_node() -> str:
    """The path of a Node on PATH that the kit supports, with the kit installed; fails the test otherwise."""
    node = shutil.which("node")
    if node is None:
        pytest.fail(f"node is not on PATH: {INSTALL_HINT}")
    needed = required_node_major()
    if node_major(node) < needed:
        pytest.fail(f"{node} is Node {node_major(node)}, the interop kit needs Node {needed}+: {INSTALL_HINT}")
    missing = [m for m in REQUIRED_MODULES if not (INTEROP_DIR / "node_modules" / m / "package.json").is_file()]
    if missing:
        pytest.fail(f"interop node_modules missing ({', '.join(missing)}): {INSTALL_HINT}")
    return node
