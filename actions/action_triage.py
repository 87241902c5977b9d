"""action_triage: the reply to every user message, emergency criteria first (see bot.dialogue)."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.dialogue.conversation import Conversation, Given, Turn
from bot.dialogue.replies import Reply
from bot.lazy import Lazy
from bot.settings import Settings
from bot.triage.service import shared_service

from .constants import (
    ACTION_TRIAGE,
    SESSION_BOUNDARY_EVENTS,
    SLOT_EMERGENCY_GIVEN,
    SLOT_REQUESTED_QUESTION,
    SLOT_TRIAGE_GIVEN,
    UTTER_EMERGENCY,
)

logger = logging.getLogger(__name__)
# Built on first use: loading the language pipeline takes seconds.
conversation = Lazy(lambda: Conversation(shared_service(), Settings.from_env().emergency_number))


def turns_this_session(tracker: Tracker) -> List[Turn]:
    """The person's messages since the session began, each with the question pending at the time."""
    events = tracker.events
    start = max((i + 1 for i, e in enumerate(events) if e.get("event") in SESSION_BOUNDARY_EVENTS), default=0)
    turns, asked = [], None
    for event in events[start:]:
        if event.get("event") == "slot" and event.get("name") == SLOT_REQUESTED_QUESTION:
            asked = event.get("value")
        elif event.get("event") == "user":
            intent = (event.get("parse_data") or {}).get("intent") or {}
            confidence = intent.get("confidence")
            turns.append(Turn(event.get("text") or "", intent.get("name"), asked,
                              1.0 if confidence is None else float(confidence)))
    return turns


def emergency_announced(tracker: Tracker) -> bool:
    """True when the Rasa server has already answered the latest message with utter_emergency."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "action" and event.get("name") == UTTER_EMERGENCY:
            return True
    return False


def send(dispatcher: CollectingDispatcher, reply: Reply) -> None:
    buttons = [{"title": title, "payload": title} for title in reply.buttons]
    dispatcher.utter_message(text=reply.text, json_message=reply.payload, buttons=buttons or None)


class ActionTriage(Action):
    def name(self) -> Text:
        return ACTION_TRIAGE

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        log = logging.LoggerAdapter(logger, {"conversation": tracker.sender_id})
        given = Given(
            tracker.get_slot(SLOT_TRIAGE_GIVEN), bool(tracker.get_slot(SLOT_EMERGENCY_GIVEN)), emergency_announced(tracker)
        )
        plan = conversation.get().plan(turns_this_session(tracker), given)
        log.info("triage level=%s rules=%s asked=%s", plan.decision.level, [r.id for r in plan.decision.rules], plan.asked)
        for reply in plan.replies:
            send(dispatcher, reply)
        return [
            SlotSet(SLOT_REQUESTED_QUESTION, plan.asked),
            SlotSet(SLOT_TRIAGE_GIVEN, plan.given.result),
            SlotSet(SLOT_EMERGENCY_GIVEN, plan.given.emergency),
        ]
