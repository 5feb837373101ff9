"""Canary: the document's synthetic PHI appears nowhere it must not.

Not in what the backend received, the audit store, the server's log or its
stderr — across a normal completion, a blocked one, a cancelled one, and
malformed messages that carry the PHI themselves.
"""

from __future__ import annotations

import asyncio

from tests.conftest import DOB, NAME, SSN
from tests.e2e.conftest import Scenario
from tests.e2e.rawclient import RawServer

CANARY_DOC = (
    "import logging\n"
    "logger = logging.getLogger(__name__)\n"
    f'PATIENT = {{"name": "{NAME}", "ssn": "{SSN}", "dob": "DOB: {DOB}"}}\n'
    f"# patient: {NAME}, born {DOB}\n"
    "def show(patient):\n"
    "    \n"
)
CANARIES = [SSN, NAME, DOB, SSN.replace("-", "")]


async def test_phi_never_leaves_the_document(scenario: Scenario) -> None:
    replies = scenario.write_replies(
        [
            "return patient",
            'logger.info("patient %s", patient.ssn)',
            {"text": "slow()", "delay_s": 60},
        ]
    )
    server = await RawServer.start(scenario.root / "stderr.log")
    await server.initialize(
        scenario.root, {"guardcode": {**scenario.options(replies), "log": {"level": "debug"}}}
    )
    uri = (scenario.root / "canary.py").as_uri()
    server.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": CANARY_DOC}},
    )
    position = {"textDocument": {"uri": uri}, "position": {"line": 5, "character": 4}}

    accepted = await server.request("textDocument/completion", position)
    assert accepted["result"]["items"]
    blocked = await server.request("textDocument/completion", position)
    assert blocked["result"]["items"] == []

    server.send({"id": "slow", "method": "textDocument/completion", "params": position})
    await asyncio.sleep(0.5)
    server.notify("$/cancelRequest", {"id": "slow"})
    cancelled = await server.response("slow")
    assert "error" in cancelled

    # malformed messages that themselves carry the PHI
    server.send(
        {
            "id": 99,
            "method": "textDocument/completion",
            "params": {"textDocument": SSN, "position": NAME},
        }
    )
    assert "error" in await server.response(99)
    server.notify("textDocument/didChange", {"textDocument": {"uri": uri}, "contentChanges": SSN})
    server.send_body(f'{{"broken": "{SSN} {NAME}'.encode())
    await server.response(None)
    assert await server.stop() == 0

    prompts = scenario.prompts()
    assert len(prompts) == 3
    places = {
        "prompts sent to the backend": "\n".join(prompts),
        "server stderr": (scenario.root / "stderr.log").read_text(
            encoding="utf-8", errors="replace"
        ),
        "client-visible messages": repr(server.notifications),
    }
    for path in scenario.root.glob("audit.sqlite3*"):
        places[f"audit store {path.name}"] = path.read_bytes().decode("latin-1")
    assert any(name.startswith("audit store") for name in places)
    for where, content in places.items():
        for canary in CANARIES:
            assert canary not in content, f"{canary!r} leaked into {where}"
