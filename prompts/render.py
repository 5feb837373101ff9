"""Rule packs: HIPAA guidance that is injected into every prompt.

A base fill-in-the-middle model follows the code it reads, so the pack is
rendered as a comment block above the prefix, in the document's own comment
syntax. The pack's hash goes into every audit event, so a compliance officer
can tell which guidance a completion was written under.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

_BUILTIN_PACKAGE = "guardcode.prompts"
_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")

_LINE_COMMENT = {
    "#": {
        "python",
        "ruby",
        "shellscript",
        "sh",
        "bash",
        "yaml",
        "toml",
        "r",
        "perl",
        "dockerfile",
        "makefile",
        "powershell",
        "elixir",
    },
    "//": {
        "javascript",
        "javascriptreact",
        "typescript",
        "typescriptreact",
        "java",
        "c",
        "cpp",
        "csharp",
        "go",
        "rust",
        "kotlin",
        "swift",
        "scala",
        "php",
        "dart",
        "groovy",
    },
    "--": {"sql", "lua", "haskell", "ada"},
}


class RulePackError(ValueError):
    """A rule pack cannot be loaded; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Rule:
    id: str
    text: str


@dataclass(frozen=True)
class RulePack:
    name: str
    version: int
    rules: tuple[Rule, ...]

    @property
    def sha256(self) -> str:
        """A stable hash of what the model is told (not of the file's formatting)."""
        canonical = json.dumps(
            {
                "name": self.name,
                "version": self.version,
                "rules": [[rule.id, rule.text] for rule in self.rules],
            },
            sort_keys=True,
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def comment_prefix(language: str) -> str:
    for prefix, languages in _LINE_COMMENT.items():
        if language in languages:
            return prefix
    return "#"


def _parse(text: str, where: str) -> RulePack:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        if match := _TOML_POSITION.search(message):
            what = _TOML_POSITION.sub("", message).strip()
            raise RulePackError(f"{where}:{match[1]}:{match[2]}: {what}") from exc
        raise RulePackError(f"{where}: {message}") from exc
    name, version, rules = data.get("name"), data.get("version", 1), data.get("rules")
    if not isinstance(name, str) or not name:
        raise RulePackError(f"{where}: 'name' must be a non-empty string")
    if not isinstance(version, int):
        raise RulePackError(f"{where}: 'version' must be an integer")
    if not isinstance(rules, list) or not rules:
        raise RulePackError(f"{where}: needs at least one [[rules]] table")
    parsed = []
    for index, rule in enumerate(rules, start=1):
        if (
            not isinstance(rule, dict)
            or not isinstance(rule.get("id"), str)
            or not isinstance(rule.get("text"), str)
            or not rule["text"].strip()
        ):
            raise RulePackError(f"{where}: rule {index} needs string 'id' and non-empty 'text'")
        if "\n" in rule["text"]:
            raise RulePackError(f"{where}: rule {rule['id']!r}: text must be one line")
        parsed.append(Rule(id=rule["id"], text=rule["text"].strip()))
    return RulePack(name=name, version=version, rules=tuple(parsed))


def load_pack(name_or_path: str) -> RulePack:
    """A built-in pack by name (``hipaa``) or a pack file by path."""
    if "/" not in name_or_path and not name_or_path.endswith(".toml"):
        resource = resources.files(_BUILTIN_PACKAGE).joinpath("packs", f"{name_or_path}.toml")
        if not resource.is_file():
            raise RulePackError(f"no built-in rule pack named {name_or_path!r}")
        return _parse(resource.read_text(encoding="utf-8"), f"rule pack {name_or_path}")
    path = Path(name_or_path).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RulePackError(f"{path}: cannot read rule pack: {type(exc).__name__}") from exc
    return _parse(text, str(path))


def render_comment_block(pack: RulePack, language: str) -> str:
    """The pack as comment lines for ``language``, ending with a newline."""
    marker = comment_prefix(language)
    lines = [f"{marker} Coding rules for this file (HIPAA):"]
    lines += [f"{marker} - {rule.text}" for rule in pack.rules]
    return "\n".join(lines) + "\n"
