"""The context window and the tidy step."""

from __future__ import annotations

import pytest

from guardcode.server.context import PositionError, offset_at, window
from guardcode.server.tidy import tidy


def test_window_cuts_at_line_boundaries() -> None:
    text = "line one\nline two\nline three\nafter one\nafter two\n"
    offset = text.index("line three") + len("line three")
    context = window(text, offset, prefix_chars=15, suffix_chars=12)
    assert context.prefix == "line three"
    assert context.suffix == "\nafter one"


def test_window_whole_document_when_small() -> None:
    text = "a = 1\nb = 2\n"
    context = window(text, 6, prefix_chars=1000, suffix_chars=1000)
    assert (context.prefix, context.suffix) == ("a = 1\n", "b = 2\n")


def test_window_zero_budget() -> None:
    context = window("abc\ndef", 5, prefix_chars=0, suffix_chars=0)
    assert (context.prefix, context.suffix) == ("", "")


def test_tidy_stops_where_the_model_repeats_the_suffix() -> None:
    raw = "total = 0\n    for x in items:\n        total += x\n    return total\n"
    suffix = "\n    return total\n"
    assert tidy(raw, "def f(items):\n    ", suffix, max_lines=8) == (
        "total = 0\n    for x in items:\n        total += x"
    )


def test_tidy_mid_line_gives_one_line_and_limits_lines() -> None:
    assert tidy("items)\nextra()\n", "print(", ")\n", max_lines=8) == "items)"
    assert tidy("a\nb\nc\nd\n", "", "", max_lines=2) == "a\nb"


def test_tidy_strips_trailing_whitespace_and_blank_tail() -> None:
    assert tidy("x = 1   \n\n  \n", "", "", max_lines=8) == "x = 1"


def test_tidy_skips_leading_blank_lines_and_the_cursors_indentation() -> None:
    raw = "\n\n    return visits[0]\n"
    assert tidy(raw, "def f(visits):\n    ", "\n", max_lines=8) == "return visits[0]"


def test_tidy_stops_where_the_model_leaves_the_cursors_block() -> None:
    raw = "if visits:\n        return visits[0]\n    return None\n\n\ndef other():\n    pass\n"
    assert tidy(raw, "def f(visits):\n    ", "\n", max_lines=8) == (
        "if visits:\n        return visits[0]\n    return None"
    )


def test_offset_at_is_one_based_and_bounded() -> None:
    text = "ab\ncde\n"
    assert offset_at(text, 1, 1) == 0
    assert offset_at(text, 2, 4) == text.index("\n", 3)
    with pytest.raises(PositionError, match=r"line 4 is outside the file \(1-3\)"):
        offset_at(text, 4, 1)
    with pytest.raises(PositionError, match=r"column 5 is outside the line \(1-4\)") as error:
        offset_at(text, 2, 5)
    assert error.value.line == 2
