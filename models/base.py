"""The one interface every model backend implements.

A backend turns a fully rendered prompt into an async stream of text. The caller
owns prompt construction (see :mod:`guardcode.models.profiles`), redaction and
checking; a backend never sees anything but the prompt it is handed.

Cancellation is cooperative and prompt: closing the stream (``aclose()``), or
cancelling the task that iterates it, must stop generation at the backend too —
between tokens and, where the backend allows it, during prompt processing.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from guardcode.models.profiles import ModelProfile


class BackendError(Exception):
    """A backend failed in a way the user can act on; the message says how.

    Messages never include prompt text: they are shown to users and logged.
    """


class BackendUnavailable(BackendError):
    """The backend cannot be reached or loaded (server down, file missing)."""


class BackendTimeout(BackendError):
    """The backend did not answer within the request's timeout."""


@dataclass(frozen=True)
class ModelOptions:
    """What a backend is built from: the ``[model]`` section of the configuration."""

    backend: str = "llamacpp"
    #: a GGUF path (llamacpp), a model name (servers); empty: the embedded default
    name: str = ""
    base_url: str = ""
    replay_file: Path | None = None
    #: replay only: append each prompt received here, one JSON line each
    replay_prompt_log: Path | None = None
    n_threads: int = 2
    n_ctx: int = 2048
    n_gpu_layers: int = 0
    seed: int = 0


@dataclass(frozen=True)
class CompletionRequest:
    """One generation: the prompt as the model will read it, and its limits."""

    prompt: str
    max_tokens: int = 96
    stop: tuple[str, ...] = ()
    temperature: float = 0.0
    #: whole-request deadline in seconds, first token included
    timeout_s: float = 30.0
    #: requests sharing a key (a document URI) may reuse cached model state
    cache_key: str = ""
    extra: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class Backend(Protocol):
    """A model backend. Construct with ``Backend(options)``; load lazily or in ``start``."""

    #: the registry name, e.g. ``"llamacpp"``
    name: str

    @property
    def model_name(self) -> str:
        """The model as it should appear in the audit trail (file name, not path)."""
        ...

    @property
    def profile(self) -> ModelProfile:
        """FIM template, stop tokens and context size of the loaded model."""
        ...

    async def start(self) -> None:
        """Load the model or check the server; raise :class:`BackendUnavailable`."""
        ...

    def stream(self, request: CompletionRequest) -> AsyncGenerator[str, None]:
        """Yield completion text as it is generated, honouring ``request.stop``.

        Raises :class:`BackendTimeout` past ``request.timeout_s`` and
        :class:`BackendError` for everything else that goes wrong.
        """
        ...

    async def aclose(self) -> None:
        """Release the model or connection."""
        ...
