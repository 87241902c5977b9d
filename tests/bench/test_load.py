"""The load generator, run for real for a few seconds against the real servers (no timing assertions:
speed figures belong to `make bench`)."""
from __future__ import annotations

import pytest

from bench import report
from bench.load import OURS_SCRIPTS, load
from bench.systems import free_port, peak_rss_mb
from bot.serve import Assistant
from bot.settings import PROJECT_ROOT, Settings

MODEL = PROJECT_ROOT / "models" / "current.tar.gz"
pytestmark = pytest.mark.skipif(not MODEL.exists(), reason="needs a trained model: run `make train` (make test does)")


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("bench-assistant")
    settings = Settings(rasa_port=free_port(), action_port=free_port(), data_dir=data_dir,
                        tracker_db=data_dir / "tracker.db", model_path=MODEL)
    with Assistant(settings, quiet=True) as running:
        yield running


def test_two_conversations_for_a_few_seconds_without_errors(assistant):
    lines = []
    stats = load([assistant.settings.rasa_url], OURS_SCRIPTS, concurrency=2, warmup_s=1, window_s=3,
                 label="smoke", progress=lines.append).as_dict()
    assert stats["errors"] == 0, stats["first_error"]
    assert stats["turns_all"] >= 2 and stats["concurrency"] == 2  # turns in the window: none on a very busy machine
    assert stats["p50_ms"] <= stats["p95_ms"] <= stats["p99_ms"] <= stats["max_ms"]
    assert lines and "[smoke c2]" in lines[-1]
    figures = report.point_figures("ours", stats)
    assert set(figures) == {f"ours_{k}_c2" for k in ("throughput", "p50_ms", "p95_ms", "p99_ms", "turns", "errors")}


def test_turns_alternate_over_several_base_urls(assistant):
    # A stand-in for the two-instance set-up: the same server twice (tests only talk to 127.0.0.1).
    url = assistant.settings.rasa_url
    stats = load([url, url + "/"], OURS_SCRIPTS[:1], concurrency=2, warmup_s=0,
                 window_s=2, label="two-urls", progress=lambda line: None)
    assert stats.errors == 0, stats.first_error
    assert stats.turns_all > 0


def test_an_unreachable_server_counts_errors_not_turns():
    stats = load([f"http://127.0.0.1:{free_port()}"], [["hi"]], concurrency=1, warmup_s=0, window_s=1,
                 progress=lambda line: None)
    assert stats.errors > 0 and stats.turns_all == 0 and stats.first_error


def test_peak_memory_of_the_running_servers(assistant):
    for process in assistant.processes.values():
        assert peak_rss_mb(process.pid) > 10
