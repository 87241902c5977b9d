"""Every private name of Rasa 3.6 this project relies on, in one list, and ``install()``, the one
door through which we change how Rasa itself runs.

Rasa offers no public hook for these, so each use below overrides or calls a private name.
tests/rasa_server/test_rasa_internals.py fails when the installed Rasa is not the pinned version
or when one of these names is gone, so an upgrade shows at once what to look at.

``install()`` (called by ``python -m bot.rasa_server`` and whenever a model with our NLU component
loads, so plain ``rasa run`` gets it too):
- the guarded remote action (actions.py);
- event classes found once per type name. Rasa looks each event's class up by walking every
  subclass of Event, with ``inspect.isabstract`` on each, for every event it loads: 90% of the time
  to load a conversation's tracker from the tracker store, on every message, and it grows with the
  conversation (19 ms at 60 turns, 1.5 ms at 5; ``python -m bench`` long-conversation point);
- RulePolicy reading the states of the latest turns only (rule_policy.py): it built the states of
  the whole conversation before each of its several predictions a message (4.9 ms a prediction
  at 60 turns, 1.2 ms at 5; the same predictions, tests/rasa_server/test_rule_policy.py).
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple, Type

from rasa.shared.core.events import Event

from rasa.core.policies.rule_policy import RulePolicy

from .actions import install as install_guarded_action
from .rule_policy import recent_prediction_states

RASA_VERSION = "3.6.21"

# (module, attribute path, where we use it and why)
PRIVATE_NAMES: Tuple[Tuple[str, str, str], ...] = (
    ("rasa.core.actions.action", "RemoteAction",
     "bot/rasa_server/actions.py install(): replaced by GuardedRemoteAction"),
    ("rasa.core.actions.forms", "RemoteAction",
     "bot/rasa_server/actions.py install(): a form's validation action is guarded too"),
    ("rasa.core.actions.action", "RemoteAction._validate_action_result",
     "bot/rasa_server/actions.py: the response schema is checked once"),
    ("rasa.core.actions.action", "RemoteAction._action_call_format",
     "bot/rasa_server/actions.py: only the events since the latest message are sent"),
    ("rasa.core.actions.action", "RemoteAction._is_selective_domain_enabled",
     "bot/rasa_server/actions.py: Rasa's own domain rule, kept"),
    ("rasa.core.tracker_store", "SQLTrackerStore._additional_events",
     "bot/store/tracker_store.py: transcript records spooled before Rasa commits the events"),
    ("rasa.core.tracker_store", "SQLTrackerStore.stream_events",
     "bot/store/tracker_store.py save(): Rasa's save (events streamed, then the new ones inserted), in one statement"),
    ("rasa.core.tracker_store", "SQLTrackerStore.SQLEvent",
     "bot/store/tracker_store.py _event_row(): the columns Rasa's save fills"),
    ("rasa.core.tracker_store", "SQLTrackerStore._event_query",
     "bot/store/tracker_store.py: the count of events already stored, the events to load, and the rows a kept tracker was saved as"),
    ("rasa.core.tracker_store", "SQLTrackerStore._retrieve",
     "bot/store/tracker_store.py: the events' JSON read without an ORM object per event"),
    ("rasa.core.channels.socketio", "SocketIOOutput._send_message",
     "bot/channels/socketio.py: the emergency styled from the decision payload"),
    ("rasa.core.channels.rest", "RestInput._extract_input_channel",
     "bot/channels/rest.py: the channel name stays 'rest'"),
    ("rasa.shared.core.events", "Event.resolve_by_type",
     "install(): replaced by a lookup that remembers each type name's class"),
    ("rasa.core.policies.rule_policy", "RulePolicy._prediction_states",
     "bot/rasa_server/rule_policy.py: the states of the latest turns only"),
    ("rasa.core.policies.rule_policy", "RulePolicy._is_rule_applicable",
     "bot/rasa_server/rule_policy.py: why the latest turns are enough (states beyond a rule's length always apply)"),
    ("rasa.core.policies.rule_policy", "RULES_FOR_LOOP_UNHAPPY_PATH",
     "bot/rasa_server/rule_policy.py: the rule tables whose longest rule sets how far back to read"),
)

_rasa_resolve_by_type = Event.resolve_by_type  # a staticmethod: the plain function
_event_classes: Dict[str, Type[Event]] = {}


def resolve_event_type(type_name: str, default: Optional[Type[Event]] = None) -> Optional[Type[Event]]:
    """Rasa's Event.resolve_by_type, remembering each class found by its name (event classes do not
    change once defined; an unknown name still raises, or gives ``default``, as in Rasa)."""
    found = _event_classes.get(type_name)
    if found is None:
        found = _rasa_resolve_by_type(type_name, default)
        if found is not None and found.type_name == type_name:
            _event_classes[type_name] = found
    return found


def install() -> None:
    install_guarded_action()
    Event.resolve_by_type = staticmethod(resolve_event_type)
    RulePolicy._prediction_states = recent_prediction_states


def installed() -> bool:
    return Event.resolve_by_type is resolve_event_type and RulePolicy._prediction_states is recent_prediction_states
