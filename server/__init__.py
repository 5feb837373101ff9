"""The Guardcode application: LSP server, completion pipeline, CLI and configuration."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("guardcode")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
