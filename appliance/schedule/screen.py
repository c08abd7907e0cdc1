"""The screen at closing time: HDMI-CEC standby, else a black picture.

HDMI-CEC is how a box asks the screen or projector it is plugged into to go to standby and to
come back: Debian's `cec-ctl` (v4l-utils) through the kernel's CEC adapter (`/dev/cec0` on a
Pi). The box first claims a playback device's logical address, then sends STANDBY or
IMAGE_VIEW_ON to the TV (logical address 0). Where that fails (no cec-ctl, no adapter, a
screen that ignores CEC), the output stays open showing black, so a projector that never
sleeps throws no light on the wall. Arguments are fixed here: nothing from a config or a
request reaches a shell (the device path is passed as one argument, never through one).
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from typing import Callable

import numpy as np

log = logging.getLogger(__name__)

CEC_TIMEOUT_S = 5.0
BLACK_SIZE = (640, 480)


class Cec:
    """One adapter, through cec-ctl. Every call says whether the command was taken."""

    def __init__(self, device: str = "/dev/cec0", program: str = "cec-ctl"):
        self.device = device
        self.program = program
        self._failure_logged = ""

    def _run(self, *args: str) -> bool:
        path = shutil.which(self.program)
        if path is None:
            return self._failed(f"{self.program} not found (Debian: apt install v4l-utils)")
        try:
            done = subprocess.run([path, "-d", self.device, *args], capture_output=True, text=True,
                                  timeout=CEC_TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return self._failed(f"{self.program} {' '.join(args)}: {exc}")
        if done.returncode != 0:
            reason = (done.stderr or done.stdout).strip().splitlines()
            return self._failed(f"{self.program} {' '.join(args)}: {reason[-1] if reason else done.returncode}")
        self._failure_logged = ""
        return True

    def _failed(self, reason: str) -> bool:
        if reason != self._failure_logged:  # a screen without CEC: said once, not every night
            log.warning("screen: HDMI-CEC unavailable (%s)", reason)
            self._failure_logged = reason
        return False

    def standby(self) -> bool:
        return self._run("--playback") and self._run("--to", "0", "--standby")

    def power_on(self) -> bool:
        return self._run("--playback") and self._run("--to", "0", "--image-view-on")


class ScreenPower:
    """Puts the screen to sleep and wakes it, by CEC where it works, else with black.

    `open_output`: opens the output the artwork uses (for the black picture); the caller
    closes the artwork's own output first, so the two never hold the screen together."""

    def __init__(self, mode: str, cec: Cec, open_output: Callable[[], object]):
        self.mode = mode
        self.cec = cec
        self.open_output = open_output
        self.state = "on"  # on | standby (CEC took it) | black (the output shows black)
        self._output = None

    def sleep(self) -> str:
        if self.mode == "cec" and self.cec.standby():
            self.state = "standby"
        else:
            self._show_black()
        log.info("screen: %s", self.state)
        return self.state

    def _show_black(self) -> None:
        try:
            self._output = self.open_output()
            self._output.open(*BLACK_SIZE, 1.0)
            self._output.show(np.zeros((BLACK_SIZE[1], BLACK_SIZE[0], 3), np.uint8))
            self.state = "black"
        except Exception as exc:  # no screen at all: nothing to blank
            log.warning("screen: cannot show black (%s)", exc)
            self._close_output()
            self.state = "unchanged"

    def keep(self) -> None:
        """While asleep: a black picture is shown again (and the window's events read)."""
        if self._output is not None:
            try:
                self._output.show(np.zeros((BLACK_SIZE[1], BLACK_SIZE[0], 3), np.uint8))
                self._output.commands()
            except Exception as exc:
                log.warning("screen: black picture lost (%s)", exc)
                self._close_output()

    def wake(self) -> None:
        """The black picture's output is let go (the artwork opens its own), the screen asked
        to come on. A projector that was off at the mains ignores this; once it is switched
        on, the artwork's output (which keeps looking for a screen) gives it the picture."""
        self._close_output()
        if self.mode == "cec":
            self.cec.power_on()
        self.state = "on"
        log.info("screen: on")

    def _close_output(self) -> None:
        if self._output is not None:
            try:
                self._output.close()
            except Exception as exc:
                log.warning("screen: closing the black picture failed (%s)", exc)
            self._output = None
