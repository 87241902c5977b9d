"""bot/rasa_speedups.py: Rasa's check of action server responses, with the schema checked once."""
from __future__ import annotations

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bot import rasa_speedups

VALID = {"events": [{"event": "slot", "name": "triage_given", "value": "doctor"}], "responses": [{"text": "hi"}]}
INVALID = {"events": [{"event": "slot", "name": 3}], "responses": "not a list"}


def rasa_verdict(result):
    try:
        RemoteAction("action_triage", None)._validate_action_result(result)
        return None
    except ValidationError as error:
        return error.message


@pytest.fixture
def original_then_patched(monkeypatch):
    # Setting the same value first makes monkeypatch put Rasa's own method back after the test.
    monkeypatch.setattr(RemoteAction, "_validate_action_result", RemoteAction._validate_action_result)
    verdicts = lambda: [rasa_verdict(VALID), rasa_verdict(INVALID)]  # noqa: E731
    before = verdicts()
    rasa_speedups.install()
    after = verdicts()
    return before, after


def test_the_same_verdicts_and_messages_as_rasa(original_then_patched):
    before, after = original_then_patched
    assert after == before
    assert after[0] is None
    assert "Failed to validate Action server response" in after[1]


def test_installing_twice_is_harmless(monkeypatch):
    monkeypatch.setattr(RemoteAction, "_validate_action_result", RemoteAction._validate_action_result)
    rasa_speedups.install()
    rasa_speedups.install()
    assert rasa_verdict(VALID) is None
