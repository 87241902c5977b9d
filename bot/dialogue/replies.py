"""Plain-language replies built from a triage decision and the knowledge files. No Rasa here."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

from ..datafiles import check_keys, read_yaml
from ..triage.engine import Decision, summary_dicts
from ..nlp.findings import Finding
from ..triage.knowledge import Knowledge
from ..triage.levels import DOCTOR, EMERGENCY, SELF_CARE
from ..triage.rulebook import DEFAULT_RULES_DIR, Rulebook, RulebookReader, Source

HERE = Path(__file__).resolve().parent
MESSAGES_FILE = HERE / "messages.yml"
FAQ_FILE = HERE / "faq.yml"
# The emergency advice is worded once, as the Rasa server's own response (it needs no action server).
DOMAIN_FILE = HERE.parents[1] / "domain.yml"
EMERGENCY_RESPONSE = "utter_emergency"
_MESSAGE_KEYS = {
    "greeting", "intro", "goodbye", "emergency_reminder", "screen_unsure", "dont_know", "skipped",
    "restart", "back_to_question", "not_understood", "not_understood_short", "bot_challenge", "chitchat", "out_of_scope",
    "interim_doctor", "anything_else",
    "empty_message", "not_english", "too_long", "technical_problem", "rate_limited", "busy", "unreadable",
    "confirm_prefix", "confirm_again",
}

# Signs to watch for, named as the documents' emergency lists name them.
EMERGENCY_SIGNS = (
    "loss of bladder or bowel control, weakness or paralysis, difficulty walking, "
    "slurred speech, a drooping face, vision changes, confusion, dizziness, "
    "fainting, difficulty breathing, or numbness that comes on suddenly or after a back, head or neck injury"
)


CAUSES_TO_DISCUSS = "Possible causes to discuss with a doctor (this is not a diagnosis; only an examination can tell):"


@dataclass(frozen=True)
class Reply:
    text: str
    payload: Optional[dict] = None  # sent as the message's custom data: {"triage": {...}}
    buttons: Tuple[str, ...] = field(default=())  # quick replies; each sends its own title as text
    asks: Optional[str] = None  # the rulebook question this reply asks (symptom_form asks it in Rasa)


@functools.lru_cache(maxsize=None)
def messages() -> Dict:
    """messages.yml, checked: unknown keys are an error, not a silent typo."""
    return check_keys(read_yaml(MESSAGES_FILE), _MESSAGE_KEYS, str(MESSAGES_FILE), required=_MESSAGE_KEYS)


@functools.lru_cache(maxsize=None)
def faq_answers() -> Dict[str, Tuple[str, Tuple[Source, ...]]]:
    """faq.yml: intent -> (answer, sources), with sources read like the rulebook's."""
    reader = RulebookReader(DEFAULT_RULES_DIR)
    data = check_keys(read_yaml(FAQ_FILE), {"faq"}, str(FAQ_FILE), {"faq"})
    answers = {}
    for intent, raw in data["faq"].items():
        where = f"{FAQ_FILE.name}: {intent}"
        raw = check_keys(raw, {"text", "sources"}, where, {"text"})
        sources = reader.sources(raw["sources"], where) if "sources" in raw else ()
        answers[intent] = (raw["text"].strip(), sources)
    return answers


@functools.lru_cache(maxsize=None)
def _domain_responses() -> Dict:
    return read_yaml(DOMAIN_FILE)["responses"]  # type: ignore[index]


def _domain_response(name: str) -> Dict:
    """The first variant of a domain.yml response, checked: a text and at most buttons."""
    try:
        response = _domain_responses()[name][0]
    except (KeyError, IndexError, TypeError) as missing:
        raise ValueError(f"{DOMAIN_FILE}: no response {name}") from missing
    return check_keys(response, {"text", "buttons"}, f"{DOMAIN_FILE.name}: {name}", {"text"})


def emergency_advice(emergency_number: str) -> str:
    """The emergency advice as the Rasa server gives it (domain.yml utter_emergency)."""
    return _domain_response(EMERGENCY_RESPONSE)["text"].format(emergency_number=emergency_number)


def say(key: str, emergency_number: str, payload: Optional[dict] = None, **values) -> Reply:
    return Reply(messages()[key].format(emergency_number=emergency_number, **values), payload)


def greeting(emergency_number: str) -> Reply:
    return say("greeting", emergency_number)


def goodbye(emergency_number: str) -> Reply:
    return say("goodbye", emergency_number)


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
            # Which detector found each red flag, and the signs still to confirm, for staff.
            "findings": [f.as_dict() for f in decision.findings if f.category == "red_flag"],
            "suspected": list(decision.suspected),
            "summary": summary_dicts(decision.summary),
        }
    }


def _cited(text: str, source: Source, rulebook: Rulebook) -> str:
    return f"{text} (\"{source.quote}\", from \"{rulebook.title(source.document)}\")"


def _reasons(decision: Decision, rulebook: Rulebook) -> List[str]:
    return [f"- {_cited(rule.explanation, rule.sources[0], rulebook)}" for rule in decision.rules]


def _causes(findings: Iterable[Finding], knowledge: Knowledge, rulebook: Rulebook, heading: str) -> List[str]:
    causes = knowledge.causes_for(findings)
    if not causes:
        return []
    lines = [heading]
    lines += [f"- {cause.name} (from \"{rulebook.title(cause.sources[0].document)}\")" for cause in causes]
    return lines


def _advice(item: str, knowledge: Knowledge, rulebook: Rulebook) -> str:
    advice = knowledge.advice[item]
    return f"{advice.text} (from \"{rulebook.title(advice.sources[0].document)}\")"


def emergency_reply(decision: Decision, rulebook: Rulebook, emergency_number: str, headline: bool = True) -> Reply:
    """The emergency advice with its reasons; without the headline when the Rasa server has just
    given it (utter_emergency), so the person reads it once."""
    if headline:
        opening = [emergency_advice(emergency_number), "Why:"]
    else:
        opening = [f"Why this needs emergency care (call {emergency_number} now):"]
    text = "\n".join(
        [
            *opening,
            *_reasons(decision, rulebook),
            "I can't diagnose what is causing this, but these signs need to be checked by emergency services straight away.",
        ]
    )
    return Reply(text, triage_payload(decision))


def emergency_reminder(decision: Decision, emergency_number: str) -> Reply:
    signs = ", ".join(f"\"{f.text}\"" for f in decision.findings if f.is_present and f.category == "red_flag")
    return say("emergency_reminder", emergency_number, triage_payload(decision), signs=signs or "an emergency sign")


def result_reply(decision: Decision, rulebook: Rulebook, knowledge: Knowledge, emergency_number: str) -> Reply:
    """The full result for a decided level (not emergency): why, possible causes, what next."""
    if decision.level == DOCTOR:
        lines = [
            "My advice: contact a doctor or other healthcare provider about this. It isn't an emergency from "
            "what you've told me, but it should be checked.",
            "Why:",
            *_reasons(decision, rulebook),
            *_causes(decision.findings, knowledge, rulebook, CAUSES_TO_DISCUSS),
            "What to expect: " + _advice("doctor_visit", knowledge, rulebook),
        ]
    elif decision.level == SELF_CARE:
        lines = [
            "This sounds like the common, usually harmless kind of numbness that comes from staying in one "
            "position. You can look after it yourself.",
            "Why:",
            *_reasons(decision, rulebook),
            *_causes(decision.findings, knowledge, rulebook, "What is probably behind it (not a diagnosis):"),
            "What helps: " + _advice("self_care", knowledge, rulebook),
            "Prevention: " + _advice("prevention", knowledge, rulebook),
            "See a doctor if it lasts more than a few minutes, keeps coming back, gets worse, or comes with pain or other symptoms.",
        ]
    else:
        lines = [_advice("undetermined", knowledge, rulebook), *_causes(decision.findings, knowledge, rulebook, CAUSES_TO_DISCUSS)]
    lines.append(f"Call {emergency_number} straight away if you notice {EMERGENCY_SIGNS}.")
    return Reply("\n".join(lines), triage_payload(decision))


def reply_for(
    decision: Decision, rulebook: Rulebook, emergency_number: str, knowledge: Knowledge, headline: bool = True
) -> Reply:
    if decision.level == EMERGENCY:
        return emergency_reply(decision, rulebook, emergency_number, headline)
    return result_reply(decision, rulebook, knowledge, emergency_number)


ASK_PREFIX = "utter_ask_"  # Rasa's name for the response a form asks a slot with


def question(question_id: str) -> Reply:
    """A rulebook question as symptom_form asks it (domain.yml utter_ask_<question>)."""
    entry = _domain_response(ASK_PREFIX + question_id)
    return Reply(entry["text"], buttons=tuple(button["title"] for button in entry.get("buttons") or ()), asks=question_id)


def questions() -> Dict[str, Reply]:
    """Every question symptom_form can ask, by question id."""
    return {name[len(ASK_PREFIX):]: question(name[len(ASK_PREFIX):]) for name in _domain_responses() if name.startswith(ASK_PREFIX)}


def confirmation(sign_question: str, decision: Decision) -> Reply:
    """The plain-words question about one suspected emergency sign, with Yes and No; its payload
    shows staff the decision so far and the sign in question."""
    return Reply(f"{messages()['confirm_prefix']} {sign_question}", triage_payload(decision), buttons=("Yes", "No"))


def faq_reply(intent: str, rulebook: Rulebook) -> Optional[Reply]:
    answer = faq_answers().get(intent)
    if answer is None:
        return None
    text, sources = answer
    if sources:
        text += f" (from \"{rulebook.title(sources[0].document)}\"; general information, not a diagnosis)"
    return Reply(text)
