"""Keeping the evening's painting: the three ways to ask, and where the request goes.

A long press of the previous button, an OSC `/painting/save` and `appliance snapshot` (SIGUSR1
to the service) all call `PaintingSaves.request`, from their own threads; it only sets a flag.
The display loop serves it between two frames (`frame_shown`): an effect of the mode shown that
keeps a painting (`KeepsPainting`, the evening) saves what it has painted so far; in any other
mode the canvas kept in the state folder is saved instead. Either way one PNG named by the time
lands in the state folder's `paintings/`, written atomically.

`appliance snapshot` finds the service by the PID it records in the state folder; with no
service running it saves the kept canvas itself. It prints the new PNG's path.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from pathlib import Path
from typing import Any, Callable

from appliance import paths
from appliance.atomic import atomic_write_text
from appliance.core.stages import KeepsPainting
from appliance.errors import PaintingError
from appliance.paint import album

log = logging.getLogger(__name__)

MIN_GAP_S = 1.0  # requests closer than this to the last save are that save (a flood saves once)
SNAPSHOT_WAIT_S = 10.0


class PaintingSaves:
    """A pipeline observer that serves save requests in the display loop."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._asked = False
        self._clock = clock
        self._last = -MIN_GAP_S

    def request(self) -> None:
        """Ask for a save, from any thread or a signal handler: it only sets a flag (no lock,
        which a signal handler running on the display thread could find held by that thread;
        requests that meet before the next frame are one save)."""
        self._asked = True

    @property
    def pending(self) -> bool:
        return self._asked

    def frame_shown(self, pipeline: Any) -> None:
        if not self._asked:
            return
        self._asked = False
        if self._clock() - self._last < MIN_GAP_S:
            log.info("painting: saved a moment ago; this request is that save")
            return
        self._last = self._clock()
        effects = [effect for _, effect in pipeline.mode.steps] if pipeline.mode is not None else []
        if any(isinstance(e, KeepsPainting) and e.save_painting() for e in effects):
            return  # the effect writes it, on its own writer thread
        try:
            path = album.save_from_canvas(paths.state_dir(pipeline.context.state_dir), time.time())
        except PaintingError as exc:
            log.warning("painting: %s", exc)
            return
        log.info("painting: saved the kept canvas to %s", path)

    def stopped(self, pipeline: Any) -> None:
        pass


def record_pid(state_dir: Path) -> Path | None:
    """Write the service's PID into the state folder (for `appliance snapshot`); None if the
    folder cannot be written (logged: the artwork runs on, only snapshot cannot find it)."""
    path = state_dir / paths.SERVICE_PID
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, f"{os.getpid()}\n")
    except OSError as exc:
        log.error("cannot record the PID in %s (%s); `appliance snapshot` will not find the service", path, exc)
        return None
    return path


def forget_pid(path: Path | None) -> None:
    """Remove the PID file, if it is still this process's."""
    try:
        if path is not None and path.read_text().strip() == str(os.getpid()):
            path.unlink()
    except OSError:
        pass


def running_service(state_dir: Path) -> int | None:
    """The PID of the service recorded in `state_dir` if that process runs and is the
    appliance; None otherwise (no file, a stale one, a PID reused by another program)."""
    path = state_dir / paths.SERVICE_PID
    try:
        pid = int(path.read_text().strip())
    except FileNotFoundError:
        return None
    except ValueError:
        return None
    except OSError as exc:
        raise PaintingError(f"{path}: cannot be read ({exc.strerror or exc}); run this as the "
                            "service's user, e.g. sudo -u appliance appliance snapshot "
                            f"--state-dir {state_dir}") from None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, another user's: signalling it will say so
    try:
        if b"appliance" not in Path(f"/proc/{pid}/cmdline").read_bytes():
            return None
    except OSError:
        pass  # no /proc here, or a process /proc hides: trust the file
    return pid


def snapshot(state_dir: Path, wait_s: float = SNAPSHOT_WAIT_S) -> Path:
    """Have the painting saved and return the PNG's path: by the running service (SIGUSR1,
    then wait for the new file), or, with none running, from the kept canvas."""
    pid = running_service(state_dir)
    if pid is None:
        return album.save_from_canvas(state_dir, time.time())
    before = set(album.saved_paintings(state_dir))
    try:
        os.kill(pid, signal.SIGUSR1)
    except PermissionError:
        raise PaintingError(f"the service (PID {pid}) runs as another user: run this as that user, "
                            f"e.g. sudo -u appliance appliance snapshot --state-dir {state_dir}") from None
    except ProcessLookupError:
        return album.save_from_canvas(state_dir, time.time())  # it stopped just now
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        new = sorted(set(album.saved_paintings(state_dir)) - before)
        if new:
            return new[-1]
        time.sleep(0.05)
    raise PaintingError(f"the service (PID {pid}) saved no painting within {wait_s:g} s: nothing "
                        "painted yet? (its log says why)")
