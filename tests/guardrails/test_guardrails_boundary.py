"""guardrails/ stands alone: nothing of server/ or models/, no LSP library."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

GUARDRAILS = Path(__file__).resolve().parents[2] / "guardrails"
FORBIDDEN = ("pygls", "lsprotocol", "guardcode.server", "guardcode.models", "server", "models")
MODULES = sorted(GUARDRAILS.rglob("*.py"))


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            # relative imports may not climb out of guardcode.guardrails
            depth_limit = len(path.relative_to(GUARDRAILS).parts)
            assert node.level <= depth_limit, f"{path}: relative import leaves guardrails/"
            if node.level == 0 and node.module:
                names.append(node.module)
    return names


def test_there_are_modules_to_check() -> None:
    assert len(MODULES) >= 8


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(GUARDRAILS)))
def test_no_forbidden_imports(path: Path) -> None:
    for name in _imports(path):
        assert not any(name == f or name.startswith(f + ".") for f in FORBIDDEN), (path, name)


def test_importing_every_stage_loads_no_forbidden_module() -> None:
    code = (
        "import sys\n"
        "import guardcode.guardrails.redact, guardcode.guardrails.check\n"
        "import guardcode.guardrails.decide, guardcode.guardrails.audit\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {FORBIDDEN[:2]!r}\n"
        "       or m.startswith(('guardcode.server', 'guardcode.models'))]\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
