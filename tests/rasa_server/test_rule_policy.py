"""RulePolicy reading only the latest turns (bot/rasa_server/rule_policy.py) predicts what Rasa's
own RulePolicy predicts: on every prediction of every test story, and of all of them played one
after the other as one long conversation, with the trained model's own rules."""
from __future__ import annotations

from typing import List

import pytest
from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, AllSlotsReset, Restarted, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_server import rule_policy
from bot.rasa_server.rule_policy import recent_prediction_states, recent_tracker
from bot.settings import PROJECT_ROOT

MODEL = PROJECT_ROOT / "models" / "current.tar.gz"
STORIES = PROJECT_ROOT / "tests" / "test_stories.yml"

DOMAIN = Domain.from_dict({
    "intents": ["greet", "deny"],
    "slots": {
        "side": {"type": "text", "mappings": [{"type": "custom"}]},
        "requested_slot": {"type": "text", "mappings": [{"type": "custom"}]},
    },
    "forms": {"symptom_form": {"required_slots": ["side"]}},
    "actions": ["action_triage"],
})


def turns(count: int) -> list:
    events: list = []
    for index in range(count):
        events += [ActionExecuted("action_listen"), UserUttered(f"message {index}", {"name": "greet", "confidence": 1.0}),
                   ActionExecuted("action_triage")]
    return events


def test_the_short_tracker_has_the_slots_loop_and_latest_states_of_the_long_one():
    events = [ActionExecuted("action_listen"), SlotSet("side", "left"), ActiveLoop("symptom_form"),
              SlotSet("requested_slot", "side"), *turns(30), SlotSet("side", "right"), *turns(3),
              ActionExecuted("action_listen"), UserUttered("last", {"name": "deny", "confidence": 1.0})]
    tracker = DialogueStateTracker.from_events("someone", events, slots=DOMAIN.slots)
    short = recent_tracker(tracker, 6)
    assert len(short.events) < 30 < len(tracker.events)
    assert short.current_slot_values() == tracker.current_slot_values()
    assert short.active_loop_name == tracker.active_loop_name == "symptom_form"
    assert short.past_states(DOMAIN)[-6:] == tracker.past_states(DOMAIN)[-6:]
    assert short.latest_message.text == "last"


def test_slots_reset_before_the_window_stay_reset():
    events = [SlotSet("side", "left"), AllSlotsReset(), *turns(20), ActionExecuted("action_listen")]
    tracker = DialogueStateTracker.from_events("someone", events, slots=DOMAIN.slots)
    short = recent_tracker(tracker, 4)
    assert short is not tracker and short.get_slot("side") is None


def test_a_short_conversation_is_read_whole():
    tracker = DialogueStateTracker.from_events("someone", turns(2), slots=DOMAIN.slots)
    assert recent_tracker(tracker, 6) is tracker


@pytest.fixture(scope="module")
def trained():
    """The trained model's RulePolicy and domain, and the test stories as trackers."""
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: `make train` first (make test does)")
    from rasa.core.agent import Agent
    from rasa.core.test import _create_data_generator

    agent = Agent.load(str(MODEL))
    # The graph's nodes are Rasa's own (no public accessor): the RulePolicy the model runs.
    (policy,) = [node._component for node in agent.processor.graph_runner._instantiated_nodes.values()
                 if isinstance(getattr(node, "_component", None), RulePolicy)]
    generator = _create_data_generator(str(STORIES), agent, None, use_conversation_test_files=True)
    return policy, agent.domain, generator.generate_story_trackers()


def prediction_points(tracker: DialogueStateTracker) -> List[DialogueStateTracker]:
    """The tracker as it stood before each action it holds: where the policy predicts."""
    events, points = list(tracker.events), []
    for index, event in enumerate(events):
        if isinstance(event, ActionExecuted) and index > 0:
            points.append(DialogueStateTracker.from_events(tracker.sender_id, events[:index], slots=tracker.slots.values()))
    return points


def predictions(policy: RulePolicy, domain: Domain, trackers: List[DialogueStateTracker], monkeypatch, recent: bool):
    states = recent_prediction_states if recent else rule_policy._rasa_prediction_states
    monkeypatch.setattr(RulePolicy, "_prediction_states", states)
    out = []
    for tracker in trackers:
        prediction = policy.predict_action_probabilities(tracker, domain)
        out.append((prediction.probabilities, prediction.events, prediction.optional_events, prediction.is_end_to_end_prediction))
    return out


def test_every_prediction_of_the_test_stories_is_rasas(trained, monkeypatch):
    policy, domain, stories = trained
    points = [point for story in stories for point in prediction_points(story)]
    assert len(points) > 200
    assert predictions(policy, domain, points, monkeypatch, True) == predictions(policy, domain, points, monkeypatch, False)


def test_every_prediction_of_one_long_conversation_is_rasas(trained, monkeypatch):
    """All the stories one after the other: well past the window, through the form, its
    digressions, the emergency inside and outside it, corrections and restarts."""
    policy, domain, stories = trained
    events = [event for story in stories for event in story.events]
    long = DialogueStateTracker.from_events("long", events, slots=domain.slots)
    points = prediction_points(long)
    assert len(points) > 200
    recent = predictions(policy, domain, points, monkeypatch, True)
    assert recent == predictions(policy, domain, points, monkeypatch, False)
    # the rules really decide there (not a fallback), with every action they can predict
    predicted = {(domain.action_names_or_texts[p[0].index(max(p[0]))], max(p[0])) for p in recent}
    assert predicted == {("action_triage", 1.0), ("symptom_form", 1.0), ("utter_emergency", 1.0), ("action_listen", 1.0)}


def test_one_tracker_growing_event_by_event_gets_rasas_predictions_without_rereading_it(trained, monkeypatch):
    """As in the server, where the tracker store keeps a conversation's tracker between messages:
    the applied events kept on the tracker are brought up to date from its new events, through
    loops, undone loop steps, restarts and new sessions, and every prediction is still Rasa's."""
    policy, domain, stories = trained
    events: list = []
    for number, story in enumerate(stories):
        events += story.events
        events += [[Restarted()], [SessionStarted()], []][number % 3]  # a story's restart is only its action
    long = DialogueStateTracker.from_events("long", events, slots=domain.slots)
    expected = predictions(policy, domain, prediction_points(long), monkeypatch, False)
    rebuilds = []
    rebuild = rule_policy._AppliedEvents.__init__

    def counted(self, tracker):
        rebuilds.append(len(tracker.events))
        rebuild(self, tracker)

    monkeypatch.setattr(rule_policy._AppliedEvents, "__init__", counted)
    monkeypatch.setattr(RulePolicy, "_prediction_states", recent_prediction_states)
    growing = DialogueStateTracker.from_events("growing", [], slots=domain.slots)
    got, applied_differs = [], []
    for index, event in enumerate(events):
        if isinstance(event, ActionExecuted) and index > 0:
            prediction = policy.predict_action_probabilities(growing, domain)
            if rule_policy._applied(growing).events != growing.applied_events():
                applied_differs.append(index)
            got.append((prediction.probabilities, prediction.events, prediction.optional_events,
                        prediction.is_end_to_end_prediction))
        growing.update(event)
    assert len(got) == len(expected) > 200 and got == expected
    assert applied_differs == []
    # rebuilt only when a loop first appears, not at each of the predictions
    assert 1 <= len(rebuilds) <= 3, rebuilds
