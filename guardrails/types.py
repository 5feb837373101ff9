"""Value types shared by the guardrail stages and their callers.

None of these ever carries the PHI or code text it describes: a finding names a
rule and a place, a redaction counts entity types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

Action = Literal["block", "warn", "off"]
Severity = Literal["error", "warning"]


class Decision(StrEnum):
    """What the pipeline does with a completion."""

    ACCEPT = "accept"
    WARN = "warn"
    BLOCK = "block"


@dataclass(frozen=True)
class Redaction:
    """Text with PHI replaced by typed placeholders, and how many of each type."""

    text: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True, order=True)
class Finding:
    """A rule violation. Lines and columns are 0-based, relative to the checked text."""

    start_line: int
    start_column: int
    end_line: int
    end_column: int
    rule: str
    #: a fixed sentence per rule and pattern; never quotes the code or PHI
    message: str
    severity: Severity = "error"


@dataclass(frozen=True)
class Verdict:
    """The decide stage's answer for one completion."""

    decision: Decision
    findings: tuple[Finding, ...] = ()
    #: the rules whose action is ``block`` and that fired
    blocking_rules: tuple[str, ...] = ()
