"""The conversation: what to say next, given the new message and the symptom picture so far. No Rasa here.

Each call reads only the new message; what earlier messages said is in the ``Picture`` (kept in
slots between turns), so the work per turn does not grow with the conversation. The emergency
criteria are applied before anything else: when one is met the reply is the emergency advice,
and every later reply starts with a reminder and asks nothing more.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import AbstractSet, Any, Dict, FrozenSet, List, Mapping, Optional, Sequence, Set, Tuple

from ..nlp.language import looks_english
from ..nlp.pipeline import DETAIL_CHARS
from ..triage.engine import Decision
from ..nlp.findings import ANSWER, NEGATED, PRESENT, Finding
from ..triage.knowledge import Knowledge, load_knowledge
from ..triage.levels import DOCTOR, SELF_CARE, UNDETERMINED
from ..triage.service import TriageService
from . import replies
from .picture import Picture
from .replies import Reply

GREET, GOODBYE, THANK = "greet", "goodbye", "thank"
AFFIRM, DENY, DONT_KNOW, SKIP = "affirm", "deny", "dont_know", "skip_question"
START_OVER, ASK_FOR_ADVICE, FALLBACK = "start_over", "ask_for_advice", "nlu_fallback"
CANNED = {"bot_challenge": "bot_challenge", "chitchat": "chitchat", "out_of_scope": "out_of_scope"}


def is_digression(intent: Optional[str]) -> bool:
    """A question about a condition (faq.yml) or small talk: answered, then back to the question
    (inside symptom_form by data/rules/digressions.yml)."""
    return intent in CANNED or intent in replies.faq_answers()

# A "no" to a question is recorded as the concept the rulebook takes as its answer.
DENIAL_CONCEPTS = {
    "emergency_signs": "red_flags_denied",
    "associated_symptoms": "associated_denied",
    "conditions": "conditions_denied",
}
# Concepts that come from answers to questions rather than from the language layer.
ANSWER_CONCEPTS = frozenset(DENIAL_CONCEPTS.values()) | {"red_flag_affirmed"}
# A yes or no to the emergency-signs question counts only when the classifier is sure of it: it
# read "greet" as a yes (0.35) and "I think so" as a no (0.39). Anything less is asked again.
EMERGENCY_QUESTION = "emergency_signs"
CLEAR_ANSWER = 0.6
# A sign only one red-flag detector found is asked back ("Are you having trouble breathing right
# now?") before anything else; the question's id is this prefix and the sign's concept.
CONFIRM = "confirm:"


# "yeah actually, my words came out all mushed up": a yes that goes on to tell the sign in the
# person's own words. The classifier reads it as a description, so the yes is read here.
_YES_FIRST = re.compile(r"^\W*(?:yes|yeah|yea|yep|yup|yah|aye|sadly|unfortunately|afraid so|i do|i think so)\b(?!\W*(?:but )?no\b)",
                        re.IGNORECASE)


def starts_with_yes(text: str) -> bool:
    return bool(_YES_FIRST.match(text))


def confirmed_concept(question_id: Optional[str]) -> Optional[str]:
    """The sign a confirmation question asks about, or None for any other question."""
    return question_id[len(CONFIRM):] if question_id and question_id.startswith(CONFIRM) else None


# parse_data["findings"]: what the Rasa server's language layer found in a message (Finding.as_record
# each; set by bot.rasa_server.red_flags.RedFlagDetector).
PARSED_FINDINGS = "findings"
# The entity it sets on a message that meets an emergency criterion (data/rules/safety.yml answers it).
RED_FLAG_ENTITY = "red_flag"


@dataclass(frozen=True)
class Turn:
    text: str
    intent: Optional[str] = None
    asked: Optional[str] = None  # the question that was pending when the person wrote this
    confidence: float = 1.0  # the classifier's, for the intent
    # What the language layer found in the text, when the Rasa server read it already (None: read it here).
    findings: Optional[Tuple[Finding, ...]] = None

    @classmethod
    def parsed(cls, text: str, parse_data: Mapping[str, Any], asked: Optional[str]) -> "Turn":
        """A message as Rasa's NLU parsed it: its intent and confidence, and the findings when the
        Rasa server's language layer put them there."""
        intent = parse_data.get("intent") or {}
        confidence = intent.get("confidence")
        records = parse_data.get(PARSED_FINDINGS)
        findings = None if records is None else tuple(Finding.from_record(record) for record in records)
        return cls(text, intent.get("name"), asked, 1.0 if confidence is None else float(confidence), findings)

    def read_as(self) -> "Turn":
        """The turn as the conversation reads it: an unsure yes or no to the emergency question is
        not an answer (nlu_fallback), so the question is asked again."""
        screening = self.asked == EMERGENCY_QUESTION or confirmed_concept(self.asked)
        if screening and self.intent in (AFFIRM, DENY) and self.confidence < CLEAR_ANSWER:
            return replace(self, intent=FALLBACK)
        return self


@dataclass(frozen=True)
class Given:
    """What earlier replies already gave, kept in slots between turns."""

    result: Optional[str] = None  # "interim:doctor" or "result:<decision key>"
    emergency: bool = False
    announced: bool = False  # the Rasa server has just given this message the emergency headline


@dataclass
class Plan:
    replies: List[Reply]
    decision: Decision
    asked: Optional[str] = None
    given: Given = field(default_factory=Given)
    picture: Picture = field(default_factory=Picture)


def decision_key(decision: Decision) -> str:
    return f"{decision.level}:{','.join(sorted(rule.id for rule in decision.rules))}"


class Conversation:
    def __init__(self, service: TriageService, emergency_number: str, knowledge: Optional[Knowledge] = None):
        self.service = service
        self.number = emergency_number
        self.knowledge = knowledge or load_knowledge()
        self.questions: Dict[str, FrozenSet[str]] = {q.id: q.concepts for q in service.rulebook.questions}

    # ------------------------------------------------------------------ reading the message
    def _read(self, turn: Turn) -> Tuple[List[Finding], Set[str]]:
        """Findings of one message (with its answer to the question it was asked) and the questions it answers."""
        found = list(self.service.pipeline.findings(turn.text) if turn.findings is None else turn.findings)
        answered: Set[str] = set()
        if turn.asked:
            mentioned = {f.concept for f in found}
            if turn.intent == DENY and turn.asked in DENIAL_CONCEPTS:
                found.append(Finding(DENIAL_CONCEPTS[turn.asked], turn.text, PRESENT, "answer"))
            if turn.asked == EMERGENCY_QUESTION and (turn.intent == AFFIRM or (turn.intent != DENY and starts_with_yes(turn.text))):
                found.append(Finding("red_flag_affirmed", turn.text, PRESENT, "red_flag"))  # in ANSWER_CONCEPTS
            sign = confirmed_concept(turn.asked)
            if sign and turn.intent in (AFFIRM, DENY):  # the person's own yes or no decides the sign
                status = PRESENT if turn.intent == AFFIRM else NEGATED
                found.append(Finding(sign, turn.text, status, "red_flag", detected_by=(ANSWER,)))
                answered.add(turn.asked)
            if turn.intent in (DENY, DONT_KNOW, SKIP) or mentioned & self.questions.get(turn.asked, frozenset()):
                answered.add(turn.asked)
        return found, answered

    # ------------------------------------------------------------------ planning the reply
    def replay(self, turns: Sequence[Turn], given: Given = Given()) -> Plan:
        """The plan for the last of several turns, each planned in order (for tests and rehearsals)."""
        plan, picture = self.plan(None, given=given), Picture()
        for turn in turns:
            plan = self.plan(turn, picture, given)
            picture, given = plan.picture, plan.given
        return plan

    def plan(self, turn: Optional[Turn], picture: Picture = Picture(), given: Given = Given()) -> Plan:
        """The reply to ``turn`` (None: nothing said yet), given the picture of the earlier messages."""
        if turn is None:
            return Plan([replies.greeting(self.number)], self.service.engine.decide([]))
        if turn.intent == START_OVER:
            return self._restart(turn, picture, given)
        current = turn.read_as()
        first = picture.messages == 0
        current_findings, answered_now = self._read(current)
        picture = picture.with_message(current_findings, answered_now, self.questions)
        decision = self.service.engine.decide(picture.findings)
        if decision.is_emergency:
            return self._emergency(decision, current, current_findings, given, picture)
        notice = self._input_notice(current, current_findings)
        understood = bool(current_findings) or notice is not None or current.intent not in (FALLBACK, None)
        if decision.suspected:
            plan = self._confirm(decision, current, given, understood, first, notice)
        else:
            plan = self._collect(decision, current, current_findings, picture.answered, given, bool(picture.findings),
                                 understood, first)
            if notice:
                plan.replies.insert(0, replies.say(notice, self.number))
        plan.picture = picture
        return plan

    def _confirm(self, decision: Decision, current: Turn, given: Given, understood: bool, first: bool,
                 notice: Optional[str]) -> Plan:
        """Ask back the first sign only one detector found, in plain words, before anything else;
        asked again until the answer is a clear yes (the emergency) or a clear no."""
        sign = decision.suspected[0]
        question_id = CONFIRM + sign
        out = [replies.say(notice, self.number)] if notice else []
        if first:
            out.append(replies.say("intro", self.number))
        out += self._digression(current)
        if current.asked == question_id and not understood or current.asked == question_id and current.intent in (
                FALLBACK, DONT_KNOW, SKIP):
            out.append(replies.say("confirm_again", self.number))
        out.append(replies.confirmation(self.service.pipeline.signs.bank.sign(sign).question, decision))
        return Plan(out, decision, asked=question_id, given=given)

    def _input_notice(self, turn: Turn, findings: List[Finding]) -> Optional[str]:
        """Why a message could not be read as usual: empty, very long, or not in English."""
        if not turn.text.strip():
            return "empty_message"
        if len(turn.text) > DETAIL_CHARS:
            return "too_long"
        if not findings and not looks_english(turn.text):
            return "not_english"
        return None

    def _restart(self, turn: Turn, picture: Picture, given: Given) -> Plan:
        # Emergency first, even in "start over, my husband collapsed": its signs stay in the new picture.
        # Read on its own words: it answers no question ("yeah, let's start over" is no yes to the screen).
        found, _ = self._read(replace(turn, asked=None))
        current = self.service.engine.decide(found)
        if current.is_emergency:
            reply = replies.reply_for(current, self.service.rulebook, self.number, self.knowledge, not given.announced)
            return Plan([reply], current, given=Given(emergency=True), picture=Picture().with_message(found, (), self.questions))
        earlier = self.service.engine.decide(picture.findings)
        out = [replies.emergency_reminder(earlier, self.number)] if earlier.is_emergency else []
        out.append(replies.say("restart", self.number))
        return Plan(out, current)

    def _emergency(self, decision: Decision, current: Turn, current_findings: List[Finding], given: Given,
                   picture: Picture) -> Plan:
        new_sign = any(f.is_present and f.category == "red_flag" for f in current_findings)
        if not given.emergency or new_sign:
            out = [replies.emergency_reply(decision, self.service.rulebook, self.number, not given.announced)]
        else:
            out = [replies.emergency_reminder(decision, self.number)]
            out += self._digression(current)  # answer their question, but no more questionnaire
        return Plan(out, decision, asked=None, given=Given(result=given.result, emergency=True), picture=picture)

    def _digression(self, turn: Turn) -> List[Reply]:
        """A reply to a question, small talk or an off-topic message; empty when it is none of those."""
        faq = replies.faq_reply(turn.intent or "", self.service.rulebook)
        if faq:
            return [faq]
        if turn.intent in CANNED:
            return [replies.say(CANNED[turn.intent], self.number)]
        if turn.intent in (GOODBYE, THANK):
            return [replies.goodbye(self.number)]
        return []

    def _answers(self, turn: Turn, findings: List[Finding]) -> bool:
        """True when the turn's own words answer the question it was asked ("no known conditions")."""
        concepts = self.questions.get(turn.asked or "", frozenset())
        return any(f.concept in concepts for f in findings)

    def _collect(
        self, decision: Decision, current: Turn, current_findings: List[Finding], answered: AbstractSet[str],
        given: Given, has_findings: bool, understood: bool, first: bool,
    ) -> Plan:
        out: List[Reply] = []
        pending = current.asked if current.asked and current.asked not in answered else None
        digression = self._digression(current)
        if current.intent in (GOODBYE, THANK):
            # Nobody leaves without the advice their answers already support.
            if has_findings and decision.level in (DOCTOR, SELF_CARE) and given.result != f"result:{decision_key(decision)}":
                out.append(replies.result_reply(decision, self.service.rulebook, self.knowledge, self.number))
                given = Given(result=f"result:{decision_key(decision)}")
            return Plan(out + digression, decision, asked=None, given=given)
        if not has_findings and (current.intent == GREET or (first and not understood)):
            return Plan([replies.greeting(self.number)], decision, given=given)
        if first and has_findings:  # they skipped the greeting: say who we are once
            out.append(replies.say("intro", self.number))
        if not understood:
            out.append(replies.say("not_understood_short" if has_findings else "not_understood", self.number))
        out += digression
        if current.asked == "emergency_signs" and current.intent == DONT_KNOW:
            out.append(replies.say("screen_unsure", self.number))
        elif current.intent == DONT_KNOW and current.asked and not self._answers(current, current_findings):
            out.append(replies.say("dont_know", self.number))
        elif current.intent == SKIP and current.asked:
            out.append(replies.say("skipped", self.number))

        still_to_ask = [q for q in decision.missing if q not in answered]
        if not has_findings:
            still_to_ask = []  # nothing described yet: the greeting's invitation stands
        wants_advice = current.intent == ASK_FOR_ADVICE
        if still_to_ask and not wants_advice:
            next_question = pending if pending in still_to_ask else still_to_ask[0]
            if decision.level == DOCTOR and given.result is None:
                out.append(replies.say("interim_doctor", self.number, payload=replies.triage_payload(decision)))
                given = Given(result="interim:doctor")
            if digression and next_question == pending:
                out.append(replies.say("back_to_question", self.number))
            out.append(replies.question(next_question))
            return Plan(out, decision, asked=next_question, given=given)

        key = f"result:{decision_key(decision)}"
        if has_findings and (given.result != key or wants_advice):
            out.append(replies.result_reply(decision, self.service.rulebook, self.knowledge, self.number))
            given = Given(result=key)
        elif not (digression or out):
            out.append(replies.say("anything_else", self.number))
        if decision.level == UNDETERMINED and still_to_ask and wants_advice:
            out.append(replies.question(still_to_ask[0]))
            return Plan(out, decision, asked=still_to_ask[0], given=given)
        return Plan(out, decision, asked=None, given=given)
