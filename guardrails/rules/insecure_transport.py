"""Rule ``insecure-transport``: plain HTTP to a remote host, or TLS weakened.

Python: ``http://`` URLs in string literals whose host is not loopback; ``verify=False``
and ``check_hostname=False`` keywords; ``<ctx>.check_hostname = False``;
``ssl.CERT_NONE``; ``ssl._create_unverified_context``; the TLS 1.0/1.1 and SSL 2/3
protocol constants; and ``TLSVersion.TLSv1``/``TLSv1_1`` as a ``minimum_version``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tree_sitter import Node

from .base import CheckContext, Hit, Rule, register

_PLAIN_HTTP = "Plain-HTTP URL for a non-loopback host"
_NO_VERIFY = "TLS certificate verification disabled"
_NO_HOSTNAME = "TLS hostname checking disabled"
_OLD_PROTOCOL = "Obsolete SSL/TLS protocol version selected"
_UNVERIFIED_CONTEXT = "Unverified SSL context used"
_LOW_MINIMUM = "TLS minimum version set below 1.2"

_OLD_VERSIONS = '"TLSv1" "TLSv1_1" "SSLv2" "SSLv3"'

_STRINGS_QUERY = "(string_content) @content"

# Pattern order matters: the index of each pattern picks its message below.
_TLS_QUERY = f"""
((keyword_argument name: (identifier) @name value: (false)) @hit (#eq? @name "verify"))
((keyword_argument name: (identifier) @name value: (false)) @hit
 (#eq? @name "check_hostname"))
((assignment left: (attribute attribute: (identifier) @name) right: (false)) @hit
 (#eq? @name "check_hostname"))
((identifier) @hit (#eq? @hit "CERT_NONE"))
((identifier) @hit (#eq? @hit "_create_unverified_context"))
((identifier) @hit
 (#any-of? @hit "PROTOCOL_TLSv1" "PROTOCOL_TLSv1_1" "PROTOCOL_SSLv2" "PROTOCOL_SSLv3"))
((assignment left: (attribute attribute: (identifier) @name)
             right: (attribute attribute: (identifier) @version) @hit)
 (#eq? @name "minimum_version") (#any-of? @version {_OLD_VERSIONS}))
((keyword_argument name: (identifier) @name value: (attribute attribute: (identifier) @version))
 @hit (#eq? @name "minimum_version") (#any-of? @version {_OLD_VERSIONS}))
"""
_MESSAGES = (
    _NO_VERIFY,
    _NO_HOSTNAME,
    _NO_HOSTNAME,
    _NO_VERIFY,
    _UNVERIFIED_CONTEXT,
    _OLD_PROTOCOL,
    _LOW_MINIMUM,
    _LOW_MINIMUM,
)
_NAME_PATTERNS = frozenset({3, 4, 5})
# Every TLS pattern needs one of these words in the source. Looking for them in the
# bytes first is far cheaper than running the query, which visits every identifier.
_TLS_WORDS = (
    b"verify",
    b"check_hostname",
    b"CERT_NONE",
    b"_create_unverified_context",
    b"PROTOCOL_",
    b"minimum_version",
)

# Host: optional user-info, then a bracketed IPv6 literal or everything up to the port,
# path, query or fragment. Bytes, so that offsets are byte offsets into the source.
_HTTP_RE = re.compile(rb"(?i)http://(?:[^@/\s\"'`]*@)?(\[[^\]\s]*\]|[^:/?#\s\"'`\\]*)")

_LOOPBACK_HOSTS = frozenset({b"localhost", b"[::1]", b"::1"})

# URIs that name things rather than being fetched: XML namespaces, JSON Schema ids and
# the FHIR / terminology code-system URIs that healthcare code is full of
# ("http://loinc.org", "http://hl7.org/fhir/sid/us-ssn"). These are identifiers whose
# canonical form is http://, not network transport.
_IDENTIFIER_HOSTS = frozenset(
    {
        b"www.w3.org",
        b"json-schema.org",
        b"schemas.xmlsoap.org",
        b"schemas.microsoft.com",
        b"purl.org",
        b"xmlns.com",
        b"hl7.org",
        b"terminology.hl7.org",
        b"loinc.org",
        b"snomed.info",
        b"unitsofmeasure.org",
        b"www.nlm.nih.gov",
        b"www.ama-assn.org",
        b"www.cms.gov",
        b"www.whocc.no",
        b"fhir.org",
    }
)


def _is_allowed_host(host: bytes) -> bool:
    host = host.lower()
    return host in _LOOPBACK_HOSTS or host.startswith(b"127.") or host in _IDENTIFIER_HOSTS


def _is_docstring(string: Node) -> bool:
    parent = string.parent
    return (
        parent is not None
        and parent.type == "expression_statement"
        and (parent.named_child_count == 1)
    )


def _host_comes_later(content: Node, match_end: int) -> bool:
    # "http://" with the host filled in by code: f"http://{host}" or "http://" + host.
    # A bare "http://" otherwise is a scheme test, as in url.startswith("http://").
    if match_end != content.end_byte:
        return False
    following = content.next_named_sibling
    if following is not None and following.type == "interpolation":
        return True
    string = content.parent
    parent = string.parent if string is not None else None
    if parent is None or parent.type != "binary_operator":
        return False
    operator = parent.child_by_field_name("operator")
    return (
        parent.child_by_field_name("left") == string
        and operator is not None
        and operator.type == "+"
    )


def _plain_http(content: Node, ctx: CheckContext) -> Iterator[Hit]:
    string = content.parent
    if string is None or _is_docstring(string):  # documentation, never fetched
        return
    start = content.start_byte
    text = ctx.source[start : content.end_byte]
    if b"://" not in text:
        return
    for match in _HTTP_RE.finditer(text):
        host = match.group(1)
        if host:
            if _is_allowed_host(host):
                continue
        elif not _host_comes_later(content, start + match.end()):
            continue
        yield Hit(start + match.start(), start + match.end(), _PLAIN_HTTP)


def _in_import(node: Node) -> bool:
    parent = node.parent
    while parent is not None and parent.type in ("dotted_name", "aliased_import"):
        parent = parent.parent
    return parent is not None and parent.type in ("import_from_statement", "import_statement")


def check_python(ctx: CheckContext) -> Iterator[Hit]:
    """``insecure-transport`` for Python."""
    source = ctx.source
    if b"http://" in source or b"HTTP://" in source.upper():
        for content in ctx.captures(_STRINGS_QUERY).get("content", ()):
            yield from _plain_http(content, ctx)
    if not any(word in source for word in _TLS_WORDS):
        return
    for pattern, captures in ctx.matches(_TLS_QUERY):
        node = captures["hit"][0]
        if pattern in _NAME_PATTERNS:
            if _in_import(node):  # the import is not the use; the use is reported
                continue
            parent = node.parent
            if (
                parent is not None
                and parent.type == "attribute"
                and (parent.child_by_field_name("attribute") == node)
            ):
                node = parent  # report ssl.CERT_NONE, not just CERT_NONE
            if node.parent is not None and node.parent.type == "comparison_operator":
                continue  # verify_mode != ssl.CERT_NONE tests for the weakness
        yield Hit.at(node, _MESSAGES[pattern])


RULE = register(
    Rule(
        id="insecure-transport",
        severity="error",
        description="Plain HTTP to a non-loopback host, or TLS with verification disabled "
        "or a protocol older than TLS 1.2.",
        checkers={"python": check_python},
    )
)
