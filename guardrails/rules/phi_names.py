"""Does a name (an identifier, attribute or key) look like it holds PHI?

Names are split into word parts (snake_case, camelCase, digits) and matched against a
vocabulary of PHI terms, so ``patient.ssn``, ``record["dob"]``, ``ssn_value`` and
``patientDob`` count while ``assign`` (which merely contains "ssn") does not.
"""

from __future__ import annotations

import re
from functools import lru_cache

#: the default PHI vocabulary; multi-word terms are written snake_case
DEFAULT_PHI_TERMS: tuple[str, ...] = (
    "ssn",
    "social_security",
    "dob",
    "date_of_birth",
    "birth",
    "mrn",
    "medical_record",
    "patient",
    "member_id",
    "diagnosis",
    "medication",
    "insurance",
    "address",
    "phone",
    "email",
    "first_name",
    "last_name",
    "full_name",
)

# "ip_address" and friends are network plumbing, not a patient's address.
_NOT_PHI_BEFORE: dict[str, frozenset[str]] = {
    "address": frozenset(
        {
            "ip",
            "ipv4",
            "ipv6",
            "mac",
            "host",
            "server",
            "remote",
            "local",
            "bind",
            "listen",
            "socket",
            "sock",
            "peer",
            "client",
            "proxy",
            "web",
            "base",
            "memory",
            "mem",
            "return",
        }
    ),
}

# A count or length of PHI-holding things is a number, not PHI (len(patients) is
# handled by the caller; this covers names like patient_count and num_patients).
_AGGREGATE_PARTS = frozenset({"count", "counts", "total", "num", "len", "length", "size"})

_PART_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")

_TERMS: tuple[tuple[str, ...], ...] = tuple(tuple(t.split("_")) for t in DEFAULT_PHI_TERMS)


def name_parts(name: str) -> tuple[str, ...]:
    """Lower-case word parts: ``patientDOB_value2`` -> ``("patient", "dob", "value", "2")``."""
    return tuple(p.lower() for p in _PART_RE.findall(name))


# Closed compounds that a word-part split cannot separate. A general prefix match would
# also take "addressing" and "phonetic", so the forms are listed instead.
_COMPOUNDS: dict[str, frozenset[str]] = {
    "birth": frozenset({"birthdate", "birthdates", "birthday", "birthdays", "birthplace"}),
    "patient": frozenset({"patientid", "patientinfo", "patientname", "patientdata"}),
    "phone": frozenset({"phonenumber", "phonenumbers", "phoneno"}),
    "email": frozenset({"emailaddress", "emailaddresses", "emailaddr"}),
}


def _part_matches(part: str, term: str) -> bool:
    return part in (term, term + "s", term + "es") or part in _COMPOUNDS.get(term, ())


@lru_cache(maxsize=8192)
def is_phi_name(name: str) -> bool:
    """Whether ``name`` contains a PHI vocabulary term as whole word parts."""
    parts = name_parts(name)
    if not parts or _AGGREGATE_PARTS.intersection(parts):
        return False
    for term in _TERMS:
        size = len(term)
        joined = "".join(term)
        for i, part in enumerate(parts):
            if size > 1 and _part_matches(part, joined):  # firstname, dateofbirth
                hit = True
            elif size == 1:
                hit = _part_matches(part, term[0])
            else:
                hit = parts[i : i + size - 1] == term[:-1] and (
                    i + size <= len(parts) and _part_matches(parts[i + size - 1], term[-1])
                )
            if hit and not (i > 0 and parts[i - 1] in _NOT_PHI_BEFORE.get(term[-1], ())):
                return True
    return False
