"""Dialects whose handlers are imported on their first request (``providers.base.deferred``):
a server starts without building the request models of the dialects a test run does not
speak, and a deferred handler behaves as the handler it stands for."""

from __future__ import annotations

import importlib
import inspect
import json
import subprocess
import sys

import pytest

from mockllm.plugins import discover_providers
from mockllm.providers.base import DEFERRED, RouteSpec
from mockllm.realism.admission import GENERATING

ROUTES = [
    pytest.param(spec, id=f"{provider.name} {'|'.join(spec.methods)} {spec.path}")
    for provider in discover_providers()
    for spec in provider.routes
]

LOADED_ON_FIRST_USE = (
    "mockllm.providers.anthropic.protocol",
    "mockllm.providers.anthropic.routes",
    "mockllm.providers.gemini.protocol",
    "mockllm.providers.gemini.routes",
    "mockllm.providers.ollama.protocol",
    "mockllm.providers.ollama.routes",
    "mockllm.providers.ollama.management",
    "mockllm.providers.openai.responses.protocol",
    "mockllm.providers.openai.responses.routes",
    "mockllm.cassettes",
)


@pytest.mark.parametrize("spec", ROUTES)
def test_a_deferred_handler_declares_what_the_real_one_does(spec: RouteSpec) -> None:
    """The wire reads a handler's GENERATING flag before its first call (admission on the
    serving path or not): a deferred handler carries the real handler's."""
    target = getattr(spec.handler, DEFERRED, None)
    if target is None:
        return
    module, name = target
    real = getattr(importlib.import_module(module), name)
    assert getattr(spec.handler, GENERATING, False) == getattr(real, GENERATING, False)
    assert getattr(real, DEFERRED, None) is None
    assert spec.handler.__name__ == name


def test_other_dialects_are_loaded_when_first_asked_for() -> None:
    script = f"""
import json, sys
from mockllm.app import create_app
from mockllm.settings import Settings
app = create_app(Settings(watch=False))
print(json.dumps([m for m in {LOADED_ON_FIRST_USE!r} if m in sys.modules]))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(done.stdout.splitlines()[-1]) == []


def test_the_routes_are_handlers_once_every_dialect_module_is_loaded() -> None:
    """A package attribute named like one of its modules becomes that module when the
    module is imported: a provider built after a dialect's first request still routes to
    handlers."""
    for provider in discover_providers():
        for spec in provider.routes:
            target = getattr(spec.handler, DEFERRED, None)
            if target is not None:
                importlib.import_module(target[0])
    for provider in discover_providers():
        for spec in provider.routes:
            assert inspect.iscoroutinefunction(spec.handler), (provider.name, spec.path)
