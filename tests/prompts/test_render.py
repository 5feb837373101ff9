"""Rule packs: loading, validation, hashing and rendering."""

from __future__ import annotations

from pathlib import Path

import pytest

from guardcode.prompts.render import RulePackError, load_pack, render_comment_block


def test_builtin_pack_renders_as_comments_in_the_documents_syntax() -> None:
    pack = load_pack("hipaa")
    python = render_comment_block(pack, "python")
    java = render_comment_block(pack, "java")
    assert python.splitlines()[0] == "# Coding rules for this file (HIPAA):"
    assert all(line.startswith("# ") for line in python.splitlines())
    assert all(line.startswith("// ") for line in java.splitlines())
    assert len(python.splitlines()) == len(pack.rules) + 1


def test_hash_changes_with_the_guidance_not_the_formatting(tmp_path: Path) -> None:
    body = 'name = "t"\n[[rules]]\nid = "a"\ntext = "Audit every read."\n'
    first, second = tmp_path / "a.toml", tmp_path / "b.toml"
    first.write_text(body, encoding="utf-8")
    second.write_text("# comment\n" + body.replace(" = ", "="), encoding="utf-8")
    assert load_pack(str(first)).sha256 == load_pack(str(second)).sha256
    second.write_text(body.replace("every read", "every write"), encoding="utf-8")
    assert load_pack(str(first)).sha256 != load_pack(str(second)).sha256


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('name = "t"\n[[rules]\n', ":2:"),
        ('name = "t"\n', "at least one [[rules]]"),
        ('name = "t"\n[[rules]]\nid = "a"\n', "non-empty 'text'"),
        ('[[rules]]\nid = "a"\ntext = "x"\n', "'name'"),
    ],
)
def test_broken_pack_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "pack.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RulePackError, match=message.replace("[", r"\[")) as error:
        load_pack(str(path))
    assert str(path) in str(error.value)


def test_unknown_builtin_pack() -> None:
    with pytest.raises(RulePackError, match="no built-in rule pack named 'nope'"):
        load_pack("nope")
