"""Recording to files: a video of the whole run, or a still of the last frame.

Both write under a temporary name in the target folder and rename at close, so a run that is
killed never leaves a torn file under the name the user asked for. A write that fails (a full
disk, a read-only folder, a directory in the way) raises OutputError at close and leaves no
file under that name: OpenCV's writer reports nothing while writing, so a video is read back
(opened, its last frame decoded) before it is given its name.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import cv2
import numpy as np

from appliance.atomic import atomic_path
from appliance.errors import OutputError
from appliance.outputs.specs import VIDEO_SUFFIXES

log = logging.getLogger(__name__)


class VideoFileOutput:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.description = f"file {self.path}"
        self.frames = 0
        self._writer: cv2.VideoWriter | None = None
        self._size = (0, 0)
        self._tmp = self.path.with_name(f".{self.path.stem}.partial{self.path.suffix}")

    def open(self, width: int, height: int, fps: float) -> None:
        fourcc = cv2.VideoWriter_fourcc(*VIDEO_SUFFIXES[self.path.suffix.lower()])
        self._writer = cv2.VideoWriter(str(self._tmp), fourcc, fps, (width, height))
        if not self._writer.isOpened():
            raise OutputError(f"{self.path}: cannot open for writing as video")
        self._size = (width, height)

    def show(self, image: np.ndarray) -> None:
        if (image.shape[1], image.shape[0]) != self._size:
            image = cv2.resize(image, self._size, interpolation=cv2.INTER_AREA)
        self._writer.write(np.ascontiguousarray(image))
        self.frames += 1

    def commands(self) -> list[str]:
        return []

    def close(self) -> None:
        if self._writer is None:
            return
        self._writer.release()
        self._writer = None
        if not self.frames:
            self._tmp.unlink(missing_ok=True)
            return
        readable = readable_frames(self._tmp, self.frames)
        if readable < self.frames:
            self._tmp.unlink(missing_ok=True)
            raise OutputError(f"{self.path}: the video could not be written whole ({readable} of {self.frames} "
                              f"frames readable; is the disk full?); nothing was kept")
        try:
            os.replace(self._tmp, self.path)
        except OSError as exc:
            self._tmp.unlink(missing_ok=True)
            raise OutputError(f"{self.path}: cannot be written ({exc.strerror})") from None
        log.info("wrote %d frames to %s", self.frames, self.path)


def readable_frames(path: Path, written: int) -> int:
    """`written` if the video at `path` opens and its last frame decodes, else how many frames
    its container says it holds (0 if it does not open)."""
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            return 0
        counted = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        capture.set(cv2.CAP_PROP_POS_FRAMES, max(0, written - 1))
        ok, _ = capture.read()
        return written if ok and counted >= written else min(counted, written - 1)
    finally:
        capture.release()


class StillFileOutput:
    """Keeps the newest frame and writes it once, at close."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.description = f"file {self.path}"
        self.frames = 0
        self._last: np.ndarray | None = None

    def open(self, width: int, height: int, fps: float) -> None:
        pass

    def show(self, image: np.ndarray) -> None:
        self._last = image
        self.frames += 1

    def commands(self) -> list[str]:
        return []

    def close(self) -> None:
        if self._last is None:
            return
        ok, encoded = cv2.imencode(self.path.suffix.lower(), self._last)
        self._last = None
        if not ok:
            raise OutputError(f"{self.path}: cannot encode the frame")
        try:
            with atomic_path(self.path) as tmp:
                tmp.write_bytes(encoded.tobytes())
        except OSError as exc:
            raise OutputError(f"{self.path}: cannot be written ({exc.strerror or exc})") from None
        log.info("wrote frame %d to %s", self.frames, self.path)
