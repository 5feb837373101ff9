"""The Python rules, one snippet at a time: what fires and what must not."""

from __future__ import annotations

import pytest

from guardcode.guardrails.check import check_document
from guardcode.guardrails.rules.phi_names import is_phi_name

VIOLATIONS_PHI_IN_LOG = [
    'logger.info("looked up %s", patient.ssn)',
    'logging.warning("dob=%s", record["dob"])',
    'log.error(f"lookup failed for {patient.first_name}")',
    'self.logger.debug("value %s" % ssn_value)',
    'self.logger.debug("value {}".format(mrn))',
    "LOGGER.exception(patient)",
    'logging.getLogger(__name__).critical("x", extra={"ssn": value})',
    'app.log.info("contact %s", patientEmail)',
    'logger.log(logging.INFO, "%s", member_id)',
    'print("patient:", patient)',
    "print(f\"{row.get('date_of_birth')}\")",
    'raise ValueError(f"no match for {ssn}")',
    'raise LookupError("diagnosis %s" % diagnosis_code) from None',
    'logger.info("test record 912-34-5678")',
    'print("ssn was 912 34 5678")',
    'raise KeyError("912-34-5678")',
    'logger.info("%s", patient.get_name())',
    'logger.info("%s", ", ".join(p.phone for p in rows))',
]

COMPLIANT_PHI_IN_LOG = [
    'logger.info("lookup done for id %s", request_id)',
    'logger.info("ssn lookup done")',
    'logger.info("%d patients loaded", len(patients))',
    'logger.info("%d loaded", patient_count)',
    'logger.info("hash %s", sha256_hex(patient.ssn))',
    'logger.info("masked %s", mask_ssn(ssn))',
    "dialog.warning(patient_name)",
    "catalog.error(patient)",
    "login.error(patient)",
    "audit.record(patient.ssn)",
    "save(patient.ssn)",
    'raise PatientNotFound("not found")',
    'logger.info("listening on %s", ip_address)',
    'print("assign", assignment)',
    'logger.info("x", exc_info=True)',
    'cache["ssn"] = value',
    'logger.info("phone call scheduled")',
]


@pytest.mark.parametrize("code", VIOLATIONS_PHI_IN_LOG)
def test_phi_in_log_fires(code: str) -> None:
    findings = check_document("python", code + "\n", rules=["phi-in-log"])
    assert [f.rule for f in findings] == ["phi-in-log"], findings


@pytest.mark.parametrize("code", COMPLIANT_PHI_IN_LOG)
def test_phi_in_log_quiet(code: str) -> None:
    assert check_document("python", code + "\n", rules=["phi-in-log"]) == []


VIOLATIONS_TRANSPORT = [
    "requests.get(url, verify=False)",
    "httpx.Client(verify=False)",
    'requests.post("http://api.example.org/patients", json=body)',
    'BASE_URL = "http://10.0.0.12:8000/fhir"',
    'url = f"http://{host}/api"',
    'url = "http://" + host',
    'url = "HTTP://records.example.org"',
    "ctx = ssl.SSLContext(ssl.PROTOCOL_TLSv1)",
    "ctx = ssl.SSLContext(ssl.PROTOCOL_TLSv1_1)",
    "ctx = ssl.SSLContext(PROTOCOL_SSLv3)",
    "ctx = ssl._create_unverified_context()",
    "ssl._create_default_https_context = ssl._create_unverified_context",
    "ctx.check_hostname = False",
    "ctx.verify_mode = ssl.CERT_NONE",
    "ctx.minimum_version = ssl.TLSVersion.TLSv1",
    "ctx.minimum_version = TLSVersion.TLSv1_1",
    "make_context(minimum_version=ssl.TLSVersion.TLSv1)",
    "wrap(sock, check_hostname=False)",
]

COMPLIANT_TRANSPORT = [
    'requests.get("https://api.example.org/patients", timeout=5)',
    'BASE = "http://localhost:8080/v1"',
    'BASE = "http://127.0.0.1:11434"',
    'BASE = "http://[::1]:8000/"',
    "requests.get(url, verify=True)",
    "requests.get(url, verify=ca_bundle)",
    'if url.startswith("http://"):\n    raise ValueError("plain http")',
    "ctx.check_hostname = True",
    "ctx.minimum_version = ssl.TLSVersion.TLSv1_2",
    "ctx.verify_mode = ssl.CERT_REQUIRED",
    'SYSTEM = "http://hl7.org/fhir/sid/us-ssn"',
    'NS = "http://www.w3.org/2001/XMLSchema-instance"',
    'def fetch():\n    """See http://docs.example.org/fetch for details."""',
    "# http://example.org in a comment",
]


@pytest.mark.parametrize("code", VIOLATIONS_TRANSPORT)
def test_insecure_transport_fires(code: str) -> None:
    findings = check_document("python", code + "\n", rules=["insecure-transport"])
    assert [f.rule for f in findings] == ["insecure-transport"], findings


@pytest.mark.parametrize("code", COMPLIANT_TRANSPORT)
def test_insecure_transport_quiet(code: str) -> None:
    assert check_document("python", code + "\n", rules=["insecure-transport"]) == []


def test_import_is_not_the_use() -> None:
    code = "from ssl import CERT_NONE\nmode = CERT_NONE\n"
    findings = check_document("python", code, rules=["insecure-transport"])
    assert [(f.start_line, f.start_column, f.end_column) for f in findings] == [(1, 7, 16)]


def test_messages_are_fixed_and_never_quote_code() -> None:
    code = (
        'logger.info("%s", patient_secret_field_ssn)\n'
        'requests.get("http://secret-host.example.org", verify=False)\n'
    )
    findings = check_document("python", code)
    assert len(findings) == 3
    for finding in findings:
        assert "secret" not in finding.message
        assert "patient" not in finding.message
        assert finding.severity == "error"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ssn", True),
        ("ssn_value", True),
        ("patientSsn", True),
        ("SSN", True),
        ("birthdate", True),
        ("dateOfBirth", True),
        ("date_of_birth", True),
        ("firstName", True),
        ("lastname", True),
        ("patients", True),
        ("MRN2", True),
        ("home_address", True),
        ("member_id", True),
        ("medications", True),
        ("assign", False),
        ("lesson", False),
        ("addressing_style", False),
        ("ip_address", False),
        ("remoteAddress", False),
        ("patient_count", False),
        ("dobby", False),
        ("member", False),
        ("telephone_line", False),
        ("request_id", False),
    ],
)
def test_phi_names(name: str, expected: bool) -> None:
    assert is_phi_name(name) is expected


def test_comparing_with_cert_none_is_not_disabling_it() -> None:
    code = "if ctx.verify_mode == ssl.CERT_NONE:\n    raise RuntimeError('unverified')\n"
    assert check_document("python", code) == []
