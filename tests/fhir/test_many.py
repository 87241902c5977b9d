"""Many conversations: one Bundle (in memory, or streamed as JSON text) and NDJSON lines read in
batches with memory that does not grow with the number of conversations."""
from __future__ import annotations

import inspect
import json
import tracemalloc

from fhir.resources.bundle import Bundle
from sqlalchemy import event

from bot.fhir import (
    TRANSACTION,
    bundle_json,
    conversations_bundle,
    load_conversation,
    ndjson_lines,
    stored_conversations,
)
from bot.store.models import Conversation

from .conformance import bundle_problems, ndjson_problems, resources_from_ndjson, roundtrip
from .conftest import NOW
from .seed import BLADDER_TEXT, DOCTOR_SENDER, DOCTOR_TEXT, EMERGENCY_SENDER, LEGACY_SENDER, seed_many


def kinds(resources) -> list:
    return [r.resource_type for r in resources]


def test_a_bundle_of_several_holds_each_person_and_the_shared_resources_once(session, seeded):
    conversations = [load_conversation(session, i) for i in seeded.values()]
    bundle = Bundle.parse_raw(conversations_bundle(conversations, now=NOW).json())
    assert bundle_problems(bundle) == []
    resources = [entry.resource for entry in bundle.entry]
    assert kinds(resources).count("Device") == kinds(resources).count("Questionnaire") == 1
    patients = {r.identifier[0].value: r for r in resources if r.resource_type == "Patient"}
    assert sorted(patients) == sorted({EMERGENCY_SENDER, DOCTOR_SENDER, LEGACY_SENDER})
    # "emergency" and "later" are the same person: both answer sets point at the one Patient.
    emergency_patient = f"urn:uuid:{patients[EMERGENCY_SENDER].id}"
    answer_sets = [r for r in resources if r.resource_type == "QuestionnaireResponse"]
    assert len(answer_sets) == 4
    assert sum(r.subject.reference == emergency_patient for r in answer_sets) == 2
    assert kinds(resources).count("Communication") == sum(len(c.messages) for c in conversations)


def test_the_streamed_bundle_is_the_same_bundle(sessions, session, seeded):
    whole = conversations_bundle([load_conversation(session, i) for i in sorted(seeded.values())], now=NOW)
    pieces = bundle_json(stored_conversations(sessions, ids=sorted(seeded.values())), now=NOW)
    assert inspect.isgenerator(pieces)
    streamed = Bundle.parse_raw("".join(pieces))
    assert bundle_problems(streamed) == []
    assert {e.fullUrl for e in streamed.entry} == {e.fullUrl for e in whole.entry}
    assert all(roundtrip(entry.resource) is None for entry in streamed.entry)
    empty = Bundle.parse_raw("".join(bundle_json([], TRANSACTION, now=NOW)))
    assert empty.type == "transaction" and empty.entry is not None  # the shared resources are still there
    assert kinds(e.resource for e in empty.entry) == ["Device", "Questionnaire"]


def test_ndjson_of_a_filtered_set(sessions, seeded):
    def emergencies(query, _session):
        return query.where(Conversation.triage_level == "emergency")

    lines = list(ndjson_lines(stored_conversations(sessions, where=emergencies)))
    resources = resources_from_ndjson(lines)
    assert all(roundtrip(resource) is None for resource in resources)
    assert ndjson_problems(resources) == []  # every "Type/id" names a line of the file, of an allowed type
    patients = [r.identifier[0].value for r in resources if r.resource_type == "Patient"]
    assert sorted(patients) == sorted([EMERGENCY_SENDER, LEGACY_SENDER])  # once each, in pseudonym order
    texts = [r.payload[0].contentString for r in resources if r.resource_type == "Communication" and r.payload]
    assert BLADDER_TEXT in texts and DOCTOR_TEXT not in texts
    assessments = [r for r in resources if r.resource_type == "RiskAssessment"]
    assert {a.prediction[0].outcome.coding[0].code for a in assessments} == {"emergency"}
    assert all(a.subject.reference.startswith("Patient/") for a in assessments)


def test_ndjson_is_read_batch_by_batch(database, sessions, seeded):
    seed_many(database.url, 120)
    statements = []
    event.listen(sessions.kw["bind"], "before_cursor_execute", lambda *args: statements.append(args[2]))
    lines = ndjson_lines(stored_conversations(sessions, batch_size=10))
    assert inspect.isgenerator(lines)
    first = [next(lines) for _ in range(12)]  # the shared resources and the first conversation
    assert json.loads(first[0])["resourceType"] == "Device"
    read = [s for s in statements if "FROM transcript_conversations" in s]
    assert len(read) <= 3, "more than the first batch was read for the first conversation"
    rest = list(lines)
    assert sum(json.loads(line)["resourceType"] == "Patient" for line in first + rest) == 3 + 120
    read = [s for s in statements if "FROM transcript_conversations" in s]
    assert len(read) >= 124 // 10  # one key query and one load per batch


def _peak_bytes(sessions, count: int) -> int:
    wanted = lambda query, _session: query.where(Conversation.id <= count)  # noqa: E731
    tracemalloc.start()
    try:
        for _line in ndjson_lines(stored_conversations(sessions, where=wanted, batch_size=10)):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_ndjson_memory_does_not_grow_with_the_number_of_conversations(database, sessions, seeded):
    seed_many(database.url, 200)
    small, large = _peak_bytes(sessions, 20), _peak_bytes(sessions, 200)
    # Ten times the conversations; a list of everything would take about ten times the memory.
    assert large < 2 * small, f"peak {large} bytes for 200 conversations, {small} for 20"


def test_the_staff_list_filter_selects_what_is_exported(sessions, seeded):
    from bot.staff.queries import ConversationFilter  # the filter the staff pages and CLI pass on

    chosen = ConversationFilter.from_args({"level": "doctor", "channel": "socketio"})
    exported = [c.id for c in stored_conversations(sessions, where=chosen.where)]
    assert exported == [seeded["doctor"]]


def test_stored_conversations_by_id(sessions, seeded):
    wanted = [seeded["legacy"], seeded["doctor"], 10**9, 0]
    got = [c.id for c in stored_conversations(sessions, ids=wanted)]
    assert sorted(got) == sorted([seeded["legacy"], seeded["doctor"]])
