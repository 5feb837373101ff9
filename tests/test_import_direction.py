"""Imports point one way: guardrails, models and prompts never import the server or LSP."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "guardrails": ("guardcode.server", "guardcode.models", "pygls", "lsprotocol"),
    "models": ("guardcode.server", "guardcode.guardrails", "pygls", "lsprotocol"),
    "prompts": ("guardcode.server", "pygls", "lsprotocol"),
}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("folder", sorted(FORBIDDEN))
def test_folder_does_not_import_upwards(folder: str) -> None:
    files = sorted((ROOT / folder).rglob("*.py"))
    assert files
    bad = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in files
        for name in _imports(path)
        if name.startswith(FORBIDDEN[folder])
    ]
    assert bad == []


def test_the_checker_itself_sees_imports(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text("import pygls.server\nfrom guardcode.server import lsp\n", encoding="utf-8")
    assert _imports(sample) == {"pygls.server", "guardcode.server"}
