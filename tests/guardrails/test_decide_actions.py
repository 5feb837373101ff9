"""decide: per-rule actions, failing closed."""

from __future__ import annotations

import pytest

from guardcode.guardrails.decide import decide
from guardcode.guardrails.types import Decision, Finding


def _finding(rule: str, line: int = 0) -> Finding:
    return Finding(line, 0, line, 5, rule, "fixed message")


LOG = _finding("phi-in-log", 1)
HTTP = _finding("insecure-transport", 2)
LOG2 = _finding("phi-in-log", 3)


def test_no_findings_accepts() -> None:
    verdict = decide([], {"phi-in-log": "block"})
    assert verdict.decision is Decision.ACCEPT
    assert verdict.findings == ()
    assert verdict.blocking_rules == ()


def test_block() -> None:
    verdict = decide([LOG], {"phi-in-log": "block"})
    assert verdict.decision is Decision.BLOCK
    assert verdict.findings == (LOG,)
    assert verdict.blocking_rules == ("phi-in-log",)


def test_warn_keeps_findings() -> None:
    verdict = decide([LOG, LOG2], {"phi-in-log": "warn"})
    assert verdict.decision is Decision.WARN
    assert verdict.findings == (LOG, LOG2)
    assert verdict.blocking_rules == ()


def test_off_drops_findings() -> None:
    verdict = decide([LOG, HTTP], {"phi-in-log": "off", "insecure-transport": "warn"})
    assert verdict.decision is Decision.WARN
    assert verdict.findings == (HTTP,)


def test_all_off_accepts() -> None:
    verdict = decide([LOG, HTTP], {"phi-in-log": "off", "insecure-transport": "off"})
    assert verdict.decision is Decision.ACCEPT
    assert verdict.findings == ()


def test_block_wins_over_warn() -> None:
    verdict = decide([HTTP, LOG, LOG2], {"phi-in-log": "block", "insecure-transport": "warn"})
    assert verdict.decision is Decision.BLOCK
    assert verdict.findings == (HTTP, LOG, LOG2)
    assert verdict.blocking_rules == ("phi-in-log",)


def test_blocking_rules_sorted_and_unique() -> None:
    verdict = decide([LOG, HTTP, LOG2], {})
    assert verdict.blocking_rules == ("insecure-transport", "phi-in-log")


@pytest.mark.parametrize("actions", [{}, {"insecure-transport": "warn"}])
def test_rule_without_an_action_blocks(actions: dict[str, str]) -> None:
    verdict = decide([LOG], actions)  # type: ignore[arg-type]
    assert verdict.decision is Decision.BLOCK
    assert verdict.blocking_rules == ("phi-in-log",)


def test_unknown_action_blocks() -> None:
    verdict = decide([LOG], {"phi-in-log": "repair"})  # type: ignore[dict-item]
    assert verdict.decision is Decision.BLOCK
