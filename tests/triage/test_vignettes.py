"""The vignette sets: every emergency found, no trap called an emergency, levels right."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from devtools.evaluate import load_vignettes, run, score

DATA = Path(__file__).resolve().parents[1] / "data"
TRAPS = {"negation_trap", "hypothetical_trap", "historical_trap"}


@pytest.fixture(scope="module", params=["vignettes.yml", "vignettes_holdout.yml"])
def outcomes(request, service):
    return run(load_vignettes(DATA / request.param), service)


def test_set_is_large_enough():
    assert len(load_vignettes(DATA / "vignettes.yml")) >= 120


def test_every_emergency_is_found(outcomes):
    missed = [(o.vignette.id, o.level) for o in outcomes if o.vignette.level == "emergency" and o.level != "emergency"]
    assert not missed


def test_no_trap_is_called_an_emergency(outcomes):
    false_alarms = [o.vignette.id for o in outcomes if o.vignette.category in TRAPS and o.level == "emergency"]
    assert not false_alarms


def test_no_false_emergencies_at_all(outcomes):
    assert score(outcomes)["ALL"].false_emergencies == 0


def test_expected_red_flags_are_found_and_denied_ones_are_not(outcomes):
    wrong = [o.vignette.id for o in outcomes if not o.flags_ok]
    assert not wrong


def test_level_accuracy(outcomes):
    # Known over-triage on the held-out set is two doctor-level answers for self-care or
    # undetermined cases whose long durations belong to someone else's past (README).
    assert score(outcomes)["ALL"].accuracy >= 0.98


def test_a_first_run_is_recorded_once_per_set_and_never_overwritten(tmp_path, monkeypatch):
    """A new round of blind sets gets its first run beside the old ones; a set recorded before,
    or marked as having none (null: older than its scorer), keeps what it has."""
    from devtools import evaluate

    path = tmp_path / "first_run.json"
    monkeypatch.setattr(evaluate, "FIRST_RUN", path)
    path.write_text(json.dumps({"frozen/a": {"count": 1}, "frozen/old": None}))
    assert evaluate.record_first_runs({"frozen/a": {"count": 9}, "frozen/old": {"count": 3}}) == 2
    assert evaluate.record_first_runs({"frozen/a": {"count": 9}, "frozen/b": {"count": 2}}) == 0
    assert json.loads(path.read_text()) == {"frozen/a": {"count": 1}, "frozen/old": None, "frozen/b": {"count": 2}}
    assert evaluate.first_runs()["frozen/b"] == {"count": 2}


def test_the_tools_read_every_single_message_blind_set_and_leave_the_conversations_to_the_player():
    """`make eval`'s typo run and `make bench`'s triage timing read the blind sets through
    blind_sets(); a conversation set of any name (conversations_2.yml) is not among them."""
    from bench.engine import _texts
    from devtools.evaluate import BLIND_DIR, blind_sets

    sets = blind_sets()
    conversations = sorted(BLIND_DIR.glob("*/conversations*.yml"))
    assert len(conversations) >= 4 and not set(conversations) & set(sets)
    assert {path.stem for path in sets} >= {"short_messages", "short_messages_2", "narratives_2", "patient_posts_2"}
    tuning = sum(len(load_vignettes(path)) for path in sets if path.parent.name == "tuning")
    assert len(_texts()) == len(load_vignettes(DATA / "vignettes.yml")) + tuning
