"""The replay backend: recorded answers, in order, cancellable, with a prompt log."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from guardcode.models.base import (
    Backend,
    BackendError,
    BackendTimeout,
    BackendUnavailable,
    CompletionRequest,
    ModelOptions,
)
from guardcode.models.replay import CHARS_PER_TOKEN, ReplayBackend


def replay_file(tmp_path: Path, *records: dict[str, Any] | str) -> Path:
    path = tmp_path / "answers.jsonl"
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def started(path: Path, **options: Any) -> ReplayBackend:
    backend = ReplayBackend(ModelOptions(backend="replay", replay_file=path, **options))
    await backend.start()
    return backend


async def answer(backend: ReplayBackend, prompt: str = "p", **request: Any) -> str:
    return "".join([chunk async for chunk in backend.stream(CompletionRequest(prompt, **request))])


async def test_answers_in_order_and_cycles(tmp_path: Path) -> None:
    backend = await started(replay_file(tmp_path, {"text": "first"}, {"text": "second"}))
    assert [await answer(backend) for _ in range(5)] == [
        "first",
        "second",
        "first",
        "second",
        "first",
    ]


async def test_streams_in_small_chunks(tmp_path: Path) -> None:
    text = "def add(a, b):\n    return a + b\n"
    backend = await started(replay_file(tmp_path, {"text": text}))
    chunks = [chunk async for chunk in backend.stream(CompletionRequest("p"))]
    assert len(chunks) > 3
    assert "".join(chunks) == text


async def test_request_stop_is_honoured_across_chunks(tmp_path: Path) -> None:
    backend = await started(replay_file(tmp_path, {"text": "abcdEFGHij"}))
    # the stop "dEF" straddles the first two 4-character chunks
    assert await answer(backend, stop=("dEF",)) == "abc"


async def test_profile_stops_apply(tmp_path: Path) -> None:
    path = replay_file(tmp_path, {"text": "return 1<|endoftext|>junk"})
    backend = await started(path, name="qwen2.5-coder-1.5b")
    assert backend.profile.family == "qwen2.5-coder"
    assert await answer(backend) == "return 1"


async def test_max_tokens_counts_four_characters_a_token(tmp_path: Path) -> None:
    backend = await started(replay_file(tmp_path, {"text": "x" * 100}))
    assert await answer(backend, max_tokens=5) == "x" * (5 * CHARS_PER_TOKEN)
    assert await answer(backend, max_tokens=0) == ""


async def test_delay_is_cancellable(tmp_path: Path) -> None:
    backend = await started(replay_file(tmp_path, {"text": "slow", "delay_s": 60}, {"text": "b"}))
    stream = backend.stream(CompletionRequest("p", timeout_s=120))
    task = asyncio.create_task(anext(stream))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await answer(backend) == "b"


async def test_delay_past_timeout_raises_backend_timeout(tmp_path: Path) -> None:
    backend = await started(replay_file(tmp_path, {"text": "slow", "delay_s": 60}))
    with pytest.raises(BackendTimeout):
        await answer(backend, timeout_s=0.01)


async def test_short_delay_then_text(tmp_path: Path) -> None:
    backend = await started(replay_file(tmp_path, {"text": "ok", "delay_s": 0.01}))
    assert await answer(backend) == "ok"


async def test_missing_file_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(BackendUnavailable, match=r"nope\.jsonl"):
        await started(missing)


@pytest.mark.parametrize(
    "bad",
    [
        "{not json: 123-45-6789}",
        '["123-45-6789"]',
        '{"txt": "123-45-6789"}',
        '{"text": "123-45-6789", "delay_s": "soon"}',
        '{"text": "123-45-6789", "delay_s": -1}',
    ],
)
async def test_malformed_line_names_file_and_line_never_content(tmp_path: Path, bad: str) -> None:
    path = replay_file(tmp_path, {"text": "fine"}, "", bad)
    with pytest.raises(BackendError) as caught:
        await started(path)
    message = str(caught.value)
    assert "answers.jsonl" in message and "line 3" in message
    assert "123-45-6789" not in message


async def test_empty_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("\n\n", encoding="utf-8")
    with pytest.raises(BackendError, match="no entries"):
        await started(path)


async def test_prompt_log_records_every_request(tmp_path: Path) -> None:
    log = tmp_path / "prompts.jsonl"
    backend = await started(replay_file(tmp_path, {"text": "x"}), replay_prompt_log=log)
    await answer(backend, "def f(", stop=("\n\n",), max_tokens=7)
    await answer(backend, 'print("ünï")')
    records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert records == [
        {"prompt": "def f(", "stop": ["\n\n"], "max_tokens": 7},
        {"prompt": 'print("ünï")', "stop": [], "max_tokens": 96},
    ]


async def test_names_and_profile(tmp_path: Path) -> None:
    backend = await started(replay_file(tmp_path, {"text": "x"}))
    assert isinstance(backend, Backend)
    assert backend.name == "replay"
    assert backend.model_name == "replay:answers.jsonl"
    assert backend.profile.family == "plain"
    await backend.aclose()


async def test_stream_without_start_loads_lazily(tmp_path: Path) -> None:
    backend = ReplayBackend(ModelOptions(replay_file=replay_file(tmp_path, {"text": "lazy"})))
    assert await answer(backend) == "lazy"


async def test_no_replay_file_configured() -> None:
    with pytest.raises(BackendUnavailable, match="replay_file"):
        await ReplayBackend(ModelOptions(backend="replay")).start()
