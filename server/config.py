"""The configuration schema: one typed model, a working offline default for every key.

Layering (defaults < admin policy < workspace < editor) lives in
:mod:`guardcode.server.layers`; this module only says what a valid
configuration is. Every model forbids unknown keys so that a typo in a policy
file is an error, not a silently ignored rule.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from guardcode.guardrails.check import RULES
from guardcode.guardrails.redact import DEFAULT_MRN_PATTERN, ENTITY_TYPES
from guardcode.guardrails.types import Action


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelConfig(_Section):
    """``[model]``: which backend and model answer completions."""

    backend: str = "llamacpp"
    #: GGUF path (llamacpp) or model name (servers); empty: the embedded SmolLM2
    name: str = ""
    base_url: str = ""
    replay_file: str = ""
    replay_prompt_log: str = ""
    n_threads: int = Field(default=2, ge=1, le=256)
    n_ctx: int = Field(default=2048, ge=256)
    n_gpu_layers: int = Field(default=0, ge=-1)
    max_tokens: int = Field(default=64, ge=1, le=4096)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    timeout_s: float = Field(default=30.0, gt=0)


class ContextConfig(_Section):
    """``[context]``: how much of the document the model reads.

    Budgets are in characters (roughly 3.5 per token for code): on a CPU the
    prompt is processed at ~230 tokens/s, so the default keeps the first token
    well under a second.
    """

    prefix_chars: int = Field(default=1500, ge=0)
    suffix_chars: int = Field(default=400, ge=0)


class CompletionConfig(_Section):
    """``[completion]``: the shape of what is offered to the editor."""

    max_lines: int = Field(default=8, ge=1)
    #: ``textDocument/completion``: "auto" answers it only for clients without
    #: inline completion, so the model is not run twice per keystroke
    fallback: Literal["auto", "always", "never"] = "auto"


class RedactConfig(_Section):
    """``[redact]``: which PHI entity types are replaced before the model sees text."""

    entities: tuple[str, ...] = tuple(sorted(ENTITY_TYPES))
    mrn_pattern: str = DEFAULT_MRN_PATTERN

    @field_validator("entities")
    @classmethod
    def _known_entities(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - set(ENTITY_TYPES))
        if unknown:
            known = ", ".join(sorted(ENTITY_TYPES))
            raise ValueError(f"unknown entity type {', '.join(unknown)}; known: {known}")
        return value


class PromptConfig(_Section):
    """``[prompt]``: the rule pack injected into every prompt."""

    #: a built-in pack name (``hipaa``) or a path to a rule pack TOML file
    rule_pack: str = "hipaa"


class CheckConfig(_Section):
    """``[check]``: what happens where no checks exist yet for a language."""

    #: "block" keeps the promise that nothing unchecked reaches the editor
    unsupported_language: Literal["block", "warn"] = "block"


class AuditConfig(_Section):
    """``[audit]``: where the hash-chained audit trail is written."""

    #: empty: ``audit.sqlite3`` in the user's data directory
    path: str = ""


class RuleConfig(_Section):
    """``[rules.<rule-id>]``: what to do when the rule fires in a completion."""

    action: Action = "block"


class LogConfig(_Section):
    """``[log]``: the server's own log (stderr); never holds PHI or code."""

    level: Literal["debug", "info", "warning", "error"] = "info"


def _default_rules() -> dict[str, RuleConfig]:
    return {rule_id: RuleConfig() for rule_id in sorted(RULES)}


class Config(_Section):
    """The whole effective configuration."""

    model: ModelConfig = ModelConfig()
    context: ContextConfig = ContextConfig()
    completion: CompletionConfig = CompletionConfig()
    redact: RedactConfig = RedactConfig()
    prompt: PromptConfig = PromptConfig()
    check: CheckConfig = CheckConfig()
    audit: AuditConfig = AuditConfig()
    rules: dict[str, RuleConfig] = Field(default_factory=_default_rules)
    log: LogConfig = LogConfig()

    @field_validator("rules")
    @classmethod
    def _known_rules(cls, value: dict[str, RuleConfig]) -> dict[str, RuleConfig]:
        unknown = sorted(set(value) - set(RULES))
        if unknown:
            raise ValueError(
                f"unknown rule {', '.join(unknown)}; known: {', '.join(sorted(RULES))}"
            )
        return {**_default_rules(), **value}

    def audit_path(self) -> Path:
        """The audit database, defaulting to the user's data directory."""
        if self.audit.path:
            return Path(self.audit.path).expanduser()
        from platformdirs import user_data_path

        return user_data_path("guardcode") / "audit.sqlite3"

    def rule_actions(self) -> dict[str, Action]:
        return {rule_id: rule.action for rule_id, rule in self.rules.items()}
