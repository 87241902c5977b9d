"""Shared fixtures: the language pipeline and the triage service are built once per run."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def pipeline():
    from bot.nlp.pipeline import ClinicalPipeline

    return ClinicalPipeline()


@pytest.fixture(scope="session")
def service(pipeline):
    from bot.triage.service import TriageService

    return TriageService(pipeline=pipeline)


@pytest.fixture(scope="session")
def rulebook():
    from bot.triage.rulebook import load_rulebook

    return load_rulebook()
