"""Tree-sitter grammars, parsers and compiled queries, by LSP language id.

Grammars are loaded and queries compiled once, on first use, and then shared;
parsers are per thread because a ``tree_sitter.Parser`` is not safe to share.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cache

from tree_sitter import Language, Parser, Query


class UnsupportedLanguage(ValueError):
    """No checks exist for this language; the caller decides what that means."""

    def __init__(self, language: str) -> None:
        super().__init__(f"no guardrail checks for language {language!r}")
        self.language = language


def _python() -> Language:
    import tree_sitter_python

    return Language(tree_sitter_python.language())


# LSP language id -> grammar loader. Imported lazily so that a grammar's import cost is
# paid only by a process that checks that language.
_GRAMMARS: dict[str, Callable[[], Language]] = {
    "python": _python,
}

#: LSP language ids that :mod:`guardcode.guardrails.check` can check
SUPPORTED_LANGUAGES: frozenset[str] = frozenset(_GRAMMARS)

_local = threading.local()


@cache
def get_language(language: str) -> Language:
    """The tree-sitter grammar for an LSP language id."""
    try:
        loader = _GRAMMARS[language]
    except KeyError:
        raise UnsupportedLanguage(language) from None
    return loader()


def get_parser(language: str) -> Parser:
    """A parser for ``language`` owned by the calling thread."""
    parsers: dict[str, Parser] | None = getattr(_local, "parsers", None)
    if parsers is None:
        parsers = _local.parsers = {}
    parser = parsers.get(language)
    if parser is None:
        parser = parsers[language] = Parser(get_language(language))
    return parser


@cache
def get_query(language: str, source: str) -> Query:
    """``source`` compiled for ``language``; compiled once per process."""
    return Query(get_language(language), source)
