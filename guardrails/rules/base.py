"""What a rule is, the registry rules add themselves to, and what a rule sees.

A rule has one checker per language it supports. A checker receives a
:class:`CheckContext` (the parsed text and the byte range of interest) and yields
:class:`Hit` objects; :mod:`guardcode.guardrails.check` turns hits into findings with
line/column positions and keeps only those in the range of interest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from tree_sitter import Node, Query, QueryCursor

from ..languages import get_query
from ..types import Severity


@dataclass(frozen=True, slots=True)
class Hit:
    """A violation as a byte range of the checked text and a fixed message."""

    start_byte: int
    end_byte: int
    #: a fixed sentence; never quotes the code or PHI
    message: str

    @classmethod
    def at(cls, node: Node, message: str) -> Hit:
        """A hit covering ``node``."""
        return cls(node.start_byte, node.end_byte, message)


@dataclass(frozen=True)
class CheckContext:
    """One parsed text, and the byte range whose violations are wanted."""

    language: str
    source: bytes
    root: Node
    start_byte: int
    end_byte: int

    def query(self, source: str) -> Query:
        """``source`` compiled for this context's language (cached per process)."""
        return get_query(self.language, source)

    def matches(self, query: str) -> list[tuple[int, dict[str, list[Node]]]]:
        """Matches of ``query`` that touch the range of interest (pattern index, captures)."""
        return self._cursor(query).matches(self.root)

    def captures(self, query: str) -> dict[str, list[Node]]:
        """Captures of ``query`` that touch the range of interest, by capture name."""
        return self._cursor(query).captures(self.root)

    def text(self, node: Node) -> str:
        """The source text of ``node``."""
        return self.source[node.start_byte : node.end_byte].decode("utf-8", "surrogatepass")

    def overlaps(self, start_byte: int, end_byte: int) -> bool:
        """Whether a byte range overlaps the range of interest."""
        return start_byte < self.end_byte and end_byte > self.start_byte

    def _cursor(self, query: str) -> QueryCursor:
        cursor = QueryCursor(self.query(query))
        # Restricting the cursor is what keeps a completion check cheap: tree-sitter
        # skips subtrees outside the range but still reports a match whose pattern
        # merely intersects it (a call that starts in the prefix, say).
        if self.start_byte > 0 or self.end_byte < len(self.source):
            cursor.set_byte_range(self.start_byte, self.end_byte)
        return cursor


Checker = Callable[[CheckContext], Iterable[Hit]]


@dataclass(frozen=True)
class Rule:
    """A named check with a stable id (used in configuration) and per-language checkers."""

    id: str
    severity: Severity
    description: str
    checkers: Mapping[str, Checker] = field(default_factory=dict)

    @property
    def languages(self) -> frozenset[str]:
        """The LSP language ids this rule can check."""
        return frozenset(self.checkers)


#: every registered rule by id
RULES: dict[str, Rule] = {}


def register(rule: Rule) -> Rule:
    """Add ``rule`` to :data:`RULES`; a duplicate id is a programming error."""
    if rule.id in RULES:
        raise ValueError(f"rule {rule.id!r} is registered twice")
    RULES[rule.id] = rule
    return rule
