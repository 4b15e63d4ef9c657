"""Backends: the only code that touches the network or the model runtime.

Each kind lives in its own module exposing `create(settings: BackendSettings) -> Backend`; modules
are imported only when chosen, so a server on an HTTP backend never loads llama.cpp.
"""

from __future__ import annotations

import importlib

from ..config import BackendSettings
from ..prompts.chatml import ChatMessage
from .base import (
    Backend,
    BackendError,
    Chats,
    GenerationParams,
    KeepsPrompts,
    Progress,
    Usage,
)

MODULES = {
    "embedded": "embedded",
    "openai": "openai",
    "llamacpp": "llamacpp",
    "ollama": "ollama",
    "scripted": "scripted",
}


def create_backend(settings: BackendSettings) -> Backend:
    module = importlib.import_module(f"{__name__}.{MODULES[settings.kind]}")
    backend: Backend = module.create(settings)
    return backend


__all__ = [
    "Backend",
    "BackendError",
    "ChatMessage",
    "Chats",
    "GenerationParams",
    "KeepsPrompts",
    "Progress",
    "Usage",
    "create_backend",
]
