"""mockllm: a mock LLM server that the official SDKs cannot tell from the real thing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "1.0.0.dev0"

__all__ = ["__version__", "create_app", "Settings"]

if TYPE_CHECKING:
    from .app import create_app
    from .settings import Settings


def __getattr__(name: str) -> Any:
    # Lazy, so that `mockllm --version` and `import mockllm` stay cheap.
    if name == "create_app":
        from .app import create_app

        return create_app
    if name == "Settings":
        from .settings import Settings

        return Settings
    raise AttributeError(name)
