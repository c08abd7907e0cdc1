"""The `appliance` command's entry point: for `appliance service`, the signals systemd may send
are caught before anything slow is imported (the imports take a few tenths of a second on a
Pi); see `appliance.app.early`."""

from __future__ import annotations

import sys

from appliance.app.early import catch_early_signals


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["service"]:
        catch_early_signals()
    from appliance.app.cli import main as cli_main
    return cli_main(argv)
