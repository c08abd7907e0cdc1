"""Analysis stages in their own threads, and the supervisor that keeps them alive.

Each stage runs in an `AnalysisWorker` on the newest frame it was handed and publishes its newest
result. A worker whose thread died (an error that escaped the stage) or that has been busy on
one frame far longer than it usually takes (a hung driver or model) is noticed by the
`Supervisor`, which the display loop asks once a frame: it logs one line, builds the stage
again from its recipe and starts a fresh worker, while the display keeps showing the last
results. A hung thread cannot be killed in Python; it is abandoned (a daemon, told to stop, its
stage closed if it ever returns).
"""

from __future__ import annotations

import logging
import os
import statistics
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

from appliance.core.frame import Frame
from appliance.core.slots import LatestSlot
from appliance.core.stages import Analyzer
from appliance.core.stats import StageTimes, Stopwatch
from appliance.errors import ApplianceError
from appliance.models.runtime import Cancelled, cancel_runs_when

log = logging.getLogger(__name__)

POLL_SECONDS = 0.1
HANG_FACTOR = 10       # busy this many times its usual time on one frame: hung
FIRST_RUN_FACTOR = 3   # the first frame (no usual time yet; a model warming up) gets 3x the floor
RECENT_RUNS = 31       # the usual time is the median of this many recent runs
RESTART_BACKOFF_S = (1.0, 60.0)  # a stage that keeps failing is rebuilt at most this often


def lower_this_threads_priority(niceness: int = 10) -> None:
    """Analysis yields the CPU to the display loop: a late painting is fine, a stalled
    picture is not. (A model's own helper threads, with threads > 1, keep the priority of the
    thread that loaded it.)"""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
    except (OSError, AttributeError):
        pass


class AnalysisWorker:
    """Runs one stage on the newest frame it is handed, in its own thread.

    `build` makes the stage; the worker keeps it so the supervisor can make a fresh one."""

    def __init__(self, build: Callable[[], Analyzer], times: StageTimes,
                 analyzer: Analyzer | None = None):
        self.build = build
        self.analyzer = analyzer if analyzer is not None else build()
        self.key = self.analyzer.name
        self.times = times
        self.inbox: LatestSlot[Frame] = LatestSlot()
        self.processed = 0
        self._lock = threading.Lock()
        self._latest: tuple[Any, int, float] | None = None  # result, frame index, captured at
        self._thread = threading.Thread(target=self._loop, name=f"analysis-{self.key}", daemon=True)
        self._failed = False
        self._stopped = threading.Event()
        self._busy_since: float | None = None
        self._recent_s: deque[float] = deque(maxlen=RECENT_RUNS)

    def start(self) -> None:
        self._thread.start()

    def latest(self) -> tuple[Any, int, float] | None:
        with self._lock:
            return self._latest

    def seed(self, latest: tuple[Any, int, float] | None) -> None:
        """Carry the newest result of the worker this one replaces, so effects keep it."""
        with self._lock:
            self._latest = latest

    def run_inline(self, frame: Frame) -> None:
        self._analyze(frame)

    def _loop(self) -> None:
        lower_this_threads_priority()
        cancel_runs_when(self._stopped)
        try:
            while not self._stopped.is_set():
                frame = self.inbox.take(timeout=POLL_SECONDS)
                if frame is not None and not self._stopped.is_set():
                    self._analyze(frame)
        finally:
            self._close_analyzer()

    def _close_analyzer(self) -> None:
        try:
            self.analyzer.close()
        except Exception:
            log.exception("closing analysis %s failed", self.key)

    def _analyze(self, frame: Frame) -> None:
        started = time.monotonic()
        self._busy_since = started
        try:
            with Stopwatch(self.times, f"analysis:{self.key}"):
                result = self.analyzer.analyze(frame.image, frame.meta)
        except Cancelled:
            return
        except Exception:
            if not self._failed:
                log.exception("analysis %s failed; its last result stays in use", self.key)
                self._failed = True
            return
        finally:
            self._busy_since = None
        self._recent_s.append(time.monotonic() - started)
        with self._lock:
            self._latest = (result, frame.meta.index, frame.meta.captured_at)
            self.processed += 1

    def trouble(self, now: float, hang_floor_s: float) -> str:
        """Why this worker needs replacing ("" if it does not): its thread died, or it has been
        on one frame for HANG_FACTOR times its usual time (and at least `hang_floor_s`)."""
        if self._stopped.is_set() or self._thread.ident is None:
            return ""
        if not self._thread.is_alive():
            return "its thread died"
        busy_since = self._busy_since
        busy = now - busy_since if busy_since is not None else 0.0
        if busy <= hang_floor_s:  # every limit is at least the floor: most frames stop here
            return ""
        usual = statistics.median(self._recent_s) if self._recent_s else 0.0
        limit = max(hang_floor_s, HANG_FACTOR * usual) if self._recent_s else FIRST_RUN_FACTOR * hang_floor_s
        if busy > limit:
            return f"is stuck: {busy:.1f} s on one frame (usually {usual * 1000:.0f} ms)"
        return ""

    def stop(self) -> None:
        """Finish the frame in hand, if any, analyse no more, then close the analyzer (here if
        the thread never ran, else in the thread, so a model is never closed mid-invoke)."""
        self._stopped.set()
        self.inbox.close()
        if self._thread.ident is None:
            self._close_analyzer()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout: float) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout)

    def counts(self) -> dict[str, int]:
        return {"processed": self.processed, "dropped": self.inbox.dropped}


@dataclass
class Restarts:
    """How often each stage was rebuilt, and why the last time."""

    count: dict[str, int] = field(default_factory=dict)
    last_reason: dict[str, str] = field(default_factory=dict)
    next_allowed: dict[str, float] = field(default_factory=dict)


class Supervisor:
    """Replaces workers whose thread died or hung; asked by the display loop once a frame."""

    def __init__(self, hang_floor_s: float):
        self.hang_floor_s = hang_floor_s
        self.restarts = Restarts()
        self.abandoned: list[AnalysisWorker] = []

    def check(self, workers: list[AnalysisWorker], now: float | None = None) -> list[AnalysisWorker]:
        """`workers` with every one in trouble replaced by a fresh, started one."""
        now = time.monotonic() if now is None else now
        return [self._replace(w, reason, now) if (reason := w.trouble(now, self.hang_floor_s)) else w
                for w in workers]

    def _replace(self, worker: AnalysisWorker, reason: str, now: float) -> AnalysisWorker:
        key = worker.key
        if now < self.restarts.next_allowed.get(key, 0.0):
            return worker
        count = self.restarts.count.get(key, 0) + 1
        first, most = RESTART_BACKOFF_S
        self.restarts.next_allowed[key] = now + min(most, first * 2 ** (count - 1))
        self.restarts.count[key] = count
        self.restarts.last_reason[key] = reason
        try:
            fresh = AnalysisWorker(worker.build, worker.times)
        except ApplianceError as exc:
            log.error("analysis %s %s; rebuilding it failed (%s), trying again later", key, reason, exc)
            return worker
        log.error("analysis %s %s; restarted it (restart %d)", key, reason, count)
        worker.stop()
        self.abandoned = [w for w in self.abandoned if w.alive] + [worker]
        fresh.seed(worker.latest())
        fresh.start()
        return fresh
