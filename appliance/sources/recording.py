"""A recorded pose stream (.jsonl) as a source: rehearsing without a camera.

Each recorded frame becomes a dark picture of the recorded size, and the recorded poses are
handed to the pose stage with the frame (`Captured`, then `FrameMeta.poses`) instead of running
the model, so a mode's skeletons, trails and pose reactions play back exactly as they happened.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from appliance.errors import ConfigError, SourceError
from appliance.sources.base import Captured

log = logging.getLogger(__name__)


def replay_rate(times: list[float], path: Path) -> float:
    """Frames per second to replay at, from the recorded times (seconds, as `appliance pose`
    writes them). Times that only make sense in milliseconds are read as such, and a rate no
    camera has is brought within 1-120 fps, each with one line."""
    gaps = np.diff(times)
    gap = float(np.median(gaps)) if len(gaps) else 0.0
    if not gap > 0:
        return 10.0
    fps = 1.0 / gap
    if fps < 1.0 and 1.0 <= fps * 1000 <= 120.0:
        log.warning("%s: frame times look like milliseconds (%.0f between frames); read as such", path, gap)
        return fps * 1000
    if not 1.0 <= fps <= 120.0:
        log.warning("%s: frame times give %.3g fps; replayed at %s fps", path, fps, min(max(fps, 1.0), 120.0))
    return min(max(fps, 1.0), 120.0)


class PoseRecordingSource:
    live = False

    def __init__(self, path: Path, width: int = 640, height: int = 480, loop: bool = False):
        self.path = Path(path)
        self.size = (width, height)
        self.loop = loop
        self.fps = 10.0
        self.description = f"recording {self.path}"
        self.frames: list = []
        self._next = 0

    def open(self) -> None:
        from appliance.poses.recording import read_recording
        try:
            self.frames = list(read_recording(self.path))
        except ConfigError as exc:
            raise SourceError(exc.problems[0]) from None
        if not self.frames:
            raise SourceError(f"{self.path}: the recording holds no frames")
        self.fps = replay_rate([f.t for f in self.frames], self.path)
        self._next = 0

    def read(self) -> Captured | None:
        if self._next >= len(self.frames):
            if not self.loop:
                return None
            self._next = 0
        frame = self.frames[self._next]
        self._next += 1
        image = np.full((self.size[1], self.size[0], 3), 24, np.uint8)
        return Captured(image, list(frame.poses))

    def close(self) -> None:
        pass
