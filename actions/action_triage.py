"""action_triage: applies the emergency criteria and the rulebook to everything said so far."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.dialogue.replies import Reply, goodbye, greeting, next_question, reply_for
from bot.settings import Settings
from bot.triage.service import shared_service

from .constants import (
    ACTION_TRIAGE,
    INTENT_GOODBYE,
    INTENT_GREET,
    INTENT_THANK,
    SESSION_BOUNDARY_EVENTS,
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
    buttons = [{"title": title, "payload": title} for title in reply.buttons]
    dispatcher.utter_message(text=reply.text, json_message=reply.payload, buttons=buttons or None)


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
        number = settings.emergency_number

        # Emergency first: whatever was asked or said, the emergency advice comes before anything else.
        if decision.is_emergency:
            send(dispatcher, reply_for(decision, service.rulebook, number))
            return []
        if intent == INTENT_GREET and not decision.findings:
            send(dispatcher, greeting(number))
            return []
        if intent in (INTENT_GOODBYE, INTENT_THANK) and len(texts) > 1:
            send(dispatcher, goodbye(number))
            return []

        previous = service.assess_conversation(texts[:-1])
        changed = (previous.level, previous.red_flags, [r.id for r in previous.rules]) != (
            decision.level,
            decision.red_flags,
            [r.id for r in decision.rules],
        )
        result = reply_for(decision, service.rulebook, number)
        if result and changed:
            send(dispatcher, result)
        question = next_question(decision)
        if question:
            send(dispatcher, question)
        elif not (result and changed):
            send(dispatcher, goodbye(number))
        return []
