"""Video files and USB/V4L2 cameras, both read through OpenCV's VideoCapture."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from appliance.errors import SourceError
from appliance.sources.base import bounded

log = logging.getLogger(__name__)


class VideoFileSource:
    """A video file played frame by frame; with `loop` it starts again at the end."""

    live = False

    def __init__(self, path: Path, loop: bool = False):
        self.path = Path(path)
        self.loop = loop
        self.description = f"file {self.path}"
        self.fps = 25.0
        self._cap: cv2.VideoCapture | None = None
        self._said: set[str] = set()

    def open(self) -> None:
        self._cap = cv2.VideoCapture(str(self.path))
        if not self._cap.isOpened():
            raise SourceError(f"{self.path}: cannot open as video (expected a file OpenCV can decode, "
                              "e.g. .mp4 or .avi)")
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = fps if 0 < fps <= 1000 else 25.0
        if self._read_raw() is None:
            raise SourceError(f"{self.path}: no frames could be decoded")
        self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)

    def read(self) -> np.ndarray | None:
        image = self._read_raw()
        if image is None and self.loop:
            self._cap.release()
            self._cap = cv2.VideoCapture(str(self.path))
            image = self._read_raw()
        return image

    def _read_raw(self) -> np.ndarray | None:
        ok, image = self._cap.read()
        return bounded(image, str(self.path), self._said) if ok and image is not None else None

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class CameraSource:
    """A USB or other V4L2 camera (`camera:N` is /dev/videoN)."""

    live = True

    def __init__(self, device: int, width: int, height: int, fps: float):
        self.device = device
        self.size = (width, height)
        self.fps = fps
        self.description = f"camera:{device} (/dev/video{device})"
        self._cap: cv2.VideoCapture | None = None

    def open(self) -> None:
        self._cap = cv2.VideoCapture(self.device, cv2.CAP_V4L2)
        if not self._cap.isOpened():
            raise SourceError(f"camera:{self.device}: cannot open /dev/video{self.device} "
                              "(is a USB camera plugged in, and is the user in the video group?)")
        self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.size[0])
        self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.size[1])
        self._cap.set(cv2.CAP_PROP_FPS, self.fps)
        self._cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # the newest picture, not a queue of old ones
        reported = self._cap.get(cv2.CAP_PROP_FPS)
        if 0 < reported <= 1000:
            self.fps = reported

    def read(self) -> np.ndarray | None:
        ok, image = self._cap.read()
        if not ok or image is None:
            raise SourceError(f"camera:{self.device}: the camera stopped sending frames")
        return image

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None
