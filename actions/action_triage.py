"""action_triage: the reply to a message outside symptom_form, emergency criteria first (see bot.dialogue).

It answers the greeting, the first description, the result, goodbyes and the confirmation of a
suspected sign, and digressions inside the form (data/rules/digressions.yml). When the rulebook
still needs an answer it starts symptom_form, which asks the question; otherwise it ends the form.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from .constants import ACTION_TRIAGE, REQUESTED_SLOT, SYMPTOM_FORM
from .turn import answer_latest_message


class ActionTriage(Action):
    def name(self) -> Text:
        return ACTION_TRIAGE

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        answer = answer_latest_message(dispatcher, tracker)
        events = answer.events
        if answer.form_asks:
            # The form asks it (utter_ask_<question>); Rasa runs the active form next.
            events += [SlotSet(REQUESTED_SLOT, answer.form_asks), ActiveLoop(SYMPTOM_FORM)]
        elif tracker.active_loop_name:
            events += [SlotSet(REQUESTED_SLOT, None), ActiveLoop(None)]
        return events
