"""Which config file is in force: the service's `--config` file, or the copy edited on the
technician's page.

On a Pi the service runs `--config /boot/firmware/appliance.toml`, on a FAT partition it may
not write (root's, and the unit's ProtectSystem=strict). The page then writes its edit to
`appliance.toml` in the state folder, and whichever of the two files was changed last is the
one in force: an edit on the page wins until someone edits the card's file from a laptop
again (then that is newer). Where `--config` and its folder are writable, the page writes it
in place and there is one file.
"""

from __future__ import annotations

import os
from pathlib import Path

from appliance import paths


def edited_copy(state_dir: Path) -> Path:
    return Path(state_dir) / paths.EDITED_CONFIG


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except (OSError, ValueError):
        return None


def config_in_force(config: Path | None, state_dir: Path) -> Path | None:
    """The file to load: the page's edited copy when it is newer than `config` (or `config` is
    missing or not given), else `config` (None: the built-in defaults)."""
    edited = edited_copy(state_dir)
    edited_at = _mtime(edited)
    if edited_at is None:
        return config
    config_at = _mtime(config) if config is not None else None
    return edited if config_at is None or edited_at > config_at else config


def save_target(config: Path | None, state_dir: Path) -> Path:
    """Where the page writes an edit: `config` itself when this process may replace it (the
    file and its folder writable), else the edited copy in the state folder."""
    if config is not None:
        folder = config.parent if str(config.parent) else Path(".")
        if os.access(folder, os.W_OK) and (not config.exists() or os.access(config, os.W_OK)):
            return config
    return edited_copy(state_dir)


def describe(path: Path | None, config: Path | None) -> str:
    """One line naming the file in force, for the log, the page and `appliance doctor`."""
    if path is None:
        return "the built-in defaults (no --config given)"
    if config is not None and path == config:
        return str(path)
    return f"{path} (edited on the technician's page; newer than {config or 'the defaults'})"
