"""requirements/lock.txt: it satisfies pyproject.toml, and the environment running the tests is exactly it.

So CI tests what the lock says, and a lock left behind by an edit of pyproject.toml fails here, not on a
fresh clone next month. ``bin/lock`` refreshes it.
"""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements" / "lock.txt"
TOOLS = ROOT / "requirements" / "tools.in"
#: The extras bin/lock resolves.
LOCKED_EXTRAS = ("dev", "bench")


def locked() -> dict[str, tuple[str, Requirement]]:
    """Every pin of the lock: name -> (version, the line as a requirement with its marker)."""
    pins: dict[str, tuple[str, Requirement]] = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        if re.match(r"[A-Za-z0-9]", line):
            requirement = Requirement(line.split(" \\")[0].strip())
            (spec,) = requirement.specifier
            assert spec.operator == "==", line
            pins[canonicalize_name(requirement.name)] = (spec.version, requirement)
    return pins


def declared() -> list[Requirement]:
    """What pyproject.toml and requirements/tools.in ask for."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = list(project["dependencies"])
    for extra in LOCKED_EXTRAS:
        lines += project["optional-dependencies"][extra]
    lines += [line for line in TOOLS.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    return [Requirement(line) for line in lines]


def test_every_declared_requirement_is_pinned_within_its_bounds() -> None:
    pins = locked()
    stale = []
    for requirement in declared():
        pin = pins.get(canonicalize_name(requirement.name))
        if pin is None or not requirement.specifier.contains(pin[0], prereleases=True):
            stale.append(f"{requirement} (locked: {pin[0] if pin else 'nothing'})")
    assert not stale, f"requirements/lock.txt does not satisfy pyproject.toml, run bin/lock: {', '.join(stale)}"


def test_every_pin_carries_hashes() -> None:
    text = LOCK.read_text(encoding="utf-8")
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    assert entries and all("--hash=sha256:" in entry for entry in entries)


def test_this_environment_is_the_lock() -> None:
    environment = default_environment()
    wrong = []
    for name, (pinned, requirement) in locked().items():
        if requirement.marker is not None and not requirement.marker.evaluate(environment):
            continue
        try:
            installed = version(name)
        except PackageNotFoundError:
            installed = "missing"
        if installed != pinned:
            wrong.append(f"{name} {installed} (locked {pinned})")
    assert not wrong, f"the environment differs from requirements/lock.txt, run bin/setup: {', '.join(wrong)}"
