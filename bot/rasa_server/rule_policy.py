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

import itertools
import json
from typing import Any, Dict, Iterable, List, Optional, Set, Text

from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH, RulePolicy
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    AllSlotsReset,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
    UserUtteranceReverted,
)
from rasa.shared.core.trackers import DialogueStateTracker

MARGIN = 2  # actions kept beyond the longest rule


def recent_tracker(tracker: DialogueStateTracker, actions: int) -> DialogueStateTracker:
    """A tracker of ``tracker``'s latest turns: its applied events from the ``action_listen`` that
    leaves at least ``actions`` actions after it, preceded by one SlotSet for each slot set before
    that point and by the loop active then. ``tracker`` itself when it is that short already."""
    memo = _applied(tracker)
    events = memo.events
    cut = _window_start(events, actions)
    if cut is None:
        return tracker
    short = tracker.init_copy()
    for event in memo.state_at(cut):
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


class _AppliedEvents:
    """A tracker's applied events (Rasa's ``DialogueStateTracker.applied_events``), kept on the
    tracker and brought up to date from its new events only, with the slots and the loop in force
    at a point of them, moved forward the same way: the tracker store keeps a conversation's
    tracker between messages, so neither is rebuilt from the whole conversation at each prediction.

    Either is rebuilt from the start whenever what it was built on is not there as it was: the
    event last read is no longer at its place (the tracker was rebuilt or trimmed), a loop appears
    that earlier events did not know of (Rasa's applied_events treats a loop's actions by the loops
    of the whole tracker), or an event before the point was undone."""

    def __init__(self, tracker: DialogueStateTracker) -> None:
        self.events: List[Event] = tracker.applied_events()
        self.read = len(tracker.events)
        self.last_read: Optional[Event] = tracker.events[-1] if tracker.events else None
        self.loop_names: Set[Text] = _loop_names(tracker.events)
        self.point, self.at_point = 0, None  # slots and loop in force before events[:point]
        self.slots: Dict[Text, SlotSet] = {}
        self.loop: Optional[ActiveLoop] = None

    def follows(self, tracker: DialogueStateTracker) -> bool:
        events = tracker.events
        return events.maxlen is None and len(events) >= self.read and (
            self.read == 0 or events[self.read - 1] is self.last_read)

    def catch_up(self, tracker: DialogueStateTracker) -> bool:
        """Applies the events added since; False when only a rebuild gives Rasa's result."""
        new = list(itertools.islice(tracker.events, self.read, None))
        if not _loop_names(new) <= self.loop_names:
            return False
        applied = self.events
        for event in new:  # the body of Rasa's DialogueStateTracker.applied_events
            if isinstance(event, (Restarted, SessionStarted)):
                applied.clear()
            elif isinstance(event, ActionReverted):
                DialogueStateTracker._undo_till_previous(ActionExecuted, applied)
            elif isinstance(event, UserUtteranceReverted):
                DialogueStateTracker._undo_till_previous(UserUttered, applied)
                DialogueStateTracker._undo_till_previous(ActionExecuted, applied)
            elif (isinstance(event, ActionExecuted) and event.action_name in self.loop_names
                  and not tracker._first_loop_execution_or_unhappy_path(event.action_name, applied)):
                DialogueStateTracker._undo_till_previous_loop_execution(event.action_name, applied)
            else:
                applied.append(event)
        if new:
            self.read, self.last_read = len(tracker.events), new[-1]
        return True

    def state_at(self, cut: int) -> List[Event]:
        """The events that rebuild, without replaying them all, the slots and the active loop that
        ``events[:cut]`` leave behind (applied events: restarts and new sessions are cut off already)."""
        unchanged = self.point == 0 or (len(self.events) >= self.point and self.events[self.point - 1] is self.at_point)
        if cut < self.point or not unchanged:
            self.point, self.slots, self.loop = 0, {}, None
        for event in self.events[self.point:cut]:
            if isinstance(event, AllSlotsReset):
                self.slots.clear()  # the slots set before it are gone
            elif isinstance(event, SlotSet):
                self.slots.pop(event.key, None)  # in the order last set
                self.slots[event.key] = event
            elif isinstance(event, ActiveLoop):
                self.loop = event
        self.point, self.at_point = cut, self.events[cut - 1] if cut else None
        return list(self.slots.values()) + ([self.loop] if self.loop is not None else [])


_MEMO = "_recent_applied_events"  # the attribute of the tracker that holds its _AppliedEvents


def _applied(tracker: DialogueStateTracker) -> _AppliedEvents:
    memo = tracker.__dict__.get(_MEMO)
    if not (isinstance(memo, _AppliedEvents) and memo.follows(tracker) and memo.catch_up(tracker)):
        memo = tracker.__dict__[_MEMO] = _AppliedEvents(tracker)
    return memo


def _loop_names(events: Iterable[Event]) -> Set[Text]:
    return {event.name for event in events if isinstance(event, ActiveLoop) and event.name}


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
