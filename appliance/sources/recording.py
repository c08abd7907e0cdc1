"""A recorded pose stream (.jsonl) as a source: rehearsing without a camera.

Each recorded frame becomes a dark picture of the recorded size, and the recorded poses are
handed to the pose stage with the frame (`Captured`, then `FrameMeta.poses`) instead of running
the model, so a mode's skeletons, trails and pose reactions play back exactly as they happened.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from appliance.errors import ConfigError, SourceError
from appliance.sources.base import Captured


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
        gaps = np.diff([f.t for f in self.frames])
        self.fps = 1.0 / float(np.median(gaps)) if len(gaps) and np.median(gaps) > 0 else 10.0
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
