"""The context step: what part of the document the model gets to read."""

from __future__ import annotations

from dataclasses import dataclass


class PositionError(ValueError):
    """A 1-based position outside the text; ``line`` is set when only the column is wrong."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


def offset_at(text: str, line: int, column: int) -> int:
    """The offset of a 1-based ``line``:``column`` (as editors show them) in ``text``."""
    lines = text.split("\n")
    if not 1 <= line <= len(lines):
        raise PositionError(f"line {line} is outside the file (1-{len(lines)})")
    width = len(lines[line - 1]) + 1
    if not 1 <= column <= width:
        raise PositionError(f"column {column} is outside the line (1-{width})", line=line)
    return sum(len(previous) + 1 for previous in lines[: line - 1]) + column - 1


@dataclass(frozen=True)
class Context:
    """The window around the cursor, cut at line boundaries."""

    prefix: str
    suffix: str


def window(text: str, offset: int, prefix_chars: int, suffix_chars: int) -> Context:
    """Up to ``prefix_chars`` before and ``suffix_chars`` after ``offset``.

    The prefix starts at a line start so the model never reads half a
    statement, and its start moves in whole lines, so successive requests on
    the same document share a long common prompt prefix (llama.cpp reuses the
    KV cache for it).
    """
    start = max(0, offset - prefix_chars)
    if start > 0:
        newline = text.find("\n", start, offset)
        start = offset if newline < 0 else newline + 1
    end = min(len(text), offset + suffix_chars)
    if end < len(text):
        newline = text.rfind("\n", offset, end)
        end = offset if newline < 0 else newline
    return Context(prefix=text[start:offset], suffix=text[offset:end])
