"""Backends by name, from the ``guardcode.backends`` entry-point group.

Guardcode's own backends are declared in pyproject.toml; another installed package can
add one by declaring an entry point in the same group.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points

from guardcode.models.base import Backend, BackendError, BackendUnavailable, ModelOptions

GROUP = "guardcode.backends"


def _entry_points() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def available_backends() -> list[str]:
    """The names ``ModelOptions.backend`` may take, sorted."""
    return sorted(_entry_points())


def create_backend(options: ModelOptions) -> Backend:
    """Construct the backend ``options.backend`` names (not started: call ``start()``).

    Raises :class:`BackendError` for an unknown name, listing the available ones, and
    :class:`BackendUnavailable` when the backend's module cannot be imported.
    """
    found = _entry_points()
    entry = found.get(options.backend)
    if entry is None:
        names = ", ".join(sorted(found)) or "none installed"
        raise BackendError(f"unknown model backend {options.backend!r}; available: {names}")
    try:
        factory = entry.load()
    except ImportError as exc:
        raise BackendUnavailable(
            f"model backend {options.backend!r} cannot be imported: {exc}"
        ) from None
    backend = factory(options)
    if not isinstance(backend, Backend):
        raise BackendError(f"model backend {options.backend!r} does not implement Backend")
    return backend
