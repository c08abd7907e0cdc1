"""Where people are moving, from a learned picture of the empty room.

The camera never moves, so a background model (OpenCV's MOG2, at 384 px wide: a few ms a
frame) tells where visitors are, near or far, before any network runs. Two readings of it:

- `MotionRegions`: person-sized boxes. The pose stage crops them and shows them to the pose
  model large (`appliance.models.mosaic`), instead of shrinking the whole room into the model's
  256x256 input, where a visitor 6 m away is ~25 px. Shadows count: a walker's legs are often
  only a shadow-strength change against grass or paving, and losing them loses the person.
  Regions that overlap are joined, so a visitor split into head and body is one region.
- `Silhouettes`: the moving pixels themselves (not their shadows), as person shapes: the mask
  stage's sharp outline of every walker.

Both remember the room for a long time (`LearnedRoom`): someone standing still becomes part of
it only after about a tenth of HISTORY analysed frames (30 s at 10 a second), and a change of
light, which makes much of the frame "move" at once, is learned quickly instead.
"""

from __future__ import annotations

import threading

import numpy as np

from appliance.core.lazy import cv2
from appliance.poses.keypoints import Box, box_area, box_intersection

WORK_WIDTH = 384         # the room is learned this wide
HISTORY = 3000           # analysed frames of memory (see the module docstring)
RELEARN = 0.4            # of the frame moving at once: the light changed, learn the room afresh
RELEARN_RATE = 0.05
MIN_HEIGHT_PX = 30       # regions shorter than this (full-size pixels) are noise, not people
MIN_AREA = 40            # pixels at the working size
JOIN_OVERLAP = 0.3       # of the smaller box: two regions this much overlapping are one
SILHOUETTE_MIN_HEIGHT = 24  # full-size pixels: shorter moving things are leaves and litter
SILHOUETTE_FILL = 0.25      # of its box: a thinner shape (a flapping tape, a swaying wire) is no one
SILHOUETTE_GROW = 7         # px at the working size: the edge a person's outline blurs into


class LearnedRoom:
    """MOG2 at WORK_WIDTH with its buffers kept from frame to frame (nothing picture-sized is
    allocated per frame); `apply` gives 255 where something moves, 127 its shadow, 0 the room."""

    def __init__(self, history: int = HISTORY, mixtures: int = 5):
        self.subtractor = cv2.createBackgroundSubtractorMOG2(history=history, varThreshold=16,
                                                             detectShadows=True)
        self.subtractor.setNMixtures(mixtures)
        self.rate = -1.0  # OpenCV's own: fast while the room is new, 1/history after
        self.size: tuple[int, int] | None = None
        self.scale = 1.0
        self.lock = threading.Lock()  # kept across mode switches: the old mode's stage may
                                      # still be finishing a frame when the new one starts
        self.buffers: dict[str, np.ndarray] = {}

    def apply(self, image_bgr: np.ndarray) -> np.ndarray:
        """The frame against the room, at the working size (`self.size`, `self.scale`)."""
        h, w = image_bgr.shape[:2]
        self.scale = WORK_WIDTH / w if w > WORK_WIDTH else 1.0
        size = (round(w * self.scale), round(h * self.scale))
        if size != self.size:  # a new frame size: new buffers, and the room learned afresh
            self.size = size
            self.small = np.empty((size[1], size[0], 3), np.uint8)
            self.mask = np.empty((size[1], size[0]), np.uint8)
            self.subtractor.clear()
        cv2.resize(image_bgr, size, dst=self.small, interpolation=cv2.INTER_AREA)
        self.subtractor.apply(self.small, self.mask, self.rate)
        moving = cv2.countNonZero(self.mask)
        self.rate = RELEARN_RATE if moving > RELEARN * self.mask.size else -1.0
        return self.mask

    def buffer(self, name: str, dtype=np.uint8) -> np.ndarray:
        """A working-size buffer kept under `name` (made again when the size changes)."""
        held = self.buffers.get(name)
        if held is None or held.shape != self.mask.shape:
            held = self.buffers[name] = np.empty(self.mask.shape, dtype)
        return held


class MotionRegions:
    """Person-sized moving regions of each frame, in frame pixels, tallest first."""

    def __init__(self, history: int = HISTORY):
        self.room = LearnedRoom(history)
        self.open = np.ones((3, 3), np.uint8)
        self.grow = np.ones((7, 7), np.uint8)

    def regions(self, image_bgr: np.ndarray, also: list[Box] | None = None) -> list[Box]:
        """The moving regions, joined with `also` (where people were seen last), tallest first."""
        with self.room.lock:
            boxes = self._moving(image_bgr)
        # motion's fragments of one person are joined first, then with where people were seen
        return sorted(joined(joined(boxes) + list(also or [])), key=lambda b: b[1] - b[3])

    def _moving(self, image_bgr: np.ndarray) -> list[Box]:
        mask = self.room.apply(image_bgr)
        scale = self.room.scale
        foreground = self.room.buffer("foreground")
        cv2.threshold(mask, 126, 1, cv2.THRESH_BINARY, dst=foreground)  # moving or its shadow
        cv2.morphologyEx(foreground, cv2.MORPH_OPEN, self.open, dst=foreground)
        cv2.dilate(foreground, self.grow, dst=foreground)
        count, _, stats, _ = cv2.connectedComponentsWithStats(foreground, labels=self.room.buffer("labels", np.int32))
        return [(x / scale, y / scale, (x + bw) / scale, (y + bh) / scale)
                for x, y, bw, bh, area in stats[1:count].tolist()
                if bh / scale >= MIN_HEIGHT_PX and area >= MIN_AREA]


class Silhouettes:
    """Full-resolution person shapes from the learned room: moving pixels (not their shadows),
    holes closed, joined into shapes, and only shapes a person could make kept.

    It answers "which pixels are a visitor" far more sharply than a segmentation network at
    256x144 can for people 60-150 px tall; what it cannot see is someone who has stood still
    long enough to become part of the room, whom the mask stage takes from the network. Three
    Gaussians a pixel instead of OpenCV's five (each ~20 bytes a pixel) mask as well; the
    regions keep five (with three they find 0.86 of the clip's walkers instead of 0.88).
    """

    def __init__(self, history: int = HISTORY):
        self.room = LearnedRoom(history, mixtures=3)
        self.close = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
        self.grow = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (SILHOUETTE_GROW, SILHOUETTE_GROW))

    def shapes(self, image_bgr: np.ndarray) -> np.ndarray:
        """uint8 0/1 at the working size: 1 on the visitors who move (a new array)."""
        with self.room.lock:
            return self._shapes(image_bgr)

    def _shapes(self, image_bgr: np.ndarray) -> np.ndarray:
        mask = self.room.apply(image_bgr)
        moving = cv2.compare(mask, 255, cv2.CMP_EQ, dst=self.room.buffer("moving"))  # not shadows
        cv2.morphologyEx(moving, cv2.MORPH_CLOSE, self.close, dst=moving)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(moving, labels=self.room.buffer("labels", np.int32))
        min_height = SILHOUETTE_MIN_HEIGHT * self.room.scale
        for label, (x, y, bw, bh, area) in enumerate(stats.tolist()):
            if label and (bh < min_height or area < SILHOUETTE_FILL * bw * bh):
                box = (slice(y, y + bh), slice(x, x + bw))  # specks and streaks: small boxes
                moving[box][labels[box] == label] = 0
        np.minimum(moving, 1, out=moving)
        return cv2.dilate(moving, self.grow)


def joined(boxes: list[Box]) -> list[Box]:
    """Boxes with every pair overlapping by JOIN_OVERLAP of the smaller replaced by their union.
    Plain Python: with the few boxes of a frame, doing it in arrays counted no fewer aarch64
    instructions (70 M a frame for the regions either way)."""
    boxes = list(boxes)
    merged = True
    while merged:
        merged = False
        for a in range(len(boxes)):
            for b in range(a + 1, len(boxes)):
                if overlap(boxes[a], boxes[b]) > JOIN_OVERLAP:
                    boxes[a] = union(boxes[a], boxes.pop(b))
                    merged = True
                    break
            if merged:
                break
    return boxes


def overlap(a: Box, b: Box) -> float:
    """Intersection over the smaller box's area."""
    return box_intersection(a, b) / max(1e-6, min(box_area(a), box_area(b)))


def union(a: Box, b: Box) -> Box:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
