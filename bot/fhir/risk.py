"""A triage decision as a RiskAssessment: the level, and as its basis each rule that fired with the
document and verbatim quote it rests on, and the findings present when it was decided."""
from __future__ import annotations

from typing import List, Optional, Sequence

from fhir.resources.annotation import Annotation
from fhir.resources.codeableconcept import CodeableConcept
from fhir.resources.identifier import Identifier
from fhir.resources.reference import Reference
from fhir.resources.riskassessment import RiskAssessment, RiskAssessmentPrediction

from ..store.models import Message, TriageDecision
from ..nlp.findings import COUNTS_AS_PRESENT
from ..triage.rulebook import Rule
from .codes import ASSESSMENT, RULE
from .context import ExportContext, fhir_instant, resource_id
from .stored import CitedSource, StoredFinding, cited_sources, findings_of

# The decision as the assistant sent it, unchanged since: a record of what it advised.
STATUS = "final"


def decision_id(conversation_key: str, message: Message) -> str:
    return resource_id(conversation_key, "decision", message.event_key)


def _same_rulebook(decision: TriageDecision, context: ExportContext) -> bool:
    return bool(decision.rulebook_version) and decision.rulebook_version == context.rulebook.version


def _rule(rule_id: str, decision: TriageDecision, context: ExportContext) -> Optional[Rule]:
    """The rule as the rulebook that decided has it; None for another version's (its id, level and
    the sources the decision stored are still exported)."""
    if not _same_rulebook(decision, context):
        return None
    try:
        return context.rulebook.rule(rule_id)
    except KeyError:
        return None


def all_sources(decision: TriageDecision, rule_ids: Sequence[str], context: ExportContext) -> List[CitedSource]:
    """The sources the decision stored (the reply cites each rule's first), then, from the same
    rulebook version, every other source of each rule: the documents often agree, and all are cited."""
    cited = cited_sources(decision)
    for rule_id in rule_ids:
        rule = _rule(rule_id, decision, context)
        for source in rule.sources if rule else ():
            item = CitedSource(rule.id, rule.level, source.document, source.quote)
            if item not in cited:
                cited.append(item)
    return cited


def cited_text(source: CitedSource, context: ExportContext) -> str:
    title = context.rulebook.title(source.document)
    named = f"\"{title}\" ({source.document})" if title != source.document else source.document
    return f"{source.rule} ({source.level}): {named}: \"{source.quote}\""


def _rule_basis(source: CitedSource, context: ExportContext) -> Reference:
    # A logical reference: the rule is not a resource, so it is named by identifier, its source in the display.
    return Reference(
        identifier=Identifier(system=context.terms.system(RULE), value=source.rule),
        display=cited_text(source, context),
    )


def _reason(rule_id: str, decision: TriageDecision, context: ExportContext) -> CodeableConcept:
    rule = _rule(rule_id, decision, context)
    coding = context.terms.ours(RULE, rule_id, rule.explanation if rule else rule_id)
    return CodeableConcept(coding=[coding], text=rule_id)


def risk_assessment(
    message: Message, decision: TriageDecision, conversation_key: str, patient_id: str,
    observation_ids: Sequence[str], context: ExportContext,
) -> RiskAssessment:
    terms = context.terms
    stored = cited_sources(decision)
    rules = list(dict.fromkeys([*(decision.rules or []), *(source.rule for source in stored)]))
    cited = all_sources(decision, rules, context)
    level = terms.level(decision.level)
    # The citations are in basis and rationale; notes say what else staff see on the transcript page.
    notes: List[Annotation] = []
    if decision.red_flags:
        notes.append(Annotation(text="Red flags: " + ", ".join(decision.red_flags)))
    if decision.missing:
        notes.append(Annotation(text="Still to ask when decided: " + ", ".join(decision.missing)))
    if decision.suspected:
        notes.append(Annotation(text="Suspected, asked back to the person: " + ", ".join(decision.suspected)))
    version = decision.rulebook_version or "unknown"
    return RiskAssessment(
        id=decision_id(conversation_key, message),
        status=STATUS,
        code=CodeableConcept(coding=[terms.ours(ASSESSMENT, "leg-numbness-triage", "Leg-numbness triage")]),
        method=CodeableConcept(
            coding=[terms.ours(ASSESSMENT, "rulebook", "Rules with cited sources (bot/triage/rules)")],
            text=f"Leg-numbness triage rulebook, version {version}",
        ),
        subject=context.reference("Patient", patient_id),
        occurrenceDateTime=fhir_instant(decision.at),
        performer=context.reference("Device", context.device_id),
        reasonCode=[_reason(rule, decision, context) for rule in rules] or None,
        basis=[*(_rule_basis(source, context) for source in cited),
               *(context.reference("Observation", oid) for oid in observation_ids)] or None,
        prediction=[RiskAssessmentPrediction(
            outcome=terms.level_code(decision.level),
            rationale="; ".join(cited_text(source, context) for source in cited) or None,
        )],
        mitigation=level.advice,
        note=notes or None,
    )


def present_findings(decision: TriageDecision) -> List[StoredFinding]:
    """The findings that counted for this decision (present or uncertain, and confirmed)."""
    return [f for f in findings_of(decision) if f.status in COUNTS_AS_PRESENT and not f.suspected]

