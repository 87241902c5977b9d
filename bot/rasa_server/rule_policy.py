"""Rasa's RulePolicy reading only the latest turns of the conversation: the same predictions,
at a cost per message that no longer grows with the conversation's length.

Before every prediction (several per message) RulePolicy turns the *whole* tracker into states,
replaying every event and setting every slot again (``DialogueStateTracker.past_states``), then
copies and formats all the states for a debug line. Yet a rule only ever looks at its own length
of states from the end: ``RulePolicy._is_rule_applicable`` returns True for every state further
back. So RulePolicy is handed the states of a short tracker instead: the latest turns
(from an ``action_listen``, at least as many actions as the longest rule has states, plus a
margin), on top of the slots and the active loop the conversation had when those turns began. The
states it returns are the last states of the whole tracker, as many as any rule reads:
tests/rasa_server/test_rule_policy.py checks that every prediction on long conversations is the
same as RulePolicy's.

It replaces one private method, ``RulePolicy._prediction_states``, through
bot/rasa_server/internals.py ``install()`` (which lists it, with the test that pins the Rasa
version), so config.yml keeps Rasa's own RulePolicy with its options and Rasa's checks of it.
"""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Text

from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH, RulePolicy
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import ActionExecuted, ActiveLoop, AllSlotsReset, Event, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

MARGIN = 2  # actions kept beyond the longest rule


def recent_tracker(tracker: DialogueStateTracker, actions: int) -> DialogueStateTracker:
    """A tracker of ``tracker``'s latest turns: its applied events from the ``action_listen`` that
    leaves at least ``actions`` actions after it, preceded by one SlotSet for each slot set before
    that point and by the loop active then. ``tracker`` itself when it is that short already."""
    events = tracker.applied_events()
    cut = _window_start(events, actions)
    if cut is None:
        return tracker
    short = tracker.init_copy()
    for event in _state_at(events[:cut]):
        short.update(event)
    for event in events[cut:]:
        short.update(event)
    return short


def _window_start(events: List[Event], actions: int) -> Optional[int]:
    """The index of the latest action_listen with more than ``actions`` actions from it to the end."""
    counted = 0
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if isinstance(event, ActionExecuted):
            counted += 1
            if counted > actions and event.action_name == ACTION_LISTEN_NAME:
                return index if index > 0 else None
    return None


def _state_at(events: List[Event]) -> List[Event]:
    """The events that rebuild, without replaying them all, the slots and the active loop that
    ``events`` leave behind (applied events: restarts and new sessions are cut off already)."""
    slots: Dict[Text, SlotSet] = {}
    for event in reversed(events):
        if isinstance(event, AllSlotsReset):
            break  # the slots set before it are gone
        if isinstance(event, SlotSet):
            slots.setdefault(event.key, event)
    loop = next((event for event in reversed(events) if isinstance(event, ActiveLoop)), None)
    rebuilt: List[Event] = list(reversed(slots.values()))
    return rebuilt + ([loop] if loop is not None else [])


_rasa_prediction_states = RulePolicy._prediction_states


def _window_actions(policy: RulePolicy) -> int:
    """How many actions a rule of this policy can read back, plus the margin (once per policy)."""
    window = getattr(policy, "_recent_window", None)
    if window is None:
        keys = [key for table in (RULES, RULES_FOR_LOOP_UNHAPPY_PATH) for key in policy.lookup.get(table, {})]
        window = max((len(json.loads(key)) for key in keys), default=0) + MARGIN
        policy._recent_window = window
    return window


def recent_prediction_states(
    self: RulePolicy,
    tracker: DialogueStateTracker,
    domain: Domain,
    use_text_for_last_user_input: bool = False,
    rule_only_data: Optional[Dict[Text, Any]] = None,
) -> List[State]:
    """RulePolicy._prediction_states on the latest turns only (installed by internals.install())."""
    window = _window_actions(self)
    states = _rasa_prediction_states(self, recent_tracker(tracker, window), domain,
                                     use_text_for_last_user_input, rule_only_data)
    # The oldest state of the short tracker has no earlier action: no rule reads that far back.
    return states[-window:]
