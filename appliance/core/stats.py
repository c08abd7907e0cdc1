"""Timing and counting for the run summary, `appliance bench` and the periodic stats log line.

Durations are kept in bounded rings (the appliance runs for months), so percentiles describe
the recent past and memory stays flat.
"""

from __future__ import annotations

import collections
import ctypes
import os
import resource
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

RING = 1024  # per stage: ~30 s at 30 fps; a few hundred KB in all


class StageTimes:
    """Per-stage durations in milliseconds, safe to record from several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ms: dict[str, collections.deque] = {}

    def record(self, stage: str, seconds: float) -> None:
        with self._lock:
            ring = self._ms.get(stage)
            if ring is None:
                ring = self._ms[stage] = collections.deque(maxlen=RING)
            ring.append(seconds * 1000.0)

    def summary(self) -> dict[str, dict[str, float]]:
        with self._lock:
            rings = {k: np.fromiter(v, float) for k, v in self._ms.items() if v}
        return {k: {"median_ms": round(float(np.median(a)), 3),
                    "p95_ms": round(float(np.percentile(a, 95)), 3),
                    "p99_ms": round(float(np.percentile(a, 99)), 3),
                    "max_ms": round(float(a.max()), 3),
                    "count": int(a.size)} for k, a in rings.items()}


class Stopwatch:
    """`with timer.stage("effect:mirror"):` records how long the block took."""

    def __init__(self, times: StageTimes, stage: str):
        self.times, self.stage = times, stage

    def __enter__(self) -> "Stopwatch":
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.times.record(self.stage, time.perf_counter() - self.start)


def process_age_s() -> float:
    """Seconds since this process started (Linux /proc), interpreter start-up included."""
    try:
        ticks = int(open("/proc/self/stat").read().rsplit(")", 1)[1].split()[19])
        uptime = float(open("/proc/uptime").read().split()[0])
        return uptime - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def release_free_memory() -> None:
    """Hand freed heap back to the system (glibc's malloc_trim) after big objects went away,
    e.g. a mode's models: RSS then shows what is really in use. No-op elsewhere."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def status_mb(field: str) -> float | None:
    """A memory figure of this process from /proc/self/status (VmRSS, VmHWM, ...), or None."""
    try:
        for line in open("/proc/self/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return None


def rss_mb() -> float:
    """Resident memory now."""
    return status_mb("VmRSS") or 0.0


def peak_rss_mb() -> float:
    """Peak resident memory of this program: /proc's VmHWM. (ru_maxrss survives exec on Linux,
    so a program started by a big one would report its parent's peak.)"""
    peak = status_mb("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


@dataclass
class RunSummary:
    source: str
    output: str
    mode: str
    frames_in: int = 0
    frames_out: int = 0
    dropped: int = 0
    seconds: float = 0.0
    stages: dict[str, dict[str, float]] = field(default_factory=dict)
    analysis: dict[str, dict[str, int]] = field(default_factory=dict)
    peak_rss_mb: float = 0.0
    ended_by: str = ""
    error: str = ""
    startup_s: float = 0.0  # process start to the first frame shown
    display: dict[str, Any] = field(default_factory=dict)  # the bench's source interval
    stalls: int = 0  # pictures held 50 ms longer than the source's frame interval
    restarts: dict[str, int] = field(default_factory=dict)  # analysis stages rebuilt, by key

    @property
    def fps(self) -> float:
        return self.frames_out / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["fps"] = round(self.fps, 2)
        data["seconds"] = round(self.seconds, 3)
        data["peak_rss_mb"] = round(self.peak_rss_mb, 1)
        data["startup_s"] = round(self.startup_s, 3)
        return data

    def _restarts_text(self) -> str:
        if not self.restarts:
            return ""
        return ", stages restarted: " + ", ".join(f"{k} {n}x" for k, n in sorted(self.restarts.items()))

    def lines(self) -> list[str]:
        out = [f"{self.source} -> {self.output}, mode {self.mode}: ended by {self.ended_by}",
               f"frames in {self.frames_in}, out {self.frames_out}, dropped {self.dropped}, stalls {self.stalls}, "
               f"{self.fps:.1f} fps over {self.seconds:.1f} s, peak RSS {self.peak_rss_mb:.0f} MB, "
               f"first frame {self.startup_s:.2f} s after start{self._restarts_text()}"]
        for name, counts in self.analysis.items():
            out.append(f"analysis {name}: {counts['processed']} frames analysed, "
                       f"{counts['dropped']} skipped as stale")
        for stage, t in self.stages.items():
            out.append(f"  {stage:<24} median {t['median_ms']:8.2f} ms   p95 {t['p95_ms']:8.2f} ms")
        return out
