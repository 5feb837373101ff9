"""End-to-end fixtures: the real server over stdio, a replay backend, files in tmp."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from guardcode.guardrails.audit import AuditLog

SERVER = [sys.executable, "-m", "guardcode.server"]
CLIENTS = ["neovim", "visual_studio_code"]


@dataclass
class Scenario:
    """Files one test's server reads and writes."""

    root: Path

    @property
    def audit_path(self) -> Path:
        return self.root / "audit.sqlite3"

    @property
    def prompt_log(self) -> Path:
        return self.root / "prompts.jsonl"

    def write_replies(self, replies: list[str | dict[str, Any]], name: str = "replies") -> Path:
        path = self.root / f"{name}.jsonl"
        lines = [json.dumps(r if isinstance(r, dict) else {"text": r}) for r in replies]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def options(self, replay_file: Path, **extra: Any) -> dict[str, Any]:
        model = {
            "backend": "replay",
            "replay_file": str(replay_file),
            "replay_prompt_log": str(self.prompt_log),
        }
        return {"model": model, "audit": {"path": str(self.audit_path)}, **extra}

    def prompts(self) -> list[str]:
        if not self.prompt_log.exists():
            return []
        lines = self.prompt_log.read_text(encoding="utf-8").splitlines()
        return [json.loads(line)["prompt"] for line in lines]

    def decisions(self) -> list[str]:
        return [event.decision for event in AuditLog(self.audit_path).events()]

    def doc(self, name: str, text: str, client: LanguageClient, language: str = "python") -> str:
        path = self.root / name
        path.write_text(text, encoding="utf-8")
        uri = path.as_uri()
        client.text_document_did_open(
            lsp.DidOpenTextDocumentParams(
                text_document=lsp.TextDocumentItem(
                    uri=uri, language_id=language, version=1, text=text
                )
            )
        )
        return uri


@pytest.fixture
def scenario(tmp_path: Path) -> Scenario:
    return Scenario(root=tmp_path)


async def use_replies(
    client: LanguageClient, scenario: Scenario, replies: list[str | dict[str, Any]], **extra: Any
) -> None:
    """Point the running server at new replies, through didChangeConfiguration."""
    path = scenario.write_replies(
        replies, name=f"replies{len(list(scenario.root.glob('*.jsonl')))}"
    )
    client.workspace_did_change_configuration(
        lsp.DidChangeConfigurationParams(settings={"guardcode": scenario.options(path, **extra)})
    )


def initialize_params(spec: str, scenario: Scenario, inline: bool = False) -> lsp.InitializeParams:
    capabilities = client_capabilities(spec)
    if inline and capabilities.text_document is not None:
        capabilities.text_document.inline_completion = lsp.InlineCompletionClientCapabilities()
    first = scenario.write_replies(["return 42"], name="initial")
    return lsp.InitializeParams(
        capabilities=capabilities,
        root_uri=scenario.root.as_uri(),
        initialization_options={"guardcode": scenario.options(first)},
    )


@pytest_lsp.fixture(params=CLIENTS, config=ClientServerConfig(server_command=SERVER))
async def client(request: pytest.FixtureRequest, lsp_client: LanguageClient, scenario: Scenario):
    await lsp_client.initialize_session(initialize_params(request.param, scenario))
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(params=CLIENTS, config=ClientServerConfig(server_command=SERVER))
async def inline_client(
    request: pytest.FixtureRequest, lsp_client: LanguageClient, scenario: Scenario
):
    await lsp_client.initialize_session(initialize_params(request.param, scenario, inline=True))
    yield
    await lsp_client.shutdown_session()
