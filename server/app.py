"""Assembling a pipeline from a configuration; shared by the CLI and the LSP server."""

from __future__ import annotations

from pathlib import Path

from guardcode.guardrails.audit import AuditLog
from guardcode.guardrails.redact import RedactionSettings, Redactor
from guardcode.models.base import Backend, ModelOptions
from guardcode.models.registry import create_backend
from guardcode.prompts.render import load_pack
from guardcode.server.config import Config, ModelConfig
from guardcode.server.pipeline import Pipeline


def model_options(model: ModelConfig) -> ModelOptions:
    def path_or_none(value: str) -> Path | None:
        return Path(value).expanduser() if value else None

    return ModelOptions(
        backend=model.backend,
        name=model.name,
        base_url=model.base_url,
        replay_file=path_or_none(model.replay_file),
        replay_prompt_log=path_or_none(model.replay_prompt_log),
        n_threads=model.n_threads,
        n_ctx=model.n_ctx,
        n_gpu_layers=model.n_gpu_layers,
    )


class Assembler:
    """Builds pipelines, keeping the loaded model when only other settings change."""

    def __init__(self) -> None:
        self._backend: Backend | None = None
        self._options: ModelOptions | None = None

    async def pipeline(self, config: Config) -> Pipeline:
        """A pipeline for ``config``. Raises ConfigError-like ValueErrors or BackendError."""
        redactor = Redactor(
            RedactionSettings(
                entities=frozenset(config.redact.entities), mrn_pattern=config.redact.mrn_pattern
            )
        )
        pack = load_pack(config.prompt.rule_pack)
        audit = AuditLog(config.audit_path())
        backend = await self.backend(model_options(config.model))
        return Pipeline(config=config, backend=backend, redactor=redactor, pack=pack, audit=audit)

    async def backend(self, options: ModelOptions) -> Backend:
        if self._backend is not None and options == self._options:
            return self._backend
        backend = create_backend(options)
        await backend.start()
        previous, self._backend, self._options = self._backend, backend, options
        if previous is not None:
            await previous.aclose()
        return backend

    async def aclose(self) -> None:
        if self._backend is not None:
            await self._backend.aclose()
            self._backend = None
