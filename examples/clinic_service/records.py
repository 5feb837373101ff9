"""Patient record lookups for the (synthetic) Riverbend Clinic demo service.

Everything here is invented: the person, the never-issued 9xx SSN, the
example.org addresses. Try Guardcode on it:

    guardcode complete examples/clinic_service/records.py --line 47 --column 5
"""

import logging

import requests

from clinic_service.audit import audit_event
from clinic_service.auth import require_role

logger = logging.getLogger(__name__)

# Synthetic fixture for the demo; Guardcode redacts it before the model sees it.
DEMO_PATIENT = {
    "name": "Jane Placeholder",
    "ssn": "912-34-5678",
    "dob": "DOB: 1961-03-14",
    "email": "jane.placeholder@example.org",
    "phone": "(555) 010-4477",
    "mrn": "MRN: RB004217",
}

FHIR_BASE_URL = "https://fhir.example.org/r4"


@require_role("clinician")
def fetch_patient(patient_id: str) -> dict:
    """Fetch one patient from the FHIR server and record the access."""
    audit_event("patient.read", patient_id)
    response = requests.get(f"{FHIR_BASE_URL}/Patient/{patient_id}", timeout=10)
    response.raise_for_status()
    return response.json()


@require_role("clinician")
def visit_count(patient_id: str) -> int:
    """How many visits the patient had this year."""
    audit_event("patient.visits", patient_id)
    patient = fetch_patient(patient_id)
    visits = patient.get("visits", [])
    logger.info("counted visits for request %s", patient_id)
    
