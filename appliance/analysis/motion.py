"""Where people are moving: person-sized foreground regions from a learned background.

The camera never moves, so a background model (OpenCV's MOG2, at 384 px wide: a few ms a
frame) tells where visitors are, near or far, before any network runs. The pose stage crops
those regions and shows them to the pose model large (`appliance.models.mosaic`), instead of
shrinking the whole room into the model's 256x256 input, where a visitor 6 m away is ~25 px.

Shadows count as foreground: a walker's legs are often only a shadow-strength change against
grass or paving, and losing them loses the person. Regions that overlap are joined, so a
visitor split into head and body by the model of the room is one region.
"""

from __future__ import annotations

import numpy as np

from appliance.core.lazy import cv2
from appliance.poses.keypoints import Box

WORK_WIDTH = 384         # the background is learned this wide
HISTORY = 200            # frames of memory (20 s at 10 analysed frames a second)
MIN_HEIGHT_PX = 30       # regions shorter than this (full-size pixels) are noise, not people
MIN_AREA = 40            # pixels at the working size
JOIN_OVERLAP = 0.3       # of the smaller box: two regions this much overlapping are one
MIXTURES = 3             # the silhouettes' Gaussians a pixel (OpenCV's default 5, kept for the
                         # regions, where 3 finds 0.86 of the walkers instead of 0.88): ~20 bytes each


class MotionRegions:
    """Person-sized moving regions of each frame, in frame pixels, tallest first. The working
    buffers are kept from frame to frame: nothing picture-sized is allocated per frame."""

    def __init__(self, history: int = HISTORY):
        self.subtractor = cv2.createBackgroundSubtractorMOG2(history=history, varThreshold=16,
                                                             detectShadows=True)
        self.open = np.ones((3, 3), np.uint8)
        self.grow = np.ones((7, 7), np.uint8)
        self.size: tuple[int, int] | None = None

    def _prepare(self, w: int, h: int) -> float:
        scale = WORK_WIDTH / w if w > WORK_WIDTH else 1.0
        size = (round(w * scale), round(h * scale))
        if size != self.size:  # a new frame size: new buffers, and the room learned afresh
            self.size = size
            self.small = np.empty((size[1], size[0], 3), np.uint8)
            self.mask = np.empty((size[1], size[0]), np.uint8)
            self.foreground = np.empty((size[1], size[0]), np.uint8)
            self.labels = np.empty((size[1], size[0]), np.int32)
            self.subtractor.clear()
        return scale

    def regions(self, image_bgr: np.ndarray, also: list[Box] | None = None) -> list[Box]:
        """The moving regions, joined with `also` (where people were seen last), tallest first."""
        h, w = image_bgr.shape[:2]
        scale = self._prepare(w, h)
        cv2.resize(image_bgr, self.size, dst=self.small, interpolation=cv2.INTER_AREA)
        self.subtractor.apply(self.small, self.mask)  # 255 moving, 127 its shadow, 0 the room
        cv2.threshold(self.mask, 126, 1, cv2.THRESH_BINARY, dst=self.foreground)
        cv2.morphologyEx(self.foreground, cv2.MORPH_OPEN, self.open, dst=self.foreground)
        cv2.dilate(self.foreground, self.grow, dst=self.foreground)
        count, _, stats, _ = cv2.connectedComponentsWithStats(self.foreground, labels=self.labels)
        boxes = [(x / scale, y / scale, (x + bw) / scale, (y + bh) / scale)
                 for x, y, bw, bh, area in stats[1:count].tolist()
                 if bh / scale >= MIN_HEIGHT_PX and area >= MIN_AREA]
        # motion's fragments of one person are joined first, then with where people were seen
        return sorted(joined(joined(boxes) + list(also or [])), key=lambda b: b[1] - b[3])


def joined(boxes: list[Box]) -> list[Box]:
    """Boxes with every pair overlapping by JOIN_OVERLAP of the smaller replaced by their union,
    the most overlapping pair first (all pairs at once in arrays: tens of boxes a frame)."""
    if len(boxes) < 2:
        return list(boxes)
    b = np.array(boxes, np.float64)
    while len(b) > 1:
        share = overlaps(b)
        i, j = np.unravel_index(int(np.argmax(share)), share.shape)
        if share[i, j] <= JOIN_OVERLAP:
            break
        b[i] = union(b[i], b[j])
        b = np.delete(b, j, axis=0)
    return [tuple(row) for row in b.tolist()]


def overlaps(b: np.ndarray) -> np.ndarray:
    """(n, n): each pair's intersection over the smaller box's area, 0 on the diagonal."""
    width = np.minimum.outer(b[:, 2], b[:, 2]) - np.maximum.outer(b[:, 0], b[:, 0])
    height = np.minimum.outer(b[:, 3], b[:, 3]) - np.maximum.outer(b[:, 1], b[:, 1])
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    share = np.clip(width, 0, None) * np.clip(height, 0, None) / np.maximum(np.minimum.outer(area, area), 1e-6)
    np.fill_diagonal(share, 0.0)
    return share


def union(a, b):
    """The box around boxes `a` and `b` (tuples or arrays alike)."""
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


SILHOUETTE_MIN_HEIGHT = 24  # full-size pixels: shorter moving things are leaves and litter
SILHOUETTE_FILL = 0.25      # of its box: a thinner shape (a flapping tape, a swaying wire) is no one
SILHOUETTE_GROW = 7         # px at the working size: the edge a person's outline blurs into
SILHOUETTE_HISTORY = 3000   # analysed frames: someone standing still joins the room after ~a tenth
RELEARN = 0.4               # of the frame moving at once: the light changed, learn the room afresh
RELEARN_RATE = 0.05


class Silhouettes:
    """Full-resolution person shapes from the learned room: moving pixels (not their shadows),
    holes closed, joined into shapes, and only shapes a person could make kept.

    It answers "which pixels are a visitor" far more sharply than a segmentation network at
    256x144 can for people 60-150 px tall; what it cannot see is someone who has stood still
    long enough to become part of the room (about SILHOUETTE_HISTORY / 10 analysed frames: 30 s
    at 10 a second), which the mask stage takes from the network. A long memory would keep a
    changed light as "moving" just as long, so when much of the frame moves at once the room
    is learned afresh, quickly.
    """

    def __init__(self, history: int = SILHOUETTE_HISTORY):
        self.subtractor = cv2.createBackgroundSubtractorMOG2(history=history, varThreshold=16,
                                                             detectShadows=True)
        self.subtractor.setNMixtures(MIXTURES)
        self.rate = -1.0  # OpenCV's own: fast while the room is new, 1/history after
        self.close = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
        self.grow = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (SILHOUETTE_GROW, SILHOUETTE_GROW))
        self.size: tuple[int, int] | None = None

    def work_size(self, w: int, h: int) -> tuple[int, int]:
        scale = WORK_WIDTH / w if w > WORK_WIDTH else 1.0
        return round(w * scale), round(h * scale)

    def shapes(self, image_bgr: np.ndarray) -> np.ndarray:
        """uint8 0/1 at the working size (`work_size`): 1 on the visitors who move."""
        h, w = image_bgr.shape[:2]
        size = self.work_size(w, h)
        if size != self.size:  # buffers kept from frame to frame: nothing to fragment the heap
            self.size = size
            self.small = np.empty((size[1], size[0], 3), np.uint8)
            self.mask = np.empty((size[1], size[0]), np.uint8)
            self.moving = np.empty((size[1], size[0]), np.uint8)
            self.labels = np.empty((size[1], size[0]), np.int32)
            self.subtractor.clear()
        cv2.resize(image_bgr, size, dst=self.small, interpolation=cv2.INTER_AREA)
        self.subtractor.apply(self.small, self.mask, self.rate)
        moving = cv2.compare(self.mask, 255, cv2.CMP_EQ, dst=self.moving)  # not the shadows (127)
        self.rate = RELEARN_RATE if cv2.countNonZero(moving) > RELEARN * moving.size else -1.0
        cv2.morphologyEx(moving, cv2.MORPH_CLOSE, self.close, dst=moving)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(moving, labels=self.labels)
        min_height = SILHOUETTE_MIN_HEIGHT * size[1] / h
        for label, (x, y, bw, bh, area) in enumerate(stats.tolist()):
            if label and (bh < min_height or area < SILHOUETTE_FILL * bw * bh):
                box = (slice(y, y + bh), slice(x, x + bw))  # specks and streaks: small boxes
                moving[box][labels[box] == label] = 0
        np.minimum(moving, 1, out=moving)
        return cv2.dilate(moving, self.grow)
