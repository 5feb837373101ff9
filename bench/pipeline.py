"""Where a completion's time goes, against the same request sent straight to llama.cpp.

    .venv/bin/python bench/pipeline.py [--runs 15] [--file F --line N --column M]

Runs the whole pipeline on the example file with the embedded model and prints
each step's median, the guardrails' share of the end-to-end time (target
≤ 3 %), the server's own overhead (target ≤ 1 ms), and, measured in the same
run, the same prompt sent straight to llama-cpp-python with the same token
count as the baseline, the two taking turns. Medians, because these machines are noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncGenerator
from pathlib import Path

from guardcode.models.base import Backend, CompletionRequest
from guardcode.models.embedded import default_model_path
from guardcode.models.llamacpp import LlamaCppBackend
from guardcode.server.app import Assembler
from guardcode.server.config import Config
from guardcode.server.context import offset_at
from guardcode.server.pipeline import CompletionInput, Pipeline

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("context", "redact", "prompt", "model", "tidy", "check", "decide", "audit", "total")
GUARDRAILS = ("redact", "check", "decide", "audit")


class Recording:
    """Wraps a backend to keep the last request, so the baseline can replay it exactly."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.name = inner.name
        self.last: CompletionRequest | None = None

    @property
    def model_name(self) -> str:
        return self.inner.model_name

    @property
    def profile(self):
        return self.inner.profile

    async def start(self) -> None:
        await self.inner.start()

    async def stream(self, request: CompletionRequest) -> AsyncGenerator[str, None]:
        self.last = request
        async for chunk in self.inner.stream(request):
            yield chunk

    async def aclose(self) -> None:
        await self.inner.aclose()


async def measure(
    config: Config, request: CompletionInput, runs: int
) -> tuple[list[dict[str, float]], list[float], Recording, int]:
    """Guardcode and the direct baseline in turns, so machine drift hits both alike."""
    from llama_cpp import Llama

    assembler = Assembler()
    built = await assembler.pipeline(config)
    recording = Recording(built.backend)
    pipeline = Pipeline(
        config=config,
        backend=recording,
        redactor=built.redactor,
        pack=built.pack,
        audit=built.audit,
    )
    direct = Llama(
        model_path=str(default_model_path()),
        n_threads=config.model.n_threads,
        n_threads_batch=config.model.n_threads,
        n_ctx=config.model.n_ctx,
        seed=0,
        verbose=False,
    )
    timings: list[dict[str, float]] = []
    baseline: list[float] = []
    tokens = config.model.max_tokens
    try:
        for index in range(runs + 2):
            outcome = await pipeline.complete(request)
            if outcome.error:
                sys.exit(f"bench: the pipeline failed: {outcome.note}")
            inner = recording.inner
            if isinstance(inner, LlamaCppBackend):
                # the worker thread publishes its counters when the job ends
                await inner.wait_idle()
                tokens = max(1, inner.last_stats.completion_tokens)
            assert recording.last is not None
            begin = time.perf_counter()
            direct.create_completion(
                recording.last.prompt,
                max_tokens=tokens,
                temperature=0.0,
                stop=list(recording.last.stop) or None,
            )
            elapsed = (time.perf_counter() - begin) * 1e3
            if index >= 2:  # the first two warm caches and the parser
                timings.append(outcome.timings_ms)
                baseline.append(elapsed)
    finally:
        await assembler.aclose()
    return timings, baseline, recording, tokens


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--file", type=Path, default=ROOT / "examples" / "clinic_service" / "records.py"
    )
    parser.add_argument("--line", type=int, default=47)
    parser.add_argument("--column", type=int, default=5)
    args = parser.parse_args()

    text = args.file.read_text(encoding="utf-8")
    offset = offset_at(text, args.line, args.column)
    with tempfile.TemporaryDirectory() as scratch:
        config = Config.model_validate({"audit": {"path": f"{scratch}/audit.sqlite3"}})
        request = CompletionInput(
            text=text, offset=offset, language="python", file_path=args.file.name, method="bench"
        )
        timings, direct, recording, tokens = asyncio.run(measure(config, request, args.runs))

    median = {stage: statistics.median(t.get(stage, 0.0) for t in timings) for stage in STAGES}
    guard = [sum(t.get(s, 0.0) for s in GUARDRAILS) for t in timings]
    share = [g / t["total"] for g, t in zip(guard, timings, strict=True)]
    own = [t["total"] - t.get("model", 0.0) - g for g, t in zip(guard, timings, strict=True)]

    print(
        f"Guardcode pipeline: {args.file.name}:{args.line}:{args.column}, "
        f"{recording.model_name}, {config.model.n_threads} threads, {args.runs} runs, medians"
    )
    for stage in STAGES:
        print(f"  {stage:<8} {median[stage]:9.3f} ms")
    print(
        f"guardrails (redact+check+decide+audit): {statistics.median(guard):.3f} ms, "
        f"{100 * statistics.median(share):.2f} % of end-to-end (target <= 3 %)"
    )
    print(
        f"server's own overhead (context+prompt+tidy+bookkeeping): "
        f"{statistics.median(own):.3f} ms per request (target <= 1 ms)"
    )
    print(
        f"baseline, the same prompt straight to llama-cpp-python "
        f"({tokens} tokens, in turns with Guardcode): "
        f"{statistics.median(direct):.1f} ms"
    )
    print(f"ratio Guardcode end-to-end / direct: {median['total'] / statistics.median(direct):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
