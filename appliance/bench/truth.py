"""Ground truth from the sample clip itself: where people walk in each frame.

The camera is still, so whatever differs from the median of the clip's frames is someone
walking: an independent check that poses, masks and effects land on people, which the tests
and `bench --all` share.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from appliance.paths import SAMPLE_CLIP


def read_clip(path=SAMPLE_CLIP) -> tuple[np.ndarray, ...]:
    cap = cv2.VideoCapture(str(path))
    frames = []
    while (got := cap.read())[0]:
        frames.append(got[1])
    cap.release()
    return tuple(frames)


def walker_masks(frames) -> np.ndarray:
    """Per frame, where people walk: difference to the median background, dilated a little."""
    background = np.median(np.stack(frames[::3]), axis=0).astype(np.int16)
    masks = []
    for frame in frames:
        diff = np.abs(frame.astype(np.int16) - background).max(axis=2) > 35
        diff = cv2.morphologyEx(diff.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        masks.append(cv2.dilate(diff, np.ones((9, 9), np.uint8)) > 0)
    return np.stack(masks)


def person_boxes(mask: np.ndarray, min_height: int = 70) -> list[tuple[int, int, int, int]]:
    """Square crops around each sizeable walker in a mask, x0,y0,x1,y1."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8))
    boxes = []
    for x, y, w, h, _ in stats[1:count]:
        if h >= min_height and w < h:
            side = int(h * 1.3)
            cx, cy = x + w // 2, y + h // 2
            boxes.append((max(0, cx - side // 2), max(0, cy - side // 2),
                          min(mask.shape[1], cx + side // 2), min(mask.shape[0], cy + side // 2)))
    return boxes


@dataclass
class Walker:
    """One person-sized region of the walker mask in one frame."""

    frame: int
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive)
    pixels: np.ndarray              # bool mask of the region, frame-sized

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1]


def walkers(masks: np.ndarray, min_height: int = 60) -> list[Walker]:
    """Every walker at least `min_height` px tall in every frame (a person, not a shadow's edge:
    taller than wide)."""
    found = []
    for index, mask in enumerate(masks):
        count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8))
        for label in range(1, count):
            x, y, w, h, _ = stats[label]
            if h >= min_height and w < h:
                found.append(Walker(index, (int(x), int(y), int(x + w), int(y + h)), labels == label))
    return found
