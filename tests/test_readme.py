"""Every fenced code block of README.md and docs/rules.md runs as written, against a live
mockllm server (:class:`~mockllm.testing.MockServer`).

The docs say ``127.0.0.1:8000`` (or ``localhost:8000``); each block is run with that
rewritten to the live server's address. A block's fence info string says what it is:

* ``python``: run with this interpreter in a fresh process (a user pasting it into a new
  ``python``), must exit 0 and print nothing on stderr (no warning either);
* ``js``: written to a temporary ``.mjs`` file under ``tests/js/`` (so its pinned
  ``node_modules`` resolve) and run with ``node`` as an ES module (top-level ``await``);
* ``sh`` / ``bash`` (``console``: its ``$ `` lines): run with ``bash -eo pipefail``; every
  ``curl`` must say ``--fail`` (or ``-f``), so that an answer other than 2xx fails the block;
* ``yaml``: a config file, valid for :func:`mockllm.rules.loader.parse_config` with no
  warning;
* ``text``, or any language followed by the word ``no-run``: not run. Each such block is
  listed, with the reason, in :data:`NOT_RUN`; a new one fails until it is listed there.

Any other language, or none, fails: a new block cannot be skipped silently.

A second word other than ``no-run`` names an *example* (e.g. ```` ```yaml agent-example ````
and ```` ```python agent-example ````): its one ``yaml`` block is the config of the server
that the example's other blocks run against. Blocks without a name run against a server on
the embedded default config, which is what ``scripts/serve`` serves.

The line numbers of a block's file are kept (the block is padded with blank lines), so a
traceback's line is the line in the Markdown file; test ids read ``README.md:LINE-lang``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mockllm.rules.loader import parse_config
from mockllm.testing import MockServer

ROOT = Path(__file__).parent.parent
JS = ROOT / "tests" / "js"
DOCS = ("README.md", "docs/rules.md")

PYTHON = {"python", "py"}
JAVASCRIPT = {"js", "javascript", "mjs"}
SHELL = {"sh", "bash", "shell", "console"}
YAML = {"yaml", "yml"}
NO_RUN_LANGUAGES = {"text"}
NO_RUN = "no-run"

NOT_RUN = {
    # (file, first line of the block): why it is not run
    ("README.md", "scripts/serve"): "installs packages, then serves until stopped",
    ("README.md", "HTTP --> wire.py"): "a diagram, not code",
    (
        "README.md",
        "mockllm record --upstream",
    ): "records from the real services (network, keys), then serves until stopped "
    "(both commands run for real in tests/cassettes/test_commands.py)",
    (
        "README.md",
        "INFO:     config:",
    ): "sample log output (its format: tests/test_serve_output.py)",
    ("README.md", "# tests/test_greeting.py"): "a pytest test file: tests/test_pytest_plugin.py "
    "runs it with pytester",
}
"""The blocks that are not run, each with its reason (matched on the start of its first line)."""

ADDRESS = re.compile(r"\b(?:127\.0\.0\.1|localhost):8000\b")
FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
CURL = re.compile(r"(?<![\w-])curl(?![\w-])")
CURL_FAIL = re.compile(r"(?:^|\s)(?:--fail(?:-with-body)?|-[a-zA-Z]*f[a-zA-Z]*)(?=\s|$)")
TIMEOUT = 120


@dataclass(frozen=True)
class Block:
    path: str  # relative to the repository root
    line: int  # of the opening fence, 1-based
    language: str
    words: tuple[str, ...]  # the info string's words after the language
    code: str

    @property
    def id(self) -> str:
        return f"{self.path}:{self.line}-{self.language or 'no-language'}"

    @property
    def runs(self) -> bool:
        return self.language not in NO_RUN_LANGUAGES and NO_RUN not in self.words

    @property
    def example(self) -> str | None:
        names = [w for w in self.words if w != NO_RUN]
        return names[0] if names else None

    def padded(self) -> str:
        """The code, preceded by blank lines so that its line numbers are the file's."""
        return "\n" * self.line + self.code


def blocks_of(path: str) -> list[Block]:
    """The fenced code blocks of ``path`` (relative to the repository root), in order."""
    lines = (ROOT / path).read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        indent, fence = len(opening["indent"]), opening["fence"]
        closing = re.compile(rf"^ *{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        end = i + 1
        while end < len(lines) and not closing.match(lines[end]):
            end += 1
        assert end < len(lines), f"{path}:{i + 1}: the code block is never closed"
        words = tuple(opening["info"].split())
        body = [line[indent:] if line[:indent].isspace() else line for line in lines[i + 1 : end]]
        blocks.append(
            Block(
                path=path,
                line=i + 1,
                language=words[0].lower() if words else "",
                words=words[1:],
                code="\n".join(body) + "\n",
            )
        )
        i = end + 1
    return blocks


BLOCKS = [block for path in DOCS for block in blocks_of(path)]


def _configs() -> dict[tuple[str, str | None], str]:
    """The server config of each example, by (file, example name); None: the default."""
    configs: dict[tuple[str, str | None], str] = {}
    for block in BLOCKS:
        if block.example is not None and block.language in YAML:
            assert (block.path, block.example) not in configs, f"{block.id}: a second config"
            configs[block.path, block.example] = block.code
    return configs


CONFIGS = _configs()


class Servers:
    """One live server per example (and one on the embedded config), started on demand."""

    def __init__(self) -> None:
        self._running: dict[tuple[str, str | None], MockServer] = {}

    def address(self, block: Block) -> str:
        key = (block.path, block.example) if block.example is not None else ("", None)
        if key not in self._running:
            if block.example is None:
                server = MockServer()
            else:
                assert key in CONFIGS, f"{block.id}: example {block.example!r} has no yaml block"
                server = MockServer(config_text=CONFIGS[key])
            self._running[key] = server.start()
        return f"127.0.0.1:{self._running[key].port}"

    def stop(self) -> None:
        for server in self._running.values():
            server.stop()


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    running = Servers()
    try:
        yield running
    finally:
        running.stop()


def child_env() -> dict[str, str]:
    """This environment, less what the tests set up that a reader would not have."""
    env = dict(os.environ)
    env.pop("LITELLM_LOCAL_MODEL_COST_MAP", None)  # the README must say to set it
    for name in list(env):
        if name.startswith("MOCKLLM_"):
            del env[name]
    return env


def run(command: list[str], block: Block, cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        command,
        cwd=cwd,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, (
        f"{block.id} exited {done.returncode}\n--- stdout\n{done.stdout[-3000:]}"
        f"\n--- stderr\n{done.stderr[-5000:]}"
    )
    return done


def live(block: Block, servers: Servers) -> Block:
    """``block`` with the documented address replaced by its live server's."""
    address = servers.address(block)
    return Block(
        block.path, block.line, block.language, block.words, ADDRESS.sub(address, block.code)
    )


def run_python(block: Block, tmp_path: Path) -> None:
    script = tmp_path / "block.py"
    script.write_text(block.padded(), encoding="utf-8")
    done = run([sys.executable, str(script)], block, tmp_path)
    assert not done.stderr, f"{block.id} wrote on stderr:\n{done.stderr[-5000:]}"


def run_js(block: Block) -> None:
    node = shutil.which("node")
    assert node, "Node.js is required: scripts/test installs it"
    assert (JS / "node_modules").is_dir(), "run `npm ci` in tests/js (scripts/test does)"
    # Node resolves an ES module's imports from the node_modules of its folder's parents.
    with tempfile.TemporaryDirectory(prefix=".readme-", dir=JS) as tmp:
        script = Path(tmp) / "block.mjs"
        script.write_text(block.padded(), encoding="utf-8")
        done = run([node, str(script)], block, Path(tmp))
    assert not done.stderr, f"{block.id} wrote on stderr:\n{done.stderr[-5000:]}"


def shell_script(block: Block) -> str:
    """The commands of a shell block (a ``console`` block's ``$ `` lines)."""
    if block.language != "console":
        return block.code
    lines, continued = [], False
    for line in block.code.splitlines():
        if line.startswith("$ ") or continued:
            lines.append(line[2:] if line.startswith("$ ") and not continued else line)
            continued = line.endswith("\\")
        else:
            lines.append("")  # output: keep the line numbers
    return "\n".join(lines) + "\n"


def run_shell(block: Block, tmp_path: Path) -> None:
    script = shell_script(block)
    commands = re.sub(r"\\\n", " ", script)  # join continued lines
    for command in commands.splitlines():
        for call in CURL.split(command)[1:]:
            arguments = re.split(r"[|;&]", call)[0]  # this curl's arguments only
            assert CURL_FAIL.search(arguments), (
                f"{block.id}: curl without --fail (-f) cannot tell a 4xx/5xx answer: {command}"
            )
    path = tmp_path / "block.sh"
    path.write_text("\n" * block.line + script, encoding="utf-8")
    run(["bash", "-eo", "pipefail", str(path)], block, tmp_path)


def check_yaml(block: Block) -> None:
    config = parse_config(block.code, f"{block.path}:{block.line}")
    assert not config.warnings, [str(w) for w in config.warnings]


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.runs], ids=lambda b: b.id)
def test_block_runs(block: Block, servers: Servers, tmp_path: Path) -> None:
    if block.language in YAML:
        check_yaml(block)
    elif block.language in PYTHON:
        run_python(live(block, servers), tmp_path)
    elif block.language in JAVASCRIPT:
        run_js(live(block, servers))
    elif block.language in SHELL:
        run_shell(live(block, servers), tmp_path)
    else:
        pytest.fail(
            f"{block.id}: unknown language {block.language!r}: use one this test runs "
            f"(python, js, sh, yaml) or mark the block `text` / `{NO_RUN}` and list it in NOT_RUN"
        )


@pytest.mark.parametrize("block", [b for b in BLOCKS if not b.runs], ids=lambda b: b.id)
def test_block_not_run_is_listed_with_its_reason(block: Block) -> None:
    first = block.code.lstrip().splitlines()[0] if block.code.strip() else ""
    reasons = [
        r for (p, start), r in NOT_RUN.items() if p == block.path and first.startswith(start)
    ]
    assert reasons, f"{block.id} is not run: list it in NOT_RUN with the reason, or run it"


def test_not_run_lists_only_existing_blocks() -> None:
    for path, start in NOT_RUN:
        assert any(
            b.path == path and not b.runs and b.code.lstrip().startswith(start) for b in BLOCKS
        ), f"NOT_RUN names a block that is gone or now runs: {path}: {start!r}"


def test_examples_pair_a_config_with_code() -> None:
    names = {(b.path, b.example) for b in BLOCKS if b.example is not None and b.runs}
    assert ("docs/rules.md", "agent-example") in names
    for path, name in names:
        kinds = {b.language for b in BLOCKS if (b.path, b.example) == (path, name)}
        assert kinds & YAML, f"{path}: example {name!r} has no yaml config block"
        assert kinds - YAML, f"{path}: example {name!r} has no block to run"


def test_every_kind_of_block_is_found() -> None:
    readme = [b.language for b in BLOCKS if b.path == "README.md" and b.runs]
    assert {"python", "js", "sh", "yaml"} <= set(readme)
    assert readme.count("python") >= 5


def _architecture() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("## Architecture")
    return text[start : text.index("\n## ", start + 1)]


def test_the_architecture_section_matches_the_tree() -> None:
    """Every module the README's Architecture section names exists, and every module and
    package of ``src/mockllm`` is named there: the layout it describes is the tree's."""
    section = _architecture()
    src = ROOT / "src" / "mockllm"
    named = set(re.findall(r"`((?:[a-z_]+/)*[a-z_]+(?:\.py|/))`", section))
    everywhere = {p.name for p in src.rglob("*.py")}
    missing = sorted(
        n
        for n in named
        if not (src / n).exists() and not (ROOT / n).exists() and n not in everywhere
    )
    assert not missing, f"README Architecture names what does not exist: {missing}"
    entries = {
        f"{p.name}/" if p.is_dir() else p.name
        for p in src.iterdir()
        if (p.is_dir() and (p / "__init__.py").exists())
        or (p.suffix == ".py" and p.name not in ("__init__.py", "__main__.py"))
    }
    unnamed = sorted(entries - named)
    assert not unnamed, f"README Architecture does not name: {unnamed}"
    for dialect in (src / "providers").iterdir():
        if (dialect / "__init__.py").exists() and dialect.name != "azure":
            for module in ("protocol.py", "decode.py", "encode.py", "routes.py", "errors.py"):
                assert (dialect / module).exists(), f"providers/{dialect.name}/ has no {module}"
