"""Guardrails: PHI redaction, code checks, policy decisions and the audit log.

The stages live in their own modules so that a caller pays only for what it uses
(``check`` loads tree-sitter grammars; ``audit`` opens SQLite):

- :mod:`guardcode.guardrails.redact` -- PHI in text becomes ``<PHI:TYPE>`` placeholders.
- :mod:`guardcode.guardrails.check` -- tree-sitter rules over a completion in place.
- :mod:`guardcode.guardrails.decide` -- per-rule actions turn findings into a verdict.
- :mod:`guardcode.guardrails.audit` -- the append-only, hash-chained audit log.

This package imports nothing of ``server/`` or ``models/`` and no LSP library.
"""
