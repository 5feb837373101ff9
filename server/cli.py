"""The ``guardcode`` command line.

Exit codes: 0 success (a blocked completion is an answer), 1 a runtime error
(backend down, missing file, position outside the file), 2 a usage or
configuration error. Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from guardcode.guardrails.audit import AuditError, AuditLog, relative_path
from guardcode.models.base import BackendError
from guardcode.prompts.render import RulePackError
from guardcode.server import __version__, layers, logs
from guardcode.server.app import Assembler
from guardcode.server.context import PositionError, offset_at
from guardcode.server.languages import language_for_path
from guardcode.server.pipeline import CompletionInput, CompletionOutcome


class CliError(Exception):
    """A runtime error with its exit code; the message is the whole story."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="configuration file used as the workspace layer "
        "(default: the nearest .guardcode.toml)",
    )
    parser = argparse.ArgumentParser(
        prog="guardcode", description="Guarded code completions for software that handles PHI."
    )
    parser.add_argument("--version", action="version", version=f"guardcode {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        parents=[common],
        help="run the language server",
        description="Speak LSP over stdio (or TCP, for debugging).",
    )
    serve.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdio")
    serve.set_defaults(run=_serve)

    complete = commands.add_parser(
        "complete",
        parents=[common],
        help="complete once at a position in a file",
        description="Run the whole pipeline once with the cursor at LINE:COLUMN (1-based).",
    )
    complete.add_argument("file", type=Path, metavar="FILE")
    complete.add_argument("--line", type=int, required=True, metavar="N")
    complete.add_argument("--column", type=int, required=True, metavar="M")
    complete.add_argument("--format", choices=["text", "json"], default="text")
    complete.set_defaults(run=lambda args: asyncio.run(_complete(args)))

    config = commands.add_parser(
        "config",
        help="inspect the configuration",
        description="Inspect the effective configuration.",
    )
    config_commands = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    show = config_commands.add_parser(
        "show",
        parents=[common],
        help="print every setting and where it came from",
        description="Print the effective configuration and the layer each value came from.",
    )
    show.add_argument("--format", choices=["text", "json"], default="text")
    show.set_defaults(run=_config_show)

    audit = commands.add_parser(
        "audit",
        help="work with the audit trail",
        description="Work with the hash-chained audit trail.",
    )
    audit_commands = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = audit_commands.add_parser(
        "verify",
        parents=[common],
        help="check the hash chain",
        description="Recompute the audit trail's hash chain; exit 1 if broken.",
    )
    verify.set_defaults(run=_audit_verify)
    return parser


def _resolve(config_file: Path | None, near: Path) -> layers.Resolved:
    try:
        return layers.load(config_file or layers.find_workspace_file(near))
    except layers.ConfigError as exc:
        raise CliError(str(exc), code=2) from exc


def _read_source(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise CliError(f"{path}: no such file") from exc
    except OSError as exc:
        raise CliError(f"{path}: cannot read ({type(exc).__name__})") from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CliError(f"{path}: not UTF-8 text") from exc


def _offset(text: str, line: int, column: int, path: Path) -> int:
    try:
        return offset_at(text, line, column)
    except PositionError as exc:
        where = f"{path}:{exc.line}" if exc.line is not None else str(path)
        raise CliError(f"{where}: {exc}") from exc


def _findings_json(outcome: CompletionOutcome) -> list[dict[str, Any]]:
    return [
        {
            "rule": f.rule,
            "line": f.start_line + 1,
            "column": f.start_column + 1,
            "end_line": f.end_line + 1,
            "end_column": f.end_column + 1,
            "severity": f.severity,
            "message": f.message,
        }
        for f in outcome.findings
    ]


def _print_outcome(outcome: CompletionOutcome, fmt: str) -> None:
    if fmt == "json":
        print(
            json.dumps(
                {
                    "completion": outcome.completion,
                    "decision": outcome.decision,
                    "findings": _findings_json(outcome),
                    "redactions": dict(sorted(outcome.redactions.items())),
                    "model": outcome.model,
                    "timings_ms": {k: round(v, 3) for k, v in outcome.timings_ms.items()},
                },
                indent=2,
            )
        )
        return
    print(outcome.completion)
    print("---")
    print(f"decision: {outcome.decision}" + (f" ({outcome.note})" if outcome.note else ""))
    for f in _findings_json(outcome):
        print(f"finding: {f['rule']} at {f['line']}:{f['column']}: {f['message']}")
    redacted = ", ".join(f"{k}={v}" for k, v in sorted(outcome.redactions.items())) or "none"
    print(f"redactions: {redacted}")
    print(f"model: {outcome.model}")
    print("timings: " + ", ".join(f"{k} {v:.1f} ms" for k, v in outcome.timings_ms.items()))


async def _complete(args: argparse.Namespace) -> int:
    source = _read_source(args.file)
    offset = _offset(source, args.line, args.column, args.file)
    resolved = _resolve(args.config, args.file.parent)
    logs.configure(resolved.config.log.level)
    workspace = (
        (args.config or layers.find_workspace_file(args.file.parent) or args.file).resolve().parent
    )
    assembler = Assembler()
    try:
        pipeline = await assembler.pipeline(resolved.config)
        path = args.file.resolve()
        outcome = await pipeline.complete(
            CompletionInput(
                text=source,
                offset=offset,
                language=language_for_path(path),
                workspace=str(workspace),
                file_path=relative_path(path, workspace),
                method="cli/complete",
                cache_key=str(path),
            )
        )
    except (BackendError, AuditError, RulePackError) as exc:
        raise CliError(str(exc)) from exc
    except ValueError as exc:
        raise CliError(f"configuration: {exc}", code=2) from exc
    finally:
        await assembler.aclose()
    if outcome.error:
        raise CliError(outcome.note)
    _print_outcome(outcome, args.format)
    return 0


def _config_show(args: argparse.Namespace) -> int:
    resolved = _resolve(args.config, Path.cwd())
    items = list(layers.effective_items(resolved))
    if args.format == "json":
        print(
            json.dumps(
                {key: {"value": value, "source": source} for key, value, source in items}, indent=2
            )
        )
    else:
        for key, value, source in items:
            print(f"{key} = {json.dumps(value)}  # {source}")
    for item in resolved.overridden:
        print(f"# ignored: {item}", file=sys.stderr)
    return 0


def _audit_verify(args: argparse.Namespace) -> int:
    resolved = _resolve(args.config, Path.cwd())
    path = resolved.config.audit_path()
    try:
        result = AuditLog(path).verify()
    except AuditError as exc:
        raise CliError(str(exc)) from exc
    if result.ok:
        print(f"{path}: {result.count} events, hash chain intact")
        return 0
    raise CliError(f"{path}: hash chain broken at event {result.first_bad_id}")


def _serve(args: argparse.Namespace) -> int:
    from guardcode.server.lsp import build_server

    logs.configure("info")
    server = build_server(args.config)
    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        if not host or not port.isdigit():
            raise CliError("--tcp takes HOST:PORT, e.g. 127.0.0.1:2087", code=2)
        server.start_tcp(host, int(port))
    else:
        server.start_io()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.run(args))
    except CliError as exc:
        print(f"guardcode: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
