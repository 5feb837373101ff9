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
import concurrent.futures
import contextlib
import importlib
from collections.abc import AsyncGenerator
from dataclasses import replace
from pathlib import Path

from guardcode.models._llama_worker import GenerationStats, Generator, Item, Job
from guardcode.models.base import (
    BackendError,
    BackendTimeout,
    BackendUnavailable,
    CompletionRequest,
    ModelOptions,
)
from guardcode.models.embedded import DEFAULT_MODEL_FILE, default_model_path
from guardcode.models.profiles import FIM_PRE_TEXT_KEY, PLAIN, ModelProfile, profile_for

__all__ = ["GenerationStats", "LlamaCppBackend"]

_INSTALL_HINT = "pip install llama-cpp-python==0.3.36"


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
        self._gen: Generator | None = None
        self._profile = PLAIN
        self._start_task: asyncio.Future[None] | None = None
        self._last_future: concurrent.futures.Future[None] | None = None
        self._jobs: set[Job] = set()  # running or queued, for aclose() to cancel
        self._closed = False

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
        return self._gen.stats if self._gen is not None else GenerationStats()

    @property
    def prompt_evals_started(self) -> int:
        """How many requests have begun evaluating their prompt (a progress signal)."""
        return self._gen.prompt_evals_started if self._gen is not None else 0

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
        if self._gen is not None:
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
        self._profile = replace(profile_for(path.name, metadata), context_size=llm.n_ctx())
        self._gen = Generator(llm, vocab, switch)

    def stream(self, request: CompletionRequest) -> AsyncGenerator[str, None]:
        """Yield completion text as it is generated; see :class:`Backend`."""
        return self._stream(request)

    async def _stream(self, request: CompletionRequest) -> AsyncGenerator[str, None]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + request.timeout_s
        if self._gen is None:
            try:
                await asyncio.wait_for(self.start(), max(deadline - loop.time(), 0.0))
            except TimeoutError:
                raise BackendTimeout(
                    f"llama.cpp did not load the model within {request.timeout_s:g}s"
                ) from None
        gen = self._gen
        assert gen is not None
        queue: asyncio.Queue[Item] = asyncio.Queue()

        def emit(item: Item) -> None:
            # RuntimeError: the loop is closed, so nobody is listening any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(queue.put_nowait, item)

        stops = tuple(dict.fromkeys((*request.stop, *self._profile.stop)))
        job = Job(request=request, stops=stops, emit=emit, switch=gen.switch)
        self._last_future = self._executor.submit(gen.run, job)
        self._jobs.add(job)
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
            self._jobs.discard(job)

    async def aclose(self) -> None:
        """Stop any generation, free the model on its thread, and end the thread."""
        if self._closed:
            return
        self._closed = True
        for job in list(self._jobs):
            job.cancel()
        if self._start_task is not None:
            with contextlib.suppress(BackendError):
                await asyncio.shield(self._start_task)
        gen, self._gen = self._gen, None
        if gen is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, gen.close)
        self._executor.shutdown(wait=False)
