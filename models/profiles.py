"""Model profiles: how each model family wants its fill-in-the-middle prompt.

A profile says how to lay out the text before and after the cursor for one model
family (its FIM template), which strings end a completion, and how much context the
model holds. :func:`profile_for` picks the profile for a model from its GGUF metadata
or its name.

Each template below was checked against the family's published format; the comment
beside it says where that format is published.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

#: Not a GGUF key. Backends that can read the vocabulary (llama.cpp) put the text of the
#: model's FIM-prefix token here, so detection can use the token the model really has.
FIM_PRE_TEXT_KEY = "guardcode.fim_pre_text"

# Matches the template's placeholders; substitution is one pass, so a prefix that
# itself contains "{suffix}" (or any braces) is inserted verbatim and never re-expanded.
_PLACEHOLDER = re.compile(r"\{(prefix|suffix)\}")


@dataclass(frozen=True)
class ModelProfile:
    """What the prompt builder needs to know about a model family."""

    family: str
    #: ``None``: the model has no FIM tokens and completes from the prefix alone
    fim_template: str | None = None
    stop: tuple[str, ...] = ()
    context_size: int = 2048
    #: the family's control strings (FIM markers, end markers); removed from user text
    #: so that code which merely mentions them cannot restructure the prompt
    sentinels: tuple[str, ...] = ()

    @property
    def supports_fim(self) -> bool:
        """Whether the model is prompted with a prefix *and* a suffix."""
        return self.fim_template is not None

    def build_prompt(self, prefix: str, suffix: str) -> str:
        """The text the model reads: a FIM prompt, or the prefix alone."""
        prefix = _strip_sentinels(prefix, self.sentinels)
        if self.fim_template is None:
            return prefix
        values = {"prefix": prefix, "suffix": _strip_sentinels(suffix, self.sentinels)}
        # Not str.format: code is full of braces, and format would choke on them.
        return _PLACEHOLDER.sub(lambda m: values[m.group(1)], self.fim_template)


def _strip_sentinels(text: str, sentinels: tuple[str, ...]) -> str:
    for token in sentinels:
        if token:
            text = text.replace(token, "")
    return text


PLAIN = ModelProfile(family="plain")

# Meta's reference infilling code formats prompts as "<PRE> {pre} <SUF>{suf} <MID>"
# (facebookresearch/codellama, llama/generation.py: infilling_prompt_tokens); Ollama's
# codellama page publishes the same string form. <EOT> ends the infill.
CODELLAMA = ModelProfile(
    family="codellama",
    fim_template="<PRE> {prefix} <SUF>{suffix} <MID>",
    stop=("<EOT>",),
    context_size=16384,
    sentinels=("<PRE>", "<SUF>", "<MID>", "<EOT>"),
)

# PSM order with <fim_prefix>/<fim_suffix>/<fim_middle>, as in the bigcode model cards
# and nuprl/MultiPL-E starcoder2.py (_fim_format, mode "PSM"); <file_sep> separates
# files in StarCoder2's repository-level training data, so it also ends a completion.
STARCODER2 = ModelProfile(
    family="starcoder2",
    fim_template="<fim_prefix>{prefix}<fim_suffix>{suffix}<fim_middle>",
    stop=("<|endoftext|>", "<file_sep>"),
    context_size=16384,
    sentinels=(
        "<fim_prefix>",
        "<fim_suffix>",
        "<fim_middle>",
        "<fim_pad>",
        "<file_sep>",
        "<|endoftext|>",
    ),
)

# QwenLM/Qwen2.5-Coder README, "File-Level Code Completion (Fill in the middle)":
# prompt = '<|fim_prefix|>' + prefix_code + '<|fim_suffix|>' + suffix_code + '<|fim_middle|>'
QWEN_CODER = ModelProfile(
    family="qwen2.5-coder",
    fim_template="<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>",
    stop=("<|endoftext|>", "<|fim_pad|>", "<|file_sep|>", "<|im_end|>"),
    context_size=32768,
    sentinels=(
        "<|fim_prefix|>",
        "<|fim_suffix|>",
        "<|fim_middle|>",
        "<|fim_pad|>",
        "<|file_sep|>",
        "<|repo_name|>",
        "<|endoftext|>",
        "<|im_start|>",
        "<|im_end|>",
    ),
)

# deepseek-ai/DeepSeek-Coder README, "Code Insertion": the markers use FULLWIDTH
# VERTICAL LINE (U+FF5C) and LOWER ONE EIGHTH BLOCK (U+2581), not ASCII "|" and "_";
# they are written as escapes so that nobody "fixes" them into ASCII.
_DS_BEGIN = "<\uff5cfim\u2581begin\uff5c>"
_DS_HOLE = "<\uff5cfim\u2581hole\uff5c>"
_DS_END = "<\uff5cfim\u2581end\uff5c>"
_DS_EOS = "<\uff5cend\u2581of\u2581sentence\uff5c>"
DEEPSEEK_CODER = ModelProfile(
    family="deepseek-coder",
    fim_template=_DS_BEGIN + "{prefix}" + _DS_HOLE + "{suffix}" + _DS_END,
    stop=(_DS_EOS, "<|EOT|>"),
    context_size=16384,
    sentinels=(_DS_BEGIN, _DS_HOLE, _DS_END, _DS_EOS, "<|EOT|>"),
)

# Suffix first: mistral-common's InstructTokenizerV2.encode_fim emits
# [BOS, SUFFIX, *suffix, PREFIX, *prefix]; mistralai/cookbook documents it as
# "<s>[SUFFIX]suffix[PREFIX] prefix" (the space is SentencePiece's dummy prefix, which
# the tokenizer adds itself). The end is the EOS token </s>, which every backend stops
# at natively; it is not a text stop because "</s>" is also HTML's strikethrough tag.
CODESTRAL = ModelProfile(
    family="codestral",
    fim_template="[SUFFIX]{suffix}[PREFIX]{prefix}",
    stop=(),
    context_size=32768,
    sentinels=("[SUFFIX]", "[PREFIX]", "[MIDDLE]"),
)

#: every known profile by family name (for configuration that names a family outright)
PROFILES: Mapping[str, ModelProfile] = {
    p.family: p for p in (PLAIN, CODELLAMA, STARCODER2, QWEN_CODER, DEEPSEEK_CODER, CODESTRAL)
}

# Name patterns, tried in order against a normalised name (lower case, every run of
# separators turned into "-"): "Qwen2.5-Coder-1.5B" -> "qwen2-5-coder-1-5b".
_NAME_PATTERNS: tuple[tuple[re.Pattern[str], ModelProfile], ...] = (
    # Mamba-Codestral is instruct-only: it has no FIM (Mistral's answer on the model page)
    (re.compile(r"(?<!mamba-)codestral"), CODESTRAL),
    (re.compile(r"qwen[0-9-]*-?coder"), QWEN_CODER),
    (re.compile(r"deepseek-?coder"), DEEPSEEK_CODER),
    (re.compile(r"starcoder"), STARCODER2),
    (re.compile(r"code-?llama"), CODELLAMA),
)

# The text of the FIM-prefix token in each family's vocabulary.
_FIM_PRE_TEXTS: Mapping[str, ModelProfile] = {
    "<|fim_prefix|>": QWEN_CODER,
    "<fim_prefix>": STARCODER2,
    _DS_BEGIN: DEEPSEEK_CODER,
    "<PRE>": CODELLAMA,
    "\u2581<PRE>": CODELLAMA,  # SentencePiece spelling of " <PRE>"
    "[PREFIX]": CODESTRAL,
}

_FIM_ID_KEYS = (
    "tokenizer.ggml.fim_pre_token_id",
    "tokenizer.ggml.prefix_token_id",  # the name older GGUF files use
)


def _normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _from_name(name: str) -> ModelProfile | None:
    text = _normalise(name)
    if not text:
        return None
    for pattern, profile in _NAME_PATTERNS:
        if pattern.search(text):
            return profile
    return None


def _has_fim_ids(metadata: Mapping[str, str]) -> bool:
    for key in _FIM_ID_KEYS:
        try:
            if int(metadata.get(key, "-1")) >= 0:
                return True
        except ValueError:
            continue
    return False


def _from_fim_tokens(metadata: Mapping[str, str]) -> ModelProfile | None:
    text = metadata.get(FIM_PRE_TEXT_KEY, "").strip()
    if text in _FIM_PRE_TEXTS:
        return _FIM_PRE_TEXTS[text]
    if not _has_fim_ids(metadata):
        return None
    arch = metadata.get("general.architecture", "").lower()
    pre = metadata.get("tokenizer.ggml.pre", "").lower()
    if "deepseek-coder" in pre:
        return DEEPSEEK_CODER
    if pre.startswith("qwen") or arch.startswith("qwen"):
        return QWEN_CODER
    if arch.startswith("starcoder") or pre == "starcoder":
        return STARCODER2
    if arch == "llama" and metadata.get("tokenizer.ggml.model", "") == "llama":
        # SentencePiece + FIM ids and no telling name: Code Llama is by far the most
        # common such model (Codestral GGUFs carry their name in general.name).
        return CODELLAMA
    return None


def _with_context(profile: ModelProfile, metadata: Mapping[str, str]) -> ModelProfile:
    arch = metadata.get("general.architecture", "")
    try:
        trained = int(metadata.get(f"{arch}.context_length", "0"))
    except ValueError:
        trained = 0
    if trained > 0 and profile.fim_template is not None:
        return replace(profile, context_size=trained)
    return profile


def profile_for(name: str, metadata: Mapping[str, str] | None = None) -> ModelProfile:
    """The profile for a model, from its GGUF metadata and its name.

    Evidence is weighed strongest first: the names the GGUF records about itself
    (``general.name``, ``general.basename``); a decisive ``general.architecture``
    (``starcoder2``); then ``name`` (a file path, a file name or a server's model tag
    such as ``codellama:7b-code``, matched case-insensitively); then the vocabulary's
    FIM tokens (:data:`FIM_PRE_TEXT_KEY`, ``tokenizer.ggml.fim_pre_token_id`` with
    ``tokenizer.ggml.pre`` and the architecture). A model nothing identifies gets
    :data:`PLAIN`: no FIM, completion from the prefix alone, which is always safe.

    When the metadata records the trained context length, it replaces the family's
    default ``context_size``.
    """
    md: Mapping[str, str] = metadata or {}
    for key in ("general.name", "general.basename"):
        found = _from_name(md.get(key, ""))
        if found is not None:
            return _with_context(found, md)
    if md.get("general.architecture", "").lower() == "starcoder2":
        return _with_context(STARCODER2, md)
    # A path: only its last part names the model ("/opt/codellama/plain.gguf" is plain).
    found = _from_name(re.split(r"[\\/]", name)[-1])
    if found is not None:
        return _with_context(found, md)
    found = _from_fim_tokens(md)
    if found is not None:
        return _with_context(found, md)
    return PLAIN
