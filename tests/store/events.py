"""Rasa events as the tracker store sees them (as dicts), for the tests to build conversations from."""
from __future__ import annotations

from typing import Dict, List, Optional

EMERGENCY_TRIAGE = {
    "level": "emergency",
    "rules": ["emergency.bladder_bowel_loss"],
    "red_flags": ["emergency.bladder_bowel_loss"],
    "reasons": [
        {"rule": "emergency.bladder_bowel_loss", "level": "emergency", "source": "001_cause.txt",
         "quote": "loss of bladder and/or bowel control"},
        {"rule": "emergency.bladder_bowel_loss", "level": "emergency", "source": "002_leg_numbness.txt",
         "quote": "Loss of bladder or bowel control"},
    ],
    "missing": [],
    "rulebook_version": "2024.1",
}

DOCTOR_TRIAGE = {
    "level": "doctor",
    "rules": ["doctor.known_condition", "doctor.persistent"],
    "red_flags": [],
    "reasons": [
        {"rule": "doctor.known_condition", "level": "doctor", "source": "000_basics.txt",
         "quote": "You have a known medical condition (e.g., diabetes, MS, or a recent injury) that could be causing the numbness."},
        {"rule": "doctor.persistent", "level": "doctor", "source": "000_basics.txt",
         "quote": "Numbness is persistent or doesn’t improve after changing positions."},
    ],
    "missing": [],
    "rulebook_version": "2024.1",
}

SELF_CARE_TRIAGE = {
    "level": "self_care",
    "rules": ["self_care.positional_relieved_by_moving"],
    "red_flags": [],
    "reasons": [
        {"rule": "self_care.positional_relieved_by_moving", "level": "self_care", "source": "003_options.txt",
         "quote": "This type of numbness is often positional and improves with movement."},
    ],
    "missing": [],
    "rulebook_version": "2024.1",
}


def session_start(at: float) -> List[Dict]:
    return [
        {"event": "action", "timestamp": at, "name": "action_session_start"},
        {"event": "session_started", "timestamp": at + 0.001},
        {"event": "action", "timestamp": at + 0.002, "name": "action_listen"},
    ]


def user(at: float, text: str, intent: str = "describe_symptoms", confidence: float = 0.91,
         channel: str = "rest") -> Dict:
    return {
        "event": "user", "timestamp": at, "text": text, "input_channel": channel,
        "parse_data": {"intent": {"name": intent, "confidence": confidence}, "text": text},
    }


def bot(at: float, text: str, triage: Optional[Dict] = None) -> Dict:
    return {"event": "bot", "timestamp": at, "text": text, "data": {"custom": {"triage": triage} if triage else None}}


def emergency_conversation(start: float, script_text: str = "and now I can't control my bladder") -> List[Dict]:
    return [
        *session_start(start),
        user(start + 1, "my right leg feels numb"),
        bot(start + 2, "How long has it been numb?"),
        user(start + 3, script_text),
        bot(start + 4, "EMERGENCY: call 911 now, or go to the nearest emergency department.", EMERGENCY_TRIAGE),
    ]
