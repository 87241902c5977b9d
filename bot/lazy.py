"""One object per process, built on first use: never at import time, and once even under threads."""
from __future__ import annotations

import threading
from typing import Callable, Generic, Optional, TypeVar

T = TypeVar("T")


class Lazy(Generic[T]):
    def __init__(self, factory: Callable[[], T]):
        self._factory = factory
        self._value: Optional[T] = None
        self._lock = threading.Lock()

    def get(self) -> T:
        with self._lock:
            if self._value is None:
                self._value = self._factory()
            return self._value

    def reset(self) -> None:
        """Forget the object, so that the next get() builds it anew (tests change settings)."""
        with self._lock:
            self._value = None
