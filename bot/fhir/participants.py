"""Who takes part: the person, known only by their pseudonym, and the assistant as a Device."""
from __future__ import annotations

from fhir.resources.coding import Coding
from fhir.resources.device import Device
from fhir.resources.identifier import Identifier
from fhir.resources.meta import Meta
from fhir.resources.patient import Patient

from .context import ExportContext

# HL7's security label for "pseudonymised", so a receiving system knows this is not a real identity.
PSEUDONYMISED = Coding(
    system="http://terminology.hl7.org/CodeSystem/v3-ObservationValue", code="PSEUDED", display="pseudonymized"
)
ASSISTANT_NAME = "Leg-numbness triage assistant"


def patient(pseudonym: str, context: ExportContext) -> Patient:
    """The pseudonym and nothing else: no name, contact, birth date, or the channel's own sender id."""
    return Patient(
        id=context.patient_id(pseudonym),
        meta=Meta(security=[PSEUDONYMISED]),
        identifier=[Identifier(system=context.terms.pseudonym_system, value=pseudonym)],
    )


def assistant(context: ExportContext) -> Device:
    """The assistant that asked the questions and made the triage decisions."""
    return Device(
        id=context.device_id,
        deviceName=[{"name": ASSISTANT_NAME, "type": "user-friendly-name"}],
        type={"text": "Software: automated triage assistant for leg numbness (does not diagnose)"},
        version=[{"type": {"text": "rulebook"}, "value": context.rulebook.version}],
    )
