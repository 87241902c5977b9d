"""Two Rasa servers sharing a real PostgreSQL and a real Redis, started once for tests/scale."""
from __future__ import annotations

import os

import pytest

# Rasa 3.6 declares its own table in the SQLAlchemy 1.x style; its warning says nothing about our code.
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

from devtools.cluster import local_cluster  # noqa: E402

from ..e2e.test_rest_conversation import MODEL
from ..store.databases import require_postgres, require_redis


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    if not MODEL.exists():
        pytest.skip("needs a trained model: run `make train` (make test does)")
    require_postgres()
    require_redis()
    with local_cluster(tmp_path_factory.mktemp("cluster"), instances=2, model=MODEL) as running:
        yield running


def require_program(program: str, package: str) -> str:
    """A Debian program the test needs; in CI its absence fails the run instead of skipping."""
    import shutil

    from ..store.databases import IN_CI

    found = shutil.which(program) or shutil.which(program, path="/usr/sbin:/usr/bin")
    if not found:
        message = f"{program} is not installed (apt-get install {package}; `make system-deps` does it)"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found
