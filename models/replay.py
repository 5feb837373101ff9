"""The replay backend: answers from a file of recorded completions, for tests and demos.

``options.replay_file`` holds JSON lines, one answer each::

    {"text": "return a + b\\n"}
    {"text": "pass", "delay_s": 0.5}

Answers are served in file order, one per request, starting over after the last.
``delay_s`` waits that long (cancellably, and counted against the request's timeout)
before the text streams, so tests can exercise cancellation and timeouts.

With ``options.replay_prompt_log`` set, every request appends one JSON line
``{"prompt": ..., "stop": [...], "max_tokens": n}`` there: end-to-end tests read it to
prove exactly what the model was sent.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from pathlib import Path

from guardcode.models.base import (
    BackendError,
    BackendTimeout,
    BackendUnavailable,
    CompletionRequest,
    ModelOptions,
)
from guardcode.models.profiles import ModelProfile, profile_for
from guardcode.models.stops import StopMatcher

#: characters released per chunk: small, so consumers see a real stream
CHUNK_CHARS = 4
#: ``max_tokens`` is honoured approximately, taking one token to be this many characters
CHARS_PER_TOKEN = 4


@dataclass(frozen=True)
class ReplayEntry:
    """One recorded answer."""

    text: str
    delay_s: float = 0.0


def load_replay_file(path: Path) -> list[ReplayEntry]:
    """Parse a replay file; errors name the file and line number, never the line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise BackendUnavailable(f"replay file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BackendUnavailable(f"cannot read replay file {path}: {type(exc).__name__}") from None
    entries: list[ReplayEntry] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            raise BackendError(f"{path}, line {number}: not valid JSON") from None
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise BackendError(f'{path}, line {number}: expected an object with a "text" string')
        delay = record.get("delay_s", 0.0)
        if isinstance(delay, bool) or not isinstance(delay, int | float) or delay < 0:
            raise BackendError(f'{path}, line {number}: "delay_s" must be a number >= 0')
        entries.append(ReplayEntry(text=record["text"], delay_s=float(delay)))
    if not entries:
        raise BackendError(f"replay file {path} has no entries")
    return entries


class ReplayBackend:
    """Serves recorded completions from ``options.replay_file`` (see module docs)."""

    name = "replay"

    def __init__(self, options: ModelOptions) -> None:
        self._options = options
        self._file = Path(options.replay_file) if options.replay_file is not None else None
        self._log = Path(options.replay_prompt_log) if options.replay_prompt_log else None
        self._profile = profile_for(options.name)
        self._entries: list[ReplayEntry] | None = None
        self._next = 0

    @property
    def model_name(self) -> str:
        """``replay:<file name>``."""
        return f"replay:{self._file.name if self._file is not None else ''}"

    @property
    def profile(self) -> ModelProfile:
        """The profile ``options.name`` selects; PLAIN when it is empty."""
        return self._profile

    async def start(self) -> None:
        """Read and check the replay file."""
        if self._file is None:
            raise BackendUnavailable("the replay backend needs a replay_file")
        self._entries = load_replay_file(self._file)

    def stream(self, request: CompletionRequest) -> AsyncGenerator[str, None]:
        """Stream the next recorded answer, cut at a stop sequence or ``max_tokens``."""
        return self._stream(request)

    async def _stream(self, request: CompletionRequest) -> AsyncGenerator[str, None]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + request.timeout_s
        if self._entries is None:
            await self.start()
        assert self._entries is not None
        entry = self._entries[self._next % len(self._entries)]
        self._next += 1
        self._log_prompt(request)
        if entry.delay_s > 0:
            remaining = deadline - loop.time()
            await asyncio.sleep(min(entry.delay_s, max(remaining, 0.0)))
            if entry.delay_s >= remaining:
                raise BackendTimeout(f"replay answer not ready within {request.timeout_s:g}s")
        matcher = StopMatcher((*request.stop, *self._profile.stop))
        text = entry.text[: max(request.max_tokens, 0) * CHARS_PER_TOKEN]
        for at in range(0, len(text), CHUNK_CHARS):
            out = matcher.feed(text[at : at + CHUNK_CHARS])
            if out:
                yield out
            if matcher.stopped:
                return
            await asyncio.sleep(0)  # yield control, as a real model stream would
        tail = matcher.flush()
        if tail:
            yield tail

    def _log_prompt(self, request: CompletionRequest) -> None:
        if self._log is None:
            return
        record = {
            "prompt": request.prompt,
            "stop": list(request.stop),
            "max_tokens": request.max_tokens,
        }
        try:
            with self._log.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        except OSError as exc:
            raise BackendError(
                f"cannot write replay prompt log {self._log}: {exc.strerror}"
            ) from None

    async def aclose(self) -> None:
        """Nothing to release."""
