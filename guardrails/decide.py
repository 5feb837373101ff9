"""Policy decisions: per-rule actions turn a completion's findings into a verdict."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .types import Action, Decision, Finding, Verdict


def decide(findings: Sequence[Finding], actions: Mapping[str, Action]) -> Verdict:
    """The verdict for ``findings`` under the per-rule ``actions``.

    ``block`` blocks the completion, ``warn`` lets it through with the finding, ``off``
    drops the finding. A rule missing from ``actions``, or with an action this version
    does not know, is treated as ``block``: the policy fails closed.
    """
    kept: list[Finding] = []
    blocking: set[str] = set()
    for finding in findings:
        action = actions.get(finding.rule, "block")
        if action == "off":
            continue
        kept.append(finding)
        if action != "warn":
            blocking.add(finding.rule)
    if blocking:
        decision = Decision.BLOCK
    elif kept:
        decision = Decision.WARN
    else:
        decision = Decision.ACCEPT
    return Verdict(decision=decision, findings=tuple(kept), blocking_rules=tuple(sorted(blocking)))
