"""Signals that arrive before the service is ready for them: caught from the program's first
instructions (`appliance.app.entry`), kept in order, and handed to the service when it starts
(`take_early_signals`), so a SIGHUP, SIGTERM or SIGUSR1 during the imports is acted on, never
lost and never fatal (a SIGHUP's or SIGUSR1's default action is to end the process)."""

from __future__ import annotations

import signal

_early: list[int] = []


def _keep(signum: int, _frame: object) -> None:
    _early.append(signum)


def catch_early_signals() -> None:
    for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT, signal.SIGUSR1):
        signal.signal(sig, _keep)


def take_early_signals() -> list[int]:
    """The signals caught before the service installed its own handlers, in order (once)."""
    taken = list(_early)
    _early.clear()
    return taken
