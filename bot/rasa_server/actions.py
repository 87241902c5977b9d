"""Rasa's remote action, guarded: a short time-out, and a clear message instead of silence.

Out of the box Rasa waits up to 300 s for the action server and, when it fails, logs the
error and says nothing. A person describing numb legs must never be left without an answer:
after ACTION_TIMEOUT_S (or at once when the action server cannot be reached) they get the
``technical_problem`` message (bot/dialogue/messages.yml), which tells them to call the emergency number
if this is an emergency. The emergency advice itself does not depend on the action server
(see red_flags.py).

It also checks the action server's answer faster: Rasa validates every answer with
``jsonschema.validate``, which first re-checks Rasa's large events schema itself against the
JSON Schema metaschema, on every call; under load that was 40% of the Rasa server's CPU (py-spy,
``python -m bench --profile``). Here the schema is checked once and its validator reused; every
answer is still validated in full, with the same verdict and message as Rasa's.

And it sends the action server only what it reads: the tracker's slots, its latest message and
the events since that message, not every event of the conversation (Rasa sends them all, so each
turn cost more than the one before). The triage action keeps what earlier messages said in slots
(bot/dialogue/picture.py). The domain is not sent either (endpoints.yml enable_selective_domain).

A form's validation action (validate_symptom_form) is guarded too, its own way: a message marked
with a red flag is rejected without calling the action server, so the emergency rule answers
first whether the action server is up or down (data/rules/safety.yml); and when the action server
fails, the form ends rather than speak for the triage action.
"""
from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Text

from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for

import rasa
from rasa.core.actions import action as rasa_actions
from rasa.core.actions import forms as rasa_forms
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import ActiveLoop, BotUttered, Event, UserUttered
from rasa.shared.core.trackers import EventVerbosity

from ..dialogue.conversation import RED_FLAG_ENTITY
from ..dialogue.replies import say
from ..settings import Settings

if TYPE_CHECKING:
    from rasa.core.channels.channel import OutputChannel
    from rasa.core.nlg import NaturalLanguageGenerator
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)


def events_since_latest_message(tracker: "DialogueStateTracker") -> List[Event]:
    """The latest user message and the events after it (all events when there is none yet)."""
    since: List[Event] = []
    for event in reversed(tracker.events):
        since.append(event)
        if isinstance(event, UserUttered):
            since.reverse()
            return since
    return list(tracker.events)


TECHNICAL_PROBLEM = "technical_problem"
FORM_VALIDATION_PREFIX = "validate_"  # Rasa's name for a form's validation action


def has_red_flag(tracker: "DialogueStateTracker") -> bool:
    """True when the Rasa server's red-flag component marked the latest message."""
    latest = tracker.latest_message
    return latest is not None and any(entity.get("entity") == RED_FLAG_ENTITY for entity in latest.entities)


class GuardedRemoteAction(RemoteAction):
    settings: Optional[Settings] = None  # read on first use
    _response_validator: Any = None  # built on first use: the schema is checked once

    def _validate_action_result(self, result: Dict[Text, Any]) -> bool:
        if GuardedRemoteAction._response_validator is None:
            schema = RemoteAction.action_response_format_spec()
            validator_class = validator_for(schema)
            validator_class.check_schema(schema)
            GuardedRemoteAction._response_validator = validator_class(schema)
        error = best_match(GuardedRemoteAction._response_validator.iter_errors(result))
        if error is None:
            return True
        # Rasa's own wording (RemoteAction._validate_action_result).
        error.message += (
            ". Failed to validate Action server response from API, make sure your response from the Action "
            f"endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error

    def _action_call_format(self, tracker: "DialogueStateTracker", domain: "Domain") -> Dict[Text, Any]:
        # Rasa's RemoteAction._action_call_format with the events cut to those since the latest
        # message (Rasa serialises them all first, on every call).
        state = tracker.current_state(EventVerbosity.NONE)
        state["events"] = [event.as_dict() for event in events_since_latest_message(tracker)]
        result = {"next_action": self._name, "sender_id": tracker.sender_id, "tracker": state, "version": rasa.__version__}
        if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(self.name()):
            result["domain"] = domain.as_dict()
        return result

    async def run(
        self, output_channel: "OutputChannel", nlg: "NaturalLanguageGenerator", tracker: "DialogueStateTracker", domain: "Domain"
    ) -> List[Event]:
        if GuardedRemoteAction.settings is None:
            GuardedRemoteAction.settings = Settings.from_env()
        settings = GuardedRemoteAction.settings
        validates_form = self.name().startswith(FORM_VALIDATION_PREFIX)
        if validates_form and has_red_flag(tracker):
            # The emergency rule answers first (data/rules/safety.yml), action server up or down.
            raise ActionExecutionRejection(self.name(), "an emergency sign: the emergency rule answers")
        try:
            return await asyncio.wait_for(super().run(output_channel, nlg, tracker, domain), settings.action_timeout_s)
        except ActionExecutionRejection:
            raise  # Rasa's own signal to try another action
        except Exception as error:  # down, slow, or answering with an error: say so, never stay silent
            reason = "timed out" if isinstance(error, asyncio.TimeoutError) else f"{type(error).__name__}: {error}"
            if validates_form:
                # Nothing validated: the form rejects the message and the triage action's rule says
                # there is a problem (once); coming back to the form, it ends instead of asking
                # again and again. The next message starts it again.
                logger.error("action '%s' failed (%s); the form ends", self.name(), reason)
                return [ActiveLoop(None)]
            logger.error("action '%s' failed (%s); sending the technical-problem message", self.name(), reason)
            return [BotUttered(say(TECHNICAL_PROBLEM, settings.emergency_number).text)]


def install() -> None:
    """Makes Rasa build GuardedRemoteAction wherever it would build a RemoteAction: for custom
    actions, and for a form's validation action (rasa.core.actions.forms imports the class)."""
    rasa_actions.RemoteAction = GuardedRemoteAction
    rasa_forms.RemoteAction = GuardedRemoteAction


def installed() -> bool:
    return rasa_actions.RemoteAction is GuardedRemoteAction and rasa_forms.RemoteAction is GuardedRemoteAction

