"""Configuration layers: precedence, provenance, locked keys, broken files."""

from __future__ import annotations

from pathlib import Path

import pytest

from guardcode.server import layers
from guardcode.server.layers import ConfigError, Layer, resolve


def _toml(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_work_with_no_layers() -> None:
    resolved = resolve([])
    assert resolved.config.model.backend == "llamacpp"
    assert resolved.config.rules["phi-in-log"].action == "block"
    assert dict(resolved.sources) == {}


def test_later_layers_win_and_sources_are_tracked(tmp_path: Path) -> None:
    policy = layers.read_toml(_toml(tmp_path, "policy.toml", "[model]\nn_threads = 4\n"), "policy")
    workspace = layers.read_toml(
        _toml(tmp_path, ".guardcode.toml", "[model]\nn_threads = 3\nmax_tokens = 10\n"), "workspace"
    )
    editor = Layer("editor", {"model": {"max_tokens": 20}})
    resolved = resolve([policy, workspace, editor])
    assert resolved.config.model.n_threads == 3
    assert resolved.config.model.max_tokens == 20
    assert resolved.sources["model.n_threads"] == "workspace"
    assert resolved.sources["model.max_tokens"] == "editor"
    shown = {key: source for key, _, source in layers.effective_items(resolved)}
    assert shown["model.backend"] == "default"
    assert shown["model.max_tokens"] == "editor"


def test_locked_rule_cannot_be_weakened_but_can_be_strengthened() -> None:
    policy = Layer(
        "policy", {"locked": ["rules"], "rules": {"insecure-transport": {"action": "warn"}}}
    )
    weaker = Layer(
        "workspace",
        {"rules": {"phi-in-log": {"action": "off"}, "insecure-transport": {"action": "block"}}},
    )
    resolved = resolve([policy, weaker])
    assert resolved.config.rules["phi-in-log"].action == "block"
    assert resolved.config.rules["insecure-transport"].action == "block"
    assert any("rules.phi-in-log.action" in item for item in resolved.overridden)


def test_locked_plain_key_keeps_the_policy_value() -> None:
    policy = Layer("policy", {"locked": ["audit.path"], "audit": {"path": "/srv/audit.db"}})
    editor = Layer("editor", {"audit": {"path": "/tmp/elsewhere.db"}})
    resolved = resolve([policy, editor])
    assert resolved.config.audit.path == "/srv/audit.db"
    assert resolved.sources["audit.path"] == "policy"


def test_broken_toml_names_file_and_line(tmp_path: Path) -> None:
    path = _toml(tmp_path, "bad.toml", '[model]\nbackend = "replay"\nname = \n')
    with pytest.raises(ConfigError) as error:
        layers.read_toml(path, "workspace")
    assert str(error.value).startswith(f"{path}:3:")


def test_invalid_value_names_file_line_and_key(tmp_path: Path) -> None:
    path = _toml(
        tmp_path,
        "bad.toml",
        '[model]\nbackend = "replay"\n\n[rules.phi-in-log]\naction = "maybe"\n',
    )
    with pytest.raises(ConfigError) as error:
        resolve([layers.read_toml(path, "workspace")])
    assert f"{path}:5: rules.phi-in-log.action:" in str(error.value)


def test_unknown_keys_and_rules_are_errors() -> None:
    with pytest.raises(ConfigError, match=r"model\.nmae"):
        resolve([Layer("editor", {"model": {"nmae": "x"}})])
    with pytest.raises(ConfigError, match="unknown rule no-such-rule"):
        resolve([Layer("editor", {"rules": {"no-such-rule": {"action": "warn"}}})])


def test_relative_paths_are_relative_to_their_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    path = _toml(
        tmp_path / "sub",
        "g.toml",
        '[model]\nreplay_file = "r.jsonl"\nname = "qwen2.5-coder"\n[audit]\npath = "a.db"\n',
    )
    resolved = resolve([layers.read_toml(path, "workspace")])
    assert resolved.config.model.replay_file == str(tmp_path / "sub" / "r.jsonl")
    assert resolved.config.audit.path == str(tmp_path / "sub" / "a.db")
    assert resolved.config.model.name == "qwen2.5-coder"


def test_policy_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _toml(
        tmp_path, "policy.toml", 'locked = ["model.backend"]\n[model]\nbackend = "replay"\n'
    )
    monkeypatch.setenv(layers.POLICY_ENV, str(path))
    resolved = layers.load(editor_options={"model": {"backend": "llamacpp"}})
    assert resolved.config.model.backend == "replay"
    assert resolved.sources["model.backend"] == f"policy:{path}"


def test_workspace_file_is_found_upwards(tmp_path: Path) -> None:
    path = _toml(tmp_path, ".guardcode.toml", "")
    (tmp_path / "a" / "b").mkdir(parents=True)
    assert layers.find_workspace_file(tmp_path / "a" / "b") == path
