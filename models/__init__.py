"""Model backends and model profiles.

A backend turns a rendered prompt into an async stream of completion text, cancellably
and within a timeout (:class:`Backend`); :func:`create_backend` builds one by name.
A profile says how a model family wants its fill-in-the-middle prompt, which strings
end a completion and how much context it holds (:func:`profile_for`).

This package imports nothing of the server or the guardrails: a backend can be tested
without either.
"""

from guardcode.models.base import (
    Backend,
    BackendError,
    BackendTimeout,
    BackendUnavailable,
    CompletionRequest,
    ModelOptions,
)
from guardcode.models.embedded import default_model_path
from guardcode.models.llamacpp import GenerationStats, LlamaCppBackend
from guardcode.models.profiles import (
    CODELLAMA,
    CODESTRAL,
    DEEPSEEK_CODER,
    PLAIN,
    PROFILES,
    QWEN_CODER,
    STARCODER2,
    ModelProfile,
    profile_for,
)
from guardcode.models.registry import available_backends, create_backend
from guardcode.models.replay import ReplayBackend
from guardcode.models.stops import StopMatcher

__all__ = [
    "CODELLAMA",
    "CODESTRAL",
    "DEEPSEEK_CODER",
    "PLAIN",
    "PROFILES",
    "QWEN_CODER",
    "STARCODER2",
    "Backend",
    "BackendError",
    "BackendTimeout",
    "BackendUnavailable",
    "CompletionRequest",
    "GenerationStats",
    "LlamaCppBackend",
    "ModelOptions",
    "ModelProfile",
    "ReplayBackend",
    "StopMatcher",
    "available_backends",
    "create_backend",
    "default_model_path",
    "profile_for",
]
