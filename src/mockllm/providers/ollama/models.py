"""Ollama's built-in catalogue: typical local models, with the details ``/api/tags``,
``/api/show`` and ``/api/ps`` report (family, size, quantization, GGUF metadata...).

Names follow Ollama's ``model:tag`` form; ``llama3.2`` is an alias of ``llama3.2:latest``.
Token counts use ``o200k_base`` for every model: a stated approximation (each model has its
own vocabulary, which mockllm does not ship). Digests are derived from the name, not the
real blobs' hashes.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from ...core.models import ModelInfo

MODIFIED_AT = 1_767_225_600  # 2026-01-01T00:00:00Z: when every built-in model was "pulled"
DEFAULT_NUM_CTX = 4096  # Ollama's default context length when `options.num_ctx` is unset
DEFAULT_EMBEDDING_LENGTH = 768


@dataclass(frozen=True, slots=True)
class LocalModel:
    """What Ollama knows about a model file, beyond :class:`ModelInfo`."""

    id: str
    family: str
    parameter_size: str
    quantization: str
    size: int
    parameter_count: int
    context_length: int
    embedding_length: int
    capabilities: tuple[str, ...]  # Ollama's names: completion, tools, vision, thinking...
    template: str
    stops: tuple[str, ...] = ()
    families: tuple[str, ...] = ()
    block_count: int = 32
    aliases: tuple[str, ...] = ()

    @property
    def architecture(self) -> str:
        return self.family

    @property
    def digest(self) -> str:
        return hashlib.sha256(("mockllm-ollama:" + self.id).encode()).hexdigest()


LLAMA3 = (
    "<|start_header_id|>system<|end_header_id|>\n\n{{ .System }}<|eot_id|>"
    "{{ range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n"
    "{{ .Content }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n"
)
CHATML = (
    "{{- if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}"
    "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}"
    "<|im_start|>assistant\n"
)
MISTRAL = "{{- range .Messages }}[INST] {{ .Content }}[/INST]{{ end }}"
GEMMA = (
    '{{- range .Messages }}<start_of_turn>{{ if eq .Role "assistant" }}model'
    "{{ else }}user{{ end }}\n{{ .Content }}<end_of_turn>\n{{ end }}<start_of_turn>model\n"
)
PHI = (
    "{{- range .Messages }}<|im_start|>{{ .Role }}<|im_sep|>{{ .Content }}<|im_end|>"
    "{{ end }}<|im_start|>assistant<|im_sep|>"
)
HARMONY = (
    "<|start|>system<|message|>{{ .System }}<|end|>{{ range .Messages }}<|start|>{{ .Role }}"
    "<|message|>{{ .Content }}<|end|>{{ end }}<|start|>assistant"
)
LLAVA = "{{ .System }}\nUSER: {{ .Prompt }}\nASSISTANT: "
PROMPT_ONLY = "{{ .Prompt }}"

_LLAMA_STOPS = ("<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>")
_CHATML_STOPS = ("<|im_start|>", "<|im_end|>")


LOCAL_MODELS: tuple[LocalModel, ...] = (
    LocalModel(
        "llama3.2:latest", "llama", "3.2B", "Q4_K_M", 2_019_393_189, 3_212_749_888,
        131_072, 3072, ("completion", "tools"), LLAMA3, _LLAMA_STOPS, block_count=28,
        aliases=("llama3.2", "llama3.2:3b"),
    ),
    LocalModel(
        "llama3.1:8b", "llama", "8.0B", "Q4_K_M", 4_920_753_328, 8_030_261_248,
        131_072, 4096, ("completion", "tools"), LLAMA3, _LLAMA_STOPS,
        aliases=("llama3.1", "llama3.1:latest"),
    ),
    LocalModel(
        "qwen2.5:latest", "qwen2", "7.6B", "Q4_K_M", 4_683_087_332, 7_615_616_512,
        32_768, 3584, ("completion", "tools", "insert"), CHATML, _CHATML_STOPS,
        block_count=28, aliases=("qwen2.5", "qwen2.5:7b"),
    ),
    LocalModel(
        "qwen3:latest", "qwen3", "8.2B", "Q4_K_M", 5_225_388_164, 8_190_735_360,
        40_960, 4096, ("completion", "tools", "thinking"), CHATML, _CHATML_STOPS,
        block_count=36, aliases=("qwen3", "qwen3:8b"),
    ),
    LocalModel(
        "deepseek-r1:latest", "qwen3", "8.2B", "Q4_K_M", 5_225_376_047, 8_190_735_360,
        131_072, 4096, ("completion", "tools", "thinking"), CHATML, _CHATML_STOPS,
        block_count=36, aliases=("deepseek-r1", "deepseek-r1:8b"),
    ),
    LocalModel(
        "gpt-oss:20b", "gptoss", "20.9B", "MXFP4", 13_780_154_624, 20_914_757_184,
        131_072, 2880, ("completion", "tools", "thinking"), HARMONY, ("<|return|>",),
        block_count=24, aliases=("gpt-oss", "gpt-oss:latest"),
    ),
    LocalModel(
        "mistral:latest", "llama", "7.2B", "Q4_K_M", 4_372_824_384, 7_248_023_552,
        32_768, 4096, ("completion", "tools"), MISTRAL, ("[INST]", "[/INST]"),
        aliases=("mistral", "mistral:7b"),
    ),
    LocalModel(
        "gemma3:latest", "gemma3", "4.3B", "Q4_K_M", 3_338_801_804, 4_299_915_632,
        131_072, 2560, ("completion", "vision"), GEMMA, ("<end_of_turn>",),
        block_count=34, aliases=("gemma3", "gemma3:4b"),
    ),
    LocalModel(
        "phi4:latest", "phi3", "14.7B", "Q4_K_M", 9_053_116_391, 14_659_507_200,
        16_384, 5120, ("completion",), PHI, ("<|im_start|>", "<|im_end|>", "<|im_sep|>"),
        block_count=40, aliases=("phi4", "phi4:14b"),
    ),
    LocalModel(
        "llava:latest", "llama", "7B", "Q4_0", 4_733_363_377, 6_738_415_616,
        32_768, 4096, ("completion", "vision"), LLAVA, ("USER:", "ASSISTANT:"),
        families=("llama", "clip"), aliases=("llava", "llava:7b"),
    ),
    LocalModel(
        "nomic-embed-text:latest", "nomic-bert", "137M", "F16", 274_302_450, 136_727_040,
        2048, 768, ("embedding",), PROMPT_ONLY, block_count=12,
        aliases=("nomic-embed-text", "nomic-embed-text:v1.5"),
    ),
    LocalModel(
        "mxbai-embed-large:latest", "bert", "334M", "F16", 669_615_493, 334_090_240,
        512, 1024, ("embedding",), PROMPT_ONLY, block_count=24,
        aliases=("mxbai-embed-large", "mxbai-embed-large:335m"),
    ),
    LocalModel(
        "all-minilm:latest", "bert", "23M", "F16", 45_960_996, 22_565_376,
        512, 384, ("embedding",), PROMPT_ONLY, block_count=6,
        aliases=("all-minilm", "all-minilm:22m"),
    ),
)  # fmt: skip

BY_ID: dict[str, LocalModel] = {m.id: m for m in LOCAL_MODELS}

# Ollama's capability names <-> mockllm's neutral ones.
_NEUTRAL = {
    "completion": ("streaming", "json_schema"),
    "tools": ("tools",),
    "vision": ("vision",),
    "thinking": ("reasoning",),
    "embedding": ("embeddings",),
}


def _model_info(local: LocalModel) -> ModelInfo:
    caps = frozenset(c for name in local.capabilities for c in _NEUTRAL.get(name, ()))
    return ModelInfo(
        id=local.id,
        provider="ollama",
        display_name=local.id,
        aliases=local.aliases,
        context_window=local.context_length,
        max_output_tokens=local.context_length,
        capabilities=caps,
        tokenizer="o200k_base",
        created=MODIFIED_AT,
        owned_by="library",
    )


MODELS: tuple[ModelInfo, ...] = tuple(_model_info(m) for m in LOCAL_MODELS)

_PREFIXES = ("registry.ollama.ai/", "library/")


def canonical_name(name: str) -> str:
    """``name`` as Ollama normalizes it: lower-case, no ``registry.ollama.ai/library/``
    prefix, ``:latest`` when no tag is given."""
    short = name.strip().lower()
    for prefix in _PREFIXES:
        short = short.removeprefix(prefix)
    if ":" not in short.rsplit("/", 1)[-1]:
        short += ":latest"
    return short


def full_name(name: str) -> str:
    """``registry.ollama.ai/library/llama3.2:latest``: how Ollama names a model in errors."""
    short = canonical_name(name)
    return f"registry.ollama.ai/{short if '/' in short else 'library/' + short}"


def local_model(info: ModelInfo) -> LocalModel:
    """The details of a catalogue model, or plausible ones for a model added in the config
    (or accepted by name when ``strict_models`` is off)."""
    found = BY_ID.get(info.id)
    if found is not None:
        return found
    caps: list[str] = []
    if info.supports("streaming") or not info.supports("embeddings"):
        caps += ["completion", "insert"]
    for name, neutral in (("tools", "tools"), ("vision", "vision"), ("thinking", "reasoning")):
        if info.supports(neutral):
            caps.append(name)
    if info.supports("embeddings"):
        caps.append("embedding")
    match = re.match(r"[a-z]+", canonical_name(info.id).rsplit("/", 1)[-1])
    family = match.group(0) if match else "llama"
    return LocalModel(
        id=info.id,
        family=family,
        parameter_size="7B",
        quantization="Q4_K_M",
        size=4_000_000_000,
        parameter_count=7_000_000_000,
        context_length=info.context_window,
        embedding_length=DEFAULT_EMBEDDING_LENGTH,
        capabilities=tuple(caps),
        template=PROMPT_ONLY if caps == ["embedding"] else LLAMA3,
    )
