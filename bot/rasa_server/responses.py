"""Rasa's response generator (endpoints.yml ``nlg``): the emergency number, and the emergency decision as data.

- Domain responses are fixed when the model is trained; the emergency number is a setting
  (EMERGENCY_NUMBER), so it is filled in here, at the time of sending, as ``{emergency_number}``.
- ``utter_emergency`` carries the decision the red-flag component made on the message it answers
  (parse_data["triage"]) as its custom payload {"triage": {...}}, like the triage action's replies.
  So the transcript stores the emergency with its rules and sources, and the channels style it,
  even when the action server is slow or down.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from ..settings import Settings
from .red_flags import TRIAGE

UTTER_EMERGENCY = "utter_emergency"


def emergency_decision(tracker: DialogueStateTracker) -> Optional[Dict[str, Any]]:
    latest = tracker.latest_message
    decision = (latest.parse_data or {}).get(TRIAGE) if latest is not None else None
    return decision if isinstance(decision, dict) else None


class TriageResponses(TemplatedNaturalLanguageGenerator):
    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, domain: Optional[Domain] = None) -> None:
        super().__init__((domain or Domain.empty()).responses)
        self.emergency_number = Settings.from_env().emergency_number

    async def generate(
        self, utter_action: Text, tracker: DialogueStateTracker, output_channel: Text, **kwargs: Any
    ) -> Optional[Dict[Text, Any]]:
        kwargs.setdefault("emergency_number", self.emergency_number)
        response = await super().generate(utter_action, tracker, output_channel, **kwargs)
        decision = emergency_decision(tracker) if utter_action == UTTER_EMERGENCY else None
        if response is not None and decision is not None:
            response = {**response, "custom": {TRIAGE: decision}}
        return response
