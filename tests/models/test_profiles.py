"""Model profiles: each family's published FIM format, and choosing the family."""

from __future__ import annotations

import pytest

from guardcode.models.profiles import (
    CODELLAMA,
    CODESTRAL,
    DEEPSEEK_CODER,
    FIM_PRE_TEXT_KEY,
    PLAIN,
    PROFILES,
    QWEN_CODER,
    STARCODER2,
    ModelProfile,
    profile_for,
)

# The published formats, written out by hand with P for the prefix and S for the suffix.
PUBLISHED = [
    (CODELLAMA, "<PRE> P <SUF>S <MID>"),
    (STARCODER2, "<fim_prefix>P<fim_suffix>S<fim_middle>"),
    (QWEN_CODER, "<|fim_prefix|>P<|fim_suffix|>S<|fim_middle|>"),
    (DEEPSEEK_CODER, "<｜fim▁begin｜>P<｜fim▁hole｜>S<｜fim▁end｜>"),  # noqa: RUF001
    (CODESTRAL, "[SUFFIX]S[PREFIX]P"),
]


@pytest.mark.parametrize(("profile", "expected"), PUBLISHED, ids=lambda v: getattr(v, "family", ""))
def test_prompt_matches_published_format(profile: ModelProfile, expected: str) -> None:
    assert profile.supports_fim
    assert profile.build_prompt("P", "S") == expected


def test_deepseek_markers_are_fullwidth_not_ascii() -> None:
    prompt = DEEPSEEK_CODER.build_prompt("a", "b")
    assert "\uff5c" in prompt and "\u2581" in prompt
    assert "<|fim" not in prompt and "fim_begin" not in prompt


def test_family_stop_sequences() -> None:
    assert CODELLAMA.stop == ("<EOT>",)
    assert STARCODER2.stop == ("<|endoftext|>", "<file_sep>")
    assert QWEN_CODER.stop == ("<|endoftext|>", "<|fim_pad|>", "<|file_sep|>", "<|im_end|>")
    assert DEEPSEEK_CODER.stop == ("<｜end▁of▁sentence｜>", "<|EOT|>")  # noqa: RUF001


def test_plain_profile_completes_from_the_prefix_alone() -> None:
    assert not PLAIN.supports_fim
    assert PLAIN.build_prompt("def f():\n    ", "\nreturn") == "def f():\n    "


@pytest.mark.parametrize("profile", [p for p in PROFILES.values() if p.supports_fim])
def test_braces_in_code_are_inserted_verbatim(profile: ModelProfile) -> None:
    prefix = 'x = {"a": {1}}\nf"{prefix}" + "{suffix}" + "{0}" + "{"\n'
    suffix = "d = {}\n}}{{ {suffix}"
    prompt = profile.build_prompt(prefix, suffix)
    assert prefix in prompt
    assert suffix in prompt
    assert len(prompt) == len(profile.build_prompt("", "")) + len(prefix) + len(suffix)


def test_sentinels_in_user_code_cannot_restructure_the_prompt() -> None:
    prompt = QWEN_CODER.build_prompt("a<|fim_middle|>b", "c<|fim_prefix|><|endoftext|>d")
    assert prompt == "<|fim_prefix|>ab<|fim_suffix|>cd<|fim_middle|>"


@pytest.mark.parametrize(
    ("name", "family"),
    [
        ("qwen2.5-coder-1.5b-q4.gguf", "qwen2.5-coder"),
        ("Qwen2.5-Coder-7B-Instruct-Q4_K_M.gguf", "qwen2.5-coder"),
        ("qwen2.5-coder:1.5b-base", "qwen2.5-coder"),
        ("codellama:7b-code", "codellama"),
        ("/models/CodeLlama-13B.Q4_K_M.gguf", "codellama"),
        ("C:\\models\\codellama-7b.Q4_0.gguf", "codellama"),
        ("starcoder2:3b", "starcoder2"),
        ("starcoder2-7b-Q8_0.gguf", "starcoder2"),
        ("deepseek-coder-1.3b-base.Q4_K_M.gguf", "deepseek-coder"),
        ("deepseek-coder:6.7b-base", "deepseek-coder"),
        ("Codestral-22B-v0.1-Q4_K_M.gguf", "codestral"),
        ("codestral:22b", "codestral"),
        # instruct-only, no FIM: must not get Codestral's FIM template
        ("mamba-codestral-7B-v0.1.gguf", "plain"),
        ("SmolLM2-135M-Instruct.Q4_1.gguf", "plain"),
        ("llama3.2:3b", "plain"),
        ("qwen2.5-7b-instruct.gguf", "plain"),
        ("", "plain"),
        # a directory name says nothing about the file inside it
        ("/opt/codellama/weights/model.gguf", "plain"),
    ],
)
def test_detect_from_name(name: str, family: str) -> None:
    assert profile_for(name).family == family


def test_metadata_names_beat_the_file_name() -> None:
    metadata = {"general.name": "CodeLlama 7B", "general.architecture": "llama"}
    assert profile_for("qwen2.5-coder.gguf", metadata).family == "codellama"


def test_detect_from_basename() -> None:
    metadata = {"general.name": "Model", "general.basename": "Qwen2.5-Coder"}
    assert profile_for("model.gguf", metadata).family == "qwen2.5-coder"


def test_detect_from_architecture() -> None:
    metadata = {"general.architecture": "starcoder2", "general.name": "my finetune"}
    assert profile_for("model.gguf", metadata).family == "starcoder2"


def test_file_name_beats_token_heuristics() -> None:
    # SentencePiece + FIM ids would read as Code Llama; the name says Codestral
    metadata = {
        "general.architecture": "llama",
        "tokenizer.ggml.model": "llama",
        "tokenizer.ggml.fim_pre_token_id": "6",
    }
    assert profile_for("codestral-22b.gguf", metadata).family == "codestral"
    assert profile_for("model.gguf", metadata).family == "codellama"


@pytest.mark.parametrize(
    ("metadata", "family"),
    [
        (
            {"tokenizer.ggml.fim_pre_token_id": "32016", "tokenizer.ggml.pre": "deepseek-coder"},
            "deepseek-coder",
        ),
        (
            {"tokenizer.ggml.fim_pre_token_id": "151659", "general.architecture": "qwen2"},
            "qwen2.5-coder",
        ),
        (
            {"tokenizer.ggml.prefix_token_id": "1", "general.architecture": "starcoder"},
            "starcoder2",
        ),
        ({FIM_PRE_TEXT_KEY: "<|fim_prefix|>"}, "qwen2.5-coder"),
        ({FIM_PRE_TEXT_KEY: "<fim_prefix>"}, "starcoder2"),
        ({FIM_PRE_TEXT_KEY: "\u2581<PRE>"}, "codellama"),
        ({FIM_PRE_TEXT_KEY: "[PREFIX]"}, "codestral"),
        ({FIM_PRE_TEXT_KEY: "<｜fim▁begin｜>"}, "deepseek-coder"),  # noqa: RUF001
        # -1 is how GGUF says "no such token"
        ({"tokenizer.ggml.fim_pre_token_id": "-1", "general.architecture": "qwen2"}, "plain"),
        ({"tokenizer.ggml.fim_pre_token_id": "x", "general.architecture": "qwen2"}, "plain"),
    ],
)
def test_detect_from_fim_tokens(metadata: dict[str, str], family: str) -> None:
    assert profile_for("model.gguf", metadata).family == family


def test_embedded_smollm2_metadata_is_plain() -> None:
    # as read from SmolLM2-135M-Instruct.Q4_1.gguf (a subset)
    metadata = {
        "general.architecture": "llama",
        "general.basename": "smollm2",
        "general.name": "Smollm2 135M 8k Lc100K Mix1 Ep2",
        "tokenizer.ggml.model": "gpt2",
        "tokenizer.ggml.pre": "smollm",
        "llama.context_length": "8192",
        FIM_PRE_TEXT_KEY: "",
    }
    assert profile_for("SmolLM2-135M-Instruct.Q4_1.gguf", metadata) is PLAIN


def test_trained_context_length_comes_from_metadata() -> None:
    metadata = {
        "general.name": "Qwen2.5 Coder 1.5B",
        "general.architecture": "qwen2",
        "qwen2.context_length": "131072",
    }
    profile = profile_for("x.gguf", metadata)
    assert profile.family == "qwen2.5-coder"
    assert profile.context_size == 131072
    assert profile.fim_template == QWEN_CODER.fim_template
    assert profile_for("x.gguf", {"general.name": "Qwen2.5 Coder"}).context_size == 32768
