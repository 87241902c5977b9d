"""GuardedRemoteAction checks the action server's answer as Rasa does, with the schema checked once."""
from __future__ import annotations

from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bot.rasa_server.actions import GuardedRemoteAction

VALID = {"events": [{"event": "slot", "name": "triage_given", "value": "doctor"}], "responses": [{"text": "hi"}]}
INVALID = {"events": [{"event": "slot", "name": 3}], "responses": "not a list"}


def verdict(action_class, result):
    try:
        action_class("action_triage", None)._validate_action_result(result)
        return None
    except ValidationError as error:
        return error.message


def test_the_same_verdicts_and_messages_as_rasa():
    for result in (VALID, INVALID, {"events": "x"}, {}):
        assert verdict(GuardedRemoteAction, result) == verdict(RemoteAction, result)
    assert verdict(GuardedRemoteAction, VALID) is None
    assert "Failed to validate Action server response" in verdict(GuardedRemoteAction, INVALID)
