"""The pytest plugin (entry point ``pytest11``): the ``mockllm`` fixture.

Installing mockllm makes the fixture available to every pytest suite of the environment::

    def test_reply(mockllm):
        mockllm.add_rules({"responses": {"hi": "hello"}})
        client = OpenAI(base_url=mockllm.openai_url, api_key="x")
        ...
        mockllm.assert_called(model="gpt-4o", times=1)

``mockllm`` is a :class:`~mockllm.testing.MockServer`: one live server for the whole session
(``mockllm_session``, started the first time a test asks for it), reset (``POST /-/reset``)
before each test that uses the fixture, so that no test sees the rules another added or the
requests another made. Its config and settings come from the command line or the ini file:

* ``--mockllm-config PATH`` / ini ``mockllm_config``: the config file (a path in the ini
  file is relative to the ini file's folder); else ``MOCKLLM_CONFIG``, else the embedded
  default config;
* ``--mockllm-setting NAME=VALUE`` (repeatable) / ini ``mockllm_settings`` (one
  ``NAME=VALUE`` a line): :class:`~mockllm.settings.Settings` fields; the command line wins
  over the ini file, both over ``MOCKLLM_<NAME>`` environment variables.

This module is imported by every pytest run of the environment: it imports nothing of the
server until a test asks for the fixture (docs/testing.md).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .testing import MockServer

NOT_SETTINGS = {
    "config": "give the config file with --mockllm-config or the mockllm_config ini key",
    "host": "the fixture's server listens on 127.0.0.1",
    "port": "the fixture's server takes a free port (mockllm.url says which)",
    "workers": "the fixture's server runs in one thread of the test process",
}
"""Settings fields the fixture's server does not take, with what to do instead."""


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    _rewrite_only_the_plugin(pluginmanager)
    group = parser.getgroup("mockllm", "mockllm (the server of the mockllm fixture)")
    group.addoption(
        "--mockllm-config",
        dest="mockllm_config",
        metavar="PATH",
        default=None,
        help="config file (YAML) of the mockllm fixture's server; default: the "
        "mockllm_config ini value, else MOCKLLM_CONFIG, else the embedded config.",
    )
    group.addoption(
        "--mockllm-setting",
        dest="mockllm_settings",
        metavar="NAME=VALUE",
        action="append",
        default=[],
        help="a setting of the mockllm fixture's server (a mockllm.settings.Settings "
        "field, e.g. journal_size=100); repeatable; wins over the mockllm_settings ini "
        "value and MOCKLLM_* variables.",
    )
    parser.addini(
        "mockllm_config",
        type="string",
        default="",
        help="config file (YAML) of the mockllm fixture's server, relative to the ini file.",
    )
    parser.addini(
        "mockllm_settings",
        type="linelist",
        default=[],
        help="settings of the mockllm fixture's server, one NAME=VALUE a line.",
    )


def _rewrite_only_the_plugin(pluginmanager: pytest.PytestPluginManager) -> None:
    """Keep pytest from rewriting the asserts of the server's modules.

    pytest marks the whole distribution of an entry-point plugin (``mockllm``) for assertion
    rewriting, so every ``mockllm.*`` module imported in a session (the server's hundred of
    them, when the fixture starts one) would be parsed, rewritten and compiled again
    without the interpreter's bytecode cache (which ``PYTHONDONTWRITEBYTECODE`` turns off
    for good): 0.2 s more on the fixture's start, and rewritten asserts in the server's
    own code. Only this module, the plugin, needs rewriting, and it is imported already.
    pytest offers no public way to unmark a name: this touches its rewrite hook's marks,
    if they are there, and does nothing otherwise (a slower start, nothing else).
    """
    hook = getattr(pluginmanager, "rewrite_hook", None)
    marked = getattr(hook, "_must_rewrite", None)
    cache = getattr(hook, "_marked_for_rewrite_cache", None)
    if isinstance(marked, set) and __package__ in marked and isinstance(cache, dict):
        marked.discard(__package__)
        cache.clear()


def config_path(config: pytest.Config) -> Path | None:
    """The config file the options give: ``--mockllm-config`` (relative to the directory
    pytest was run from), else ini ``mockllm_config`` (relative to the ini file), else
    ``MOCKLLM_CONFIG`` (or ``MOCKLLM_RESPONSES_FILE``, as :class:`Settings` reads them);
    None: the embedded config."""
    given: str | None = config.getoption("mockllm_config")
    if given:
        return config.invocation_params.dir / Path(given).expanduser()
    ini = str(config.getini("mockllm_config") or "").strip()
    if ini:
        base = config.inipath.parent if config.inipath is not None else config.rootpath
        return base / Path(ini).expanduser()
    environ = {k.upper(): v for k, v in os.environ.items()}
    for variable in ("MOCKLLM_CONFIG", "MOCKLLM_RESPONSES_FILE"):
        if environ.get(variable):
            return Path(environ[variable])
    return None


def settings_of(config: pytest.Config) -> dict[str, str]:
    """The ``NAME=VALUE`` settings of the ini file, then of the command line (which win),
    by field name (``journal-size``, ``JOURNAL_SIZE`` and ``MOCKLLM_JOURNAL_SIZE`` are
    ``journal_size``). Raises ``pytest.UsageError`` for an entry without ``=``."""
    lines: list[str] = [*config.getini("mockllm_settings"), *config.getoption("mockllm_settings")]
    settings: dict[str, str] = {}
    for line in lines:
        name, equals, value = line.partition("=")
        name = name.strip().lower().replace("-", "_").removeprefix("mockllm_")
        if not equals or not name:
            raise pytest.UsageError(f"mockllm setting {line!r}: write NAME=VALUE")
        settings[name] = value.strip()
    return settings


def start_server(config: pytest.Config) -> MockServer:
    """A started :class:`MockServer` with the options' config and settings; a clear
    failure (no traceback) for a config or a setting that is wrong."""
    from pydantic import ValidationError

    from .plugins import PluginError
    from .rules.loader import ConfigError
    from .settings import Settings
    from .testing import MockServer

    path = config_path(config)
    settings = settings_of(config)
    for name in settings:
        if name in NOT_SETTINGS:
            pytest.fail(f"mockllm setting {name!r}: {NOT_SETTINGS[name]}", pytrace=False)
        if name not in Settings.model_fields:
            known = ", ".join(n for n in Settings.model_fields if n not in NOT_SETTINGS)
            pytest.fail(
                f"mockllm setting {name!r}: no such setting; settings: {known}", pytrace=False
            )
    try:
        server = MockServer(path, **settings)
    except ConfigError as exc:
        failure = f"mockllm: the config {path} is invalid:\n{exc}"
    except ValidationError as exc:
        failure = "\n".join(
            f"mockllm setting {'.'.join(map(str, e['loc']))}={e.get('input')!r}: {e['msg']}"
            for e in exc.errors()
        )
    except PluginError as exc:  # validators= or stages= naming what is not installed
        failure = f"mockllm: {exc}"
    else:
        return server.start()
    pytest.fail(failure, pytrace=False)  # out of the except block: no chained traceback


def pytest_configure(config: pytest.Config) -> None:
    settings_of(config)  # a NAME=VALUE without "=" is a usage error, before any test runs


@pytest.fixture(scope="session")
def mockllm_session(pytestconfig: pytest.Config) -> Iterator[MockServer]:
    """The session's mockllm server, started on first use and never reset: for
    session-scoped fixtures that need its address. Tests use ``mockllm``."""
    server = start_server(pytestconfig)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mockllm(mockllm_session: MockServer) -> MockServer:
    """A live mockllm server (:class:`~mockllm.testing.MockServer`), reset for this test:
    no rule added and no request recorded by another test. ``.openai_url``,
    ``.anthropic_url``, ``.add_rules(...)``, ``.requests(...)``, ``.assert_called(...)``,
    ``.reset()``: see docs/testing.md."""
    mockllm_session.reset()
    return mockllm_session
