"""A one-frame mailbox: the newest item wins, and every overwritten item is counted as dropped.

This is what keeps the display loop alive on a slow machine: no queue can grow, a slow reader
simply sees fewer, newer frames. `put(block=True)` is the lockstep variant used when every
frame must be processed (offline renders, throughput benchmarks).
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class LatestSlot(Generic[T]):
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: T | None = None
        self._full = False
        self._closed = False
        self.put_count = 0
        self.dropped = 0

    def put(self, item: T, block: bool = False) -> bool:
        """Store `item`; False if the slot was closed (while waiting, with `block`)."""
        with self._cond:
            while block and self._full and not self._closed:
                self._cond.wait()
            if self._closed:
                return False
            if self._full:
                self.dropped += 1
            self._item, self._full = item, True
            self.put_count += 1
            self._cond.notify_all()
            return True

    def take(self, timeout: float | None = None) -> T | None:
        """The newest item, waiting up to `timeout`; None on time-out or once closed and empty."""
        with self._cond:
            if not self._full and not self._closed:
                self._cond.wait(timeout)
            if not self._full:
                return None
            item, self._item, self._full = self._item, None, False
            self._cond.notify_all()
            return item

    def close(self) -> None:
        """No more items will come; a pending item can still be taken."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        with self._cond:
            return self._closed and not self._full
