"""The pipeline's stages, with a scripted model and real guardrails."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from guardcode.guardrails.audit import AuditLog, sha256_text
from guardcode.guardrails.redact import Redactor
from guardcode.models.base import BackendUnavailable
from guardcode.models.profiles import ModelProfile
from guardcode.prompts.render import load_pack
from guardcode.server.config import Config
from guardcode.server.pipeline import CompletionInput, Pipeline
from tests.conftest import SSN, ScriptedBackend

DOC = f'PATIENT_SSN = "{SSN}"\n\ndef f(patient):\n    \n'
CURSOR = DOC.index("    \n") + 4


def make(tmp_path: Path, backend: ScriptedBackend, **overrides: object) -> Pipeline:
    config = Config.model_validate({"audit": {"path": str(tmp_path / "audit.db")}, **overrides})
    return Pipeline(
        config=config,
        backend=backend,
        redactor=Redactor(),
        pack=load_pack("hipaa"),
        audit=AuditLog(tmp_path / "audit.db"),
    )


def request(text: str = DOC, offset: int = CURSOR, language: str = "python") -> CompletionInput:
    return CompletionInput(text=text, offset=offset, language=language, file_path="svc/f.py")


async def test_accepted_completion_is_audited_with_its_hash(
    tmp_path: Path, scripted: ScriptedBackend
) -> None:
    scripted.enqueue("return patient.id\n")
    outcome = await make(tmp_path, scripted).complete(request())
    assert outcome.completion == "return patient.id"
    assert outcome.decision == "accept"
    assert outcome.redactions == {"US_SSN": 1}
    assert set(outcome.timings_ms) >= {
        "context",
        "redact",
        "prompt",
        "model",
        "tidy",
        "check",
        "decide",
        "audit",
        "total",
    }
    [event] = list(AuditLog(tmp_path / "audit.db").events())
    assert event.decision == "accept"
    assert event.completion_sha256 == sha256_text("return patient.id")
    assert event.redactions == {"US_SSN": 1}
    assert event.file_path == "svc/f.py"


async def test_prompt_is_redacted_and_carries_the_rule_pack(
    tmp_path: Path, scripted: ScriptedBackend
) -> None:
    scripted.enqueue("pass")
    await make(tmp_path, scripted).complete(request())
    prompt = scripted.requests[0].prompt
    assert SSN not in prompt
    assert 'PATIENT_SSN = "<PHI:US_SSN>"' in prompt
    assert prompt.startswith("# Coding rules for this file (HIPAA):\n")
    assert prompt.endswith("def f(patient):\n    ")


async def test_fim_profile_gets_prefix_and_suffix(tmp_path: Path) -> None:
    backend = ScriptedBackend(
        ModelProfile(family="test", fim_template="<P>{prefix}<S>{suffix}<M>", stop=("<END>",))
    )
    backend.enqueue("pass")
    text = "def f():\n    \nprint(f())\n"
    await make(tmp_path, backend).complete(request(text, text.index("    \n") + 4))
    sent = backend.requests[0]
    assert sent.prompt.endswith("def f():\n    <S>\nprint(f())\n<M>")
    assert sent.stop == ("<END>",)


async def test_blocking_rule_returns_nothing(tmp_path: Path, scripted: ScriptedBackend) -> None:
    scripted.enqueue('print("ssn", patient.ssn)')
    outcome = await make(tmp_path, scripted).complete(request())
    assert outcome.completion == ""
    assert outcome.decision == "block"
    assert outcome.blocking_rules == ("phi-in-log",)
    assert "phi-in-log at line 4" in outcome.note


async def test_warn_and_off_actions(tmp_path: Path, scripted: ScriptedBackend) -> None:
    scripted.enqueue('print("ssn", patient.ssn)')
    scripted.enqueue('print("ssn", patient.ssn)')
    warn = await make(tmp_path, scripted, rules={"phi-in-log": {"action": "warn"}}).complete(
        request()
    )
    assert (warn.decision, warn.completion) == ("warn", 'print("ssn", patient.ssn)')
    off = await make(tmp_path, scripted, rules={"phi-in-log": {"action": "off"}}).complete(
        request()
    )
    assert (off.decision, off.findings) == ("accept", ())


async def test_finding_in_the_prefix_does_not_count(
    tmp_path: Path, scripted: ScriptedBackend
) -> None:
    scripted.enqueue("return None")
    text = "def f(patient):\n    print(patient.ssn)\n    \n"
    outcome = await make(tmp_path, scripted).complete(request(text, len(text) - 1))
    assert outcome.decision == "accept"


async def test_unsupported_language_is_withheld_by_default(
    tmp_path: Path, scripted: ScriptedBackend
) -> None:
    scripted.enqueue("return 1;")
    scripted.enqueue("return 1;")
    blocked = await make(tmp_path, scripted).complete(
        request("function f() {\n  \n}", 17, "javascript")
    )
    assert (blocked.decision, blocked.completion) == ("block", "")
    assert "javascript" in blocked.note
    allowed = await make(tmp_path, scripted, check={"unsupported_language": "warn"}).complete(
        request("function f() {\n  \n}", 17, "javascript")
    )
    assert (allowed.decision, allowed.completion) == ("warn", "return 1;")


async def test_backend_error_is_an_error_outcome_and_audited(
    tmp_path: Path, scripted: ScriptedBackend
) -> None:
    scripted.enqueue(error=BackendUnavailable("server at 127.0.0.1:9 is down"))
    outcome = await make(tmp_path, scripted).complete(request())
    assert outcome.decision == "error"
    assert outcome.error == "model:BackendUnavailable"
    assert "127.0.0.1:9 is down" in outcome.note
    assert [e.decision for e in AuditLog(tmp_path / "audit.db").events()] == ["error"]


class ExplodingRedactor(Redactor):
    def redact(self, text: str):  # type: ignore[override]
        raise RuntimeError(f"boom {text}")


async def test_redaction_failure_fails_closed(
    tmp_path: Path, scripted: ScriptedBackend, caplog: pytest.LogCaptureFixture
) -> None:
    pipeline = make(tmp_path, scripted)
    pipeline.redactor = ExplodingRedactor()
    outcome = await pipeline.complete(request())
    assert (outcome.completion, outcome.error) == ("", "redact:RuntimeError")
    assert scripted.requests == []
    assert SSN not in caplog.text and "boom" not in caplog.text
    assert SSN not in outcome.note


async def test_audit_failure_withholds_the_completion(
    tmp_path: Path, scripted: ScriptedBackend
) -> None:
    scripted.enqueue("return 1")
    pipeline = make(tmp_path, scripted)

    def broken(event: object) -> str:
        raise OSError("disk full")

    pipeline.audit.append = broken  # type: ignore[method-assign]
    outcome = await pipeline.complete(request())
    assert (outcome.completion, outcome.error) == ("", "audit:OSError")


async def test_cancellation_is_audited_and_propagates(
    tmp_path: Path, scripted: ScriptedBackend
) -> None:
    scripted.enqueue("slow()", delay_s=30)
    task = asyncio.ensure_future(make(tmp_path, scripted).complete(request()))
    while not scripted.requests:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert scripted.closed_streams == 1
    assert [e.decision for e in AuditLog(tmp_path / "audit.db").events()] == ["cancelled"]


async def test_generation_stops_once_enough_lines_arrived(
    tmp_path: Path, scripted: ScriptedBackend
) -> None:
    scripted.enqueue("x = 1\n    " * 50)
    outcome = await make(tmp_path, scripted, completion={"max_lines": 3}).complete(request())
    assert outcome.completion == "x = 1\n    x = 1\n    x = 1"


class BuggyBackend(ScriptedBackend):
    async def stream(self, request):  # type: ignore[override]
        raise KeyError(request.prompt)
        yield ""  # pragma: no cover - makes this an async generator


async def test_unexpected_backend_exception_is_audited_without_text(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    outcome = await make(tmp_path, BuggyBackend()).complete(request())
    assert (outcome.completion, outcome.error) == ("", "model:KeyError")
    assert [e.decision for e in AuditLog(tmp_path / "audit.db").events()] == ["error"]
    assert "<PHI:US_SSN>" not in caplog.text and "def f" not in outcome.note
