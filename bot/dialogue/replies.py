"""Plain-language replies built from a triage decision. No Rasa here: the action only sends them."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import yaml

from ..triage.engine import Decision
from ..triage.rulebook import DOCTOR, EMERGENCY, SELF_CARE, Rulebook

# Signs to watch for, named as the documents' emergency lists name them.
EMERGENCY_SIGNS = (
    "loss of bladder or bowel control, weakness or paralysis, difficulty walking, "
    "slurred speech, a drooping face, vision changes, confusion, dizziness, "
    "fainting, difficulty breathing, or numbness that comes on suddenly or after a back, head or neck injury"
)


MESSAGES_FILE = Path(__file__).resolve().parent / "messages.yml"


@dataclass(frozen=True)
class Reply:
    text: str
    payload: Optional[dict] = None  # sent as the message's custom data: {"triage": {...}}
    buttons: Tuple[str, ...] = field(default=())  # quick replies; each sends its own title as text


@functools.lru_cache(maxsize=None)
def messages(path: Path = MESSAGES_FILE) -> Dict:
    """messages.yml, checked: unknown keys are an error, not a silent typo."""
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    unknown = set(data) - {"greeting", "goodbye", "questions"}
    if unknown:
        raise ValueError(f"{path}: unknown key(s) {sorted(unknown)}")
    for question_id, question in data["questions"].items():
        extra = set(question) - {"text", "buttons"}
        if extra or "text" not in question:
            raise ValueError(f"{path}: question {question_id!r} needs 'text' and may have 'buttons' only")
    return data


def greeting(emergency_number: str) -> Reply:
    return Reply(messages()["greeting"].format(emergency_number=emergency_number))


def goodbye(emergency_number: str) -> Reply:
    return Reply(messages()["goodbye"].format(emergency_number=emergency_number))


def triage_payload(decision: Decision) -> dict:
    return {
        "triage": {
            "level": decision.level,
            "rules": [rule.id for rule in decision.rules],
            "red_flags": decision.red_flags,
            "reasons": [
                {"rule": r["rule"], "level": r["level"], "source": r["source"], "quote": r["quote"]}
                for r in decision.reasons()
            ],
            "missing": list(decision.missing),
            "rulebook_version": decision.rulebook_version,
        }
    }


def _reasons(decision: Decision, rulebook: Rulebook) -> List[str]:
    lines = []
    for rule in decision.rules:
        source = rule.sources[0]
        lines.append(f"- {rule.explanation} (\"{source.quote}\", from \"{rulebook.title(source.document)}\")")
    return lines


def emergency_reply(decision: Decision, rulebook: Rulebook, emergency_number: str) -> Reply:
    text = "\n".join(
        [
            f"EMERGENCY: call {emergency_number} now, or go to the nearest emergency department. "
            "Do not wait to see if it passes, and do not drive yourself.",
            "Why:",
            *_reasons(decision, rulebook),
            "I can't diagnose what is causing this, but these signs need to be checked by emergency services straight away.",
        ]
    )
    return Reply(text, triage_payload(decision))


def doctor_reply(decision: Decision, rulebook: Rulebook, emergency_number: str) -> Reply:
    text = "\n".join(
        [
            "Please contact a doctor or other healthcare provider about this; it is not an emergency "
            "from what you've told me, but it should be checked.",
            "Why:",
            *_reasons(decision, rulebook),
            "A doctor may examine you and may order tests such as blood tests, nerve conduction studies or "
            "imaging (MRI or CT). This is not a diagnosis.",
            f"Call {emergency_number} straight away if you notice {EMERGENCY_SIGNS}.",
        ]
    )
    return Reply(text, triage_payload(decision))


def self_care_reply(decision: Decision, rulebook: Rulebook, emergency_number: str) -> Reply:
    text = "\n".join(
        [
            "This sounds like the common, usually harmless kind of numbness that comes from staying in one "
            "position. You can look after it yourself.",
            "Why:",
            *_reasons(decision, rulebook),
            "What helps: change position and move around, avoid sitting for long stretches, take breaks, "
            "and keep physically active.",
            "See a doctor if it lasts more than a few minutes, keeps coming back, gets worse, or comes with pain "
            f"or other symptoms. Call {emergency_number} straight away if you notice {EMERGENCY_SIGNS}.",
        ]
    )
    return Reply(text, triage_payload(decision))


def reply_for(decision: Decision, rulebook: Rulebook, emergency_number: str) -> Optional[Reply]:
    """The result message for a decided level; None while the level is undetermined."""
    builders = {EMERGENCY: emergency_reply, DOCTOR: doctor_reply, SELF_CARE: self_care_reply}
    builder = builders.get(decision.level)
    return builder(decision, rulebook, emergency_number) if builder else None


def next_question(decision: Decision) -> Optional[Reply]:
    """Asks for the first thing still missing, in the rulebook's order."""
    if not decision.missing:
        return None
    question = messages()["questions"][decision.missing[0]]
    return Reply(question["text"], buttons=tuple(question.get("buttons") or ()))
