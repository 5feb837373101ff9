"""Malformed JSON-RPC, unknown methods and bad params: an error, and the server keeps serving."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import Scenario
from tests.e2e.rawclient import RawServer

DOC_URI_NAME = "robust.py"


async def _started(scenario: Scenario) -> RawServer:
    server = await RawServer.start(scenario.root / "stderr.log")
    replies = scenario.write_replies(["return 1"])
    reply = await server.initialize(scenario.root, {"guardcode": scenario.options(replies)})
    assert "capabilities" in reply["result"]
    return server


async def _still_serves(server: RawServer, root: Path) -> None:
    uri = (root / DOC_URI_NAME).as_uri()
    server.notify(
        "textDocument/didOpen",
        {
            "textDocument": {
                "uri": uri,
                "languageId": "python",
                "version": 1,
                "text": "def f():\n    \n",
            }
        },
    )
    reply = await server.request(
        "textDocument/completion",
        {"textDocument": {"uri": uri}, "position": {"line": 1, "character": 4}},
    )
    assert reply["result"]["items"][0]["textEdit"]["newText"] == "return 1"


async def test_body_that_is_not_json_gets_a_parse_error(scenario: Scenario) -> None:
    server = await _started(scenario)
    server.send_body(b'{"jsonrpc": "2.0", "id": 7, "method": ')
    error = await server.response(None)
    assert error["error"]["code"] == -32700
    await _still_serves(server, scenario.root)
    assert await server.stop() == 0


async def test_message_that_is_not_an_object_gets_invalid_request(scenario: Scenario) -> None:
    server = await _started(scenario)
    server.send_body(b"[1, 2, 3]")
    error = await server.response(None)
    assert error["error"]["code"] == -32600
    await _still_serves(server, scenario.root)
    assert await server.stop() == 0


async def test_unknown_method_gets_method_not_found(scenario: Scenario) -> None:
    server = await _started(scenario)
    reply = await server.request("guardcode/noSuchMethod", {"x": 1})
    assert reply["error"]["code"] == -32601
    server.notify("guardcode/noSuchNotification", {})
    await _still_serves(server, scenario.root)
    assert await server.stop() == 0


async def test_request_with_wrong_params_gets_invalid_params(scenario: Scenario) -> None:
    server = await _started(scenario)
    reply = await server.request("textDocument/completion", {"textDocument": 5})
    assert reply["error"]["code"] == -32602
    await _still_serves(server, scenario.root)
    assert await server.stop() == 0


async def test_completion_for_a_document_never_opened_is_an_error_not_a_crash(
    scenario: Scenario,
) -> None:
    server = await _started(scenario)
    reply = await server.request(
        "textDocument/completion",
        {
            "textDocument": {"uri": (scenario.root / "missing.py").as_uri()},
            "position": {"line": 40, "character": 2},
        },
    )
    assert reply["result"]["items"] == []
    await _still_serves(server, scenario.root)
    assert await server.stop() == 0
