"""Streaming stop-sequence matching.

Models produce text a token at a time, and a stop sequence such as ``"\\n\\n"`` or
``"<|endoftext|>"`` can arrive split over several chunks. :class:`StopMatcher` lets a
backend emit text as soon as it is certainly not part of a stop sequence, holds back
only the tail that could still become one, and cuts the output where the first stop
sequence begins (the stop itself is never emitted).
"""

from __future__ import annotations

from collections.abc import Iterable


class StopMatcher:
    """Feed chunks in order; get back the text that is safe to emit now.

    >>> m = StopMatcher(["\\n\\n"])
    >>> m.feed("return x\\n"), m.feed("\\nmore")
    ('return x', '')
    >>> m.stopped, m.hit
    (True, '\\n\\n')
    """

    def __init__(self, stops: Iterable[str] = ()) -> None:
        # Empty strings would match everywhere; duplicates only cost time.
        self._stops: tuple[str, ...] = tuple(dict.fromkeys(s for s in stops if s))
        self._held = ""
        #: the stop sequence that ended the text, once one has
        self.hit: str | None = None

    @property
    def stops(self) -> tuple[str, ...]:
        """The stop sequences in force (deduplicated, empties dropped)."""
        return self._stops

    @property
    def stopped(self) -> bool:
        """Whether a stop sequence has been seen; later input is ignored."""
        return self.hit is not None

    @property
    def held(self) -> str:
        """Text received but not yet released, because a stop might begin in it."""
        return self._held

    def feed(self, chunk: str) -> str:
        """Add ``chunk``; return what can be emitted now (possibly ``""``)."""
        if self.stopped:
            return ""
        text = self._held + chunk
        cut, hit = self._first_stop(text)
        if hit is not None:
            self.hit = hit
            self._held = ""
            return text[:cut]
        keep = self._partial_tail(text)
        self._held = text[len(text) - keep :] if keep else ""
        return text[: len(text) - keep]

    def flush(self) -> str:
        """Release the held-back tail at the end of the stream (no stop came)."""
        if self.stopped:
            return ""
        text, self._held = self._held, ""
        return text

    def _first_stop(self, text: str) -> tuple[int, str | None]:
        best, hit = len(text) + 1, None
        for stop in self._stops:
            at = text.find(stop)
            if at != -1 and at < best:
                best, hit = at, stop
        return best, hit

    def _partial_tail(self, text: str) -> int:
        # Longest tail of `text` that is a proper prefix of some stop sequence: that
        # much must wait for the next chunk to know whether it completes the stop.
        longest = 0
        for stop in self._stops:
            for size in range(min(len(stop) - 1, len(text)), longest, -1):
                if text.endswith(stop[:size]):
                    longest = size
                    break
        return longest
