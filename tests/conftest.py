"""Shared fixtures: a scripted model backend that answers with set text."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator
from dataclasses import dataclass

import pytest

from guardcode.models.base import BackendError, CompletionRequest
from guardcode.models.profiles import PLAIN, ModelProfile

# Synthetic PHI used across tests: an invented person, a never-issued 9xx SSN.
SSN = "912-34-5678"
NAME = "Jane Placeholder"
DOB = "1961-03-14"


@dataclass
class _Reply:
    text: str = ""
    delay_s: float = 0.0
    error: BackendError | None = None


class ScriptedBackend:
    """A model stand-in: answers queued replies in order and records every request."""

    name = "scripted"

    def __init__(self, profile: ModelProfile = PLAIN) -> None:
        self._profile = profile
        self._replies: deque[_Reply] = deque()
        self.requests: list[CompletionRequest] = []
        self.closed_streams = 0

    @property
    def model_name(self) -> str:
        return "scripted-model"

    @property
    def profile(self) -> ModelProfile:
        return self._profile

    def enqueue(
        self, text: str = "", delay_s: float = 0.0, error: BackendError | None = None
    ) -> None:
        self._replies.append(_Reply(text=text, delay_s=delay_s, error=error))

    async def start(self) -> None:
        return None

    async def stream(self, request: CompletionRequest) -> AsyncGenerator[str, None]:
        self.requests.append(request)
        reply = self._replies.popleft() if self._replies else _Reply()
        try:
            if reply.delay_s:
                await asyncio.sleep(reply.delay_s)
            if reply.error is not None:
                raise reply.error
            for start in range(0, len(reply.text), 4):
                yield reply.text[start : start + 4]
        finally:
            self.closed_streams += 1

    async def aclose(self) -> None:
        return None


@pytest.fixture
def scripted() -> ScriptedBackend:
    return ScriptedBackend()
