"""Two Rasa servers sharing PostgreSQL and a Redis lock store, for the throughput benchmark.

The same set-up as tests/scale (devtools.cluster.local_cluster): throw-away PostgreSQL and Redis,
one action server, two Rasa servers. The load generator sends turns round-robin to the URLs.
"""
from __future__ import annotations

import contextlib
import pathlib
from typing import Iterator, List

from devtools.cluster import local_cluster


@contextlib.contextmanager
def two_instance_cluster(work_dir: pathlib.Path) -> Iterator[List[str]]:
    """Yields the two Rasa servers' base URLs (http://127.0.0.1:PORT); stops everything on exit."""
    with local_cluster(work_dir, instances=2) as cluster:
        yield cluster.urls
