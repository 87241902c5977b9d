"""spaCy comes in without TensorFlow (bot/nlp/__init__.py), and a process that has TensorFlow keeps it."""
from __future__ import annotations

import subprocess
import sys

from bot.settings import PROJECT_ROOT


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_the_language_layer_does_not_load_tensorflow_and_it_can_still_be_imported():
    out = _run(
        "import sys\n"
        "from bot.triage.service import TriageService\n"
        "level = TriageService().assess('my left leg is numb and I cannot breathe').level\n"
        "import thinc.compat\n"
        "print(level, 'tensorflow' in sys.modules, thinc.compat.has_tensorflow)\n"
        "import tensorflow\n"
        "print(tensorflow.constant(2).numpy() * 2)\n"
    )
    assert out.splitlines() == ["emergency False False", "4"]


def test_a_process_with_tensorflow_loaded_keeps_it_for_thinc():
    out = _run("import tensorflow, sys\nimport bot.nlp, thinc.compat\nprint(thinc.compat.has_tensorflow)")
    assert out == "True"
