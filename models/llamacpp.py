"""The llama.cpp backend: a GGUF model run in-process with llama-cpp-python.

One dedicated worker thread owns the model (a ``Llama`` is not thread-safe) and runs
one generation at a time; the event loop only waits on a queue. Tokens are evaluated
with the library's ``Llama.generate``, which keeps the longest common token prefix of
the previous request in the KV cache, so a prompt that extends the last one only
evaluates its new tokens. Cancellation reaches prompt processing through llama.cpp's
abort callback (see :class:`~guardcode.models._llama_native.AbortSwitch`).
"""

from __future__ import annotations

import asyncio
import codecs
import concurrent.futures
import contextlib
import importlib
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from guardcode.models.base import (
    BackendError,
    BackendTimeout,
    BackendUnavailable,
    CompletionRequest,
    ModelOptions,
)
from guardcode.models.embedded import DEFAULT_MODEL_FILE, default_model_path
from guardcode.models.profiles import FIM_PRE_TEXT_KEY, PLAIN, ModelProfile, profile_for
from guardcode.models.stops import StopMatcher

if TYPE_CHECKING:
    from guardcode.models._llama_native import AbortSwitch, CountingLlama, Vocab

_INSTALL_HINT = "pip install llama-cpp-python==0.3.36"


@dataclass
class GenerationStats:
    """What the last request cost. Published when its job ends; treat as read-only."""

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


_Item = tuple[str, Any]  # ("text", str) | ("error", BackendError) | ("end", None)


@dataclass(eq=False)
class _Job:
    request: CompletionRequest
    stops: tuple[str, ...]
    emit: Callable[[_Item], None]
    switch: AbortSwitch
    cancelled: threading.Event = field(default_factory=threading.Event)

    def cancel(self) -> None:
        self.cancelled.set()
        self.switch.trip(self)


class LlamaCppBackend:
    """llama.cpp in-process. ``options.name`` is a GGUF path; empty: the embedded model."""

    name = "llamacpp"
    #: use the GIL-free abort check (see AbortSwitch); False forces the Python callback
    native_abort: bool = True

    def __init__(self, options: ModelOptions) -> None:
        self._options = options
        self._path: Path | None = Path(options.name).expanduser() if options.name else None
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="guardcode-llama"
        )
        self._llm: CountingLlama | None = None
        self._vocab: Vocab | None = None
        self._switch: AbortSwitch | None = None
        self._profile = PLAIN
        self._start_task: asyncio.Future[None] | None = None
        self._last_future: concurrent.futures.Future[None] | None = None
        self._active: _Job | None = None
        self._closed = False
        # written by the worker thread only
        self._stats = GenerationStats()
        self._stats_in_progress = self._stats
        self._prompt_phase = False
        self._prompt_t0 = 0.0
        self._prompt_evals_started = 0

    @property
    def model_name(self) -> str:
        """The GGUF file name (never the directory: paths can name people)."""
        return self._path.name if self._path is not None else DEFAULT_MODEL_FILE

    @property
    def profile(self) -> ModelProfile:
        """Chosen from the GGUF metadata once loaded; ``context_size`` is the real n_ctx."""
        return self._profile

    @property
    def last_stats(self) -> GenerationStats:
        """Counters of the most recently finished request."""
        return self._stats

    @property
    def prompt_evals_started(self) -> int:
        """How many requests have begun evaluating their prompt (a progress signal)."""
        return self._prompt_evals_started

    @property
    def busy(self) -> bool:
        """Whether the worker thread has a generation running or queued."""
        return self._last_future is not None and not self._last_future.done()

    async def wait_idle(self) -> None:
        """Wait until every submitted generation has finished on the worker thread."""
        if self._last_future is not None:
            await asyncio.wrap_future(self._last_future)

    async def start(self) -> None:
        """Load the model on the worker thread; :class:`BackendUnavailable` if it can't."""
        if self._closed:
            raise BackendUnavailable("the llama.cpp backend has been closed")
        if self._llm is not None:
            return
        if self._start_task is None:
            self._start_task = asyncio.ensure_future(self._load())
        try:
            await asyncio.shield(self._start_task)
        except BackendError:
            self._start_task = None  # let a later start() try again
            raise

    async def _load(self) -> None:
        path = self._path if self._path is not None else default_model_path()
        if not path.is_file():
            raise BackendUnavailable(f"GGUF model file not found: {path}")
        try:
            with path.open("rb") as handle:
                magic = handle.read(4)
        except OSError as exc:
            raise BackendUnavailable(f"cannot read GGUF model {path}: {exc.strerror}") from None
        if magic != b"GGUF":
            raise BackendUnavailable(f"not a GGUF model file: {path}")
        try:
            native = importlib.import_module("guardcode.models._llama_native")
        except ImportError:
            raise BackendUnavailable(
                f"llama-cpp-python is not installed; install it with: {_INSTALL_HINT}"
            ) from None
        loop = asyncio.get_running_loop()
        try:
            llm = await loop.run_in_executor(self._executor, native.load, path, self._options)
        except Exception as exc:
            raise BackendUnavailable(f"cannot load GGUF model {path}: {exc}") from None
        vocab = native.Vocab(llm)
        switch = native.AbortSwitch()
        switch.install(llm.ctx, native=self.native_abort)
        metadata = {**llm.metadata, FIM_PRE_TEXT_KEY: vocab.fim_pre_text()}
        llm.before_eval = self._before_eval
        llm.after_eval = self._after_eval
        self._profile = replace(profile_for(path.name, metadata), context_size=llm.n_ctx())
        self._llm, self._vocab, self._switch = llm, vocab, switch

    def stream(self, request: CompletionRequest) -> AsyncIterator[str]:
        """Yield completion text as it is generated; see :class:`Backend`."""
        return self._stream(request)

    async def _stream(self, request: CompletionRequest) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + request.timeout_s
        if self._llm is None:
            try:
                await asyncio.wait_for(self.start(), max(deadline - loop.time(), 0.0))
            except TimeoutError:
                raise BackendTimeout(
                    f"llama.cpp did not load the model within {request.timeout_s:g}s"
                ) from None
        assert self._switch is not None
        queue: asyncio.Queue[_Item] = asyncio.Queue()

        def emit(item: _Item) -> None:
            # RuntimeError: the loop is closed, so nobody is listening any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(queue.put_nowait, item)

        stops = tuple(dict.fromkeys((*request.stop, *self._profile.stop)))
        job = _Job(request=request, stops=stops, emit=emit, switch=self._switch)
        self._last_future = self._executor.submit(self._run, job)
        try:
            while True:
                remaining = deadline - loop.time()
                try:
                    if remaining <= 0:
                        raise TimeoutError
                    kind, payload = await asyncio.wait_for(queue.get(), remaining)
                except TimeoutError:
                    raise BackendTimeout(
                        f"llama.cpp did not finish within {request.timeout_s:g}s"
                    ) from None
                if kind == "text":
                    yield payload
                elif kind == "error":
                    raise payload
                else:
                    return
        finally:
            # Consumer gone (aclose, cancellation, timeout, error) or done: stop the
            # worker between tokens and, through the abort callback, inside a decode.
            job.cancel()

    def _run(self, job: _Job) -> None:
        """The worker-thread side of one request."""
        llm, vocab, switch = self._llm, self._vocab, job.switch
        stats = GenerationStats()
        self._stats_in_progress = stats
        self._active = job
        started = time.perf_counter()
        switch.arm(job)
        tokens_gen = None
        try:
            if llm is None or vocab is None:
                raise BackendUnavailable("the llama.cpp model is not loaded")
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
            tokens_gen = llm.generate(
                tokens, temp=max(request.temperature, 0.0), top_k=40, top_p=0.95, min_p=0.05
            )
            for token in tokens_gen:
                if job.cancelled.is_set():
                    stats.stop_reason = "cancelled"
                    break
                if vocab.ends_generation(token):
                    stats.stop_reason = "eos"
                    break
                stats.completion_tokens += 1
                # The incremental decoder holds the bytes of a character split over
                # tokens until it is complete.
                text = matcher.feed(decoder.decode(vocab.piece(token)))
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
                # Never the exception text: tokenizer errors quote the prompt.
                stats.stop_reason = "error"
                job.emit(("error", BackendError(f"llama.cpp failed ({type(exc).__name__})")))
        finally:
            if tokens_gen is not None:
                tokens_gen.close()
            self._prompt_phase = False
            switch.disarm(job)
            self._active = None
            stats.total_s = time.perf_counter() - started
            self._stats = stats
            job.emit(("end", None))

    def _before_eval(self, start: int, count: int) -> None:
        if self._prompt_phase:
            self._prompt_evals_started += 1
            self._prompt_t0 = time.perf_counter()
            self._stats_in_progress.reused_tokens = start

    def _after_eval(self, start: int, end: int) -> None:
        if self._prompt_phase:
            self._prompt_phase = False
            stats = self._stats_in_progress
            stats.prompt_tokens_evaluated = end - start
            stats.prompt_eval_s = time.perf_counter() - self._prompt_t0

    async def aclose(self) -> None:
        """Stop any generation, free the model on its thread, and end the thread."""
        if self._closed:
            return
        self._closed = True
        if self._active is not None:
            self._active.cancel()
        if self._start_task is not None:
            with contextlib.suppress(BackendError):
                await asyncio.shield(self._start_task)
        loop = asyncio.get_running_loop()
        if self._llm is not None:
            await loop.run_in_executor(self._executor, self._free)
        self._executor.shutdown(wait=False)

    def _free(self) -> None:
        llm, self._llm, self._vocab = self._llm, None, None
        if llm is not None:
            llm.close()
