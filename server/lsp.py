"""LSP glue: thin async handlers that read state, call the pipeline, convert types.

Ghost text is ``textDocument/inlineCompletion`` (LSP 3.18); clients without it
get ``textDocument/completion`` with one item whose text edit inserts the
whole multi-line completion. A newer request for a document supersedes the
older one (which then answers empty); ``$/cancelRequest`` cancels the handler
task and, through it, the model call.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pygls.exceptions import FeatureRequestError
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from guardcode.guardrails.audit import relative_path
from guardcode.models.base import BackendError
from guardcode.prompts.render import RulePackError
from guardcode.server import __version__, layers, logs
from guardcode.server.app import Assembler
from guardcode.server.languages import language_for_path
from guardcode.server.pipeline import CompletionInput, CompletionOutcome, Pipeline
from guardcode.server.protocol import GuardcodeProtocol

log = logging.getLogger("guardcode.lsp")


class GuardcodeServer(LanguageServer):
    """The language server and the state its handlers share."""

    def __init__(self, config_file: Path | None = None) -> None:
        super().__init__(
            "guardcode",
            __version__,
            protocol_cls=GuardcodeProtocol,
            text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental,
        )
        self.config_file = config_file
        self.workspace_file: Path | None = config_file
        self.workspace_root = ""
        self.editor_options: dict[str, Any] = {}
        self.resolved = layers.resolve([])
        self.assembler = Assembler()
        self.pipeline: Pipeline | None = None
        self._pipeline_lock = asyncio.Lock()
        self._inflight: dict[str, asyncio.Task[CompletionOutcome]] = {}
        self._shown_errors: set[str] = set()

    # pygls puts str(error) into a message; an error's text can quote a request's params
    def report_server_error(self, error: Exception, source: Any) -> None:
        if isinstance(self.protocol, GuardcodeProtocol) and self.protocol.answer_exception(error):
            return
        if source is FeatureRequestError:
            return
        log.error("internal error: %s", type(error).__name__)
        self.tell(lsp.MessageType.Error, f"guardcode: internal error ({type(error).__name__})")

    def tell(self, kind: lsp.MessageType, message: str, show: bool = False) -> None:
        """A log message for the client's log; ``show`` also pops it up, once per text."""
        self.window_log_message(lsp.LogMessageParams(type=kind, message=message))
        if show and message not in self._shown_errors:
            self._shown_errors.add(message)
            self.window_show_message(lsp.ShowMessageParams(type=kind, message=message))

    def configure(self, editor_options: dict[str, Any]) -> bool:
        """Apply a new editor layer; on error keep the last good configuration."""
        try:
            resolved = layers.load(self.workspace_file, editor_options)
        except layers.ConfigError as exc:
            self.tell(
                lsp.MessageType.Error,
                f"guardcode: invalid configuration, keeping the last good one:\n{exc}",
                show=True,
            )
            return False
        self.resolved, self.editor_options = resolved, editor_options
        for item in resolved.overridden:
            self.tell(lsp.MessageType.Warning, f"guardcode: ignored {item}")
        logs.configure(resolved.config.log.level)
        self.pipeline = None
        return True

    async def ensure_pipeline(self) -> Pipeline | None:
        async with self._pipeline_lock:
            if self.pipeline is None or self.pipeline.config != self.resolved.config:
                try:
                    self.pipeline = await self.assembler.pipeline(self.resolved.config)
                except (BackendError, RulePackError, ValueError, OSError) as exc:
                    self.tell(lsp.MessageType.Error, f"guardcode: cannot start: {exc}", show=True)
                    self.pipeline = None
            return self.pipeline

    async def complete(
        self, uri: str, position: lsp.Position, method: str
    ) -> CompletionOutcome | None:
        """Run the pipeline for one request; ``None`` when superseded or not ready."""
        pipeline = await self.ensure_pipeline()
        if pipeline is None:
            return None
        try:
            document = self.workspace.get_text_document(uri)
            text = document.source
            offset = min(max(document.offset_at_position(position), 0), len(text))
        except (OSError, UnicodeDecodeError, IndexError, ValueError) as exc:
            # a document the client never opened and that cannot be read from disk
            self.tell(
                lsp.MessageType.Warning,
                f"guardcode: cannot read the document ({type(exc).__name__})",
            )
            return None
        path = Path(to_fs_path(uri) or document.filename or "untitled")
        request = CompletionInput(
            text=text,
            offset=offset,
            method=method,
            cache_key=uri,
            language=document.language_id or language_for_path(path),
            workspace=self.workspace_root,
            file_path=(
                relative_path(path.resolve(), Path(self.workspace_root).resolve())
                if self.workspace_root
                else str(path)
            ),
        )
        if (older := self._inflight.get(uri)) is not None and not older.done():
            older.cancel()
        task = asyncio.ensure_future(pipeline.complete(request))
        self._inflight[uri] = task
        try:
            outcome = await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise
            return None
        finally:
            if self._inflight.get(uri) is task:
                del self._inflight[uri]
        self._report(outcome)
        return outcome

    def _report(self, outcome: CompletionOutcome) -> None:
        if outcome.error:
            self.tell(
                lsp.MessageType.Error,
                f"guardcode: {outcome.note}",
                show=outcome.error.startswith("model:"),
            )
        elif outcome.note:
            kind = lsp.MessageType.Warning if outcome.decision != "accept" else lsp.MessageType.Info
            self.tell(kind, f"guardcode: {outcome.note}")


def _options(value: Any) -> dict[str, Any] | None:
    """The Guardcode part of editor settings: ``{"guardcode": {...}}`` or the bare table."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        return None
    inner = value.get("guardcode", value)
    return inner if isinstance(inner, dict) else None


def _wants_fallback(server: GuardcodeServer) -> bool:
    mode = server.resolved.config.completion.fallback
    if mode != "auto":
        return mode == "always"
    text_document = server.client_capabilities.text_document
    return text_document is None or text_document.inline_completion is None


def build_server(config_file: Path | None = None) -> GuardcodeServer:
    """A server with every feature registered; ``config_file`` is the workspace layer."""
    server = GuardcodeServer(config_file)

    @server.feature(lsp.INITIALIZE)
    def initialize(ls: GuardcodeServer, params: lsp.InitializeParams) -> None:
        root = params.root_uri or (
            params.workspace_folders[0].uri if params.workspace_folders else None
        )
        if root and (root_path := to_fs_path(root)):
            ls.workspace_root = root_path
            if ls.config_file is None:
                candidate = Path(root_path) / layers.WORKSPACE_FILE
                ls.workspace_file = candidate if candidate.is_file() else None
        options = _options(params.initialization_options)
        if options is None:
            ls.tell(
                lsp.MessageType.Error,
                "guardcode: initializationOptions must be an object; "
                "using the configuration files only",
                show=True,
            )
            options = {}
        if not ls.configure(options) and not ls.configure({}):
            ls.workspace_file = None
            ls.configure({})

    @server.feature(lsp.INITIALIZED)
    async def initialized(ls: GuardcodeServer, params: lsp.InitializedParams) -> None:
        # load the model now so the first completion does not pay for it
        await ls.ensure_pipeline()

    @server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(
        ls: GuardcodeServer, params: lsp.DidChangeConfigurationParams
    ) -> None:
        options = _options(params.settings)
        if not options:
            pulled = await ls.workspace_configuration_async(
                lsp.ConfigurationParams(items=[lsp.ConfigurationItem(section="guardcode")])
            )
            options = _options(pulled[0] if pulled else None)
        if options is None:
            ls.tell(
                lsp.MessageType.Error,
                "guardcode: settings must be an object; keeping the last good configuration",
                show=True,
            )
            return
        if ls.configure(options):
            await ls.ensure_pipeline()

    @server.feature(lsp.TEXT_DOCUMENT_INLINE_COMPLETION, lsp.InlineCompletionOptions())
    async def inline_completion(
        ls: GuardcodeServer, params: lsp.InlineCompletionParams
    ) -> lsp.InlineCompletionList:
        outcome = await ls.complete(
            params.text_document.uri, params.position, lsp.TEXT_DOCUMENT_INLINE_COMPLETION
        )
        if outcome is None or not outcome.completion:
            return lsp.InlineCompletionList(items=[])
        here = lsp.Range(start=params.position, end=params.position)
        return lsp.InlineCompletionList(
            items=[lsp.InlineCompletionItem(insert_text=outcome.completion, range=here)]
        )

    @server.feature(lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(resolve_provider=False))
    async def completion(ls: GuardcodeServer, params: lsp.CompletionParams) -> lsp.CompletionList:
        empty = lsp.CompletionList(is_incomplete=True, items=[])
        if not _wants_fallback(ls):
            return empty
        outcome = await ls.complete(
            params.text_document.uri, params.position, lsp.TEXT_DOCUMENT_COMPLETION
        )
        if outcome is None or not outcome.completion:
            return empty
        first_line = (
            outcome.completion.strip().splitlines()[0] if outcome.completion.strip() else ""
        )
        here = lsp.Range(start=params.position, end=params.position)
        return lsp.CompletionList(
            is_incomplete=True,
            items=[
                lsp.CompletionItem(
                    label=first_line[:60] or "(whitespace)",
                    kind=lsp.CompletionItemKind.Snippet,
                    detail="Guardcode",
                    sort_text="0",
                    filter_text="",
                    insert_text_format=lsp.InsertTextFormat.PlainText,
                    text_edit=lsp.TextEdit(range=here, new_text=outcome.completion),
                    documentation=lsp.MarkupContent(
                        kind=lsp.MarkupKind.PlainText, value=outcome.completion
                    ),
                )
            ],
        )

    @server.feature(lsp.SHUTDOWN)
    async def shutdown(ls: GuardcodeServer, params: None) -> None:
        for task in list(ls._inflight.values()):
            task.cancel()
        await ls.assembler.aclose()

    return server
