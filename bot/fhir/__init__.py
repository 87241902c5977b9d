"""The hand-over to clinical systems: stored conversations as FHIR R4 resources (fhir.resources 6.4).

    conversation_bundle(conversation)            one conversation -> Bundle (collection or transaction)
    conversations_bundle(conversations)          several -> one Bundle, in memory
    bundle_json(conversations) / ndjson_lines()  several -> text, streamed (generators)
    load_conversation(session, id), stored_conversations(sessions, where=..., ids=...)   the reads

codes.yml maps our findings, statuses and levels to SNOMED CT where a standard code exists and to our
own code systems otherwise; questionnaire.py turns the rulebook's questions into the Questionnaire.
"""
from .bundle import (
    BUNDLE_TYPES,
    COLLECTION,
    TRANSACTION,
    bundle_json,
    conversation_bundle,
    conversations_bundle,
    ndjson_lines,
)
from .loading import load_conversation, stored_conversations

__all__ = [
    "BUNDLE_TYPES",
    "COLLECTION",
    "TRANSACTION",
    "bundle_json",
    "conversation_bundle",
    "conversations_bundle",
    "load_conversation",
    "ndjson_lines",
    "stored_conversations",
]
