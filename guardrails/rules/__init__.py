"""Guardrail rules: each module registers its rule in :data:`RULES` on import.

To add a rule, write a module here that calls :func:`register` and import it below;
nothing else changes (no if/elif over rule ids anywhere).
"""

from . import insecure_transport, phi_in_log
from .base import RULES, CheckContext, Checker, Hit, Rule, register

__all__ = [
    "RULES",
    "CheckContext",
    "Checker",
    "Hit",
    "Rule",
    "insecure_transport",
    "phi_in_log",
    "register",
]
