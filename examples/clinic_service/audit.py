"""Audit hook of the demo service (writes to the clinic's audit store)."""

import logging

_audit = logging.getLogger("clinic.audit")


def audit_event(action: str, subject_id: str) -> None:
    """Record who touched which record; subject ids are opaque, never PHI."""
    _audit.info("%s %s", action, subject_id)
