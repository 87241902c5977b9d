"""Every private name of Rasa 3.6 this project relies on, in one list.

Rasa offers no public hook for these, so each use below overrides or calls a private name.
tests/rasa_server/test_rasa_internals.py fails when the installed Rasa is not the pinned version
or when one of these names is gone, so an upgrade shows at once what to look at.
"""
from __future__ import annotations

from typing import Tuple

RASA_VERSION = "3.6.21"

# (module, attribute path, where we use it and why)
PRIVATE_NAMES: Tuple[Tuple[str, str, str], ...] = (
    ("rasa.core.actions.action", "RemoteAction",
     "bot/rasa_server/actions.py install(): replaced by GuardedRemoteAction"),
    ("rasa.core.actions.action", "RemoteAction._validate_action_result",
     "bot/rasa_server/actions.py: the response schema is checked once"),
    ("rasa.core.actions.action", "RemoteAction._action_call_format",
     "bot/rasa_server/actions.py: only the events since the latest message are sent"),
    ("rasa.core.actions.action", "RemoteAction._is_selective_domain_enabled",
     "bot/rasa_server/actions.py: Rasa's own domain rule, kept"),
    ("rasa.core.tracker_store", "SQLTrackerStore._additional_events",
     "bot/store/tracker_store.py: transcript records spooled before Rasa commits the events"),
    ("rasa.core.tracker_store", "SQLTrackerStore._event_query",
     "bot/store/tracker_store.py: the count of events already stored"),
    ("rasa.core.channels.socketio", "SocketIOOutput._send_message",
     "bot/channels/socketio.py: the emergency styled from the decision payload"),
    ("rasa.core.channels.rest", "RestInput._extract_input_channel",
     "bot/channels/rest.py: the channel name stays 'rest'"),
)
