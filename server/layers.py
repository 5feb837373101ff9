"""Configuration layers: defaults < admin policy < workspace < editor options.

Each layer is a plain nested mapping with a source name. They are merged key by
key; every leaf remembers which layer set it, so ``guardcode config show`` can
say where each value came from. The admin policy may list ``locked`` keys: a
lower layer cannot weaken those (a rule's action may only get stricter; any
other locked key keeps the policy's value).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from guardcode.server.config import Config

POLICY_ENV = "GUARDCODE_POLICY"
WORKSPACE_FILE = ".guardcode.toml"
DEFAULT_SOURCE = "default"
_ACTION_STRENGTH = {"off": 0, "warn": 1, "block": 2}
_PATH_KEYS = {"model.replay_file", "model.replay_prompt_log", "audit.path"}
#: a model name or a built-in pack name, unless it looks like a file
_MAYBE_PATH_KEYS = {"model.name", "prompt.rule_pack"}
_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


class ConfigError(ValueError):
    """A configuration file or value is wrong; the message says where and what."""


@dataclass(frozen=True)
class Layer:
    source: str
    values: Mapping[str, Any]
    #: the file the layer came from, to point errors at a line
    path: Path | None = None


@dataclass
class Resolved:
    """The effective configuration and where each dotted key's value came from."""

    config: Config
    sources: dict[str, str] = field(default_factory=dict)
    #: lower-layer values that a locked policy key overrode
    overridden: list[str] = field(default_factory=list)


def system_policy_path() -> Path:
    from platformdirs import site_config_path

    return site_config_path("guardcode") / "policy.toml"


def policy_path() -> Path | None:
    """The admin policy file: ``$GUARDCODE_POLICY``, else the system path if present."""
    if env := os.environ.get(POLICY_ENV):
        return Path(env)
    path = system_policy_path()
    return path if path.is_file() else None


def read_toml(path: Path, source: str) -> Layer:
    """Parse one TOML file; errors become ``file:line:column: what is wrong``."""
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such configuration file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {type(exc).__name__}") from exc
    try:
        values = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        if match := _TOML_POSITION.search(message):
            what = _TOML_POSITION.sub("", message).strip()
            raise ConfigError(f"{path}:{match[1]}:{match[2]}: {what}") from exc
        raise ConfigError(f"{path}: {message}") from exc
    _anchor_paths(values, path.parent)
    return Layer(source=source, values=values, path=path)


def _looks_like_path(dotted: str, value: str) -> bool:
    if dotted in _PATH_KEYS:
        return True
    return dotted in _MAYBE_PATH_KEYS and ("/" in value or value.endswith((".toml", ".gguf")))


def _anchor_paths(values: dict[str, Any], folder: Path) -> None:
    """Relative paths in a file mean "next to this file", wherever it is read from."""
    for dotted, value in list(_flatten(values)):
        if isinstance(value, str) and value and _looks_like_path(dotted, value):
            path = Path(value).expanduser()
            if not path.is_absolute():
                _set(values, dotted, str(folder / path))


def _flatten(values: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in values.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            yield from _flatten(value, f"{dotted}.")
        else:
            yield dotted, value


def _set(tree: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    node = tree
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[leaf] = value


def _get(tree: Mapping[str, Any], dotted: str) -> Any:
    node: Any = tree
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _line_of(path: Path, dotted: str) -> int | None:
    """Best effort: the line in ``path`` that sets the last part of ``dotted``."""
    leaf = dotted.rsplit(".", 1)[-1]
    pattern = re.compile(rf"^\s*\"?{re.escape(leaf)}\"?\s*[=\]]")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for number, line in enumerate(lines, start=1):
        if pattern.search(line) or line.strip().startswith(f"[{dotted}"):
            return number
    return None


def _explain(error: ValidationError, layer: Layer) -> str:
    """One line per problem, pointing at the file and line where we can."""
    problems = []
    for item in error.errors():
        dotted = ".".join(str(part) for part in item["loc"])
        where = layer.source
        if layer.path is not None:
            line = _line_of(layer.path, dotted)
            where = f"{layer.path}:{line}" if line else str(layer.path)
        # item["msg"] only: pydantic's full rendering echoes the input value
        problems.append(f"{where}: {dotted}: {item['msg']}")
    return "\n".join(problems)


def _validate(values: Mapping[str, Any], layer: Layer) -> Config:
    try:
        return Config.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, layer)) from exc


def _locked_keys(policy: Layer | None) -> list[str]:
    if policy is None:
        return []
    locked = policy.values.get("locked", [])
    if not isinstance(locked, list) or not all(isinstance(k, str) for k in locked):
        raise ConfigError(f"{policy.path or policy.source}: locked must be a list of dotted keys")
    return locked


def _is_locked(dotted: str, locked: list[str]) -> str | None:
    for key in locked:
        if dotted == key or dotted.startswith(f"{key}."):
            return key
    return None


def resolve(layers: list[Layer]) -> Resolved:
    """Merge the layers in order (lowest first) and validate the result.

    The first layer named ``policy`` (if any) supplies ``locked``. Each layer is
    also validated on its own merged view, so an error names the file at fault.
    """
    policy = next((layer for layer in layers if layer.source.startswith("policy")), None)
    locked = _locked_keys(policy)
    defaults = Config().model_dump(mode="json")
    merged: dict[str, Any] = {}
    sources: dict[str, str] = {}
    overridden: list[str] = []
    for layer in layers:
        values = {k: v for k, v in layer.values.items() if not (layer is policy and k == "locked")}
        for dotted, value in _flatten(values):
            key = _is_locked(dotted, locked)
            if key is not None and policy is not None and layer is not policy:
                floor = _get(policy.values, dotted)
                if floor is None:
                    floor = _get(defaults, dotted)
                if not _weakens_ok(dotted, floor, value):
                    overridden.append(f"{dotted} (from {layer.source}; locked by {policy.source})")
                    continue
            _set(merged, dotted, value)
            sources[dotted] = layer.source
        _validate(merged, layer)
    config = _validate(merged, layers[-1] if layers else Layer(DEFAULT_SOURCE, {}))
    return Resolved(config=config, sources=sources, overridden=overridden)


def _weakens_ok(dotted: str, floor: Any, value: Any) -> bool:
    """May a lower layer replace a locked policy value with ``value``?"""
    if dotted.startswith("rules.") and dotted.endswith(".action"):
        return _ACTION_STRENGTH.get(str(value), -1) >= _ACTION_STRENGTH.get(str(floor), 3)
    return value == floor


def effective_items(resolved: Resolved) -> Iterator[tuple[str, Any, str]]:
    """Every leaf of the effective configuration with its source."""
    dumped = resolved.config.model_dump(mode="json")
    for dotted, value in _flatten(dumped):
        yield dotted, value, resolved.sources.get(dotted, DEFAULT_SOURCE)


def find_workspace_file(start: Path) -> Path | None:
    """The nearest ``.guardcode.toml`` at or above ``start``."""
    start = start.resolve()
    for folder in [start, *start.parents]:
        candidate = folder / WORKSPACE_FILE
        if candidate.is_file():
            return candidate
    return None


def load(
    workspace_file: Path | None = None,
    editor_options: Mapping[str, Any] | None = None,
) -> Resolved:
    """Read every layer from disk and resolve them. Raises :class:`ConfigError`."""
    layers: list[Layer] = []
    if (policy := policy_path()) is not None:
        layers.append(read_toml(policy, f"policy:{policy}"))
    if workspace_file is not None:
        layers.append(read_toml(workspace_file, f"workspace:{workspace_file}"))
    if editor_options:
        layers.append(Layer(source="editor", values=editor_options))
    return resolve(layers)
