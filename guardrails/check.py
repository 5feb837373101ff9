"""Code checks: parse a completion in place with tree-sitter and run the rules on it.

Positions in findings are 0-based lines and columns of the checked text (for a
completion, the document as it would be after accepting it). Lines are separated by
``\\n``; columns count Unicode code points (Python ``str`` indices), which a caller
speaking LSP converts to its negotiated position encoding.

Incomplete code is normal here: tree-sitter recovers from syntax errors with ERROR
nodes, and the rules look only at complete constructs, so a half-typed line yields the
findings of the complete parts and never an exception.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable

from .languages import SUPPORTED_LANGUAGES, UnsupportedLanguage, get_parser
from .rules import RULES, CheckContext, Hit, Rule
from .types import Finding

__all__ = [
    "RULES",
    "SUPPORTED_LANGUAGES",
    "UnknownRule",
    "UnsupportedLanguage",
    "check_completion",
    "check_document",
]


class UnknownRule(ValueError):
    """A rule id that no rule registered."""

    def __init__(self, rule_ids: Iterable[str]) -> None:
        self.rule_ids = tuple(sorted(rule_ids))
        super().__init__(
            f"unknown rule {', '.join(map(repr, self.rule_ids))}; known: {', '.join(sorted(RULES))}"
        )


def check_completion(
    language: str,
    prefix: str,
    completion: str,
    suffix: str,
    rules: Iterable[str] | None = None,
) -> list[Finding]:
    """Findings that ``completion`` introduces when inserted between prefix and suffix.

    The three parts are parsed once, together; a finding is kept when its range overlaps
    the completion's. ``rules`` are rule ids (``None``: all). Raises
    :class:`UnsupportedLanguage` for a language without checks and :class:`UnknownRule`
    for an unregistered rule id.
    """
    selected = _select(language, rules)
    if not completion or not selected:
        return []
    start = len(_encode(prefix))
    source = _encode(prefix + completion + suffix)
    return _run(language, source, start, start + len(_encode(completion)), selected)


def check_document(language: str, text: str, rules: Iterable[str] | None = None) -> list[Finding]:
    """All findings in a whole document. Raises like :func:`check_completion`."""
    selected = _select(language, rules)
    if not text or not selected:
        return []
    source = _encode(text)
    return _run(language, source, 0, len(source), selected)


def _encode(text: str) -> bytes:
    # surrogatepass: an editor can send lone surrogates; they must not crash a check.
    return text.encode("utf-8", "surrogatepass")


def _select(language: str, rules: Iterable[str] | None) -> list[Rule]:
    if language not in SUPPORTED_LANGUAGES:
        raise UnsupportedLanguage(language)
    if rules is None:
        wanted = sorted(RULES)
    else:
        wanted = sorted({rules} if isinstance(rules, str) else set(rules))
        unknown = [r for r in wanted if r not in RULES]
        if unknown:
            raise UnknownRule(unknown)
    # A rule without a checker for this language simply has nothing to say about it.
    return [RULES[r] for r in wanted if language in RULES[r].checkers]


def _run(language: str, source: bytes, start: int, end: int, rules: list[Rule]) -> list[Finding]:
    tree = get_parser(language).parse(source)
    ctx = CheckContext(language, source, tree.root_node, start, end)
    positions = _Positions(source)
    findings: set[Finding] = set()
    for rule in rules:
        for hit in rule.checkers[language](ctx):
            if ctx.overlaps(hit.start_byte, hit.end_byte):
                findings.add(positions.finding(hit, rule))
    return sorted(findings)


class _Positions:
    """Byte offsets to (line, code-point column), with the line table built on demand."""

    def __init__(self, source: bytes) -> None:
        self._source = source
        self._line_starts: list[int] | None = None

    def finding(self, hit: Hit, rule: Rule) -> Finding:
        start_line, start_column = self._point(hit.start_byte)
        end_line, end_column = self._point(hit.end_byte)
        return Finding(
            start_line, start_column, end_line, end_column, rule.id, hit.message, rule.severity
        )

    def _point(self, offset: int) -> tuple[int, int]:
        if self._line_starts is None:
            starts = [0]
            find = self._source.find
            at = find(b"\n")
            while at >= 0:
                starts.append(at + 1)
                at = find(b"\n", at + 1)
            self._line_starts = starts
        line = bisect_right(self._line_starts, offset) - 1
        column = self._source[self._line_starts[line] : offset].decode("utf-8", "surrogatepass")
        return line, len(column)
