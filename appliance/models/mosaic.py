"""Several regions of a frame packed into one model input, and the poses found mapped back.

MoveNet MultiPose looks at a fixed 256x256 input. Shrinking a 640x480 room into it leaves a
visitor 6 m away ~25 px tall, too small to be found. Cropping each region where someone is and
tiling the crops into that one input shows every visitor ~100 px tall for the cost of the same
single invoke. The tiles are tall, like standing people (1 region: the whole input; 2: halves;
up to 6: 3x2; up to 8: 4x2). A pose is given to the tile its box centre lies in, and keypoints
that fall outside that tile are dropped (score 0): they belong to a neighbour.
"""

from __future__ import annotations

import numpy as np

from appliance.core.lazy import cv2
from appliance.models.pose import Letterbox, PoseModel, decode_movenet_multi, without_duplicates
from appliance.poses.keypoints import Pose

MAX_TILES = 8
MARGIN = 1.2        # a crop is this much taller than its region
MIN_CROP_PX = 48    # nor shorter than this
MIN_SCORE = 0.2     # a person large in a clean crop is surer than the whole frame's 0.3 allows for:
                    # on the sample clip 0.2 finds 0.89 of the walkers (0.3: 0.82), and the
                    # keypoints of what it finds land on them as often (0.98)
Box = tuple[float, float, float, float]


def layout(count: int) -> tuple[int, int]:
    """(columns, rows) of the tiles for `count` regions."""
    if count <= 1:
        return 1, 1
    if count == 2:
        return 2, 1
    return (3, 2) if count <= 6 else (4, 2)


def crop_for(box: Box, frame_w: int, frame_h: int, tile_w: int, tile_h: int) -> Box:
    """The region grown by MARGIN to the tile's shape, kept inside the frame."""
    x0, y0, x1, y1 = box
    height = max((y1 - y0) * MARGIN, (x1 - x0) * MARGIN * tile_h / tile_w, MIN_CROP_PX)
    height = min(height, frame_h, frame_w * tile_h / tile_w)
    width = height * tile_w / tile_h
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left = min(max(cx - width / 2, 0.0), frame_w - width)
    top = min(max(cy - height / 2, 0.0), frame_h - height)
    return left, top, left + width, top + height


class Tile:
    """Where one crop sits in the model input, and the way back to frame pixels."""

    def __init__(self, x: int, y: int, w: int, h: int, crop: Box):
        self.x, self.y, self.w, self.h, self.crop = x, y, w, h, crop
        self.scale = (crop[2] - crop[0]) / w

    def holds(self, px: float, py: float) -> bool:
        return self.x <= px < self.x + self.w and self.y <= py < self.y + self.h

    def to_frame(self, pose: Pose) -> Pose:
        kp = pose.keypoints.copy()
        inside = (kp[:, 0] >= self.x) & (kp[:, 0] < self.x + self.w) & (kp[:, 1] >= self.y) & (kp[:, 1] < self.y + self.h)
        kp[~inside, 2] = 0.0
        kp[:, 0] = self.crop[0] + (kp[:, 0] - self.x) * self.scale
        kp[:, 1] = self.crop[1] + (kp[:, 1] - self.y) * self.scale
        x0, y0, x1, y1 = pose.box
        box = (self.crop[0] + (max(x0, self.x) - self.x) * self.scale,
               self.crop[1] + (max(y0, self.y) - self.y) * self.scale,
               self.crop[0] + (min(x1, self.x + self.w) - self.x) * self.scale,
               self.crop[1] + (min(y1, self.y + self.h) - self.y) * self.scale)
        return Pose(kp, box, pose.score)


class Mosaic:
    """Regions of a frame as tiles of one MultiPose input (the input buffer is reused)."""

    def __init__(self, model: PoseModel):
        self.model = model
        self.size = model.letterbox.size
        self.buffer = np.zeros((1, self.size, self.size, 3), np.uint8)
        self.identity = Letterbox(self.size)  # the decoder's coordinates: input pixels
        self._tiles: dict[tuple[int, int], np.ndarray] = {}

    def estimate(self, image_bgr: np.ndarray, regions: list[Box]) -> list[Pose]:
        """Poses in the regions (at most MAX_TILES, the first ones), in frame pixels."""
        tiles = self.fill(image_bgr, regions[:MAX_TILES])
        with self.model.model.lock:  # the reused outputs stay ours until decoded
            outputs = self.model.model.run(self.buffer, reuse_outputs=True)
            found = decode_movenet_multi(outputs, self.identity, MIN_SCORE)
        poses = []
        for pose in found:
            cx, cy = (pose.box[0] + pose.box[2]) / 2, (pose.box[1] + pose.box[3]) / 2
            tile = next((t for t in tiles if t.holds(cx, cy)), None)
            if tile is not None:
                poses.append(tile.to_frame(pose))
        return without_duplicates(sorted(poses, key=lambda p: -p.score))

    def fill(self, image_bgr: np.ndarray, regions: list[Box]) -> list[Tile]:
        h, w = image_bgr.shape[:2]
        cols, rows = layout(len(regions))
        tile_w, tile_h = self.size // cols, self.size // rows
        resized = self._tile_buffer(tile_w, tile_h)
        self.buffer.fill(0)
        tiles = []
        for k, region in enumerate(regions):
            row, col = divmod(k, cols)
            tile = Tile(col * tile_w, row * tile_h, tile_w, tile_h, crop_for(region, w, h, tile_w, tile_h))
            x0, y0, x1, y1 = (int(round(v)) for v in tile.crop)
            patch = image_bgr[y0:max(y1, y0 + 1), x0:max(x1, x0 + 1)]
            shrink = patch.shape[0] > tile_h
            cv2.resize(patch, (tile_w, tile_h), dst=resized,
                       interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
            cv2.cvtColor(resized, cv2.COLOR_BGR2RGB, dst=self.buffer[0, tile.y:tile.y + tile_h, tile.x:tile.x + tile_w])
            tiles.append(tile)
        return tiles

    def _tile_buffer(self, tile_w: int, tile_h: int) -> np.ndarray:
        """One tile's resized crop, kept per tile shape (there are four)."""
        if (tile_w, tile_h) not in self._tiles:
            self._tiles[(tile_w, tile_h)] = np.empty((tile_h, tile_w, 3), np.uint8)
        return self._tiles[(tile_w, tile_h)]
