"""PHI redaction: recognise PHI in text and replace it with typed placeholders.

This is the regular-expression first version; Presidio-based recognizers come later
behind the same :class:`Redactor` API. Every recognizer is written so that it cannot
match inside an identifier (``patient_ssn`` stays ``patient_ssn``) and cannot match a
placeholder, which makes :meth:`Redactor.redact` idempotent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from .types import Redaction

US_SSN = "US_SSN"
EMAIL_ADDRESS = "EMAIL_ADDRESS"
PHONE_NUMBER = "PHONE_NUMBER"
DATE_OF_BIRTH = "DATE_OF_BIRTH"
MEDICAL_RECORD_NUMBER = "MEDICAL_RECORD_NUMBER"
PERSON = "PERSON"

#: every entity type this module can recognise
ENTITY_TYPES: frozenset[str] = frozenset(
    {US_SSN, EMAIL_ADDRESS, PHONE_NUMBER, DATE_OF_BIRTH, MEDICAL_RECORD_NUMBER, PERSON}
)

#: a site's MRN format unless configured: 6-10 letters/digits, at least one digit
DEFAULT_MRN_PATTERN = r"(?=[A-Za-z]*\d)[A-Za-z0-9]{6,10}"

#: what :meth:`Redactor.redact` writes in place of an entity, e.g. ``<PHI:US_SSN>``
PLACEHOLDER_RE = re.compile(r"<PHI:[A-Z][A-Z0-9_]*>")


def placeholder(entity: str) -> str:
    """The placeholder that replaces an entity of type ``entity``."""
    return f"<PHI:{entity}>"


# Area 000 and 666 and group 00 and serial 0000 are never issued. The 9xx area is not
# issued either, but it is exactly what synthetic test data uses, so it is accepted.
# One separator, used twice (backreference), so "912-34 5678" is not an SSN.
SSN_RE = re.compile(r"(?<![\w.-])(?!000|666)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}(?![\w-])(?!\.\d)")

EMAIL_RE = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}(?![\w-])"
)

# The separators must be consistent and the layout exactly 3-3-4 so that versions
# (3.10.12), IPv4 addresses, ISO dates and plain 10-digit numbers never match. Space
# separation is accepted only with a "+1" prefix or a parenthesised area code, because
# bare "ddd ddd dddd" is as likely to be a row of numbers as a phone number.
PHONE_RE = re.compile(
    r"(?<![\w.+-])(?:"
    r"\+1[-. ]?(?:\([2-9]\d{2}\)[ ]?|[2-9]\d{2}[-. ])\d{3}[-. ]\d{4}"
    r"|\([2-9]\d{2}\)[ ]?\d{3}[-. ]\d{4}"
    r"|[2-9]\d{2}([-.])\d{3}\1\d{4}"
    r")(?![\w-])(?!\.\d)"
)

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_YEAR = r"(?:1[89]|20)\d{2}"
DATE_RE = re.compile(
    r"(?<![\w./-])(?:"
    rf"{_YEAR}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"  # ISO; a "T..." time may follow
    rf"|(?:0?[1-9]|1[0-2])([/-])(?:0?[1-9]|[12]\d|3[01])\1{_YEAR}(?![\w/-])"  # US m/d/yyyy
    rf"|{_MONTH}\.?[ ]+(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?,?[ ]+{_YEAR}(?!\w)"
    rf"|(?:0?[1-9]|[12]\d|3[01])[ ]+{_MONTH}\.?,?[ ]+{_YEAR}(?!\w)"
    r")(?![\d/-])",
    re.IGNORECASE,
)

# A birth word must be a word of its own or a part of a snake_case/camelCase name:
# "dob", "DOB:", "patient_dob", "patientDob", "date_of_birth", "dateOfBirth", "born",
# but not "stubborn" or "dobby".
_BIRTH_WORDS = r"dob|d\.o\.b\.?|date[ _-]?of[ _-]?birth|birth[ _-]?date|birthday|born|birth"
BIRTH_WORD_RE = re.compile(
    rf"(?:(?<![A-Za-z])(?i:{_BIRTH_WORDS})(?![a-z])"
    r"|(?<=[a-z])(?:Dob|DOB|DateOfBirth|BirthDate|Birthday|Birth|Born)(?![a-z]))"
)

# The MRN keyword, then at most a few separator characters (quotes, "=", ":", "#",
# brackets) and an optional "is"/"of", then the value. Adjacency rather than "anywhere
# on the line" keeps ordinary identifiers (mrn = cache.get(key1234)) unredacted.
_MRN_KEYWORD = (
    r"(?<![A-Za-z])(?:(?i:mrn)|(?i:medical[ _-]?record)(?:[ _-]?(?i:number|num|nbr|no|id))?)"
    r"(?![a-z])"
)
# Same line only: spaces and tabs, never a newline.
_MRN_GAP = r"[ \t\"'`:=#\[\](),.-]{1,8}(?:(?i:is|was|of)[ \t]+[\"'`]?)?"

# A person's name is recognised only as the value of a name-like key ("name": ...,
# patient_name = ..., # Patient: ...) and only as two to four capitalised words. Two
# words separated by a space cannot be one code identifier, so `patient: Patient`
# and `name = Column(String)` stay as they are.
_NAME_KEYWORD = (
    r"(?:(?<![A-Za-z])(?i:(?:(?:first|last|full|given|family|middle|display|patient)[ _-]?)?"
    r"name|patient|guardian|guarantor|subscriber)(?![a-z])|(?<=[a-z])Name(?![a-z]))"
)
# Mary-Ann, O'Neil, McDonald. Each repetition starts with a different kind of character
# than the one before can end with, so a failed match cannot backtrack exponentially.
_NAME_WORD = r"[A-Z][a-z]*(?:['-][A-Z]?[a-z]+|[A-Z][a-z]+)*"
PERSON_RE = re.compile(
    rf"{_NAME_KEYWORD}[ \t\"'`:=#\[\](),-]{{1,6}}(?:is[ \t]+)?"
    rf"(?P<name>{_NAME_WORD}(?:[ ](?:[A-Z]\.|{_NAME_WORD})){{1,3}})(?![\w-])"
)


@dataclass(frozen=True)
class RedactionSettings:
    """What the redactor looks for.

    ``entities`` are the enabled entity types (a subset of :data:`ENTITY_TYPES`);
    ``mrn_pattern`` is a regular expression for the value of a medical record number at
    this site, matched only right after an MRN keyword.
    """

    entities: frozenset[str] = field(default=ENTITY_TYPES)
    mrn_pattern: str = DEFAULT_MRN_PATTERN


@dataclass(frozen=True, order=True)
class _Span:
    start: int
    end: int
    entity: str


class Redactor:
    """Replaces PHI in text with ``<PHI:TYPE>`` placeholders.

    Construct once and reuse: the patterns are compiled here, and invalid settings raise
    :class:`ValueError` naming the setting. Instances are safe to share between threads.
    """

    def __init__(self, settings: RedactionSettings | None = None) -> None:
        self.settings = settings if settings is not None else RedactionSettings()
        entities = self.settings.entities
        if isinstance(entities, str) or not all(isinstance(e, str) for e in entities):
            raise ValueError("RedactionSettings.entities must be a set of entity type names")
        unknown = sorted(set(entities) - ENTITY_TYPES)
        if unknown:
            raise ValueError(
                f"RedactionSettings.entities has unknown entity types {unknown}; "
                f"known types are {sorted(ENTITY_TYPES)}"
            )
        self._mrn_re = _compile_mrn(self.settings.mrn_pattern)
        finders: dict[str, Callable[[str], Iterator[_Span]]] = {
            US_SSN: _simple_finder(SSN_RE, US_SSN),
            EMAIL_ADDRESS: _simple_finder(EMAIL_RE, EMAIL_ADDRESS),
            PHONE_NUMBER: _simple_finder(PHONE_RE, PHONE_NUMBER),
            DATE_OF_BIRTH: _find_dates_of_birth,
            MEDICAL_RECORD_NUMBER: self._find_mrns,
            PERSON: _find_names,
        }
        # A fixed order (not set order) so that results never depend on hashing.
        self._finders = [finders[e] for e in sorted(entities)]

    def redact(self, text: str) -> Redaction:
        """Return ``text`` with every enabled entity replaced, and counts by type."""
        if not text:
            return Redaction(text, {})
        # Existing placeholders are blanked out (same length, so offsets hold) so that no
        # recognizer can match in or across one: this is what makes redaction idempotent.
        scan = text
        if "<PHI:" in text:
            scan = PLACEHOLDER_RE.sub(lambda m: "\0" * len(m.group()), text)
        spans = sorted(span for finder in self._finders for span in finder(scan))
        if not spans:
            return Redaction(text, {})
        pieces: list[str] = []
        counts: dict[str, int] = {}
        cursor = 0
        for span in _drop_overlaps(spans):
            pieces.append(text[cursor : span.start])
            pieces.append(placeholder(span.entity))
            counts[span.entity] = counts.get(span.entity, 0) + 1
            cursor = span.end
        pieces.append(text[cursor:])
        return Redaction("".join(pieces), counts)

    def _find_mrns(self, text: str) -> Iterator[_Span]:
        for match in self._mrn_re.finditer(text):
            yield _Span(match.start("mrnvalue"), match.end("mrnvalue"), MEDICAL_RECORD_NUMBER)


def looks_like_ssn(text: str) -> bool:
    """Whether ``text`` contains something shaped like a US social security number."""
    return SSN_RE.search(text) is not None


def _compile_mrn(pattern: str) -> re.Pattern[str]:
    if not isinstance(pattern, str) or not pattern:
        raise ValueError("RedactionSettings.mrn_pattern must be a non-empty regular expression")
    try:
        value_re = re.compile(pattern)
    except re.error as exc:
        raise ValueError(
            f"RedactionSettings.mrn_pattern is not a valid regular expression: {exc}"
        ) from None
    if value_re.fullmatch(""):
        raise ValueError("RedactionSettings.mrn_pattern must not match the empty string")
    try:
        # The value must not run on into a longer word or number.
        return re.compile(
            rf"{_MRN_KEYWORD}{_MRN_GAP}(?P<mrnvalue>(?<![\w-])(?:{pattern})(?![\w-]))"
        )
    except re.error as exc:
        # e.g. inline global flags such as "(?i)", which are only legal at the start
        raise ValueError(
            f"RedactionSettings.mrn_pattern cannot be used inside the MRN recognizer: {exc}"
        ) from None


def _simple_finder(regex: re.Pattern[str], entity: str) -> Callable[[str], Iterator[_Span]]:
    def find(text: str) -> Iterator[_Span]:
        for match in regex.finditer(text):
            yield _Span(match.start(), match.end(), entity)

    return find


def _find_names(text: str) -> Iterator[_Span]:
    for match in PERSON_RE.finditer(text):
        yield _Span(match.start("name"), match.end("name"), PERSON)


def _find_dates_of_birth(text: str) -> Iterator[_Span]:
    # A date is a date of birth only when a birth word is on the same line; one lookup
    # per line, however many dates it holds.
    has_birth_word: dict[int, bool] = {}
    for match in DATE_RE.finditer(text):
        line_start = text.rfind("\n", 0, match.start()) + 1
        known = has_birth_word.get(line_start)
        if known is None:
            line_end = text.find("\n", match.end())
            line = text[line_start : line_end if line_end >= 0 else len(text)]
            known = has_birth_word[line_start] = BIRTH_WORD_RE.search(line) is not None
        if known:
            yield _Span(match.start(), match.end(), DATE_OF_BIRTH)


def _drop_overlaps(spans: list[_Span]) -> Iterator[_Span]:
    # Sorted by start: the earliest span wins, and of two starting together the longer.
    end = -1
    for i, span in enumerate(spans):
        if span.start < end:
            continue
        if i + 1 < len(spans) and spans[i + 1].start == span.start:
            span = max((s for s in spans[i:] if s.start == span.start), key=lambda s: s.end)
        end = span.end
        yield span
