"""`appliance password`: set the technician's page password (its salted hash goes in the
state folder; the password itself is never stored or printed)."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Callable, TextIO

from appliance import paths
from appliance.errors import ConfigError


def add_password_command(sub: argparse._SubParsersAction) -> None:
    command = sub.add_parser("password", help="set the password of the technician's page ([web]): "
                             "asked twice, kept as a salted hash in the state folder")
    command.add_argument("--state-dir", type=Path, help="the service's state folder (default: as "
                         "`appliance service` finds it; on a Pi: /var/lib/appliance)")
    command.add_argument("--stdin", action="store_true", help="read the password from one line "
                         "of standard input (for scripts)")
    command.set_defaults(handler=cmd_password)


def cmd_password(args: argparse.Namespace) -> int:
    from appliance.web.passwords import store_password
    password = read_new_password(args.stdin)
    path = store_password(paths.state_dir(args.state_dir), password)
    print(f"password set: {path} (the page asks for it at the next login)")
    return 0


def read_new_password(from_stdin: bool, stdin: TextIO | None = None,
                      ask: Callable[[str], str] = getpass.getpass) -> str:
    """One line of standard input, or the password typed twice at the terminal."""
    if from_stdin:
        line = (stdin or sys.stdin).readline()
        return line[:-1] if line.endswith("\n") else line
    first = ask("new password for the technician's page: ")
    if ask("the same again: ") != first:
        raise ConfigError(["appliance password: the two passwords differ; nothing changed"])
    return first
