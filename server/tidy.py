"""The tidy step: cut raw model output down to what an editor should offer."""

from __future__ import annotations


def _first_meaningful_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def tidy(raw: str, prefix: str, suffix: str, max_lines: int) -> str:
    """Trim ``raw`` so that accepting it leaves sensible code.

    - on a line that holds only indentation, skip the blank lines a model
      often starts with and the indentation the cursor already has;
    - stop before the first line that repeats the suffix's next line (the model
      re-typing code that is already there), and before a line indented less
      than the cursor's block (the model wandering into the next function);
    - at most ``max_lines`` lines, trailing whitespace stripped;
    - a cursor in the middle of a line gets a single-line completion.
    """
    current_line = prefix.rsplit("\n", 1)[-1]
    block_indent = _indent(current_line)
    mid_line = bool(suffix) and not suffix.startswith(("\n", "\r\n"))
    lines = raw.replace("\r\n", "\n").split("\n")
    if not current_line.strip():
        while len(lines) > 1 and not lines[0].strip():
            lines.pop(0)
        lines[0] = lines[0][min(block_indent, _indent(lines[0])) :]
    if mid_line:
        lines = lines[:1]
    repeat = _first_meaningful_line(suffix)
    kept: list[str] = []
    for index, line in enumerate(lines):
        # the first line continues the cursor's line, so only later lines can end it
        if index > 0 and line.strip():
            if repeat and line.strip() == repeat:
                break
            if _indent(line) < block_indent:
                break
        kept.append(line.rstrip())
        if len(kept) >= max_lines:
            break
    while kept and not kept[-1].strip():
        kept.pop()
    return "\n".join(kept)
