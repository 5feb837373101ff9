"""The tidy step: cut raw model output down to what an editor should offer."""

from __future__ import annotations


def _first_meaningful_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def tidy(raw: str, prefix: str, suffix: str, max_lines: int) -> str:
    """Trim ``raw`` so that accepting it leaves sensible code.

    - stop before the first line that repeats the suffix's next line (the model
      re-typing code that is already there);
    - at most ``max_lines`` lines, trailing whitespace stripped;
    - a cursor in the middle of a line gets a single-line completion.
    """
    mid_line = bool(suffix) and not suffix.startswith(("\n", "\r\n"))
    lines = raw.replace("\r\n", "\n").split("\n")
    if mid_line:
        lines = lines[:1]
    repeat = _first_meaningful_line(suffix)
    kept: list[str] = []
    for index, line in enumerate(lines):
        # the first line continues the cursor's line, so only later lines can repeat
        if index > 0 and repeat and line.strip() == repeat:
            break
        kept.append(line.rstrip())
        if len(kept) >= max_lines:
            break
    while kept and not kept[-1].strip():
        kept.pop()
    text = "\n".join(kept)
    if not prefix.endswith((" ", "\t", "\n")) and not text.strip():
        return ""
    return text
