"""Each finding of a conversation as an Observation: what was found, its status, where, and by what."""
from __future__ import annotations

import datetime as dt
from typing import FrozenSet, Set

from fhir.resources.annotation import Annotation
from fhir.resources.codeableconcept import CodeableConcept
from fhir.resources.coding import Coding
from fhir.resources.observation import Observation, ObservationComponent
from fhir.resources.quantity import Quantity

from ..triage.levels import EMERGENCY
from .codes import FINDING, FINDING_CATEGORY, UCUM
from .context import ExportContext, fhir_instant, resource_id
from .stored import StoredFinding

# Patient-reported, through the assistant's questions: HL7's "survey" category.
SURVEY = Coding(system="http://terminology.hl7.org/CodeSystem/observation-category", code="survey", display="Survey")
RED_FLAG = "red_flag"
# Extracted by software from what the person wrote and not checked by a clinician: preliminary.
STATUS = "preliminary"


def observation_id(conversation_key: str, finding: StoredFinding) -> str:
    return resource_id(conversation_key, "observation", *finding.key)


def red_flag_concepts(context: ExportContext) -> FrozenSet[str]:
    """The concepts an emergency rule fires on."""
    names: Set[str] = set()
    for rule in context.rulebook.rules_for(EMERGENCY):
        names |= rule.condition.concepts()
    return frozenset(names)


def observation(
    finding: StoredFinding, recorded_at: dt.datetime, conversation_key: str, patient_id: str,
    answers_id: str, red_flags: FrozenSet[str], context: ExportContext,
) -> Observation:
    terms = context.terms
    category = [CodeableConcept(coding=[SURVEY])]
    if finding.concept in red_flags:
        category.append(CodeableConcept(coding=[terms.ours(FINDING_CATEGORY, RED_FLAG, "Red flag (emergency sign)")]))
    notes = [Annotation(text=f"In the person's words: \"{finding.text}\"")] if finding.text else []
    if finding.score is not None:
        notes.append(Annotation(text=f"Embedding similarity {finding.score:.3f}"))
    if finding.suspected:
        notes.append(Annotation(text="Found by one detector only: the assistant asks the person before it counts."))
    method = None
    if finding.detected_by:
        codings = [coding for name in finding.detected_by for coding in terms.detector(name).coding]
        method = CodeableConcept(coding=codings, text=" + ".join(finding.detected_by))
    components = None
    if finding.minutes is not None:
        components = [ObservationComponent(
            code=CodeableConcept(coding=[terms.ours(FINDING, "duration", terms.concept("duration").display)]),
            valueQuantity=Quantity(value=finding.minutes, unit="min", system=UCUM, code="min"),
        )]
    return Observation(
        id=observation_id(conversation_key, finding),
        status=STATUS,
        category=category,
        code=terms.finding_code(finding.concept),
        subject=context.reference("Patient", patient_id),
        effectiveDateTime=fhir_instant(recorded_at),
        valueCodeableConcept=terms.status_code(finding.status),
        bodySite=terms.body_site(finding.concept),
        method=method,
        component=components,
        note=notes or None,
        derivedFrom=[context.reference("QuestionnaireResponse", answers_id)],
    )
