"""The one path a completion takes: context → redact → prompt → model → tidy →
check → decide → audit.

Redact, check, decide and audit fail closed: if any of them raises, no
completion is returned, and what is logged and audited is the stage and the
exception class, never text. Every request, cancelled ones included, leaves
one audit event.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from typing import Any

from guardcode.guardrails.audit import (
    AuditDecision,
    AuditEvent,
    AuditLog,
    finding_record,
    os_user,
    sha256_text,
    utc_now,
)
from guardcode.guardrails.check import SUPPORTED_LANGUAGES, check_completion
from guardcode.guardrails.decide import decide
from guardcode.guardrails.redact import Redactor
from guardcode.guardrails.types import Decision, Finding, Verdict
from guardcode.models.base import Backend, BackendError, CompletionRequest
from guardcode.prompts.render import RulePack, render_comment_block
from guardcode.server.config import Config
from guardcode.server.context import window
from guardcode.server.tidy import tidy

log = logging.getLogger("guardcode.pipeline")

_AS_AUDITED: dict[Decision, AuditDecision] = {
    Decision.ACCEPT: "accept",
    Decision.WARN: "warn",
    Decision.BLOCK: "block",
}


@dataclass(frozen=True)
class CompletionInput:
    """One request: the whole document and where the cursor is."""

    text: str
    #: cursor offset into ``text`` in code points
    offset: int
    language: str
    #: for the audit trail: the workspace root and the path relative to it
    workspace: str = ""
    file_path: str = ""
    method: str = "cli/complete"
    #: requests with the same key may share model state (the document URI)
    cache_key: str = ""


@dataclass(frozen=True)
class CompletionOutcome:
    """What the pipeline did; ``completion`` is empty unless it may be shown."""

    completion: str
    decision: AuditDecision
    findings: tuple[Finding, ...] = ()
    redactions: dict[str, int] = field(default_factory=dict)
    model: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)
    #: "stage:ExceptionClass" when a stage failed
    error: str = ""
    #: a user-facing sentence: why nothing came back, what to change
    note: str = ""
    blocking_rules: tuple[str, ...] = ()
    request_id: str = ""


class StageError(Exception):
    """A stage failed; carries the stage name for the audit event and the log."""

    def __init__(self, stage: str, cause: BaseException) -> None:
        super().__init__(f"{stage}:{type(cause).__name__}")
        self.stage = stage
        self.cause = cause


class _Clock:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._start = time.perf_counter()

    def run(self, stage: str, step: Callable[[], Any]) -> Any:
        begin = time.perf_counter()
        try:
            return step()
        except Exception as exc:
            raise StageError(stage, exc) from exc
        finally:
            self.add(stage, begin)

    def add(self, stage: str, begin: float) -> None:
        self.timings[stage] = self.timings.get(stage, 0.0) + (time.perf_counter() - begin) * 1e3

    def total(self) -> dict[str, float]:
        return {**self.timings, "total": (time.perf_counter() - self._start) * 1e3}


class Pipeline:
    """Runs completions for one configuration; build a new one when it changes."""

    def __init__(
        self, config: Config, backend: Backend, redactor: Redactor, pack: RulePack, audit: AuditLog
    ) -> None:
        self.config = config
        self.backend = backend
        self.redactor = redactor
        self.pack = pack
        self.audit = audit
        self._user = os_user()

    async def complete(self, request: CompletionInput) -> CompletionOutcome:
        clock = _Clock()
        request_id = uuid.uuid4().hex
        counts: dict[str, int] = {}
        try:
            outcome = await self._run(request, clock, counts, request_id)
        except StageError as exc:
            log.error("stage %s failed: %s", exc.stage, type(exc.cause).__name__)
            outcome = CompletionOutcome(
                completion="",
                decision="error",
                redactions=counts,
                error=str(exc),
                model=self.backend.model_name,
                request_id=request_id,
                note=_error_note(exc),
            )
        except asyncio.CancelledError:
            cancelled = CompletionOutcome(
                completion="",
                decision="cancelled",
                redactions=counts,
                model=self.backend.model_name,
                request_id=request_id,
            )
            try:
                self._audit(request, cancelled, clock)
            except Exception as exc:
                # nothing is returned either way; the cancellation must still propagate
                log.error("stage audit failed: %s", type(exc).__name__)
            raise
        begin = time.perf_counter()
        try:
            self._audit(request, outcome, clock)
        except Exception as exc:
            # no audit event, no completion: the trail must account for every answer
            log.error("stage audit failed: %s", type(exc).__name__)
            return CompletionOutcome(
                completion="",
                decision="error",
                redactions=counts,
                error=f"audit:{type(exc).__name__}",
                model=self.backend.model_name,
                timings_ms=clock.total(),
                request_id=request_id,
                note="the audit trail could not be written; no completion was returned",
            )
        clock.add("audit", begin)
        return replace(outcome, timings_ms=clock.total())

    async def _run(
        self, request: CompletionInput, clock: _Clock, counts: dict[str, int], request_id: str
    ) -> CompletionOutcome:
        cfg = self.config
        context = clock.run(
            "context",
            lambda: window(
                request.text, request.offset, cfg.context.prefix_chars, cfg.context.suffix_chars
            ),
        )

        def redact() -> tuple[str, str]:
            prefix, suffix = (
                self.redactor.redact(context.prefix),
                self.redactor.redact(context.suffix),
            )
            for part in (prefix, suffix):
                for entity, number in part.counts.items():
                    counts[entity] = counts.get(entity, 0) + number
            return prefix.text, suffix.text

        safe_prefix, safe_suffix = clock.run("redact", redact)
        profile = self.backend.profile
        prompt = clock.run(
            "prompt",
            lambda: profile.build_prompt(
                render_comment_block(self.pack, request.language) + safe_prefix, safe_suffix
            ),
        )

        begin = time.perf_counter()
        raw = await self._generate(
            CompletionRequest(
                prompt=prompt,
                max_tokens=cfg.model.max_tokens,
                stop=profile.stop,
                temperature=cfg.model.temperature,
                timeout_s=cfg.model.timeout_s,
                cache_key=request.cache_key,
            )
        )
        clock.add("model", begin)

        completion = clock.run(
            "tidy", lambda: tidy(raw, context.prefix, context.suffix, cfg.completion.max_lines)
        )
        before, after = request.text[: request.offset], request.text[request.offset :]
        verdict, note = self._unchecked_verdict(request.language, completion)
        if verdict is None:
            actions = cfg.rule_actions()
            enabled = [rule for rule, action in actions.items() if action != "off"]
            findings = clock.run(
                "check",
                lambda: check_completion(request.language, before, completion, after, enabled),
            )
            verdict = clock.run("decide", lambda: decide(findings, actions))
            note = _verdict_note(verdict)
        shown = completion if verdict.decision is not Decision.BLOCK else ""
        return CompletionOutcome(
            completion=shown,
            decision=_AS_AUDITED[verdict.decision],
            findings=verdict.findings,
            redactions=counts,
            model=self.backend.model_name,
            note=note,
            blocking_rules=verdict.blocking_rules,
            request_id=request_id,
        )

    def _unchecked_verdict(self, language: str, completion: str) -> tuple[Verdict | None, str]:
        """A verdict for what cannot be checked; ``None`` means run the rules."""
        if not completion:
            return Verdict(decision=Decision.ACCEPT), ""
        if language in SUPPORTED_LANGUAGES:
            return None, ""
        if self.config.check.unsupported_language == "block":
            return Verdict(decision=Decision.BLOCK), (
                f"no compliance checks exist for {language!r} yet, so the completion was "
                'withheld (set check.unsupported_language = "warn" to allow it)'
            )
        return Verdict(decision=Decision.WARN), f"unchecked: no compliance checks for {language!r}"

    async def _generate(self, request: CompletionRequest) -> str:
        """Collect the model's text, stopping early once tidy would cut it anyway."""
        chunks: list[str] = []
        newlines = 0
        try:
            async with aclosing(self.backend.stream(request)) as stream:
                async for chunk in stream:
                    chunks.append(chunk)
                    newlines += chunk.count("\n")
                    if newlines >= self.config.completion.max_lines + 1:
                        break
        except Exception as exc:
            # a backend bug is still a failed request: answered empty and audited
            raise StageError("model", exc) from exc
        return "".join(chunks)

    def _audit(self, request: CompletionInput, outcome: CompletionOutcome, clock: _Clock) -> None:
        self.audit.append(
            AuditEvent(
                time=utc_now(),
                user=self._user,
                workspace=request.workspace,
                file_path=request.file_path,
                method=request.method,
                model=outcome.model or self.backend.model_name,
                rule_pack_hash=self.pack.sha256,
                redactions=dict(outcome.redactions),
                findings=[finding_record(f) for f in outcome.findings],
                decision=outcome.decision,
                completion_sha256=sha256_text(outcome.completion) if outcome.completion else "",
                error=outcome.error,
                request_id=outcome.request_id,
            )
        )


def _error_note(exc: StageError) -> str:
    if exc.stage == "model" and isinstance(exc.cause, BackendError):
        # backend messages are written to be shown: they name servers and files, never prompts
        return f"model backend: {exc.cause}"
    return f"the {exc.stage} step failed ({type(exc.cause).__name__}); no completion was returned"


def _verdict_note(verdict: Verdict) -> str:
    if verdict.decision is Decision.BLOCK:
        places = ", ".join(
            f"{f.rule} at line {f.start_line + 1}"
            for f in verdict.findings
            if f.rule in verdict.blocking_rules
        )
        return f"completion blocked by {places}"
    if verdict.decision is Decision.WARN:
        return "completion has warnings: " + ", ".join(sorted({f.rule for f in verdict.findings}))
    return ""
