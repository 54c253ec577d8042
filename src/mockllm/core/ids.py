"""Identifiers: fresh ids for requests, completions, tool calls and items."""

from __future__ import annotations

from random import getrandbits


def new_id(prefix: str, nbytes: int = 12) -> str:
    """A fresh identifier such as ``req_4f1c...``: ``prefix`` then ``nbytes`` random bytes
    in hex. Unique in practice, not secret (no syscall: a process-wide PRNG)."""
    if nbytes > 0:  # the same text as f"{bits:0{nbytes * 2}x}", about 3 times faster
        return prefix + getrandbits(nbytes * 8).to_bytes(nbytes, "big").hex()
    return f"{prefix}{getrandbits(nbytes * 8):0{nbytes * 2}x}"
