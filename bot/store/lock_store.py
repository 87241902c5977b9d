"""The conversation lock store several Rasa servers share: Rasa's RedisLockStore, made atomic.

Rasa serialises the messages of one conversation with a ticket lock kept in the lock store. Rasa
3.6's RedisLockStore reads the lock, changes it in Python and writes it back, so two servers can
interleave: both issue ticket 0 at the same moment and handle two messages of one conversation at
once (the later tracker save then drops the other's events), or one server's clean-up deletes a
lock another server has just queued on (whose message then fails with LockError). See
RasaHQ/rasa#9213; the fix (#11256) was reverted. Here every read-change-write of a lock is one
Redis transaction (WATCH/MULTI/EXEC, retried when another server changed the lock in between).

The effective endpoints file names it (bot/store/endpoints.py) when LOCK_STORE_URL is set; the
address, password included, is read from the environment through bot.settings, never from a file.
"""
from __future__ import annotations

import json
from typing import Any, Callable, Optional, Tuple
from urllib.parse import unquote, urlsplit

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from ..settings import Settings, SettingsError

Change = Callable[[Optional[TicketLock]], Tuple[Any, Optional[TicketLock]]]


def redis_address(url: str) -> dict:
    """redis://[:password@]host[:port][/db] (rediss:// for TLS) as RedisLockStore's arguments."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise SettingsError("LOCK_STORE_URL must look like redis://[:password@]host[:port][/db]")
    db = parts.path.strip("/") or "0"
    if not db.isdigit():
        raise SettingsError("LOCK_STORE_URL: the database after the last / must be a number")
    return {
        "host": parts.hostname,
        "port": parts.port or 6379,
        "db": int(db),
        "password": unquote(parts.password) if parts.password else None,
        "use_ssl": parts.scheme == "rediss",
    }


class SharedRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, url: Optional[str] = None) -> None:
        url = url or Settings.from_env().lock_store_url
        if not url:
            raise SettingsError("LOCK_STORE_URL is not set: the shared lock store needs a Redis server")
        options = dict(endpoint_config.kwargs) if endpoint_config else {}
        super().__init__(
            **redis_address(url),
            key_prefix=options.get("key_prefix"),
            **({"socket_timeout": float(options["socket_timeout"])} if "socket_timeout" in options else {}),
        )

    def _change(self, conversation_id: str, change: Change) -> Any:
        """Applies `change` to the stored lock atomically; it returns (result, new lock or None to delete)."""
        key = self.key_prefix + conversation_id

        def transaction(pipe) -> Any:
            raw = pipe.get(key)  # read under WATCH: EXEC fails if another server writes the key first
            result, lock = change(TicketLock.from_dict(json.loads(raw)) if raw else None)
            pipe.multi()
            if lock is not None:
                pipe.set(key, lock.dumps())
            elif raw is not None:
                pipe.delete(key)
            return result

        return self.red.transaction(transaction, key, value_from_callable=True)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def issue(lock: Optional[TicketLock]) -> Tuple[int, TicketLock]:
            lock = lock or self.create_lock(conversation_id)
            return lock.issue_ticket(lock_lifetime), lock

        try:
            return self._change(conversation_id, issue)
        except Exception as error:  # as Rasa's own lock stores report it
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: str) -> None:
        def drop_expired(lock: Optional[TicketLock]) -> Tuple[None, Optional[TicketLock]]:
            if lock is not None:
                lock.remove_expired_tickets()
            return None, lock

        self._change(conversation_id, drop_expired)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        self.cleanup(conversation_id, ticket_number)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Gives the ticket back and deletes the lock only if nobody queued on it meanwhile."""
        def give_back(lock: Optional[TicketLock]) -> Tuple[None, Optional[TicketLock]]:
            if lock is None:
                return None, None
            lock.remove_ticket_for(ticket_number)
            return None, lock if lock.is_someone_waiting() else None

        self._change(conversation_id, give_back)
