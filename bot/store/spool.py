"""An append-only JSON Lines file where transcript records wait for the database.

Every record is written here first and fsync'ed, then copied to the database; the file is
emptied only after the database has committed. A crash or an outage at any point leaves the
records in the file, and writing them again is harmless (each has a stable key).
The file is locked with flock, so the Rasa server and the staff commands (erase) can share it.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
from pathlib import Path
from typing import Callable, Iterator, List, Optional

from .records import TranscriptRecord

logger = logging.getLogger(__name__)


SPOOL_NAME = "transcripts-spool.jsonl"


def spools_in(data_dir: Path) -> List["Spool"]:
    """Every spool in a data dir: the Rasa server's, and each named server's (INSTANCE_NAME) under instances/."""
    data_dir = Path(data_dir)
    return [Spool(data_dir / SPOOL_NAME)] + [Spool(path) for path in sorted(data_dir.glob(f"instances/*/{SPOOL_NAME}"))]


class Spool:
    def __init__(self, path: Path):
        self.path = Path(path)
        # Lines that cannot be read back (a write torn by a crash) are moved here, not dropped.
        self.rejected_path = self.path.with_name(self.path.stem + "-rejected.jsonl")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def append(self, records: List[TranscriptRecord]) -> None:
        with self._locked():
            _append(self.path, [json.dumps(r.to_json()) for r in records])

    def count(self) -> int:
        return _count_lines(self.path)

    def oldest_waiting_at(self) -> Optional[float]:
        """When the oldest waiting record was said (its ``at``), or None when nothing waits."""
        with self._locked():
            records = self._read()
        return min((r.at for r in records), default=None)

    def rejected_count(self) -> int:
        return _count_lines(self.rejected_path)

    def reject(self, lines: List[str]) -> None:
        """Keeps lines the database refused, for a person to look at; the caller logs why."""
        _append(self.rejected_path, lines)

    def drain(self, consume: Callable[[List[TranscriptRecord]], None]) -> int:
        """Passes every waiting record to `consume` and, once it returns, removes them from the spool.

        The file is not locked while `consume` writes to the database, so new records can be
        appended meanwhile; they stay for the next drain. If `consume` raises, the spool is left
        as it was and the error propagates. Callers do not drain one spool concurrently
        (TranscriptWriter holds its own lock).
        """
        with self._locked():
            records = self._read()
        if not records:
            return 0
        consume(records)
        done = {record.key for record in records}
        with self._locked():
            waiting = [r for r in self._read() if r.key not in done]
            _replace(self.path, [json.dumps(r.to_json()) for r in waiting])
        return len(records)

    def rewrite(self, keep: Callable[[TranscriptRecord], bool]) -> int:
        """Drops the waiting records `keep` refuses (erasure); returns how many were dropped."""
        with self._locked():
            records = self._read()
            kept = [r for r in records if keep(r)]
            if len(kept) != len(records):
                _replace(self.path, [json.dumps(r.to_json()) for r in kept])
            return len(records) - len(kept)

    def _read(self) -> List[TranscriptRecord]:
        if not self.path.exists():
            return []
        records, unreadable = [], []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                records.append(TranscriptRecord.from_json(json.loads(line)))
            except (ValueError, TypeError) as error:
                logger.error("transcript spool: unreadable line moved to %s (%s)", self.rejected_path, error)
                unreadable.append(line)
        if unreadable:
            self.reject(unreadable)
            _replace(self.path, [json.dumps(r.to_json()) for r in records])
        return records



def _write_lines(path: Path, lines: List[str], mode: str) -> None:
    with open(path, mode, encoding="utf-8") as handle:
        handle.writelines(line + "\n" for line in lines)
        handle.flush()
        os.fsync(handle.fileno())


def _append(path: Path, lines: List[str]) -> None:
    _write_lines(path, lines, "a")


def _replace(path: Path, lines: List[str]) -> None:
    """Atomically: a crash leaves either the old file or the new one, never half of either."""
    temporary = path.with_name(path.name + ".tmp")
    _write_lines(temporary, lines, "w")
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _count_lines(path: Path) -> int:
    if not path.exists():
        return 0
    with open(path, "rb") as handle:
        return sum(1 for line in handle if line.strip())
