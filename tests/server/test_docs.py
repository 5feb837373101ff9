"""The configuration reference and the README stay true to the code."""

from __future__ import annotations

from pathlib import Path

from guardcode.guardrails.check import RULES
from guardcode.server.layers import effective_items, resolve

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_is_documented() -> None:
    reference = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    for key, _, _ in effective_items(resolve([])):
        section, _, leaf = key.rpartition(".")
        heading = "[rules.<rule-id>]" if section.startswith("rules.") else f"[{section}]"
        assert f"`{heading}`" in reference, f"section {heading} is not documented"
        assert f"| `{leaf}` |" in reference, f"{key} is not documented"
    for rule in RULES:
        assert f"`{rule}`" in reference


def test_readme_opens_with_the_two_commands() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    block = lines[lines.index("```sh") + 1 : lines.index("```")]
    assert block[0].startswith("scripts/setup && .venv/bin/guardcode complete examples/")
    assert block[1] == "scripts/setup && .venv/bin/python -m pytest"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert block[1] in ci
