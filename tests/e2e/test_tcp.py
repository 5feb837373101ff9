"""`guardcode serve --tcp HOST:PORT` speaks the same LSP over a loopback socket."""

from __future__ import annotations

import asyncio
import json
import socket
import sys

from tests.e2e.conftest import Scenario


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def _connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    for _ in range(200):
        try:
            return await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
    raise AssertionError("the server never listened")


async def test_serve_over_tcp(scenario: Scenario) -> None:
    port = _free_port()
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "guardcode.server",
        "--tcp",
        f"127.0.0.1:{port}",
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        reader, writer = await _connect(port)
        replies = scenario.write_replies(["return 1"])
        body = json.dumps(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "processId": None,
                    "rootUri": scenario.root.as_uri(),
                    "capabilities": {},
                    "initializationOptions": scenario.options(replies),
                },
            }
        ).encode()
        writer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        await writer.drain()
        length = 0
        while (line := await asyncio.wait_for(reader.readline(), 20)) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        reply = json.loads(await reader.readexactly(length))
        assert reply["id"] == 1
        assert reply["result"]["serverInfo"]["name"] == "guardcode"
        writer.close()
    finally:
        server.kill()
        await server.wait()


async def test_bad_tcp_address_is_a_usage_error() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "guardcode.server",
        "--tcp",
        "nonsense",
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await process.communicate()
    assert process.returncode == 2
    assert b"HOST:PORT" in stderr
