"""LSP language ids from file names, for the CLI and for clients that omit them."""

from __future__ import annotations

from pathlib import Path

_BY_SUFFIX = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".jsx": "javascriptreact",
    ".ts": "typescript",
    ".tsx": "typescriptreact",
    ".java": "java",
    ".go": "go",
    ".rs": "rust",
    ".rb": "ruby",
    ".cs": "csharp",
    ".c": "c",
    ".h": "c",
    ".cpp": "cpp",
    ".sql": "sql",
    ".sh": "shellscript",
    ".kt": "kotlin",
    ".php": "php",
}


def language_for_path(path: Path) -> str:
    """The LSP language id for ``path``; ``plaintext`` when unknown."""
    return _BY_SUFFIX.get(path.suffix.lower(), "plaintext")
