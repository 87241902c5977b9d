"""Prints the figures the end-to-end fault tests collected (the issue's report quotes them)."""
from __future__ import annotations


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    from .support import FIGURES, write_figures

    if not FIGURES:
        return
    base = getattr(config, "_tmp_path_factory", None)
    path = write_figures(base.getbasetemp() if base else None)
    terminalreporter.section("end-to-end figures" + (f" ({path})" if path else ""))
    for name, count in sorted(FIGURES.items()):
        terminalreporter.write_line(f"{name}: {count}")
