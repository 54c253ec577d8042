"""Provider dialects. Each subpackage decodes its wire format into the neutral request and
encodes neutral completions back; each is registered through the ``mockllm.providers``
entry-point group, exactly like a third-party plugin.

A dialect's modules, each with one job (``src/mockllm/providers/<name>/``):

- ``protocol.py``: the wire request schemas (pydantic models);
- ``decode.py``: a validated wire request -> the neutral ``ChatRequest``
  (:mod:`mockllm.core.types`), with the request-side helpers (response format, tool
  choice, thinking...);
- ``encode.py``: a neutral ``Completion`` -> the wire answer: the whole JSON body and the
  stream frames (:data:`mockllm.core.events.Frame`), usage, finish reasons, the answer's
  ids;
- ``routes.py``: the HTTP handlers only: parse the body, decode, build the ``Turn`` for the
  serving path (:mod:`mockllm.serving`), or answer a non-generating endpoint (models,
  token counts, embeddings);
- ``errors.py``: the error envelope (HTTP and in a stream) and the dialect's wording;
- ``models.py``: the built-in model catalogue;
- ``__init__.py``: the ``Provider`` (routes, traits, capabilities) the entry point returns.

Any other module holds one clear job of its own and is named after it: a family of
endpoints grown beyond a few handlers (``embeddings.py``, ``listing.py``,
``management.py``), what every handler reads from a call (``gemini/calls.py``), a
loosely typed request field set (``ollama/params.py``), server state
(``ollama/runtime.py``), a wire codec (``ollama/context.py``). Decoding and encoding are
never mixed in one module.
"""
