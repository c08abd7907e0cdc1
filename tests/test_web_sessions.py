"""Sessions, CSRF tokens and the login rate limit of the technician's page, on a fake clock."""

from __future__ import annotations

from appliance.web.sessions import FAILURES, IDLE_S, WINDOW_S, LoginLimiter, Sessions, csrf_ok


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_session_lives_while_used_and_ends_when_idle_or_logged_out():
    clock = Clock()
    sessions = Sessions(clock)
    session = sessions.create()
    assert sessions.get(session.token) is session
    assert sessions.get("forged") is None and sessions.get(None) is None
    clock.now += IDLE_S - 1
    assert sessions.get(session.token) is session  # used: kept alive
    clock.now += IDLE_S + 1
    assert sessions.get(session.token) is None
    other = sessions.create()
    sessions.end(other.token)
    assert sessions.get(other.token) is None


def test_each_session_has_its_own_csrf_token():
    sessions = Sessions(Clock())
    a, b = sessions.create(), sessions.create()
    assert a.csrf != b.csrf and a.token != b.token
    assert csrf_ok(a, a.csrf)
    assert not csrf_ok(a, b.csrf) and not csrf_ok(a, "") and not csrf_ok(a, None)


def test_five_wrong_passwords_a_minute_then_wait_for_the_oldest_to_expire():
    clock = Clock()
    limiter = LoginLimiter(clock)
    for _ in range(FAILURES):
        assert limiter.retry_after("10.0.0.2") == 0
        limiter.failed("10.0.0.2")
        clock.now += 1.0
    wait = limiter.retry_after("10.0.0.2")
    assert 0 < wait <= WINDOW_S
    assert limiter.retry_after("10.0.0.3") == 0  # another address is not punished
    clock.now += wait
    assert limiter.retry_after("10.0.0.2") == 0


def test_a_right_password_does_not_count_as_a_failure():
    limiter = LoginLimiter(Clock())
    for _ in range(FAILURES * 2):
        limiter.failed("10.0.0.2")  # counted before the check ...
        limiter.succeeded("10.0.0.2")  # ... and taken back when it was right
    assert limiter.retry_after("10.0.0.2") == 0
