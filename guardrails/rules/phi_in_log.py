"""Rule ``phi-in-log``: PHI, or an object holding PHI, written to a log, print or exception.

Python sinks: ``logging.<level>(...)``, ``<logger>.<level>(...)`` where the receiver's
name has a "log" word part (logger, log, self.logger, LOG, logging.getLogger(...)),
``print(...)`` and ``raise SomeError(...)``. Inside the arguments a value is PHI when a
name in it (identifier, attribute, subscript or dict key, ``.get`` key) is a PHI term,
including inside f-strings, ``%`` and ``.format``; or when a string literal holds an
SSN-shaped number. The message text itself ("ssn lookup done") is not PHI.
"""

from __future__ import annotations

from collections.abc import Iterator

from tree_sitter import Node

from ..redact import SSN_RE
from .base import CheckContext, Hit, Rule, register
from .phi_names import is_phi_name, name_parts

_LOG_METHODS = (
    "debug",
    "info",
    "warning",
    "warn",
    "error",
    "exception",
    "critical",
    "fatal",
    "log",
)

_PYTHON_SINKS = f"""
((call function: (identifier) @fn arguments: (argument_list) @args) @call
 (#eq? @fn "print"))
((call function: (attribute object: (_) @receiver attribute: (identifier) @method)
       arguments: (argument_list) @args) @call
 (#any-of? @method {" ".join(f'"{m}"' for m in _LOG_METHODS)}))
(raise_statement (call arguments: (argument_list) @args) @call)
"""
_PRINT, _LOG, _RAISE = 0, 1, 2

_NAME_MESSAGES = {
    _PRINT: "PHI-named value written to print output",
    _LOG: "PHI-named value written to a log call",
    _RAISE: "PHI-named value written to an exception message",
}
_SSN_MESSAGES = {
    _PRINT: "SSN-like literal written to print output",
    _LOG: "SSN-like literal written to a log call",
    _RAISE: "SSN-like literal written to an exception message",
}

# Calls whose result says nothing about the PHI passed in: a length, a type, a masked
# or hashed form. Their arguments are not searched.
_SAFE_CALLS = frozenset({"len", "bool", "type", "id", "isinstance", "hash", "callable"})
_SAFE_CALL_PREFIXES = ("mask", "redact", "hash", "sha", "anonymi", "pseudonym", "deidentif")

_LOG_WORDS = frozenset({"log", "logs", "logger", "loggers", "logging", "logr", "syslog"})

_KEY_METHODS = frozenset({"get", "pop", "setdefault", "getlist"})


def _is_logger(receiver: Node, ctx: CheckContext) -> bool:
    # The receiver's own name: the identifier, the last attribute name, or the called
    # function for logging.getLogger(...).info(...).
    node = receiver
    if node.type == "call":
        node = node.child_by_field_name("function") or node
    if node.type == "attribute":
        node = node.child_by_field_name("attribute") or node
    if node.type != "identifier":
        return False
    name = ctx.text(node)
    if name == "logging":
        return True
    # Word parts rather than a substring, so that dialog.warning(), catalog.error() and
    # login.error() are not logs.
    return any(p in _LOG_WORDS or p.endswith("logger") for p in name_parts(name))


def _callee_name(call: Node, ctx: CheckContext) -> str:
    function = call.child_by_field_name("function")
    if function is not None and function.type == "attribute":
        function = function.child_by_field_name("attribute")
    return ctx.text(function) if function is not None and function.type == "identifier" else ""


def _is_safe_call(call: Node, ctx: CheckContext) -> bool:
    name = _callee_name(call, ctx).lower().lstrip("_")
    return name in _SAFE_CALLS or name.startswith(_SAFE_CALL_PREFIXES)


def _report_node(node: Node) -> Node:
    # Widen a PHI name to the whole value expression it belongs to (patient.ssn,
    # record["dob"], patient.get_name()) so that one value is one finding.
    while (parent := node.parent) is not None:
        kind = parent.type
        if kind in ("attribute", "subscript") or (
            kind == "call" and parent.child_by_field_name("function") == node
        ):
            node = parent
        else:
            break
    return node


def _key_string_is_phi(string: Node, ctx: CheckContext) -> bool:
    contents = [c for c in string.named_children if c.type == "string_content"]
    return (
        len(contents) == 1
        and len(string.named_children) == 3
        and is_phi_name(ctx.text(contents[0]))
    )


def _phi_values(args: Node, ctx: CheckContext) -> Iterator[tuple[Node, bool]]:
    """(node, is_ssn_literal) for each PHI value under ``args``."""
    stack = list(args.named_children)
    while stack:
        node = stack.pop()
        kind = node.type
        if kind == "identifier":
            if is_phi_name(ctx.text(node)):
                yield node, False
        elif kind == "attribute":
            stack.append(node.child_by_field_name("object") or node)
            name = node.child_by_field_name("attribute")
            parent = node.parent
            is_method = (
                parent is not None
                and parent.type == "call"
                and (parent.child_by_field_name("function") == node)
            )
            # A method name is behaviour, not data; its receiver is searched instead.
            if name is not None and not is_method and is_phi_name(ctx.text(name)):
                yield name, False
        elif kind == "call":
            if _is_safe_call(node, ctx):
                continue
            function = node.child_by_field_name("function")
            arguments = node.child_by_field_name("arguments")
            if function is not None and function.type != "identifier":
                stack.append(function)
            if arguments is not None:
                first = arguments.named_children[:1]
                if (
                    first
                    and first[0].type == "string"
                    and (
                        _callee_name(node, ctx) in _KEY_METHODS
                        and _key_string_is_phi(first[0], ctx)
                    )
                ):
                    yield first[0], False
                stack.extend(arguments.named_children)
        elif kind == "keyword_argument":
            value = node.child_by_field_name("value")
            if value is not None:
                stack.append(value)
        elif kind == "subscript":
            stack.append(node.child_by_field_name("value") or node)
            for key in node.children_by_field_name("subscript"):
                if key.type == "string" and _key_string_is_phi(key, ctx):
                    yield key, False
                else:
                    stack.append(key)
        elif kind == "pair":
            pair_key = node.child_by_field_name("key")
            if (
                pair_key is not None
                and pair_key.type == "string"
                and _key_string_is_phi(pair_key, ctx)
            ):
                yield pair_key, False
            stack.extend(node.named_children)
        elif kind == "string_content":
            if SSN_RE.search(ctx.text(node)):
                yield node, True
        elif kind in ("lambda_parameters", "parameters", "comment"):
            continue
        else:
            stack.extend(node.named_children)


def check_python(ctx: CheckContext) -> Iterator[Hit]:
    """``phi-in-log`` for Python."""
    seen: set[tuple[int, int]] = set()
    for pattern, captures in ctx.matches(_PYTHON_SINKS):
        if pattern == _LOG and not _is_logger(captures["receiver"][0], ctx):
            continue
        for node, is_ssn in _phi_values(captures["args"][0], ctx):
            report = node if is_ssn else _report_node(node)
            span = (report.start_byte, report.end_byte)
            if span in seen:
                continue
            seen.add(span)
            message = _SSN_MESSAGES[pattern] if is_ssn else _NAME_MESSAGES[pattern]
            yield Hit(span[0], span[1], message)


RULE = register(
    Rule(
        id="phi-in-log",
        severity="error",
        description="PHI, or an object that holds PHI, written to a log, print output or "
        "an exception message.",
        checkers={"python": check_python},
    )
)
