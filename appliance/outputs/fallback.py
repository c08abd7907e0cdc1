"""The HDMI output as a chain: SDL kmsdrm, then the Linux framebuffer, then nothing (retrying).

A gallery box must keep running when the projector is switched on after it booted, or the
HDMI cable is pulled: with no screen, frames are discarded and the chain is tried again every
`retry_s`, with one log line per change, never one per frame.
"""

from __future__ import annotations

import logging
import time
from typing import Callable

import numpy as np

from appliance.errors import OutputError

log = logging.getLogger(__name__)


class FallbackOutput:
    def __init__(self, candidates: list[Callable[[], object]], retry_s: float = 10.0,
                 clock: Callable[[], float] = time.monotonic):
        self.candidates = candidates
        self.retry_s = retry_s
        self.clock = clock
        self.active = None
        self.description = "hdmi (no screen yet)"
        self.reasons: list[str] = []
        self._size = (0, 0, 0.0)
        self._next_try = 0.0
        self._warned = False

    def open(self, width: int, height: int, fps: float) -> None:
        self._size = (width, height, fps)
        self._try_open()

    def _try_open(self) -> None:
        self._next_try = self.clock() + self.retry_s
        reasons = []
        for make in self.candidates:
            output = make()
            try:
                output.open(*self._size)
            except OutputError as exc:
                reasons.append(str(exc))
                continue
            self.active, self.description = output, output.description
            if reasons:
                log.warning("hdmi: using %s (%s)", output.description, "; ".join(reasons))
            self.reasons, self._warned = reasons, False
            return
        self.reasons = reasons
        if not self._warned:
            log.warning("hdmi: no screen (%s); running on and retrying every %g s",
                        "; ".join(reasons), self.retry_s)
            self._warned = True

    def show(self, image: np.ndarray) -> None:
        if self.active is None:
            if self.clock() >= self._next_try:
                self._try_open()
            if self.active is None:
                return
        try:
            self.active.show(image)
        except (OutputError, OSError) as exc:
            log.warning("hdmi: %s failed (%s); looking for a screen again", self.description, exc)
            self._drop_active()

    def _drop_active(self) -> None:
        try:
            self.active.close()
        finally:
            self.active, self.description = None, "hdmi (no screen)"
            self._next_try = self.clock() + self.retry_s

    def commands(self) -> list[str]:
        return self.active.commands() if self.active is not None else []

    def close(self) -> None:
        if self.active is not None:
            self.active.close()
            self.active = None
