"""Reading the latest message and answering it, for action_triage and validate_symptom_form.

The message is read once, by whichever of the two actions Rasa runs for it (bot.dialogue plans the
reply). The question the plan asks, when it is one of the rulebook's, is left to symptom_form,
which asks it as ``utter_ask_<question>``; everything else the plan says is sent here. Only the
slots that changed are set.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.dialogue.conversation import Conversation, Given, Turn
from bot.dialogue.picture import Picture
from bot.dialogue.replies import Reply
from bot.lazy import Lazy
from bot.settings import Settings
from bot.triage.service import shared_service

from .constants import (
    ACTION_TRIAGE,
    SLOT_EMERGENCY_GIVEN,
    SLOT_REQUESTED_QUESTION,
    SLOT_TRIAGE_GIVEN,
    UTTER_EMERGENCY,
)

logger = logging.getLogger(__name__)
# Built on first use: loading the language pipeline takes seconds.
conversation = Lazy(lambda: Conversation(shared_service(), Settings.from_env().emergency_number))


def _since_latest_message(tracker: Tracker) -> List[Dict[str, Any]]:
    """The events after the person's latest message (our Rasa server sends the action no more)."""
    after: List[Dict[str, Any]] = []
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            break
        after.append(event)
    return after


def latest_turn(tracker: Tracker) -> Optional[Turn]:
    """The person's latest message, with the question that was pending when they wrote it and the
    findings the Rasa server's language layer read in it (parse_data["findings"], when it could)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return Turn.parsed(event.get("text") or "", event.get("parse_data") or {}, tracker.get_slot(SLOT_REQUESTED_QUESTION))
    return None


def _ran_since_latest_message(tracker: Tracker, action_name: str) -> bool:
    return any(event.get("event") == "action" and event.get("name") == action_name for event in _since_latest_message(tracker))


def emergency_announced(tracker: Tracker) -> bool:
    """True when the Rasa server has already answered the latest message with utter_emergency."""
    return _ran_since_latest_message(tracker, UTTER_EMERGENCY)


def answered_already(tracker: Tracker) -> bool:
    """True when action_triage has answered the latest message (a digression inside the form)."""
    return _ran_since_latest_message(tracker, ACTION_TRIAGE)


def send(dispatcher: CollectingDispatcher, reply: Reply) -> None:
    buttons = [{"title": title, "payload": title} for title in reply.buttons]
    dispatcher.utter_message(text=reply.text, json_message=reply.payload, buttons=buttons or None)


def changed_slots(tracker: Tracker, values: Dict[str, Any]) -> List[Dict]:
    """SlotSet events for the values that differ from the tracker's: the tracker grows by what changed only."""
    return [SlotSet(name, value) for name, value in values.items() if tracker.get_slot(name) != value]


def form_question(question_id: Optional[str]) -> Optional[str]:
    """The slot symptom_form asks for ``question_id``, or None when no rulebook question is pending
    (a confirmation of a suspected sign is asked outside the form)."""
    return question_id if question_id in conversation.get().questions else None


@dataclass
class Answer:
    events: List[Dict]
    form_asks: Optional[str]  # the rulebook question symptom_form asks next, if any


def answer_latest_message(dispatcher: CollectingDispatcher, tracker: Tracker) -> Answer:
    """Plans the reply to the latest message, sends it (but the form's question) and returns the
    slots to set, ``requested_slot`` included."""
    log = logging.LoggerAdapter(logger, {"conversation": tracker.sender_id})
    talk = conversation.get()
    given = Given(
        tracker.get_slot(SLOT_TRIAGE_GIVEN), bool(tracker.get_slot(SLOT_EMERGENCY_GIVEN)), emergency_announced(tracker)
    )
    plan = talk.plan(latest_turn(tracker), Picture.from_slots(tracker.get_slot), given)
    form_asks = form_question(plan.asked)
    log.info("triage level=%s rules=%s asked=%s", plan.decision.level, [r.id for r in plan.decision.rules], plan.asked)
    for reply in plan.replies:
        if reply.asks is None or reply.asks != form_asks:
            send(dispatcher, reply)
    events = changed_slots(tracker, {
        SLOT_REQUESTED_QUESTION: plan.asked,
        SLOT_TRIAGE_GIVEN: plan.given.result,
        SLOT_EMERGENCY_GIVEN: plan.given.emergency,
        **plan.picture.as_slots(talk.questions),
    })
    return Answer(events, form_asks)
