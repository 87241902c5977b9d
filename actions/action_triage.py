"""action_triage: the reply to every user message, emergency criteria first (see bot.dialogue).

It reads the latest message and the symptom picture kept in slots (domain.yml), never the
earlier messages again, and sets the slots that changed.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
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


def latest_turn(tracker: Tracker) -> Optional[Turn]:
    """The person's latest message, with the question that was pending when they wrote it and the
    findings the Rasa server's language layer read in it (parse_data["findings"], when it could)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return Turn.parsed(event.get("text") or "", event.get("parse_data") or {}, tracker.get_slot(SLOT_REQUESTED_QUESTION))
    return None


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


def changed_slots(tracker: Tracker, values: Dict[str, Any]) -> List[Dict]:
    """SlotSet events for the values that differ from the tracker's: the tracker grows by what changed only."""
    return [SlotSet(name, value) for name, value in values.items() if tracker.get_slot(name) != value]


class ActionTriage(Action):
    def name(self) -> Text:
        return ACTION_TRIAGE

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        log = logging.LoggerAdapter(logger, {"conversation": tracker.sender_id})
        talk = conversation.get()
        given = Given(
            tracker.get_slot(SLOT_TRIAGE_GIVEN), bool(tracker.get_slot(SLOT_EMERGENCY_GIVEN)), emergency_announced(tracker)
        )
        plan = talk.plan(latest_turn(tracker), Picture.from_slots(tracker.get_slot), given)
        log.info("triage level=%s rules=%s asked=%s", plan.decision.level, [r.id for r in plan.decision.rules], plan.asked)
        for reply in plan.replies:
            send(dispatcher, reply)
        return changed_slots(tracker, {
            SLOT_REQUESTED_QUESTION: plan.asked,
            SLOT_TRIAGE_GIVEN: plan.given.result,
            SLOT_EMERGENCY_GIVEN: plan.given.emergency,
            **plan.picture.as_slots(talk.questions),
        })
