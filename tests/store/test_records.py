"""Rasa events -> transcript records: what is kept of each message, and nothing else."""
from __future__ import annotations

from bot.store.records import TranscriptRecord, pseudonym, transcript_records

from .events import DOCTOR_TRIAGE, bot, emergency_conversation, session_start, user

T0 = 1_700_000_000.0


def test_user_and_bot_messages_become_records_in_order_with_channel_intent_and_decision():
    records = transcript_records("p1", emergency_conversation(T0), first_new=0)
    assert [(r.speaker, r.text) for r in records] == [
        ("user", "my right leg feels numb"),
        ("bot", "How long has it been numb?"),
        ("user", "and now I can't control my bladder"),
        ("bot", "EMERGENCY: call 911 now, or go to the nearest emergency department."),
    ]
    first, _, _, decision = records
    assert (first.intent, first.confidence, first.channel) == ("describe_symptoms", 0.91, "rest")
    assert decision.channel == "rest"  # a bot message belongs to the channel the person wrote on
    assert decision.intent is None and decision.triage.level == "emergency"
    assert decision.triage.rules == ["emergency.bladder_bowel_loss"]
    assert decision.triage.red_flags == ["emergency.bladder_bowel_loss"]
    assert decision.triage.sources == ["001_cause.txt", "002_leg_numbness.txt"]
    assert decision.triage.rulebook_version == "2024.1"
    assert {r.session_started_at for r in records} == {T0 + 0.001}


def test_only_events_from_first_new_on_are_recorded_but_earlier_ones_set_session_and_channel():
    events = emergency_conversation(T0)
    records = transcript_records("p1", events, first_new=len(events) - 1)
    assert [r.text for r in records] == ["EMERGENCY: call 911 now, or go to the nearest emergency department."]
    assert records[0].channel == "rest" and records[0].session_started_at == T0 + 0.001


def test_a_new_session_starts_a_new_conversation_key():
    events = [*session_start(T0), user(T0 + 1, "hi"), *session_start(T0 + 5000), user(T0 + 5001, "hello again")]
    first, second = transcript_records("p1", events, first_new=0)
    assert first.session_key != second.session_key


def test_without_sessions_the_first_event_stands_for_the_start():
    records = transcript_records("p1", [user(T0, "hi"), bot(T0 + 1, "hello")], first_new=0)
    assert {r.session_started_at for r in records} == {T0}


def test_keys_are_stable_per_event_and_differ_between_events_and_senders():
    events = emergency_conversation(T0)
    once, again = transcript_records("p1", events, 0), transcript_records("p1", events, 0)
    assert [r.key for r in once] == [r.key for r in again]
    assert len({r.key for r in once}) == len(once)
    assert not {r.key for r in once} & {r.key for r in transcript_records("p2", events, 0)}


def test_records_survive_a_round_trip_through_json():
    for record in transcript_records("p1", [*emergency_conversation(T0), bot(T0 + 9, "doc", DOCTOR_TRIAGE)], 0):
        assert TranscriptRecord.from_json(record.to_json()) == record


def test_bot_messages_without_a_triage_payload_carry_no_decision():
    events = [bot(T0, "plain"), {"event": "bot", "timestamp": T0 + 1, "text": "odd", "data": {"custom": {"x": 1}}}]
    assert [r.triage for r in transcript_records("p1", events, 0)] == [None, None]


def test_the_pseudonym_is_keyed_stable_and_hides_the_sender_id():
    alias = pseudonym("key-one-0123456789", "+15551234567")
    assert alias == pseudonym("key-one-0123456789", "+15551234567")
    assert alias != pseudonym("key-two-0123456789", "+15551234567")
    assert "5551234567" not in alias and len(alias) == 32
