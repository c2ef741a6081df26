"""README.md as a newcomer meets it: its examples run as written against a real hub, and its links resolve.

A fenced block whose info string is ``<language> run`` (```` ```python run ````, ```` ```js run ````,
```` ```sh run ````) is a runnable example; a reader sees only the language. The examples test plays the
README's first minutes on a fresh clone: a hub started as ``bin/hub`` starts it (development mode, no
``FIELDSYNC_JWT_SECRET``, a generated secret in its working directory), then every runnable block in README
order, in that directory, from a shell without ``FIELDSYNC_*`` variables:

- ``sh`` blocks run in bash; the variables they ``export`` (the token) go to every block after them;
- ``python`` blocks run as scripts with ``.venv/bin/python``;
- ``js`` blocks run as ES modules on the Node the interop kit names, with the kit's packages.

``.venv`` in that directory is this interpreter's environment, so ``.venv/bin/fieldsync`` is the README's own
command. The one change made to a block is the hub's address: ``ws://127.0.0.1:8765/sync`` becomes the test
hub's. A block that fails, or a python or js block that prints nothing, fails the test; what the two examples
print is checked below.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from server.config import variables
from sync.access import DEFAULT_ACCESS_FILE
from tests.support.hub import HubProcess
from tests.support.node import INTEROP_DIR, interop_node

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
#: The hub address the examples are written for (``bin/hub``'s default); the test hub's replaces it.
README_HUB_URL = "ws://127.0.0.1:8765/sync"
#: Longest one example may run.
BLOCK_TIMEOUT = 30.0
RUNNABLE_LANGUAGES = ("sh", "python", "js")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a Markdown file."""

    language: str
    runnable: bool
    line: int
    """Line number of the opening fence (1-based)."""
    text: str

    def where(self) -> str:
        """Where the block is, for messages: ``README.md:55 (python run)``."""
        return f"README.md:{self.line} ({self.language}{' run' if self.runnable else ''})"


def code_blocks(markdown: str) -> list[Block]:
    """Every fenced block (```` ``` ```` or ``~~~``) in ``markdown``, in order."""
    blocks: list[Block] = []
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        opening = re.match(r"^(`{3,}|~{3,})(.*)$", lines[index])
        if opening is None:
            index += 1
            continue
        fence, words = opening.group(1), opening.group(2).split()
        end = index + 1
        while end < len(lines) and not (lines[end].startswith(fence) and not lines[end].strip(fence[0]).strip()):
            end += 1
        if end == len(lines):
            raise ValueError(f"README.md:{index + 1}: code block never closed")
        blocks.append(Block(language=words[0] if words else "", runnable=words[1:2] == ["run"], line=index + 1,
                            text="\n".join(lines[index + 1:end]) + "\n"))
        index = end + 1
    return blocks


def readme_blocks() -> list[Block]:
    """The fenced blocks of README.md."""
    return code_blocks(README.read_text())


# -- the examples -----------------------------------------------------------------------------------------


@dataclass
class Newcomer:
    """A shell in the hub's working directory, with the environment the blocks run in."""

    workdir: Path
    hub_url: str
    env: dict[str, str]
    node: str

    def run(self, block: Block) -> str:
        """Run ``block``; returns what it printed (an ``sh`` block's exports are kept for the next ones)."""
        if block.language == "sh":
            return self._shell(block)
        if README_HUB_URL not in block.text:
            pytest.fail(f"{block.where()} does not connect to {README_HUB_URL}, the hub this test starts")
        source = block.text.replace(README_HUB_URL, self.hub_url)
        if block.language == "python":
            script = self.workdir / f"readme_{block.line}.py"
            command = [str(self.workdir / ".venv" / "bin" / "python"), script.name]  # as the README says
        elif block.language == "js":
            script = self.workdir / f"readme_{block.line}.mjs"
            command = [self.node, script.name]
        else:
            pytest.fail(f"{block.where()}: only {', '.join(RUNNABLE_LANGUAGES)} blocks can be marked run")
        script.write_text(source)
        result = self._execute(block, command)
        if not result.stdout.strip():
            pytest.fail(f"{block.where()} printed nothing\nstderr:\n{result.stderr[-4000:]}")
        return result.stdout

    def _shell(self, block: Block) -> str:
        exported = re.findall(r"^\s*export\s+([A-Za-z_]\w*)=", block.text, flags=re.M)
        dump = self.workdir / f"readme_{block.line}.env"
        # The value of each exported variable, NUL-terminated, read back after the block ran.
        script = block.text + "".join(f'printf "%s\\0" "${{{name}}}" >> {dump.name}\n' for name in exported)
        result = self._execute(block, ["bash", "-e", "-o", "pipefail", "-c", script])
        values = dump.read_text().split("\0")[:-1] if exported else []
        for name, value in zip(exported, values, strict=True):
            if not value:
                pytest.fail(f"{block.where()} exported an empty {name}\nstderr:\n{result.stderr[-4000:]}")
            self.env[name] = value
        return result.stdout

    def _execute(self, block: Block, command: list[str]) -> subprocess.CompletedProcess[str]:
        try:
            result = subprocess.run(command, cwd=self.workdir, env=self.env, capture_output=True, text=True,
                                    timeout=BLOCK_TIMEOUT)
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"{block.where()} did not finish in {BLOCK_TIMEOUT} s\nstdout:\n{exc.stdout}\n"
                        f"stderr:\n{exc.stderr}")
        if result.returncode != 0:
            pytest.fail(f"{block.where()} exited {result.returncode}\nstdout:\n{result.stdout[-4000:]}\n"
                        f"stderr:\n{result.stderr[-4000:]}")
        return result


@pytest.fixture
def fresh_hub(tmp_path: Path) -> Iterator[HubProcess]:
    """A hub as ``bin/hub`` starts it on a fresh clone: development mode, its secret generated in its directory."""
    # as bin/hub runs it: development secret, and the hub's own access rules
    process = HubProcess(tmp_path, "sqlite+aiosqlite:///./fieldsync.db", jwt_secret=None,
                         env={"FIELDSYNC_ACCESS_FILE": str(DEFAULT_ACCESS_FILE)})
    process.start()
    yield process
    process.stop()


@pytest.fixture
def newcomer(fresh_hub: HubProcess) -> Newcomer:
    """The hub's directory as a clone's root: ``.venv`` and ``node_modules`` at hand, no ``FIELDSYNC_*`` set."""
    workdir = fresh_hub.workdir
    if not (workdir / "fieldsync.secret").is_file():
        pytest.fail("the hub kept no development secret in its working directory (fieldsync.secret)")
    venv = Path(sys.prefix)
    if not all((venv / "bin" / name).is_file() for name in ("fieldsync", "python")):
        pytest.fail(f"{venv} has no bin/fieldsync or bin/python: run the tests with bin/test (the .venv of bin/setup)")
    (workdir / ".venv").symlink_to(venv)
    (workdir / "node_modules").symlink_to(INTEROP_DIR / "node_modules")
    env = {key: value for key, value in os.environ.items() if not key.startswith("FIELDSYNC_")}
    return Newcomer(workdir=workdir, hub_url=fresh_hub.ws_url, env=env, node=interop_node())


def only_runnable(language: str, blocks: list[Block], outputs: dict[int, str]) -> str:
    """What the one runnable ``language`` block printed (each has its own expectations below)."""
    found = [block for block in blocks if block.runnable and block.language == language]
    assert len(found) == 1, (
        f"expected one runnable {language} block, found {[b.where() for b in found]}: "
        "give each its expectations in this test"
    )
    return outputs[found[0].line]


@pytest.mark.slow
def test_readme_examples_run_as_written(newcomer: Newcomer) -> None:
    blocks = readme_blocks()
    outputs = {block.line: newcomer.run(block) for block in blocks if block.runnable}

    assert re.fullmatch(r"[\w-]+\.[\w-]+\.[\w-]+", newcomer.env.get("TOKEN", "")), \
        f"the README's token command exported no JWT in TOKEN: {newcomer.env.get('TOKEN')!r}"
    # The device SDK example: its query finds the job it wrote, with the note it appended.
    sdk = only_runnable("python", blocks, outputs)
    assert "work_order:WO-1042 OPEN ['Seal replaced, tested at 6 bar.']" in sdk.splitlines(), sdk
    # The stock Yjs client, run after it: the record as the hub holds it, with its own write acknowledged.
    stock = only_runnable("js", blocks, outputs)
    for expected in ("title: 'Pump 3 leaking at the seal'", "status: 'OPEN'", "technician: 'tech-17'",
                     "priority: 'HIGH'", "text: 'Seal replaced, tested at 6 bar.'"):
        assert expected in stock, f"{expected!r} not in what the js example printed:\n{stock}"


def test_every_kind_of_example_is_marked_runnable() -> None:
    """Without its markers the examples test would run nothing and pass: each kind must be there."""
    languages = {block.language for block in readme_blocks() if block.runnable}
    assert languages == set(RUNNABLE_LANGUAGES), f"runnable blocks found: {sorted(languages)}"


def test_python_blocks_that_do_not_run_still_compile() -> None:
    """Fragments (a continuation of a runnable example) are not run, but must at least be Python."""
    for block in readme_blocks():
        if block.language == "python":
            try:
                compile(block.text, block.where(), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
            except SyntaxError as exc:
                pytest.fail(f"{block.where()}: {exc}")


# -- the links --------------------------------------------------------------------------------------------

#: ``[text](target)`` (images too).
MARKDOWN_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
#: A code span shaped like a relative path: ``examples/technician_offline.py``, ``sync/``, ``ARCHITECTURE.md``.
PATH_SPAN = re.compile(r"`((?:\.\./)*[A-Za-z0-9_][\w.-]*(?:/[\w.-]+)*/?)`")
#: Endings of the files a README points a reader to.
FILE_SUFFIXES = frozenset({".md", ".py", ".mjs", ".json", ".toml", ".ini", ".txt"})


def outside_prose(markdown: str) -> str:
    """``markdown`` without its fenced blocks (commands and code are not references to read)."""
    return re.sub(r"^(`{3,}|~{3,}).*?^\1\s*$", "", markdown, flags=re.M | re.S)


def names_a_path(span: str) -> bool:
    """Whether a path-shaped code span is meant as a file or directory (not ``Auth/Token``, ``claim/internal``)."""
    if span.startswith("../") or span.endswith(".md"):
        return True
    if "/" not in span:
        return False
    return (REPO / span.split("/", 1)[0]).exists() or Path(span.rstrip("/")).suffix in FILE_SUFFIXES


def relative_references(markdown: str) -> list[str]:
    """Relative link targets, and code spans that name a file or directory (of the repository or not)."""
    prose = outside_prose(markdown)
    targets = [target.split("#", 1)[0] for target in MARKDOWN_LINK.findall(prose)]
    links = [t for t in targets if t and not re.match(r"^[a-z][a-z0-9+.-]*:", t) and not t.startswith("/")]
    return links + [span for span in PATH_SPAN.findall(prose) if names_a_path(span)]


def test_readme_names_only_files_of_this_repository() -> None:
    references = relative_references(README.read_text())
    assert "ARCHITECTURE.md" in references, "the README should send readers to ARCHITECTURE.md"
    missing = []
    for reference in references:
        path = (REPO / reference).resolve()
        if not path.is_relative_to(REPO) or not path.exists():
            missing.append(reference)
    assert not missing, f"README.md names paths a clone does not have: {missing}"


def test_the_reference_check_sees_links_and_paths() -> None:
    markdown = ("Read [the guide](docs/GUIDE.md#start), `../shared/DESIGN.md`, `sync/` and `tools/x.py`; not "
                "[a site](https://example.org), `./fieldsync.db`, `/sync`, `Auth/Token` or\n"
                "```sh\ncat notes/x.md\n```\n")
    assert relative_references(markdown) == ["docs/GUIDE.md", "../shared/DESIGN.md", "sync/", "tools/x.py"]


def test_the_configuration_table_lists_every_variable_the_hub_reads() -> None:
    text = README.read_text()
    table = text[text.index("## Configuration"):text.index("## Records and conflicts")]
    rows = set(re.findall(r"^\| `(FIELDSYNC_[A-Z_]+)` \|", table, re.MULTILINE))
    assert set(variables()) <= rows, f"not in the README's configuration table: {sorted(set(variables()) - rows)}"
