"""A bare JSON-RPC client over the server's stdio, for bytes no real client sends.

pytest-lsp's client only sends well-formed messages and forwards stderr; these
tests need to send malformed ones and to keep stderr in a file to search it.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

SERVER = [sys.executable, "-m", "guardcode.server"]


class RawServer:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.notifications: list[dict[str, Any]] = []
        self._next_id = 0

    @classmethod
    async def start(cls, stderr: Path) -> RawServer:
        with stderr.open("wb") as sink:
            process = await asyncio.create_subprocess_exec(
                *SERVER, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=sink
            )
        return cls(process)

    def send_body(self, body: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def send(self, message: dict[str, Any]) -> None:
        self.send_body(json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8"))

    def notify(self, method: str, params: Any) -> None:
        self.send({"method": method, "params": params})

    async def read(self, timeout: float = 20.0) -> dict[str, Any]:
        assert self.process.stdout is not None
        length = 0
        while True:
            line = await asyncio.wait_for(self.process.stdout.readline(), timeout)
            if not line:
                raise EOFError("server closed its output")
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
            elif line in (b"\r\n", b"\n") and length:
                body = await asyncio.wait_for(self.process.stdout.readexactly(length), timeout)
                return json.loads(body)

    async def response(self, request_id: Any) -> dict[str, Any]:
        """Read until the response to ``request_id``; keep what came before it."""
        while True:
            message = await self.read()
            if "method" in message and "id" in message:
                # a request from the server (workspace/configuration): answer empty
                self.send({"id": message["id"], "result": [None]})
            elif "method" in message:
                self.notifications.append(message)
            elif message.get("id") == request_id:
                return message

    async def request(self, method: str, params: Any) -> dict[str, Any]:
        self._next_id += 1
        self.send({"id": self._next_id, "method": method, "params": params})
        return await self.response(self._next_id)

    async def initialize(self, root: Path, options: dict[str, Any]) -> dict[str, Any]:
        reply = await self.request(
            "initialize",
            {
                "processId": None,
                "rootUri": root.as_uri(),
                "capabilities": {},
                "initializationOptions": options,
            },
        )
        self.notify("initialized", {})
        return reply

    async def stop(self) -> int:
        try:
            await self.request("shutdown", None)
            self.notify("exit", None)
            return await asyncio.wait_for(self.process.wait(), 10)
        finally:
            if self.process.returncode is None:
                self.process.kill()
                await self.process.wait()
