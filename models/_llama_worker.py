"""The worker-thread side of the llama.cpp backend: one generation at a time.

:class:`Generator` owns the loaded model and runs :class:`Job` objects on the backend's
single worker thread; the only thing it shares with the event loop is each job's
``emit`` (which goes through ``loop.call_soon_threadsafe``) and its cancel flag.
Importing this module does not import llama-cpp-python.
"""

from __future__ import annotations

import codecs
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from guardcode.models.base import BackendError, CompletionRequest
from guardcode.models.stops import StopMatcher

if TYPE_CHECKING:
    from guardcode.models._llama_native import AbortSwitch, CountingLlama, Vocab

#: ("text", str) | ("error", BackendError) | ("end", None)
Item = tuple[str, Any]


@dataclass
class GenerationStats:
    """What one request cost. Published when its job ends; treat as read-only."""

    #: tokens in the prompt as tokenized
    prompt_tokens: int = 0
    #: prompt tokens actually run through the model (the rest came from the KV cache)
    prompt_tokens_evaluated: int = 0
    #: prompt tokens kept from the previous request's state
    reused_tokens: int = 0
    completion_tokens: int = 0
    #: "eos", "stop", "max_tokens", "cancelled", "error"
    stop_reason: str = ""
    #: a llama_decode call was interrupted by the abort callback
    aborted: bool = False
    prompt_eval_s: float = 0.0
    total_s: float = 0.0


@dataclass(eq=False)
class Job:
    """One request on its way through the worker thread."""

    request: CompletionRequest
    #: the request's stops and the profile's, deduplicated
    stops: tuple[str, ...]
    emit: Callable[[Item], None]
    switch: AbortSwitch
    cancelled: threading.Event = field(default_factory=threading.Event)

    def cancel(self) -> None:
        """Stop this job: between tokens, and inside a running decode. Any thread."""
        self.cancelled.set()
        self.switch.trip(self)


class Generator:
    """Runs jobs against one loaded model. Every method runs on the worker thread."""

    def __init__(self, llm: CountingLlama, vocab: Vocab, switch: AbortSwitch) -> None:
        self.llm, self.vocab, self.switch = llm, vocab, switch
        #: the last finished job's counters
        self.stats = GenerationStats()
        #: how many jobs have begun evaluating their prompt (a progress signal for tests)
        self.prompt_evals_started = 0
        self.active: Job | None = None
        self._current = self.stats
        self._prompt_phase = False
        self._prompt_t0 = 0.0
        llm.before_eval, llm.after_eval = self._before_eval, self._after_eval

    def run(self, job: Job) -> None:
        """Generate for ``job``, emitting text, then an error or nothing, then "end"."""
        llm, stats = self.llm, GenerationStats()
        self._current, self.active = stats, job
        started = time.perf_counter()
        self.switch.arm(job)
        tokens_gen = None
        try:
            if job.cancelled.is_set():
                stats.stop_reason = "cancelled"
                return
            request = job.request
            tokens = llm.tokenize(request.prompt.encode("utf-8"), add_bos=True, special=True)
            if not tokens and llm.token_bos() >= 0:
                tokens = [llm.token_bos()]
            stats.prompt_tokens = len(tokens)
            room = llm.n_ctx() - len(tokens)
            if room <= 0:
                raise BackendError(
                    f"the prompt is {len(tokens)} tokens but the model context holds "
                    f"{llm.n_ctx()}; lower the context budget or raise n_ctx"
                )
            budget = min(request.max_tokens, room)
            stats.stop_reason = "max_tokens"
            if budget <= 0 or not tokens:
                return
            matcher = StopMatcher(job.stops)
            decoder = codecs.getincrementaldecoder("utf-8")("replace")
            self._prompt_phase = True
            # generate() keeps the longest common prefix of the previous tokens in the KV
            # cache and evaluates only the rest (see CountingLlama).
            tokens_gen = llm.generate(
                tokens, temp=max(request.temperature, 0.0), top_k=40, top_p=0.95, min_p=0.05
            )
            for token in tokens_gen:
                if job.cancelled.is_set():
                    stats.stop_reason = "cancelled"
                    break
                if self.vocab.ends_generation(token):
                    stats.stop_reason = "eos"
                    break
                stats.completion_tokens += 1
                # The incremental decoder holds back the bytes of a character split over
                # several tokens until it is complete.
                text = matcher.feed(decoder.decode(self.vocab.piece(token)))
                if text:
                    job.emit(("text", text))
                if matcher.stopped:
                    stats.stop_reason = "stop"
                    break
                if stats.completion_tokens >= budget:
                    break
            if stats.stop_reason != "cancelled":
                # Bytes of a character cut off by the end are dropped, not shown as U+FFFD.
                tail = matcher.flush()
                if tail:
                    job.emit(("text", tail))
        except BackendError as exc:
            stats.stop_reason = "error"
            job.emit(("error", exc))
        except Exception as exc:
            # llama-cpp-python raises RuntimeError("llama_decode returned 2") on abort.
            if str(exc).endswith("returned 2") and job.cancelled.is_set():
                stats.stop_reason, stats.aborted = "cancelled", True
            else:
                # Never the exception's text: tokenizer errors quote the prompt.
                stats.stop_reason = "error"
                job.emit(("error", BackendError(f"llama.cpp failed ({type(exc).__name__})")))
        finally:
            if tokens_gen is not None:
                tokens_gen.close()
            self._prompt_phase = False
            self.switch.disarm(job)
            self.active = None
            stats.total_s = time.perf_counter() - started
            self.stats = stats
            job.emit(("end", None))

    def close(self) -> None:
        """Free the model and its context."""
        self.llm.close()

    def _before_eval(self, start: int, count: int) -> None:
        # The first eval of a job is its prompt; `start` is what generate() kept.
        if self._prompt_phase:
            self.prompt_evals_started += 1
            self._prompt_t0 = time.perf_counter()
            self._current.reused_tokens = start

    def _after_eval(self, start: int, end: int) -> None:
        if self._prompt_phase:
            self._prompt_phase = False
            self._current.prompt_tokens_evaluated = end - start
            self._current.prompt_eval_s = time.perf_counter() - self._prompt_t0
