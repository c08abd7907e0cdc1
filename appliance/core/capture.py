"""The capture thread: reads the source, paces files like a camera, and survives a lost camera.

A live source (camera) that fails is closed and reopened with backoff (1 s, 2 s, 4 s ... up to
30 s) while `lost` tells the display what happened, so the screen can say "camera lost"
instead of freezing, and the process never needs a restart. A file that fails ends the run.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from appliance.core.frame import Frame, FrameMeta
from appliance.core.slots import LatestSlot
from appliance.core.stats import StageTimes, Stopwatch
from appliance.errors import SourceError
from appliance.sources import Captured, Source

log = logging.getLogger(__name__)


@dataclass
class Backoff:
    initial_s: float = 1.0
    max_s: float = 30.0


class Capture:
    def __init__(self, source: Source, frames: LatestSlot[Frame], times: StageTimes,
                 stop: threading.Event, pace: bool, wait_for_display: bool,
                 backoff: Backoff | None = None, retry_any: bool = False):
        self.source = source
        self.frames = frames
        self.times = times
        self.stop = stop
        self.pace = pace and not source.live
        self.wait_for_display = wait_for_display
        self.backoff = backoff or Backoff()
        self.retry_any = retry_any  # a file source that fails is retried too, not the end
        self.lost: str | None = None
        self.error: SourceError | None = None
        self.reconnects = 0
        self._index = 0
        self._missing: str | None = None
        self._thread = threading.Thread(target=self._run, name="capture", daemon=True)

    def start(self, missing: str | None = None) -> None:
        """Start reading; `missing`: the source could not be opened (why), so the thread starts
        by reconnecting."""
        self._missing = missing
        self._thread.start()

    def join(self, timeout: float) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            if self._missing is not None and not self._reconnect(self._missing):
                return
            while not self.stop.is_set():
                try:
                    self._read_frames()
                    return
                except SourceError as exc:
                    if not (self.source.live or self.retry_any):
                        log.error("%s", exc)
                        self.error = exc
                        return
                    if not self._reconnect(str(exc)):
                        return
        except Exception as exc:  # a driver bug must end the run cleanly, not hang it
            log.exception("source %s failed", self.source.description)
            self.error = SourceError(f"{self.source.description}: {exc}")
        finally:
            self.frames.close()

    def _read_frames(self) -> None:
        start = time.monotonic()
        first = self._index
        while not self.stop.is_set():
            with Stopwatch(self.times, "source"):
                image = self.source.read()
            if image is None:
                return
            poses = None
            if isinstance(image, Captured):
                image, poses = image.image, image.poses
            now = time.monotonic()
            if self.pace:
                delay = start + (self._index - first) / self.source.fps - now
                if delay > 0 and self.stop.wait(delay):
                    return
                now = time.monotonic()
            t = (now - start) if self.source.live else self._index / self.source.fps
            frame = Frame(image, FrameMeta(index=self._index, t=t, captured_at=now, poses=poses))
            if not self.frames.put(frame, block=self.wait_for_display):
                return
            self._index += 1

    def _reconnect(self, reason: str) -> bool:
        """Reopen the source with backoff until it works (True) or the run stops (False)."""
        self.lost = reason
        log.error("%s; reconnecting", reason)
        delay = self.backoff.initial_s
        while True:
            try:
                self.source.close()
            except Exception:
                log.debug("closing the failed source raised", exc_info=True)
            if self.stop.wait(delay):
                return False
            try:
                self.source.open()
            except SourceError as exc:
                log.debug("still no source: %s", exc)
                delay = min(delay * 2, self.backoff.max_s)
                continue
            self.reconnects += 1
            self.lost = None
            log.info("%s is back", self.source.description)
            return True
