"""Who is logged in to the technician's page, and how often a wrong password may be tried.

Sessions live in memory only (a restart logs everyone out): a random token in an HttpOnly,
SameSite=Strict cookie, and per session a CSRF token every form carries back.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

IDLE_S = 4 * 3600.0  # a session unused this long is gone
MAX_SESSIONS = 16
FAILURES = 5  # wrong passwords per client address ...
WINDOW_S = 60.0  # ... within this window, then 429 until the oldest leaves the window
MAX_CLIENTS = 1024


@dataclass
class Session:
    token: str
    csrf: str
    last_seen: float = field(default=0.0)


class Sessions:
    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self._by_token: dict[str, Session] = {}

    def create(self) -> Session:
        self._expire()
        while len(self._by_token) >= MAX_SESSIONS:  # the longest unused goes
            oldest = min(self._by_token.values(), key=lambda s: s.last_seen)
            del self._by_token[oldest.token]
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), self.clock())
        self._by_token[session.token] = session
        return session

    def get(self, token: str | None) -> Session | None:
        """The live session of a cookie's token (its use keeps it alive), else None."""
        self._expire()
        session = self._by_token.get(token or "")
        if session is not None:
            session.last_seen = self.clock()
        return session

    def end(self, token: str) -> None:
        self._by_token.pop(token, None)

    def _expire(self) -> None:
        now = self.clock()
        for token in [t for t, s in self._by_token.items() if now - s.last_seen > IDLE_S]:
            del self._by_token[token]


def csrf_ok(session: Session, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(session.csrf.encode(), str(given).encode())


class LoginLimiter:
    """At most FAILURES wrong passwords per client address in WINDOW_S seconds."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, client: str) -> int:
        """Seconds until `client` may try again (0: now)."""
        recent = self._recent(client)
        if len(recent) < FAILURES:
            return 0
        return max(1, int(recent[0] + WINDOW_S - self.clock()) + 1)

    def failed(self, client: str) -> None:
        if len(self._failures) >= MAX_CLIENTS and client not in self._failures:
            for key in [k for k in self._failures if not self._recent(k)]:
                del self._failures[key]
            while len(self._failures) >= MAX_CLIENTS:  # still full: the first seen goes
                del self._failures[next(iter(self._failures))]
        self._recent(client).append(self.clock())

    def succeeded(self, client: str) -> None:
        """The attempt counted by `failed` before the check was right after all."""
        recent = self._recent(client)
        if recent:
            recent.pop()

    def _recent(self, client: str) -> deque[float]:
        times = self._failures.setdefault(client, deque())
        while times and self.clock() - times[0] >= WINDOW_S:
            times.popleft()
        return times
