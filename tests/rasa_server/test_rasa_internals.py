"""The Rasa version is the pinned one, and every private Rasa name we rely on is still there."""
from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
import rasa
from rasa.core.actions import action as rasa_actions
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.utils.endpoints import EndpointConfig

from bot.rasa_server.actions import GuardedRemoteAction, install, installed
from bot.rasa_server.internals import PRIVATE_NAMES, RASA_VERSION

LOCK = Path(__file__).resolve().parents[2] / "requirements" / "lock.txt"


def test_the_installed_rasa_is_the_pinned_version():
    assert rasa.__version__ == RASA_VERSION
    assert re.search(rf"^rasa=={re.escape(RASA_VERSION)}$", LOCK.read_text(), re.MULTILINE)


@pytest.mark.parametrize("module, path, why", PRIVATE_NAMES, ids=[p for _, p, _ in PRIVATE_NAMES])
def test_every_private_name_we_rely_on_is_still_there(module, path, why):
    target = importlib.import_module(module)
    for part in path.split("."):
        target = getattr(target, part, None)
        assert target is not None, f"{module}.{path} is gone ({why})"


def conversation(turns: int) -> DialogueStateTracker:
    tracker = DialogueStateTracker.from_events("someone", [], slots=Domain.empty().slots)
    for index in range(turns):
        tracker.update(UserUttered(f"message {index}", {"name": "describe_symptoms", "confidence": 1.0}))
        tracker.update(ActionExecuted("action_triage"))
        tracker.update(BotUttered(f"reply {index}"))
        tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered("the latest", {"name": "deny", "confidence": 1.0}))
    tracker.update(ActionExecuted("utter_emergency"))
    return tracker


@pytest.mark.parametrize("selective", [True, False])
def test_the_action_server_gets_what_rasa_sends_with_only_the_events_since_the_latest_message(selective):
    tracker, domain = conversation(30), Domain.from_dict({"actions": ["action_triage"]})
    endpoint = EndpointConfig("http://127.0.0.1:1", enable_selective_domain=selective)
    ours = GuardedRemoteAction("action_triage", endpoint)._action_call_format(tracker, domain)
    theirs = RemoteAction("action_triage", endpoint)._action_call_format(tracker, domain)
    events = theirs["tracker"].pop("events")
    assert [e["event"] for e in ours["tracker"].pop("events")] == ["user", "action"]
    assert ours == theirs  # everything else as Rasa sends it, the domain only where Rasa sends it
    assert ("domain" in ours) is not selective and len(events) == 30 * 4 + 2
    assert tracker.current_state(EventVerbosity.ALL)["events"][-2:] == events[-2:]


def test_slot_values_travel_although_the_events_that_set_them_do_not():
    tracker = conversation(2)
    domain = Domain.from_dict({"slots": {"side": {"type": "list", "mappings": [{"type": "custom"}]}}})
    tracker = DialogueStateTracker.from_events("someone", [SlotSet("side", ["left_leg"]), *tracker.events], slots=domain.slots)
    sent = GuardedRemoteAction("action_triage", None)._action_call_format(tracker, domain)
    assert sent["tracker"]["slots"]["side"] == ["left_leg"]
    assert not any(e["event"] == "slot" for e in sent["tracker"]["events"])


def test_install_makes_rasa_build_the_guarded_action(monkeypatch):
    monkeypatch.setattr(rasa_actions, "RemoteAction", RemoteAction)
    assert not installed()
    install()
    assert installed() and rasa_actions.RemoteAction is GuardedRemoteAction


def test_event_classes_are_found_as_rasa_finds_them_and_remembered(monkeypatch):
    from rasa.shared.core.events import Event, Restarted
    from rasa.shared.utils.common import all_subclasses

    from bot.rasa_server import internals

    monkeypatch.setattr(internals, "_event_classes", {})
    monkeypatch.setattr(Event, "resolve_by_type", staticmethod(internals._rasa_resolve_by_type))
    internals.install()
    assert internals.installed()
    for event_class in all_subclasses(Event):
        name = getattr(event_class, "type_name", None)
        if isinstance(name, str) and name != "event":
            assert Event.resolve_by_type(name) is internals._rasa_resolve_by_type(name), name
    assert Event.from_parameters({"event": "restart", "timestamp": 1.0}) == Restarted(1.0)
    assert set(internals._event_classes) >= {"user", "bot", "slot", "action", "restart"}
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("no such event")
    assert Event.resolve_by_type("no such event", default=Restarted) is Restarted
    assert "no such event" not in internals._event_classes
    assert Event.resolve_by_type("topic") is None  # Rasa's old TopicSet events, still skipped
