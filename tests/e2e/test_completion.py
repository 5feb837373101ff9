"""A completion travels the whole path through the real server over stdio."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from tests.conftest import SSN
from tests.e2e.conftest import Scenario, use_replies

DOC = "def total(items):\n    \n"
CURSOR = lsp.Position(line=1, character=4)


def completion_params(uri: str, position: lsp.Position = CURSOR) -> lsp.CompletionParams:
    return lsp.CompletionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=position
    )


async def complete(client: LanguageClient, uri: str) -> list[lsp.CompletionItem]:
    result = await client.text_document_completion_async(completion_params(uri))
    assert isinstance(result, lsp.CompletionList)
    return result.items


async def test_completion_arrives_as_one_multiline_text_edit(
    client: LanguageClient, scenario: Scenario
) -> None:
    await use_replies(
        client, scenario, ["total = sum(items)\n\n    return total  \n\nprint('next')"]
    )
    uri = scenario.doc("total.py", DOC, client)
    items = await complete(client, uri)
    assert len(items) == 1
    edit = items[0].text_edit
    assert isinstance(edit, lsp.TextEdit)
    assert edit.new_text == "total = sum(items)\n\n    return total"
    assert edit.range == lsp.Range(start=CURSOR, end=CURSOR)
    assert scenario.decisions()[-1] == "accept"


async def test_inline_completion_for_clients_that_support_it(
    inline_client: LanguageClient, scenario: Scenario
) -> None:
    await use_replies(inline_client, scenario, ["return len(items)"])
    uri = scenario.doc("inline.py", DOC, inline_client)
    result = await inline_client.text_document_inline_completion_async(
        lsp.InlineCompletionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            position=CURSOR,
            context=lsp.InlineCompletionContext(
                trigger_kind=lsp.InlineCompletionTriggerKind.Invoked
            ),
        )
    )
    assert isinstance(result, lsp.InlineCompletionList)
    assert [item.insert_text for item in result.items] == ["return len(items)"]
    # the popup fallback stays quiet so the model is not run twice per keystroke
    fallback = await inline_client.text_document_completion_async(completion_params(uri))
    assert fallback is not None and not fallback.items
    assert len(scenario.prompts()) == 1


async def test_completion_that_logs_an_ssn_is_blocked(
    client: LanguageClient, scenario: Scenario
) -> None:
    await use_replies(client, scenario, ['logger.info("ssn %s", patient.ssn)'])
    uri = scenario.doc(
        "blocked.py",
        "import logging\nlogger = logging.getLogger()\ndef show(patient):\n    \n",
        client,
    )
    result = await client.text_document_completion_async(
        completion_params(uri, lsp.Position(line=3, character=4))
    )
    assert result is not None and not result.items
    reasons = [m.message for m in client.log_messages if "blocked" in m.message]
    assert any("phi-in-log" in message for message in reasons)
    assert scenario.decisions()[-1] == "block"


async def test_model_never_receives_the_documents_ssn(
    client: LanguageClient, scenario: Scenario
) -> None:
    await use_replies(client, scenario, ["pass"])
    uri = scenario.doc("fixture.py", f'PATIENT = {{"ssn": "{SSN}"}}\n\ndef f():\n    \n', client)
    await client.text_document_completion_async(
        completion_params(uri, lsp.Position(line=3, character=4))
    )
    prompts = scenario.prompts()
    assert prompts, "the backend received no prompt"
    assert SSN not in prompts[-1]
    assert "<PHI:US_SSN>" in prompts[-1]
    assert "Coding rules for this file (HIPAA)" in prompts[-1]


async def test_full_and_incremental_changes_are_both_applied(
    client: LanguageClient, scenario: Scenario
) -> None:
    await use_replies(client, scenario, ["pass"])
    uri = scenario.doc("sync.py", "x = 1\n", client)
    whole = lsp.TextDocumentContentChangeWholeDocument(text="def a():\n    \n")
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[whole],
        )
    )
    partial = lsp.TextDocumentContentChangePartial(
        range=lsp.Range(
            start=lsp.Position(line=0, character=4), end=lsp.Position(line=0, character=5)
        ),
        text="alpha",
    )
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=3),
            content_changes=[partial],
        )
    )
    await client.text_document_completion_async(
        completion_params(uri, lsp.Position(line=1, character=4))
    )
    assert scenario.prompts()[-1].endswith("def alpha():\n    ")


async def test_cancel_request_cancels_the_model_call(
    client: LanguageClient, scenario: Scenario
) -> None:
    await use_replies(client, scenario, [{"text": "slow()", "delay_s": 60}, "fast()"])
    uri = scenario.doc("cancel.py", DOC, client)
    pending = asyncio.wrap_future(
        client.protocol.send_request(
            lsp.TEXT_DOCUMENT_COMPLETION, completion_params(uri), msg_id="slow-request"
        )
    )
    await _until(lambda: len(scenario.prompts()) == 1)
    client.protocol.notify(lsp.CANCEL_REQUEST, lsp.CancelParams(id="slow-request"))
    with pytest.raises(Exception, match="cancel"):
        await asyncio.wait_for(pending, timeout=10)
    await _until(lambda: "cancelled" in scenario.decisions())
    # the server is free again: the next request is answered by the next reply
    items = await complete(client, uri)
    assert items[0].text_edit.new_text == "fast()"


async def test_newer_request_supersedes_older(client: LanguageClient, scenario: Scenario) -> None:
    await use_replies(client, scenario, [{"text": "older()", "delay_s": 60}, "newer()"])
    uri = scenario.doc("supersede.py", DOC, client)
    older = asyncio.ensure_future(client.text_document_completion_async(completion_params(uri)))
    await _until(lambda: len(scenario.prompts()) == 1)
    newer = await complete(client, uri)
    assert newer[0].text_edit.new_text == "newer()"
    older_result = await asyncio.wait_for(older, timeout=10)
    assert older_result is not None and not older_result.items


async def test_invalid_option_is_reported_and_last_good_config_kept(
    client: LanguageClient, scenario: Scenario
) -> None:
    await use_replies(client, scenario, ["print(patient.ssn)"])
    await use_replies(client, scenario, ["unused"], rules={"phi-in-log": {"action": "maybe"}})
    await _until(lambda: any("invalid configuration" in m.message for m in client.messages))
    message = next(m for m in client.messages if "invalid configuration" in m.message)
    assert message.type == lsp.MessageType.Error
    assert "rules.phi-in-log.action" in message.message
    uri = scenario.doc("still.py", "def f(patient):\n    \n", client)
    result = await client.text_document_completion_async(
        completion_params(uri, lsp.Position(line=1, character=4))
    )
    # still served, under the last good configuration: the replies before the bad one, blocking
    assert result is not None and not result.items
    assert scenario.decisions()[-1] == "block"


async def _until(condition, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)
