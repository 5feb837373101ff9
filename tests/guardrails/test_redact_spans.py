"""The regular-expression redactor: what it replaces, what it must leave alone."""

from __future__ import annotations

import pytest

from guardcode.guardrails.redact import (
    DATE_OF_BIRTH,
    EMAIL_ADDRESS,
    ENTITY_TYPES,
    MEDICAL_RECORD_NUMBER,
    PERSON,
    PHONE_NUMBER,
    US_SSN,
    RedactionSettings,
    Redactor,
    looks_like_ssn,
    placeholder,
)

SSN = placeholder(US_SSN)
EMAIL = placeholder(EMAIL_ADDRESS)
PHONE = placeholder(PHONE_NUMBER)
DOB = placeholder(DATE_OF_BIRTH)
MRN = placeholder(MEDICAL_RECORD_NUMBER)
NAME = placeholder(PERSON)

# (text, expected text, expected counts)
REDACTED = [
    ('ssn = "912-34-5678"', f'ssn = "{SSN}"', {US_SSN: 1}),
    ("SSN 912 34 5678 on file", f"SSN {SSN} on file", {US_SSN: 1}),
    ("a=912-34-5678,b=923-45-6789", f"a={SSN},b={SSN}", {US_SSN: 2}),
    ('email = "jane.placeholder@example.org"', f'email = "{EMAIL}"', {EMAIL_ADDRESS: 1}),
    ("# contact: j.p+test@mail.example.org.", f"# contact: {EMAIL}.", {EMAIL_ADDRESS: 1}),
    ("call (555) 010-2345 today", f"call {PHONE} today", {PHONE_NUMBER: 1}),
    ('phone = "555-010-2345"', f'phone = "{PHONE}"', {PHONE_NUMBER: 1}),
    ("tel 555.010.2345", f"tel {PHONE}", {PHONE_NUMBER: 1}),
    ("tel +1 555 010 2345", f"tel {PHONE}", {PHONE_NUMBER: 1}),
    ("tel +1-555-010-2399.", f"tel {PHONE}.", {PHONE_NUMBER: 1}),
    ('dob = "1961-03-03"', f'dob = "{DOB}"', {DATE_OF_BIRTH: 1}),
    ('"DOB: 3/3/1961"', f'"DOB: {DOB}"', {DATE_OF_BIRTH: 1}),
    ("date_of_birth='March 3, 1961'", f"date_of_birth='{DOB}'", {DATE_OF_BIRTH: 1}),
    ("birthdate: 1961-03-03T00:00:00Z", f"birthdate: {DOB}T00:00:00Z", {DATE_OF_BIRTH: 1}),
    (
        "# Jane Placeholder, born 3 March 1961",
        f"# Jane Placeholder, born {DOB}",
        {DATE_OF_BIRTH: 1},
    ),
    ("patientDob = '12/31/1999'", f"patientDob = '{DOB}'", {DATE_OF_BIRTH: 1}),
    ('mrn = "A1234567"', f'mrn = "{MRN}"', {MEDICAL_RECORD_NUMBER: 1}),
    ("MRN: 00123456", f"MRN: {MRN}", {MEDICAL_RECORD_NUMBER: 1}),
    ('{"mrn": "XK90017"}', f'{{"mrn": "{MRN}"}}', {MEDICAL_RECORD_NUMBER: 1}),
    (
        "Medical record number is 4455667",
        f"Medical record number is {MRN}",
        {MEDICAL_RECORD_NUMBER: 1},
    ),
    (
        'record["patient_mrn"] = "B7654321"',
        f'record["patient_mrn"] = "{MRN}"',
        {MEDICAL_RECORD_NUMBER: 1},
    ),
    ('{"name": "Jane Placeholder"}', f'{{"name": "{NAME}"}}', {PERSON: 1}),
    ("# patient: Jane Placeholder, seen", f"# patient: {NAME}, seen", {PERSON: 1}),
    ('patientName = "Mary-Ann O\'Neil"', f'patientName = "{NAME}"', {PERSON: 1}),
    ("# Patient is John Q. Public", f"# Patient is {NAME}", {PERSON: 1}),
    (
        'Patient(name="Jane Placeholder", ssn="912-34-5678", email="jane@example.org", '
        'phone="555-010-2345", dob="1961-03-03", mrn="A1234567")',
        f'Patient(name="{NAME}", ssn="{SSN}", email="{EMAIL}", '
        f'phone="{PHONE}", dob="{DOB}", mrn="{MRN}")',
        {
            US_SSN: 1,
            EMAIL_ADDRESS: 1,
            PHONE_NUMBER: 1,
            DATE_OF_BIRTH: 1,
            MEDICAL_RECORD_NUMBER: 1,
            PERSON: 1,
        },
    ),
]

# Text that looks a little like PHI and must come back byte for byte.
UNCHANGED = [
    "patient_ssn = get_ssn(patient_id)",
    "python 3.10.12 on port 8080",
    "version = '10.100.1000'",
    "host = '192.168.100.254:8443'",
    'created_at = "2024-01-15T10:30:00Z"',
    "expires = '03/04/2025'",
    "id = '123e4567-e89b-12d3-a456-426614174000'",
    "n = 5550102345",
    "order_id = 1234567890",
    'code = "E11.9"  # ICD-10',
    'codes = ["I10", "Z79.4", "E11.65"]',
    "ssn = '000-12-3456'",
    "ssn = '666-12-3456'",
    "ssn = '912-00-3456'",
    "ssn = '912-34-0000'",
    "ssn = '912-34 5678'",
    "zip_plus4 = '12345-6789'",
    "stubborn = '1961-03-03'",
    "git@github",
    "@property",
    "mrn = cache.get(key1234)",
    "def lookup_mrn(mrn_id): ...",
    "user = 'jane.placeholder'",
    "def show(patient: Patient) -> None:",
    "name = Column(String)",
    "name: Optional[str] = None",
    'first_name = "Jane"',
    'logger.info("patient %s", patient_id)',
    'server_name = "HTTP Server"',
    "mrn =\n    A1234567",
]


@pytest.mark.parametrize(("text", "expected", "counts"), REDACTED)
def test_redacts(text: str, expected: str, counts: dict[str, int]) -> None:
    result = Redactor().redact(text)
    assert result.text == expected
    assert result.counts == counts
    assert result.total == sum(counts.values())


@pytest.mark.parametrize("text", UNCHANGED)
def test_leaves_alone(text: str) -> None:
    result = Redactor().redact(text)
    assert result.text == text
    assert result.counts == {}


def test_date_needs_a_birth_word_on_the_same_line() -> None:
    text = 'dob = patient.dob\nvisit = "1961-03-03"\n'
    assert Redactor().redact(text).text == text
    assert Redactor().redact('visit = "1961-03-03"  # dob').text == f'visit = "{DOB}"  # dob'


@pytest.mark.parametrize(("text", "_expected", "_counts"), REDACTED)
def test_idempotent(text: str, _expected: str, _counts: dict[str, int]) -> None:
    redactor = Redactor()
    once = redactor.redact(text)
    twice = redactor.redact(once.text)
    assert twice.text == once.text
    assert twice.counts == {}


def test_placeholders_in_input_are_never_touched() -> None:
    # A pattern loose enough to match placeholder text must still leave it alone.
    redactor = Redactor(RedactionSettings(mrn_pattern=r"[A-Z_<>:]+"))
    text = f"MRN: {MRN} and {SSN}"
    assert redactor.redact(text).text == text


def test_entities_can_be_switched_off() -> None:
    redactor = Redactor(RedactionSettings(entities=frozenset({US_SSN})))
    result = redactor.redact("ssn 912-34-5678 mail jane@example.org")
    assert result.text == f"ssn {SSN} mail jane@example.org"
    assert result.counts == {US_SSN: 1}


def test_default_settings_enable_every_entity() -> None:
    assert RedactionSettings().entities == ENTITY_TYPES
    assert {
        US_SSN,
        EMAIL_ADDRESS,
        PHONE_NUMBER,
        DATE_OF_BIRTH,
        MEDICAL_RECORD_NUMBER,
        PERSON,
    } == ENTITY_TYPES


def test_site_mrn_pattern() -> None:
    redactor = Redactor(RedactionSettings(mrn_pattern=r"MR-\d{4}"))
    assert redactor.redact("mrn: MR-1234").text == f"mrn: {MRN}"
    # the default 6-10 alphanumeric format no longer applies
    assert redactor.redact("mrn: A1234567").counts == {}


@pytest.mark.parametrize("pattern", ["[A-Z", "(?P<x>a", ""])
def test_bad_mrn_pattern_is_a_clear_error(pattern: str) -> None:
    with pytest.raises(ValueError, match="mrn_pattern"):
        Redactor(RedactionSettings(mrn_pattern=pattern))


def test_mrn_pattern_matching_nothing_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"mrn_pattern.*empty"):
        Redactor(RedactionSettings(mrn_pattern=r"\d*"))


def test_unknown_entity_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"entities.*NPI"):
        Redactor(RedactionSettings(entities=frozenset({"NPI"})))


def test_empty_text() -> None:
    assert Redactor().redact("").text == ""


def test_multiline_code_keeps_structure() -> None:
    text = (
        "def load(patient_ssn: str) -> None:\n"
        '    fixture = {"ssn": "912-34-5678", "dob": "1961-03-03"}\n'
        "    return fixture\n"
    )
    result = Redactor().redact(text)
    assert result.text == (
        "def load(patient_ssn: str) -> None:\n"
        f'    fixture = {{"ssn": "{SSN}", "dob": "{DOB}"}}\n'
        "    return fixture\n"
    )
    assert result.counts == {US_SSN: 1, DATE_OF_BIRTH: 1}


def test_looks_like_ssn() -> None:
    assert looks_like_ssn("id 912-34-5678")
    assert not looks_like_ssn("ssn lookup done")
    assert not looks_like_ssn("555-010-2345")
