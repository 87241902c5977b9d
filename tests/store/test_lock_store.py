"""The shared lock store against a real Redis (Debian's redis-server, on loopback, with a password).

Each SharedRedisLockStore below has its own connection, as each Rasa server would.
"""
from __future__ import annotations

import asyncio
import secrets
import threading
import uuid
from typing import List

import pytest

from devtools.devservers import RedisServer
from bot.settings import SettingsError
from bot.store.lock_store import SharedRedisLockStore, redis_address

from .databases import require_redis

SERVERS = 4


@pytest.fixture(scope="module")
def redis_server():
    server = RedisServer(require_redis(), password=secrets.token_hex(16)).start()
    yield server
    server.destroy()


@pytest.fixture
def stores(redis_server) -> List[SharedRedisLockStore]:
    return [SharedRedisLockStore(url=redis_server.url(db=3)) for _ in range(SERVERS)]


def conversation() -> str:
    return f"conversation-{uuid.uuid4().hex[:8]}"


def in_parallel(stores, work) -> None:
    errors, start = [], threading.Barrier(len(stores))

    def run(store):
        try:
            start.wait()
            work(store)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors


def test_tickets_issued_at_once_by_several_servers_are_all_different(stores):
    sender, issued = conversation(), []
    in_parallel(stores, lambda store: issued.extend(store.issue_ticket(sender) for _ in range(50)))
    assert sorted(issued) == list(range(SERVERS * 50))


def test_giving_a_ticket_back_keeps_the_lock_for_whoever_queued_meanwhile(stores):
    first, second = stores[:2]
    sender = conversation()
    mine, theirs = first.issue_ticket(sender), second.issue_ticket(sender)
    first.cleanup(sender, mine)
    lock = second.get_lock(sender)
    assert lock is not None and not lock.is_locked(theirs)
    second.cleanup(sender, theirs)
    assert second.get_lock(sender) is None  # nobody waits: gone


def test_a_conversation_is_held_by_one_server_at_a_time(stores):
    sender, inside, most, served = conversation(), [0], [0], []
    count = threading.Lock()

    async def turns(store):
        for _ in range(5):
            async with store.lock(sender, wait_time_in_seconds=0.01):
                with count:
                    inside[0] += 1
                    most[0] = max(most[0], inside[0])
                await asyncio.sleep(0.005)
                with count:
                    inside[0] -= 1
                    served.append(store)

    in_parallel(stores, lambda store: asyncio.run(turns(store)))
    assert most[0] == 1 and len(served) == SERVERS * 5
    assert stores[0].get_lock(sender) is None


def test_the_address_comes_from_the_url_and_the_password_is_used(redis_server):
    assert redis_address("rediss://:p%40ss@cache.example:6380/2") == {
        "host": "cache.example", "port": 6380, "db": 2, "password": "p@ss", "use_ssl": True,
    }
    assert redis_address("redis://cache.example")["port"] == 6379
    with pytest.raises(SettingsError):
        redis_address("http://cache.example")
    wrong = redis_server.url().replace(redis_server.password, "not-the-password")
    with pytest.raises(Exception, match="(?i)password|auth"):
        SharedRedisLockStore(url=wrong).issue_ticket(conversation())
