"""Fixtures shared by the end-to-end tests, and the figures the fault tests collected (printed at the end)."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def apis():
    """Local stand-ins for the Telegram Bot API and Slack's Web API, on 127.0.0.1."""
    from ..channels import test_slack as slack
    from ..channels import test_telegram as telegram
    from ..channels.fake_api import FakeAPI

    fakes = {"telegram": FakeAPI(telegram.bot_api), "slack": FakeAPI(slack.web_api)}
    yield fakes
    for fake in fakes.values():
        fake.close()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    from .support import FIGURES, write_figures

    if not FIGURES:
        return
    base = getattr(config, "_tmp_path_factory", None)
    path = write_figures(base.getbasetemp() if base else None)
    terminalreporter.section("end-to-end figures" + (f" ({path})" if path else ""))
    for name, count in sorted(FIGURES.items()):
        terminalreporter.write_line(f"{name}: {count}")
