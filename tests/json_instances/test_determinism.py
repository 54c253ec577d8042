"""Determinism: the same value for the same schema and seed, in any process and whatever
the global random state; different values across seeds where the schema leaves room."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from json_instances.support import SEEDS
from mockllm.json_instances import generate

# -- determinism -----------------------------------------------------------------------------

FREE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "name": {"type": "string"},
        "score": {"type": "number", "minimum": 0, "maximum": 1},
        "count": {"type": "integer"},
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"sku": {"type": "string", "pattern": "^[A-Z]{2}-\\d{3}$"}},
            },
        },
        "choice": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
    },
    "required": ["id", "name"],
}


def test_same_seed_same_value() -> None:
    for seed in SEEDS:
        assert generate(FREE_SCHEMA, seed=seed) == generate(FREE_SCHEMA, seed=seed)


def test_different_seeds_differ() -> None:
    values = [json.dumps(generate(FREE_SCHEMA, seed=s), sort_keys=True) for s in range(20)]
    assert len(set(values)) == 20
    lengths = {len(generate({"type": "array"}, seed=s)) for s in range(20)}
    assert lengths == {1, 2, 3}
    bounded = {generate({"type": "integer", "minimum": 1, "maximum": 5}, seed=s) for s in range(30)}
    assert bounded == {1, 2, 3, 4, 5}


def test_string_seeds_are_stable_and_distinct() -> None:
    assert generate(FREE_SCHEMA, seed="run-1") == generate(FREE_SCHEMA, seed="run-1")
    assert generate(FREE_SCHEMA, seed="run-1") != generate(FREE_SCHEMA, seed="run-2")


def test_no_global_random_state() -> None:
    import random

    random.seed(1)
    first = generate(FREE_SCHEMA, seed=3)
    state = random.getstate()
    random.seed(2)
    assert generate(FREE_SCHEMA, seed=3) == first
    random.seed(1)
    generate(FREE_SCHEMA, seed=4)
    assert random.getstate() == state


def test_same_value_in_other_processes() -> None:
    code = (
        "import json, sys\n"
        "from mockllm.json_instances import generate\n"
        "schema = json.loads(sys.stdin.read())\n"
        "print(json.dumps([generate(schema, seed=s) for s in (0, 7, 'text-seed')]))\n"
    )
    here = json.loads(json.dumps([generate(FREE_SCHEMA, seed=s) for s in (0, 7, "text-seed")]))
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", code],
            input=json.dumps(FREE_SCHEMA),
            capture_output=True,
            text=True,
            env=env,
            check=True,
            timeout=60,
        )
        assert json.loads(done.stdout) == here
