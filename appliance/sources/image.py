"""A still image as a source: one frame, or the same frame again and again with `loop`."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from appliance.errors import SourceError
from appliance.sources.base import bounded


class ImageSource:
    live = False

    def __init__(self, path: Path, fps: float = 30.0, loop: bool = False):
        self.path = Path(path)
        self.fps = fps
        self.loop = loop
        self.description = f"image {self.path}"
        self._image: np.ndarray | None = None
        self._served = False

    def open(self) -> None:
        image = cv2.imread(str(self.path), cv2.IMREAD_COLOR)
        if image is None:
            raise SourceError(f"{self.path}: cannot read as an image (expected PNG, JPEG, BMP, WebP or TIFF)")
        self._image = bounded(image, str(self.path), set())
        self._served = False

    def read(self) -> np.ndarray | None:
        if self._served and not self.loop:
            return None
        self._served = True
        return self._image.copy()

    def close(self) -> None:
        self._image = None
