"""A recorded pose stream (.jsonl) as a source: rehearsing without a camera.

Each recorded frame becomes a dark picture of the recorded size, and the recorded poses are
handed to the pose stage instead of running the model (`RecordedPoses`), so a mode's
skeletons, trails and pose reactions play back exactly as they happened.
"""

from __future__ import annotations

import collections
from pathlib import Path

import numpy as np

from appliance.errors import ConfigError, SourceError


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
        self._poses_by_image: collections.OrderedDict[int, list] = collections.OrderedDict()

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

    def read(self) -> np.ndarray | None:
        if self._next >= len(self.frames):
            if not self.loop:
                return None
            self._next = 0
        frame = self.frames[self._next]
        self._next += 1
        image = np.full((self.size[1], self.size[0], 3), 24, np.uint8)
        self._poses_by_image[id(image)] = frame.poses
        while len(self._poses_by_image) > 64:  # frames long gone from every mailbox
            self._poses_by_image.popitem(last=False)
        return image

    def poses_for(self, image: np.ndarray) -> list:
        return self._poses_by_image.get(id(image), [])

    def close(self) -> None:
        pass


class RecordedPoses:
    """Stands in for the pose model: the poses recorded for the picture it is given."""

    name = "recording"

    def __init__(self, source: PoseRecordingSource):
        self.source = source

    def estimate(self, image_bgr: np.ndarray, region=None) -> list:
        return self.source.poses_for(image_bgr)
