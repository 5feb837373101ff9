"""The streaming stop-sequence matcher."""

from __future__ import annotations

import random

import pytest

from guardcode.models.stops import StopMatcher


def run(stops: list[str], chunks: list[str]) -> tuple[list[str], StopMatcher]:
    matcher = StopMatcher(stops)
    out = [matcher.feed(chunk) for chunk in chunks]
    out.append(matcher.flush())
    return out, matcher


def test_stop_split_across_chunks() -> None:
    out, m = run(["\n\n"], ["return x\n", "\nprint(y)"])
    assert out == ["return x", "", ""]
    assert m.stopped and m.hit == "\n\n"


def test_stop_split_over_three_chunks() -> None:
    out, m = run(["<|endoftext|>"], ["ab<|end", "oftext", "|>cd"])
    assert "".join(out) == "ab"
    assert out[0] == "ab"  # "<|end" was held back, not emitted
    assert m.hit == "<|endoftext|>"


def test_stop_at_the_very_start() -> None:
    out, m = run(["<EOT>"], ["<EOT>tail"])
    assert out == ["", ""]
    assert m.stopped


def test_no_stop_releases_everything() -> None:
    out, m = run(["<EOT>"], ["def f():", "\n    return <E", "OF"])
    assert "".join(out) == "def f():\n    return <EOF"
    assert out[1] == "\n    return "  # "<E" could have begun "<EOT>"
    assert not m.stopped and m.hit is None


def test_held_tail_is_released_at_flush() -> None:
    matcher = StopMatcher(["\n\n"])
    assert matcher.feed("x = 1\n") == "x = 1"
    assert matcher.held == "\n"
    assert matcher.flush() == "\n"


def test_no_stops_passes_text_straight_through() -> None:
    matcher = StopMatcher([])
    assert matcher.feed("abc") == "abc"
    assert matcher.held == ""


def test_earliest_stop_wins() -> None:
    out, m = run(["END", "\n"], ["a\nbEND"])
    assert "".join(out) == "a"
    assert m.hit == "\n"


def test_nothing_after_a_stop() -> None:
    matcher = StopMatcher(["##"])
    assert matcher.feed("a##b") == "a"
    assert matcher.feed("more") == ""
    assert matcher.flush() == ""


def test_empty_and_duplicate_stops_are_ignored() -> None:
    matcher = StopMatcher(["", "x", "x"])
    assert matcher.stops == ("x",)
    assert matcher.feed("abc") == "abc"


def test_overlapping_partial_prefixes() -> None:
    # "aab" must be found even though "aa" first looked like the start of it
    out, m = run(["aab"], ["xa", "a", "a", "b", "z"])
    assert "".join(out) == "xa"
    assert m.hit == "aab"


@pytest.mark.parametrize("seed", range(30))
def test_random_chunking_matches_reference(seed: int) -> None:
    rng = random.Random(seed)
    stops = ["".join(rng.choice("ab\n") for _ in range(rng.randint(1, 3))) for _ in range(2)]
    text = "".join(rng.choice("abc\n") for _ in range(rng.randint(0, 40)))
    cuts = sorted(rng.sample(range(len(text) + 1), k=min(len(text) + 1, rng.randint(0, 8))))
    chunks = [text[i:j] for i, j in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    positions = [text.find(s) for s in stops if s in text]
    expected = text[: min(positions)] if positions else text
    out, m = run(stops, chunks)
    assert "".join(out) == expected
    assert m.stopped == bool(positions)
