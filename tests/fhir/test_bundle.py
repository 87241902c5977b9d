"""One stored conversation as a FHIR R4 Bundle, read from a migrated SQLite database through a
connection that cannot write, every resource serialised and parsed back by fhir.resources."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from fhir.resources.bundle import Bundle
from sqlalchemy import select

from bot.fhir import COLLECTION, TRANSACTION, conversation_bundle, load_conversation
from bot.fhir.codes import FINDING, FINDING_STATUS, RULE, SNOMED
from bot.fhir.observations import observation
from bot.fhir.questionnaire import answer_concepts, question_prompts
from bot.fhir.stored import StoredFinding
from bot.store.models import BOT, USER, Message

from .conformance import bundle_problems, roundtrip
from .conftest import NOW
from .seed import (
    BLADDER_TEXT,
    DOCTOR_SENDER,
    DOCTOR_TEXT,
    EMERGENCY_SENDER,
    LATER_TEXT,
    LEGACY_SENDER,
    LEGACY_TEXT,
    SCRIPT_TEXT,
)

NAMES = ("emergency", "doctor", "later", "legacy")


def export(session, ids, name, bundle_type=COLLECTION) -> Bundle:
    return conversation_bundle(load_conversation(session, ids[name]), bundle_type, now=NOW)


def of_type(bundle: Bundle, resource_type: str) -> list:
    return [entry.resource for entry in bundle.entry if entry.resource.resource_type == resource_type]


def by_url(bundle: Bundle) -> dict:
    return {entry.fullUrl: entry.resource for entry in bundle.entry}


def status_of(observation) -> str:
    return next(c.code for c in observation.valueCodeableConcept.coding if c.system.endswith(FINDING_STATUS))


def concept_of(observation) -> str:
    return next(c.code for c in observation.code.coding if c.system.endswith("/" + FINDING))


@pytest.mark.parametrize("bundle_type", [COLLECTION, TRANSACTION])
@pytest.mark.parametrize("name", NAMES)
def test_every_resource_is_valid_r4_and_parses_back(session, seeded, name, bundle_type):
    bundle = export(session, seeded, name, bundle_type)
    text = bundle.json()
    again = Bundle.parse_raw(text)
    assert again.json() == text
    assert all(roundtrip(entry.resource) is None for entry in again.entry)
    assert bundle_problems(again) == []
    assert {"Device", "Questionnaire", "Patient", "QuestionnaireResponse", "Communication"} <= {
        e.resource.resource_type for e in again.entry}


def test_the_emergency_decision_lists_its_rules_with_document_and_quote(session, seeded, rulebook):
    bundle = Bundle.parse_raw(export(session, seeded, "emergency").json())
    [assessment] = of_type(bundle, "RiskAssessment")
    assert assessment.prediction[0].outcome.coding[0].code == "emergency"
    assert [reason.coding[0].code for reason in assessment.reasonCode] == ["emergency.bladder_bowel_loss"]
    rule = rulebook.rule("emergency.bladder_bowel_loss")
    cited = [b for b in assessment.basis if b.identifier is not None]
    assert {b.identifier.value for b in cited} == {rule.id}
    assert all(b.identifier.system.endswith("/" + RULE) for b in cited)
    # Both documents the rule rests on, each with its title and the verbatim quote.
    assert len(cited) == len(rule.sources) == 2
    for source, basis in zip(rule.sources, cited):
        assert source.document in basis.display and f'"{source.quote}"' in basis.display
        assert rulebook.title(source.document) in basis.display
    assert "loss of bladder and/or bowel control" in assessment.prediction[0].rationale
    assert "Call the emergency number now" in assessment.mitigation
    # The basis also points at the findings that counted (present, confirmed), and only at those.
    urls = by_url(bundle)
    counted = {concept_of(urls[b.reference]) for b in assessment.basis if b.reference}
    assert counted == {"bladder_bowel_loss"}


def test_each_finding_is_an_observation_with_the_status_the_store_holds(session, seeded):
    conversation = load_conversation(session, seeded["emergency"])
    [stored] = [m.decision for m in conversation.messages if m.decision]
    observations = of_type(Bundle.parse_raw(export(session, seeded, "emergency").json()), "Observation")
    exported = {(concept_of(o), status_of(o)) for o in observations}
    assert exported == {(f["concept"], f["status"]) for f in stored.findings}
    by_concept = {concept_of(o): o for o in observations}

    negated = by_concept["slurred_speech"]
    assert status_of(negated) == "negated"
    assert (SNOMED, "2667000") in {(c.system, c.code) for c in negated.valueCodeableConcept.coding}  # Absent
    assert (SNOMED, "52101004") not in {(c.system, c.code) for c in negated.valueCodeableConcept.coding}
    assert (SNOMED, "289195008") in {(c.system, c.code) for c in negated.code.coding}  # Slurred speech
    assert "my speech is fine" in negated.note[0].text
    assert status_of(by_concept["back_injury"]) == "historical"
    assert status_of(by_concept["inability_to_move_or_walk"]) == "hypothetical"
    assert status_of(by_concept["stroke_suspected"]) == "family"

    bladder = by_concept["bladder_bowel_loss"]
    assert status_of(bladder) == "present"
    assert (SNOMED, "52101004") in {(c.system, c.code) for c in bladder.valueCodeableConcept.coding}  # Present
    assert [c.code for c in bladder.method.coding] == ["patterns", "embedding"]
    assert "0.830" in bladder.note[1].text
    assert all([c.code for c in o.category[1].coding] == ["red_flag"] for o in observations)
    assert all(o.status == "preliminary" for o in observations)


def test_the_patient_is_the_pseudonym_and_nothing_of_anyone_else(session, seeded):
    bundle = export(session, seeded, "emergency")
    [patient] = of_type(bundle, "Patient")
    data = json.loads(patient.json())
    assert set(data) == {"resourceType", "id", "meta", "identifier"}
    assert [i["value"] for i in data["identifier"]] == [EMERGENCY_SENDER]
    assert data["meta"]["security"][0]["code"] == "PSEUDED"
    patient_url = f"urn:uuid:{patient.id}"
    for resource in [*of_type(bundle, "Observation"), *of_type(bundle, "RiskAssessment"),
                     *of_type(bundle, "Communication")]:
        assert resource.subject.reference == patient_url
    text = bundle.json()
    for elsewhere in (DOCTOR_SENDER, LEGACY_SENDER, DOCTOR_TEXT, LATER_TEXT, LEGACY_TEXT):
        assert json.dumps(elsewhere)[1:-1] not in text


def test_the_transcript_is_one_communication_per_message_exactly_as_written(session, seeded):
    bundle = Bundle.parse_raw(export(session, seeded, "emergency").json())
    stored = session.scalars(
        select(Message).where(Message.conversation_id == seeded["emergency"]).order_by(Message.at, Message.id)
    ).all()
    communications = of_type(bundle, "Communication")
    assert [c.payload[0].contentString for c in communications] == [m.text for m in stored]
    assert SCRIPT_TEXT in [c.payload[0].contentString for c in communications]
    assert BLADDER_TEXT == communications[4].payload[0].contentString
    urls = by_url(bundle)
    speakers = [urls[c.sender.reference].resource_type for c in communications]
    assert speakers == ["Patient" if m.speaker == USER else "Device" for m in stored]
    assert [m.speaker for m in stored] == [USER, BOT] * 3
    sent = [c.sent for c in communications]
    assert sent == sorted(sent)
    [decided] = [c for c in communications if c.about]
    assert urls[decided.about[0].reference].resource_type == "RiskAssessment"
    assert decided.payload[0].contentString.startswith("EMERGENCY")


def test_the_answers_follow_the_questionnaire_of_the_rulebook(session, seeded, rulebook, context):
    bundle = Bundle.parse_raw(export(session, seeded, "emergency").json())
    [questionnaire] = of_type(bundle, "Questionnaire")
    [answers] = of_type(bundle, "QuestionnaireResponse")
    assert [item.linkId for item in questionnaire.item] == [q.id for q in rulebook.questions]
    prompts = question_prompts()
    assert [item.text for item in questionnaire.item] == [prompts[q.id] for q in rulebook.questions]
    for item, question in zip(questionnaire.item, rulebook.questions):
        assert {option.valueCoding.code for option in item.answerOption} == answer_concepts(question, context)
        assert question.concepts <= answer_concepts(question, context)
    assert answers.questionnaire == f"{questionnaire.url}|{questionnaire.version}"
    assert questionnaire.version == rulebook.version
    link_ids = {item.linkId for item in questionnaire.item}
    link_ids |= {child.linkId for item in questionnaire.item for child in item.item}
    for item in answers.item:
        assert item.linkId in link_ids
        for answer in item.answer:
            assert {nested.linkId for nested in answer.item or []} <= link_ids

    [screen] = answers.item  # only the emergency screen was asked before the emergency
    assert screen.linkId == "emergency_signs"
    coded = {a.valueCoding.code: {n.linkId: n.answer[0] for n in a.item} for a in screen.answer if a.valueCoding}
    assert coded["slurred_speech"]["emergency_signs.status"].valueCoding.code == "negated"
    assert coded["slurred_speech"]["emergency_signs.words"].valueString == "my speech is fine"
    assert coded["bladder_bowel_loss"]["emergency_signs.status"].valueCoding.code == "present"
    # The person's reply to the question, in their words.
    assert [a.valueString for a in screen.answer if a.valueString] == [BLADDER_TEXT]
    # The emergency ended the questions: this response will never be completed.
    assert answers.status == "stopped"


def test_replies_to_questions_and_suspected_signs(session, seeded):
    bundle = Bundle.parse_raw(export(session, seeded, "doctor").json())
    [answers] = of_type(bundle, "QuestionnaireResponse")
    answered = {item.linkId: [a.valueString or a.valueCoding.code for a in item.answer] for item in answers.item}
    # Dizziness only one detector found is not an answer; the replies to the two questions asked are.
    assert answered == {"emergency_signs": ["None of those"], "onset": ["gradually"]}
    assert answers.status == "in-progress"  # the last decision still had questions to ask
    [dizziness] = of_type(bundle, "Observation")
    assert concept_of(dizziness) == "dizziness" and "one detector only" in dizziness.note[-1].text
    assessments = of_type(bundle, "RiskAssessment")
    assert len(assessments) == 2  # the interim decision and the final one
    assert {r.coding[0].code for r in assessments[-1].reasonCode} == {"doctor.known_condition",
                                                                       "doctor.lasts_more_than_a_few_minutes"}
    assert "Suspected, asked back to the person: dizziness" in [n.text for n in assessments[0].note]
    assert all(b.reference is None for b in assessments[0].basis)  # a suspected sign did not count


def test_a_duration_carries_its_minutes(context):
    finding = StoredFinding("duration", "for three weeks", "present", minutes=30240.0)
    built = observation(finding, dt.datetime(2024, 3, 2, 9), "k", "p", "a", frozenset(), context)
    again = type(built).parse_raw(built.json())
    quantity = again.component[0].valueQuantity
    assert (quantity.value, quantity.code, quantity.system) == (30240, "min", "http://unitsofmeasure.org")


def test_a_decision_stored_before_findings_were_kept(session, seeded):
    bundle = Bundle.parse_raw(export(session, seeded, "legacy").json())
    assert of_type(bundle, "Observation") == []
    [assessment] = of_type(bundle, "RiskAssessment")
    # Another rulebook version: exactly the sources the decision stored, none added.
    displays = [b.display for b in assessment.basis]
    assert displays == [
        'emergency.bladder_bowel_loss (emergency): 001_cause.txt: "loss of bladder and/or bowel control"',
        'emergency.bladder_bowel_loss (emergency): 002_leg_numbness.txt: "Loss of bladder or bowel control"',
    ]
    assert "2024.1" in assessment.method.text


def test_ids_are_stable_and_a_transaction_puts_each_resource_under_its_id(session, seeded):
    first, again = export(session, seeded, "doctor"), export(session, seeded, "doctor")
    assert [e.fullUrl for e in first.entry] == [e.fullUrl for e in again.entry]
    transaction = export(session, seeded, "doctor", TRANSACTION)
    assert transaction.type == "transaction"
    assert [e.fullUrl for e in transaction.entry] == [e.fullUrl for e in first.entry]
    for entry in transaction.entry:
        assert entry.request.method == "PUT"
        assert entry.request.url == f"{entry.resource.resource_type}/{entry.resource.id}"


def test_the_export_only_reads(session, seeded):
    for name in NAMES:
        export(session, seeded, name)
    assert not (session.new or session.dirty or session.deleted)
    assert load_conversation(session, 10**6) is None
    assert load_conversation(session, 0) is None and load_conversation(session, 2**70) is None


def test_an_unknown_bundle_type_is_refused(session, seeded):
    with pytest.raises(ValueError, match="bundle type"):
        export(session, seeded, "doctor", "document")
