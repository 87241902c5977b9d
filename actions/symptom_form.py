"""validate_symptom_form: reads every answer given while symptom_form is active (a dynamic form).

Rasa's dynamic forms pick the next slot in the validation action (``required_slots`` and
``next_requested_slot`` of FormValidationAction); here one message can fill several slots and
the rulebook's ``missing`` decides what is asked next, so the whole reading is done in ``run``:
the slots that changed, and ``requested_slot`` set to the next question, or to None when the
rulebook needs nothing more (the result has been given, or a sign must be confirmed first).

It rejects, so that Rasa's rules answer instead (Rasa's documented unhappy path):
- a message the Rasa server marked with a red flag: the emergency rule answers first
  (data/rules/safety.yml), and the form ends;
- a question about a condition or small talk: data/rules/digressions.yml answers it and comes back
  to the form.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from bot.dialogue.conversation import RED_FLAG_ENTITY, is_digression

from .constants import REQUESTED_SLOT, SLOT_REQUESTED_QUESTION, VALIDATE_SYMPTOM_FORM
from .turn import answer_latest_message, answered_already, form_question

REJECT: List[Dict] = []  # no slot set: Rasa's form rejects, and the rules answer


def has_red_flag(tracker: Tracker) -> bool:
    return any(entity.get("entity") == RED_FLAG_ENTITY for entity in tracker.latest_message.get("entities") or ())


class ValidateSymptomForm(FormValidationAction):
    def name(self) -> Text:
        return VALIDATE_SYMPTOM_FORM

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        if answered_already(tracker):
            # Back in the form after a digression: action_triage read the message and chose the question.
            return [SlotSet(REQUESTED_SLOT, form_question(tracker.get_slot(SLOT_REQUESTED_QUESTION)))]
        if has_red_flag(tracker) or is_digression((tracker.latest_message.get("intent") or {}).get("name")):
            return REJECT
        answer = answer_latest_message(dispatcher, tracker)
        return answer.events + [SlotSet(REQUESTED_SLOT, answer.form_asks)]
