"""action_triage: applies the emergency criteria and the rulebook to everything said so far."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.dialogue.replies import Reply, question_response, reply_for
from bot.settings import Settings
from bot.triage.service import shared_service

from .constants import (
    ACTION_TRIAGE,
    INTENT_GOODBYE,
    INTENT_GREET,
    INTENT_THANK,
    SESSION_BOUNDARY_EVENTS,
    UTTER_GOODBYE,
    UTTER_GREET,
)

logger = logging.getLogger(__name__)


def user_texts_this_session(tracker: Tracker) -> List[str]:
    """What the person has written since the session began, oldest first."""
    texts = []
    for event in reversed(tracker.events):
        if event.get("event") in SESSION_BOUNDARY_EVENTS:
            break
        if event.get("event") == "user" and event.get("text"):
            texts.append(event["text"])
    return list(reversed(texts))


def send(dispatcher: CollectingDispatcher, reply: Reply) -> None:
    dispatcher.utter_message(text=reply.text, json_message=reply.payload)


class ActionTriage(Action):
    def name(self) -> Text:
        return ACTION_TRIAGE

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        log = logging.LoggerAdapter(logger, {"conversation": tracker.sender_id})
        settings = Settings.from_env()
        service = shared_service()
        texts = user_texts_this_session(tracker)
        decision = service.assess_conversation(texts)
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        log.info("triage level=%s rules=%s", decision.level, [rule.id for rule in decision.rules])
        number = {"emergency_number": settings.emergency_number}

        # Emergency first: whatever was asked or said, the emergency advice comes before anything else.
        if decision.is_emergency:
            send(dispatcher, reply_for(decision, service.rulebook, settings.emergency_number))
            return []
        if intent == INTENT_GREET and not decision.findings:
            dispatcher.utter_message(response=UTTER_GREET, **number)
            return []
        if intent in (INTENT_GOODBYE, INTENT_THANK) and len(texts) > 1:
            dispatcher.utter_message(response=UTTER_GOODBYE, **number)
            return []

        previous = service.assess_conversation(texts[:-1])
        changed = (previous.level, previous.red_flags, [r.id for r in previous.rules]) != (
            decision.level,
            decision.red_flags,
            [r.id for r in decision.rules],
        )
        reply = reply_for(decision, service.rulebook, settings.emergency_number)
        if reply and changed:
            send(dispatcher, reply)
        question = question_response(decision)
        if question:
            dispatcher.utter_message(response=question)
        elif not (reply and changed):
            dispatcher.utter_message(response=UTTER_GOODBYE, **number)
        return []
