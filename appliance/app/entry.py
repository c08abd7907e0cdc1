"""The `appliance` command's entry point: for `appliance service`, the signals systemd may send
are caught before anything slow is imported (the imports take a few tenths of a second on a Pi,
and a SIGHUP's default action is to end the process). What arrives meanwhile is kept and handed
to the service when it starts (`take_early_signals`): nothing is lost."""

from __future__ import annotations

import signal
import sys

_early: list[int] = []


def _keep(signum: int, _frame: object) -> None:
    _early.append(signum)


def catch_early_signals() -> None:
    for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _keep)


def take_early_signals() -> list[int]:
    """The signals caught before the service installed its own handlers, in order (once)."""
    taken = list(_early)
    _early.clear()
    return taken


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["service"]:
        catch_early_signals()
    from appliance.app.cli import main as cli_main
    return cli_main(argv)
