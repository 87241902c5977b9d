"""Rasa's response generator with the configured emergency number (endpoints.yml ``nlg``).

Domain responses are fixed when the model is trained; the emergency number is a setting
(EMERGENCY_NUMBER), so it is filled in here, at the time of sending, as ``{emergency_number}``.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from ..settings import Settings


class TriageResponses(TemplatedNaturalLanguageGenerator):
    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, domain: Optional[Domain] = None) -> None:
        super().__init__((domain or Domain.empty()).responses)
        self.emergency_number = Settings.from_env().emergency_number

    async def generate(
        self, utter_action: Text, tracker: DialogueStateTracker, output_channel: Text, **kwargs: Any
    ) -> Optional[Dict[Text, Any]]:
        kwargs.setdefault("emergency_number", self.emergency_number)
        return await super().generate(utter_action, tracker, output_channel, **kwargs)
