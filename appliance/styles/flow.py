"""Carry a stylised keyframe forward to the current frame along cheap optical flow.

The model paints one keyframe while the display shows many frames. Holding the old painting
makes it lag behind the visitor and jump when the next one lands; painting every frame anew
flickers (the network is not temporally stable). Instead, per displayed frame: DIS optical flow
(OpenCV, ultrafast preset) between small grey copies of the current frame and the keyframe's
source frame says where each current pixel was then; the painting is remapped accordingly.
A new keyframe fades in over a few frames so its arrival does not jump.
"""

from __future__ import annotations

import cv2
import numpy as np


def flow_frame(image_bgr: np.ndarray, width: int) -> np.ndarray:
    """A grey copy `width` pixels wide (aspect kept) on which flow is computed."""
    h, w = image_bgr.shape[:2]
    size = (width, max(8, round(h * width / w)))
    grey = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY) if image_bgr.ndim == 3 else image_bgr
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA)


class FlowCarrier:
    """`carry(painting, source_grey, current_bgr)`: the painting moved to where the content is now."""

    def __init__(self, flow_width: int = 160, fade_frames: int = 3):
        self.flow_width = flow_width
        self.fade_frames = fade_frames
        self.dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
        self._grid: np.ndarray | None = None
        self._previous: np.ndarray | None = None
        self._key_id: object = None
        self._fade_left = 0

    def flow(self, current_grey: np.ndarray, source_grey: np.ndarray) -> np.ndarray:
        """Per current pixel, the offset to where it was in the source frame (flow pixels)."""
        return self.dis.calc(current_grey, source_grey, None)

    def warp(self, painting: np.ndarray, flow: np.ndarray) -> np.ndarray:
        """Remap `painting` (any resolution) by a flow computed at flow resolution."""
        ph, pw = painting.shape[:2]
        fh, fw = flow.shape[:2]
        scaled = cv2.resize(flow, (pw, ph), interpolation=cv2.INTER_LINEAR)
        scaled *= np.float32([pw / fw, ph / fh])
        if self._grid is None or self._grid.shape[:2] != (ph, pw):
            xs, ys = np.meshgrid(np.arange(pw, dtype=np.float32), np.arange(ph, dtype=np.float32))
            self._grid = np.dstack([xs, ys])
        scaled += self._grid
        return cv2.remap(painting, scaled, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    def carry(self, painting: np.ndarray, source_grey: np.ndarray, current_bgr: np.ndarray,
              key_id: object = None) -> np.ndarray:
        """The painting aligned with `current_bgr`; a new `key_id` fades in over fade_frames."""
        current = flow_frame(current_bgr, source_grey.shape[1])
        if current.shape != source_grey.shape:
            out = painting
        else:
            out = self.warp(painting, self.flow(current, source_grey))
        return self._fade(out, key_id)

    def _fade(self, out: np.ndarray, key_id: object) -> np.ndarray:
        if key_id != self._key_id:
            fresh = self._previous is None or self._previous.shape != out.shape
            self._key_id, self._fade_left = key_id, 0 if fresh else self.fade_frames
        if self._fade_left > 0:
            keep = self._fade_left / (self.fade_frames + 1)
            out = cv2.addWeighted(self._previous, keep, out, 1.0 - keep, 0.0)
            self._fade_left -= 1
        self._previous = out
        return out

    def reset(self) -> None:
        self._previous, self._key_id, self._fade_left = None, None, 0
