"""The emergency check inside the Rasa server: an NLU component after the intent classifier.

Each message is triaged on its own by the same language layer and rulebook as the action
server uses. When an emergency rule fires, the red-flag phrases become ``red_flag`` entities,
and the rule in data/rules/safety.yml answers with ``utter_emergency`` before anything else.
A message without a single letter or digit ("???", "...", an emoji) gets the intent
``nlu_fallback``: the classifier would otherwise guess, and a guessed "yes" to the emergency
question would be a false emergency.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from ..nlp.language import other_script
from ..nlp.pipeline import DETAIL_CHARS, pieces
from ..triage.service import TriageService, shared_service

logger = logging.getLogger(__name__)

RED_FLAG_ENTITY = "red_flag"
FULL_TEXT = "full_text"  # the whole message, when NluTextLimit gave the classifiers only its start


def red_flag_entities(text: str, service: TriageService) -> List[Dict[str, Any]]:
    """One entity per red-flag phrase when the message on its own meets an emergency criterion."""
    decision = service.assess(text)
    if not decision.is_emergency:
        return []
    rules = [rule.id for rule in decision.rules]

    def entity(value: str) -> Dict[str, Any]:
        return {"entity": RED_FLAG_ENTITY, "value": value, "extractor": RedFlagDetector.__name__,
                "confidence_entity": 1.0, "rules": rules}

    lowered = text.lower()
    entities = []
    for finding in decision.findings:
        if not (finding.is_present and finding.category == "red_flag"):
            continue
        found = entity(finding.text)
        start = lowered.find(finding.text.lower())
        if start >= 0:
            found.update(start=start, end=start + len(finding.text))
        entities.append(found)
    # An emergency rule on facts that are not red-flag phrases still counts.
    return entities or [entity(rules[0])]


def mark_not_understood(message: Message) -> None:
    """Rasa's own nlu_fallback, certain: data/rules/triage.yml answers it with the triage action."""
    intent = {"name": DEFAULT_NLU_FALLBACK_INTENT_NAME, "confidence": 1.0}
    message.set(INTENT, intent, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [intent], add_to_output=True)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class NluTextLimit(GraphComponent):
    """First in the pipeline: Rasa's featurizers slow down badly on very long text (a 100 KB
    message took over 40 s, stalling every conversation), so they get the message's first
    DETAIL_CHARS, cut between sentences. RedFlagDetector still reads all of it."""

    @classmethod
    def create(
        cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext
    ) -> "NluTextLimit":
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if len(text) > DETAIL_CHARS:
                message.set(FULL_TEXT, text)
                message.set(TEXT, pieces(text, DETAIL_CHARS)[0])
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class RedFlagDetector(GraphComponent):
    def __init__(self, service: Optional[TriageService] = None) -> None:
        self._service = service

    @classmethod
    def create(
        cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext
    ) -> "RedFlagDetector":
        detector = cls()
        node = execution_context.graph_schema.nodes.get(execution_context.node_name)
        if node is not None and node.fn == "process":
            detector.service  # build the language layer while the model loads, not on the first message
        return detector

    @property
    def service(self) -> TriageService:
        if self._service is None:
            self._service = shared_service()
        return self._service

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data  # nothing to learn: the rulebook is the knowledge

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(FULL_TEXT) or message.get(TEXT) or ""
            if not any(ch.isalnum() for ch in text):
                mark_not_understood(message)
                continue
            try:
                found = red_flag_entities(text, self.service)
            except Exception:  # never lose the message: the action server triages it again
                logger.exception("red-flag check failed; the triage action still checks this message")
                continue
            if found:
                logger.info("red flag in message: rules=%s", found[0]["rules"])
                message.set(ENTITIES, [*message.get(ENTITIES, []), *found], add_to_output=True)
            elif other_script(text):
                # Letters the classifier never saw: it guessed "affirm" for Chinese and Arabic, and a
                # guessed yes to the emergency question gave a false emergency. Only other scripts:
                # looks_english() is meant for a notice, and says no to "i'm diabetic".
                mark_not_understood(message)
        return messages
