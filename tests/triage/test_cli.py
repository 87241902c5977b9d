"""python -m bot.triage: one JSON object per text, the pipeline loaded once for stdin."""
from __future__ import annotations

import json
import subprocess
import sys

from bot.settings import PROJECT_ROOT


def run_cli(*args, stdin=None):
    result = subprocess.run(
        [sys.executable, "-m", "bot.triage", *args],
        input=stdin, capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_json_for_one_text_has_the_documented_shape():
    data = json.loads(run_cli("--json", "I can't control my bladder and my legs are numb"))
    assert data["level"] == "emergency"
    assert data["red_flags"] == ["emergency.bladder_bowel_loss"]
    assert {"rule", "level", "source", "quote"} <= set(data["reasons"][0])
    sign = next(f for f in data["findings"] if f["concept"] == "bladder_bowel_loss")
    # Both detectors found it: the patterns and the clause embedding (with its cosine).
    assert {k: sign[k] for k in ("text", "status", "detected_by")} == {
        "text": "can't control my bladder", "status": "present", "detected_by": ["patterns", "embedding"]}
    assert 0.62 <= sign["score"] <= 1 and "suspected" not in sign
    assert data["missing"] == [] and data["suspected"] == []


def test_json_marks_a_sign_only_the_embedding_found_as_suspected():
    data = json.loads(run_cli("--json", "my leg is numb and my lungs won't fill up"))
    sign = next(f for f in data["findings"] if f["concept"] == "difficulty_breathing")
    assert sign["detected_by"] == ["embedding"] and sign["suspected"] is True and sign["status"] == "present"
    assert data["level"] != "emergency" and data["suspected"] == ["difficulty_breathing"]


def test_stdin_gives_one_object_per_line_in_order():
    out = run_cli("--json", stdin="I have NO bladder problems\n\n"
                  "my foot fell asleep after sitting cross legged and it went away when i stood up\n")
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["level"] for line in lines] == ["undetermined", "self_care"]
    assert "emergency_signs" in lines[0]["missing"]


def test_readable_summary_names_level_rule_and_source():
    out = run_cli("my left foot has been numb for three weeks and I'm diabetic")
    assert out.startswith("SEE A DOCTOR")
    assert "doctor.known_condition" in out and "000_88291621b930fbc3.txt" in out
