"""The running appliance's state on disk, for `appliance doctor` in another process.

The service writes `status.json` in the state folder (atomically) every few seconds: the mode,
the frame rate, stalls, and each analysis stage's counts and restarts, with why the last restart
happened. `appliance doctor` reads it: an installer sees a stage that had to be restarted
without reading the journal.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from appliance import paths
from appliance.atomic import atomic_write_text

WRITE_EVERY_S = 5.0
STALE_S = 120.0  # older than this: the service is not running (or not showing frames)


class StatusFile:
    """A pipeline observer that keeps `status.json` up to date."""

    def __init__(self, state_dir: Path | None, every_s: float = WRITE_EVERY_S):
        self.path = paths.status_file(state_dir)
        self.every_s = every_s
        self._last = 0.0

    def frame_shown(self, pipeline: Any) -> None:
        now = time.monotonic()
        if now - self._last >= self.every_s:
            self._last = now
            self.write(pipeline)

    def stopped(self, pipeline: Any) -> None:
        self.write(pipeline)

    def write(self, pipeline: Any) -> None:
        restarts = pipeline.supervisor.restarts
        status = {"time": time.time(), "mode": pipeline.mode_name, "fps": round(pipeline.recent_fps(), 1),
                  "frames_shown": pipeline.frames_out, "stalls": pipeline.stalls,
                  "stages": {w.key: {**w.counts(), "restarts": restarts.count.get(w.key, 0),
                                     "last_restart": restarts.last_reason.get(w.key, "")}
                             for w in pipeline.workers + pipeline.mode_workers}}
        for key, count in restarts.count.items():  # a stage of a mode no longer shown
            status["stages"].setdefault(key, {"restarts": count, "last_restart": restarts.last_reason[key]})
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.path, json.dumps(status, indent=1) + "\n")
        except OSError:
            pass  # a full or read-only disk must not stop the show; doctor reports it stale


def write_asleep(state_dir: Path | None, until: str, screen: str) -> None:
    """While the service sleeps through closing hours: no pipeline, so no frames to count."""
    status = {"time": time.time(), "asleep": True, "until": until, "screen": screen}
    try:
        path = paths.status_file(state_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(status, indent=1) + "\n")
    except OSError:
        pass


def read_status(state_dir: Path | None) -> tuple[dict[str, Any] | None, str]:
    """The last status written and a problem ("" if it is fresh and readable)."""
    path = paths.status_file(state_dir)
    try:
        status = json.loads(path.read_text(encoding="utf-8"))
        age = time.time() - float(status["time"])
    except FileNotFoundError:
        return None, f"no {path} (the service has not run here)"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return None, f"{path} unreadable ({exc})"
    if age > STALE_S:
        return status, f"{path} is {age:.0f} s old (is the service running?)"
    return status, ""
