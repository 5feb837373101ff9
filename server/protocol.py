"""A pygls protocol that answers malformed messages instead of dropping them.

pygls logs and drops a request whose params do not fit the method's schema, so
the client waits forever; and it cannot answer a body that is not JSON. Here a
malformed request gets an ``InvalidParams`` error for its id, and unreadable
bodies get JSON-RPC's ``Parse error`` / ``Invalid request`` with a null id.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from pygls.exceptions import JsonRpcException, JsonRpcInvalidRequest, JsonRpcParseError
from pygls.protocol import LanguageServerProtocol

log = logging.getLogger("guardcode.protocol")


class _Answered:
    """Stands in for a message that already got its error response."""


ANSWERED = _Answered()


class GuardcodeProtocol(LanguageServerProtocol):
    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if "id" in data and "method" in data:
                log.warning(
                    "malformed %s request answered with %s", _method_name(data), type(exc).__name__
                )
                self._send_response(data["id"], error=exc.to_response_error())
                return ANSWERED
            raise

    def handle_message(self, message: Any) -> None:
        if message is ANSWERED:
            return
        if not hasattr(message, "jsonrpc"):
            self.answer_unreadable(JsonRpcInvalidRequest())
            return
        super().handle_message(message)

    def answer_unreadable(self, error: JsonRpcException) -> None:
        """Answer a message we could not read; JSON-RPC says: null id."""
        log.warning("unreadable message answered with %s", type(error).__name__)
        self._send_data(
            {"jsonrpc": "2.0", "id": None, "error": {"code": error.code, "message": error.message}}
        )

    def answer_exception(self, error: Exception) -> bool:
        """Answer what pygls' reader caught; True when it was a message problem."""
        if isinstance(error, json.JSONDecodeError | UnicodeDecodeError):
            self.answer_unreadable(JsonRpcParseError())
            return True
        return False


def _method_name(data: dict[str, Any]) -> str:
    method = data.get("method")
    # a method name is protocol vocabulary, but cap it: it comes from the wire
    return method[:64] if isinstance(method, str) else "?"
