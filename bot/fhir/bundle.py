"""Stored conversations as FHIR R4: one conversation as a Bundle, many as a Bundle or as NDJSON.

Per conversation: the Patient (the pseudonym only), the QuestionnaireResponse (the answers), an
Observation per finding, a RiskAssessment per decision, a Communication per message. Shared by all:
the assistant (a Device) and the Questionnaire of the rulebook's questions. Everything is built
with fhir.resources' R4 models; nothing here writes to the database.
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable, Iterator, List, Mapping, Optional, Set

from fhir.resources.bundle import Bundle, BundleEntry, BundleEntryRequest
from fhir.resources.resource import Resource

from ..store.models import Conversation
from ..triage.rulebook import Rulebook, load_rulebook
from .codes import Terminology, terminology
from .context import IN_BUNDLE, RELATIVE, ExportContext, conversation_key, fhir_instant, resource_id
from .observations import observation, observation_id, red_flag_concepts
from .participants import assistant, patient
from .questionnaire import answers_id, question_prompts, questionnaire, questionnaire_response
from .risk import decision_id, present_findings, risk_assessment
from .stored import decided, first_seen, latest_findings
from .transcript import communication

COLLECTION = "collection"
TRANSACTION = "transaction"  # for a FHIR server: each entry PUT under its own id, so a re-import updates
BUNDLE_TYPES = (COLLECTION, TRANSACTION)


def export_context(rulebook: Optional[Rulebook] = None, terms: Optional[Terminology] = None,
                   style: str = IN_BUNDLE) -> ExportContext:
    return ExportContext(terms=terms or terminology(), rulebook=rulebook or load_rulebook(), style=style)


def shared_resources(context: ExportContext, prompts: Mapping[str, str]) -> List[Resource]:
    return [assistant(context), questionnaire(context, prompts)]


def conversation_resources(
    conversation: Conversation, context: ExportContext, prompts: Mapping[str, str], with_patient: bool = True,
) -> Iterator[Resource]:
    """One conversation's resources, Patient first (unless the caller already gave it)."""
    key = conversation_key(conversation.sender, conversation.session_key)
    patient_id = context.patient_id(conversation.sender)
    if with_patient:
        yield patient(conversation.sender, context)
    decisions = decided(conversation)
    last = decisions[-1][1] if decisions else None
    findings = latest_findings(conversation)
    yield questionnaire_response(key, patient_id, findings, conversation.messages, last,
                                 conversation.last_message_at, context, prompts)
    red_flags = red_flag_concepts(context)
    for finding, recorded_at in first_seen(conversation).values():
        yield observation(finding, recorded_at, key, patient_id, answers_id(key), red_flags, context)
    decision_ids = {}
    for message, decision in decisions:
        observation_ids = list(dict.fromkeys(observation_id(key, f) for f in present_findings(decision)))
        decision_ids[message.id] = decision_id(key, message)
        yield risk_assessment(message, decision, key, patient_id, observation_ids, context)
    for message in conversation.messages:
        yield communication(message, conversation, key, patient_id, decision_ids, context)


def _entry(resource: Resource, bundle_type: str) -> BundleEntry:
    request = None
    if bundle_type == TRANSACTION:
        request = BundleEntryRequest(method="PUT", url=f"{resource.resource_type}/{resource.id}")
    return BundleEntry(fullUrl=f"urn:uuid:{resource.id}", resource=resource, request=request)


def _check_type(bundle_type: str) -> None:
    if bundle_type not in BUNDLE_TYPES:
        raise ValueError(f"bundle type must be one of {BUNDLE_TYPES}, got {bundle_type!r}")


def _stamp(now: Optional[dt.datetime]) -> str:
    return fhir_instant(now or dt.datetime.now(dt.timezone.utc))


def _resources(conversations: Iterable[Conversation], context: ExportContext, dedupe_all: bool) -> Iterator[Resource]:
    """Shared resources once, then each conversation's; a person's Patient once. With dedupe_all the
    pseudonyms seen are remembered (a Bundle may not hold an entry twice); without, only the last one,
    which is enough for conversations in pseudonym order and keeps memory flat."""
    prompts = question_prompts()
    yield from shared_resources(context, prompts)
    seen: Set[str] = set()
    previous: Optional[str] = None
    for conversation in conversations:
        sender = conversation.sender
        new_person = sender not in seen if dedupe_all else sender != previous
        if dedupe_all:
            seen.add(sender)
        previous = sender
        yield from conversation_resources(conversation, context, prompts, with_patient=new_person)


def conversation_bundle(
    conversation: Conversation, bundle_type: str = COLLECTION, now: Optional[dt.datetime] = None,
    context: Optional[ExportContext] = None,
) -> Bundle:
    """One stored conversation (loaded with its messages and their decisions) as a FHIR R4 Bundle."""
    return conversations_bundle([conversation], bundle_type, now, context)


def conversations_bundle(
    conversations: Iterable[Conversation], bundle_type: str = COLLECTION, now: Optional[dt.datetime] = None,
    context: Optional[ExportContext] = None,
) -> Bundle:
    """Several conversations in one Bundle, in memory (for a stream of any size, see bundle_json)."""
    _check_type(bundle_type)
    context = context or export_context()
    stamp = _stamp(now)
    entries = [_entry(resource, bundle_type) for resource in _resources(conversations, context, dedupe_all=True)]
    # The same content exported at the same moment gets the same id.
    people = [e.fullUrl for e in entries if e.resource.resource_type == "Patient"]
    return Bundle(id=resource_id("bundle", stamp, bundle_type, *people), type=bundle_type, timestamp=stamp,
                  entry=entries or None)


def bundle_json(
    conversations: Iterable[Conversation], bundle_type: str = COLLECTION, now: Optional[dt.datetime] = None,
    context: Optional[ExportContext] = None,
) -> Iterator[str]:
    """The same Bundle as conversations_bundle, as JSON text in pieces, one entry at a time: the
    conversations can come from a generator, and only the pseudonyms seen are kept."""
    _check_type(bundle_type)
    context = context or export_context()
    stamp = _stamp(now)
    head = Bundle(id=resource_id("bundle", stamp, bundle_type, "stream"), type=bundle_type, timestamp=stamp).json()
    first = True
    for resource in _resources(conversations, context, dedupe_all=True):
        yield (head[:-1] + ', "entry": [') if first else ", "
        first = False
        yield _entry(resource, bundle_type).json()
    yield head if first else "]}"  # FHIR allows no empty array: no entries, no "entry"


def ndjson_lines(
    conversations: Iterable[Conversation], context: Optional[ExportContext] = None,
) -> Iterator[str]:
    """One resource per line, references as "Type/id" (FHIR bulk data). A generator: conversations
    are read as they come and nothing is kept but the last pseudonym, so memory stays flat; give
    them in pseudonym order (stored_conversations does) or a person's Patient line repeats."""
    base = context or export_context()
    context = ExportContext(terms=base.terms, rulebook=base.rulebook, style=RELATIVE)
    for resource in _resources(conversations, context, dedupe_all=False):
        yield resource.json() + "\n"
