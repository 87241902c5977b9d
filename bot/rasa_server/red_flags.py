"""The emergency check inside the Rasa server: an NLU component after the intent classifier.

Each message is triaged on its own by the same language layer and rulebook as the action
server uses. When an emergency rule fires, the red-flag phrases become ``red_flag`` entities,
and the rule in data/rules/safety.yml answers with ``utter_emergency`` before anything else.
The decision itself travels with the message as data: parse_data["triage"] (level, rules,
red flags, reasons with their sources), which TriageResponses attaches to ``utter_emergency``, so
the emergency is stored as one and styled as one even when the action server never answers.
The findings of every message travel with it too, as parse_data["findings"]: the triage action
reads them instead of running the language layer on the message a second time.
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

from ..dialogue.conversation import PARSED_FINDINGS as FINDINGS
from ..dialogue.conversation import RED_FLAG_ENTITY
from ..dialogue.replies import triage_payload
from ..nlp.language import other_script
from ..nlp.pipeline import DETAIL_CHARS, pieces
from ..triage.engine import Decision
from ..triage.service import TriageService, shared_service
from .internals import install as install_rasa_changes

logger = logging.getLogger(__name__)

TRIAGE = "triage"  # parse_data["triage"]: the Rasa server's emergency decision, as data
FULL_TEXT = "full_text"  # the message as sent, when ClassifierText gave the classifiers another text
DECIDED_BY = "rasa_server"
NO_WORDS = "."


def red_flag_entities(decision: Decision, text: str) -> List[Dict[str, Any]]:
    """One entity per red-flag phrase when the message on its own meets an emergency criterion."""
    if not decision.is_emergency:
        return []
    rules = [rule.id for rule in decision.rules]

    def entity(value: str) -> Dict[str, Any]:
        return {"entity": RED_FLAG_ENTITY, "value": value, "extractor": RedFlagDetector.__name__,
                "confidence_entity": 1.0, "rules": rules}

    lowered = text.lower()
    entities = []
    for finding in decision.findings:
        if not (finding.is_present and finding.category == "red_flag") or finding.suspected:
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


def classifier_text(text: str) -> str:
    """What the classifiers read. Rasa's featurizers slow down badly on very long text (a 100 KB
    message took over 40 s, stalling every conversation), so at most DETAIL_CHARS, cut between
    sentences. And never Rasa's "/intent{entities}" syntax: from a patient, "/restart" or
    '/deny{"red_flag": "none"}' is text to read, not a command that skips NLU (Rasa's
    RegexMessageHandler, last in the graph, acts only on text that starts with "/")."""
    text = text.lstrip().lstrip("/")
    if not text.strip():
        # Nothing left ("/", "//", or an empty message sent past the channels' guard): the classifiers
        # fail on a message without tokens, so they get one that means nothing, and RedFlagDetector
        # then makes it nlu_fallback (no letter or digit).
        return NO_WORDS
    return pieces(text, DETAIL_CHARS)[0] if len(text) > DETAIL_CHARS else text


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class ClassifierText(GraphComponent):
    """First in the pipeline: gives the classifiers ``classifier_text``; the message as sent
    stays in FULL_TEXT for RedFlagDetector, and in the tracker (Rasa records UserMessage.text)."""

    @classmethod
    def create(
        cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext
    ) -> "ClassifierText":
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            read = classifier_text(text)
            if read != text:
                message.set(FULL_TEXT, text)
                message.set(TEXT, read)
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
        # Whichever way Rasa was started (bot.serve, `rasa run`, `rasa shell`), loading a model with
        # this component gets the guarded remote action and our other changes too.
        install_rasa_changes()
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
                message.set(FINDINGS, [], add_to_output=True)
                continue
            try:
                decision = self.service.assess(text)  # decided once: the channels' guard asked already
            except Exception:  # never lose the message: the action server triages it again
                logger.exception("red-flag check failed; the triage action still checks this message")
                continue
            message.set(FINDINGS, [finding.as_record() for finding in decision.findings], add_to_output=True)
            found = red_flag_entities(decision, text)
            if found:
                logger.info("red flag in message: rules=%s", found[0]["rules"])
                message.set(ENTITIES, [*message.get(ENTITIES, []), *found], add_to_output=True)
                message.set(TRIAGE, {**triage_payload(decision)["triage"], "decided_by": DECIDED_BY}, add_to_output=True)
            elif other_script(text):
                # Letters the classifier never saw: it guessed "affirm" for Chinese and Arabic, and a
                # guessed yes to the emergency question gave a false emergency. Only other scripts:
                # looks_english() is meant for a notice, and says no to "i'm diabetic".
                mark_not_understood(message)
        return messages
