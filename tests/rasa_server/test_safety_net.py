"""The Rasa server's own line of defence, with the trained model and no action server at all.

Every emergency vignette must get the domain response utter_emergency as its first reply,
straight from the Rasa server; no other vignette may. The turn then ends with the
technical-problem message instead of silence, well before Rasa's own 300 s time-out.
"""
from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import sys
import threading

import pytest
import yaml

from bot.dialogue.conversation import Conversation, Turn
from bot.dialogue.replies import emergency_advice
from bot.rasa_server.actions import GuardedRemoteAction, install, installed
from bot.triage.service import shared_service
from bot.settings import PROJECT_ROOT, Settings
from devtools.evaluate import DEFAULT_VIGNETTES, load_vignettes

MODEL = PROJECT_ROOT / "models" / "current.tar.gz"
HOLDOUT = DEFAULT_VIGNETTES.with_name("vignettes_holdout.yml")
pytestmark = pytest.mark.skipif(not MODEL.exists(), reason="needs a trained model: run `make train` (make test does)")

EMERGENCY_OPENING = "EMERGENCY: call 112 now"
TECHNICAL_PROBLEM = "Sorry, we have a technical problem"


def all_vignettes():
    return load_vignettes(DEFAULT_VIGNETTES) + load_vignettes(HOLDOUT)


class SilentServer:
    """Accepts connections and never answers: an action server that hangs."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(connection)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_loading_the_model_any_way_installs_the_guarded_action():
    """`rasa run`, `rasa shell` and `rasa interactive` load the model through Agent.load: our
    component installs the guard (and the rest of internals.install()), in a fresh process where
    nothing else did."""
    code = ("from rasa.core.agent import Agent; from bot.rasa_server.actions import installed; "
            "from bot.rasa_server import internals; "
            f"assert not installed() and not internals.installed(); Agent.load({str(MODEL)!r}); "
            "print(installed() and internals.installed())")
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "True"


@pytest.fixture(scope="module")
def run():
    loop = asyncio.new_event_loop()
    yield loop.run_until_complete
    loop.close()


def load_agent(action_url):
    """The trained model as the Rasa server runs it: our response generator, our remote action."""
    from rasa.core.agent import Agent
    from rasa.utils.endpoints import EndpointConfig

    install()
    GuardedRemoteAction.settings = Settings(emergency_number="112", action_timeout_s=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EMERGENCY_NUMBER", "112")
        return Agent.load(
            str(MODEL),
            generator=EndpointConfig(type="bot.rasa_server.responses.TriageResponses"),
            action_endpoint=EndpointConfig(action_url),
        )


@pytest.fixture(scope="module")
def agent_without_actions():
    agent = load_agent(f"http://127.0.0.1:{closed_port()}/webhook")
    yield agent
    GuardedRemoteAction.settings = None


def texts_of(messages):
    return [m.get("text") or "" for m in messages]


def test_the_guarded_remote_action_is_what_rasa_builds(agent_without_actions):
    from rasa.core.actions.action import action_for_name_or_text

    assert installed()
    action = action_for_name_or_text("action_triage", agent_without_actions.domain, agent_without_actions.action_endpoint)
    assert isinstance(action, GuardedRemoteAction)


def test_every_emergency_vignette_gets_the_emergency_advice_without_the_action_server(agent_without_actions, run):
    missed, false_alarms, silent = [], [], []
    vignettes = all_vignettes()
    for index, vignette in enumerate(vignettes):
        replies = texts_of(run(agent_without_actions.handle_text(vignette.text, sender_id=f"vignette-{index}")))
        if not replies:
            silent.append(vignette.id)
        said_emergency = bool(replies) and replies[0].startswith(EMERGENCY_OPENING)
        if vignette.level == "emergency" and not said_emergency:
            missed.append(vignette.id)
        if vignette.level != "emergency" and any("EMERGENCY" in text for text in replies):
            false_alarms.append(vignette.id)
        assert replies[-1].startswith(TECHNICAL_PROBLEM), (vignette.id, replies)
    emergencies = sum(v.level == "emergency" for v in vignettes)
    print(f"\nwithout the action server: {emergencies - len(missed)}/{emergencies} emergencies answered, "
          f"{len(false_alarms)} false emergencies, {len(silent)} silent turns, {len(vignettes)} vignettes")
    assert emergencies > 100
    assert missed == [] and false_alarms == [] and silent == []


@pytest.mark.parametrize("text", ["I have NO bladder problems", "what if I lose control of my bladder?", "my father had a stroke"])
def test_a_denied_or_hypothetical_red_flag_is_not_an_emergency(agent_without_actions, run, text):
    replies = texts_of(run(agent_without_actions.handle_text(text, sender_id=f"denied-{hash(text)}")))
    assert not any("EMERGENCY" in reply for reply in replies)


def test_the_rasa_server_words_the_emergency_advice_as_the_action_does(agent_without_actions, run):
    replies = texts_of(run(agent_without_actions.handle_text("I can't control my bladder", sender_id="wording")))
    assert replies[0] == emergency_advice("112")
    assert Conversation(shared_service(), "112").plan(Turn("I can't control my bladder")).replies[0].text.startswith(
        emergency_advice("112") + "\nWhy:")


STORIES = PROJECT_ROOT / "tests" / "test_stories.yml"
ANNOTATION = re.compile(r"\[([^\]]+)\]\(([a-z_]+)\)")


def story_messages():
    """(text, marked red_flag in the story) for every user message of the Rasa test stories."""
    for story in yaml.safe_load(STORIES.read_text())["stories"]:
        for step in story["steps"]:
            if "user" in step:
                raw = step["user"].strip()
                yield ANNOTATION.sub(r"\1", raw), any(entity == "red_flag" for _, entity in ANNOTATION.findall(raw))


def test_the_test_stories_mark_red_flags_exactly_where_the_rasa_server_finds_them(agent_without_actions, run):
    """The stories check the dialogue with the entities they are given; this checks those entities
    against what the model's NLU, RedFlagDetector included, finds in the same words."""
    messages = list(story_messages())
    assert sum(marked for _, marked in messages) >= 6 and sum(not marked for _, marked in messages) >= 20
    for text, marked in messages:
        found = [e for e in run(agent_without_actions.parse_message(text))["entities"] if e["entity"] == "red_flag"]
        assert bool(found) == marked, text


def test_every_message_carries_its_findings_for_the_triage_action(agent_without_actions, run, service):
    text = "my left foot has been numb for three weeks and I'm diabetic"
    message = run(agent_without_actions.parse_message(text))
    assert message["findings"] == [finding.as_record() for finding in service.pipeline.findings(text)]
    assert {f["concept"] for f in message["findings"]} >= {"left_leg", "foot", "duration", "diabetes"}
    assert "triage" not in message  # the decision travels only when it is an emergency
    assert run(agent_without_actions.parse_message("???"))["findings"] == []


@pytest.mark.parametrize("text", ["???", "...", "🦵🦵", "\u200b", "!!"])
def test_a_message_without_words_is_not_read_as_yes_to_the_emergency_question(agent_without_actions, run, text):
    message = run(agent_without_actions.parse_message(text))
    assert message["intent"]["name"] == "nlu_fallback"


def test_a_hanging_action_server_times_out_to_the_technical_problem_message(run):
    silent = SilentServer()
    agent = load_agent(f"http://127.0.0.1:{silent.port}/webhook")
    try:
        replies = texts_of(run(asyncio.wait_for(agent.handle_text("my left leg is numb", sender_id="slow"), 30)))
        assert replies and replies[-1].startswith(TECHNICAL_PROBLEM)
        emergency = texts_of(run(asyncio.wait_for(agent.handle_text("I can't walk", sender_id="slow-2"), 30)))
        assert emergency[0].startswith(EMERGENCY_OPENING) and emergency[-1].startswith(TECHNICAL_PROBLEM)
    finally:
        GuardedRemoteAction.settings = None
        silent.sock.close()


def inside_the_form(agent, run, sender, question="side"):
    """Stores a conversation as it stands once symptom_form has asked ``question`` (the action
    server answered until then; it is down from now on)."""
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    events = [
        ActionExecuted("action_listen"),
        UserUttered("my leg is numb", {"name": "describe_symptoms", "confidence": 0.9}),
        ActionExecuted("action_triage"), SlotSet("requested_question", question), SlotSet("requested_slot", question),
        ActiveLoop("symptom_form"), ActionExecuted("symptom_form"), ActionExecuted("action_listen"),
    ]
    tracker = DialogueStateTracker.from_events(sender, events, slots=agent.domain.slots)
    run(agent.tracker_store.save(tracker))


def test_inside_the_form_an_emergency_sign_gets_the_advice_first_and_the_form_ends(agent_without_actions, run):
    inside_the_form(agent_without_actions, run, "in-form-emergency")
    replies = texts_of(run(agent_without_actions.handle_text("now I can't control my bladder", sender_id="in-form-emergency")))
    assert replies[0].startswith(EMERGENCY_OPENING) and replies[-1].startswith(TECHNICAL_PROBLEM)
    tracker = run(agent_without_actions.tracker_store.retrieve("in-form-emergency"))
    assert tracker.active_loop_name is None
    assert "action_deactivate_loop" in [e.action_name for e in tracker.events if hasattr(e, "action_name")]


def test_inside_the_form_with_the_action_server_down_the_problem_is_said_once(agent_without_actions, run):
    inside_the_form(agent_without_actions, run, "in-form-down")
    replies = texts_of(run(agent_without_actions.handle_text("my left leg", sender_id="in-form-down")))
    assert [r for r in replies if r.startswith(TECHNICAL_PROBLEM)] == replies and len(replies) == 1
    assert not any(r.startswith("EMERGENCY") for r in replies)
    # The form ended instead of asking again; the next message starts it again.
    assert run(agent_without_actions.tracker_store.retrieve("in-form-down")).active_loop_name is None
