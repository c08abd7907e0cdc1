"""People as shapes: who the newest pose result shows, and their skeletons drawn in the
Kandinsky manner (flat vivid colour held by black lines), sized from each body.

Every bone is a black stroke with a thinner coloured stroke inside it, every joint a coloured
disc ringed in black, all sized from the person's own height so a child near the camera and an
adult far away look alike.
"""

from __future__ import annotations

import math
from typing import Iterator

import numpy as np

from appliance.core.frame import FrameMeta
from appliance.core.lazy import cv2
from appliance.core.results import PoseResult
from appliance.core.stages import POSE
from appliance.paint.palette import BLACK
from appliance.poses.keypoints import SKELETON

FAR = 1e5      # keypoints beyond this many pixels are nonsense; cv2 wants int32 anyway


def people(result: PoseResult | None) -> Iterator[tuple[int, np.ndarray]]:
    """(track id, keypoints (17, 3)) for each person seen in the newest pose result.

    Only the tracks seen in that frame are drawn (a track the model missed is not, though the
    tracker keeps it a few frames); their smoothed keypoints are used when there are some,
    since raw keypoints shimmer. No result (none yet) yields nobody, and so does a track
    whose keypoints are not a usable (17, 3) array.
    """
    if result is None:
        return
    for track in result.tracks:
        smoothed = result.smoothed
        try:
            kp = smoothed.get(track.id)
            kp = track.pose.keypoints if kp is None else kp
            kp = np.asarray(kp, dtype=np.float32)
        except (AttributeError, TypeError, ValueError):
            continue
        if kp.shape == (17, 3):
            yield int(track.id), kp


def visible(kp: np.ndarray, min_score: float) -> np.ndarray:
    """Which keypoints to trust: scored well enough and at finite, sane coordinates."""
    xy = kp[:, :2]
    finite = np.isfinite(kp).all(axis=1) & (np.abs(np.nan_to_num(xy)) < FAR).all(axis=1)
    return finite & (np.nan_to_num(kp[:, 2]) >= min_score)


def body_size(kp: np.ndarray, seen: np.ndarray) -> float:
    """The person's size in pixels (the longer side of their visible keypoints' box), so
    strokes scale with the body; a floor keeps a lone keypoint drawable."""
    if seen.sum() < 2:
        return 40.0
    xy = kp[seen, :2]
    return max(float(np.ptp(xy[:, 0])), float(np.ptp(xy[:, 1])), 40.0)


def bone_width(size: float, scale: float) -> int:
    """Bone thickness in pixels: about 3 % of the body, at least 2 so it reads on screen."""
    return max(2, int(round(size * 0.03 * scale)))


def _point(kp: np.ndarray, i: int) -> tuple[int, int]:
    return int(round(float(kp[i, 0]))), int(round(float(kp[i, 1])))


def _shapes(kp: np.ndarray, min_score: float, scale: float, joints: bool):
    """What a skeleton is drawn from: bone width, outline width, joint radius (0 without
    joints), the bones' end points and the joints' points, of the keypoints scored enough."""
    seen = visible(kp, min_score)
    width = bone_width(body_size(kp, seen), scale)
    edge = max(1, width // 4) + 1
    radius = max(2, int(math.ceil(width * 0.8))) if joints else 0
    bones = [(_point(kp, a), _point(kp, b)) for a, b in SKELETON if seen[a] and seen[b]]
    dots = [_point(kp, i) for i in np.flatnonzero(seen)] if joints else []
    return width, edge, radius, bones, dots


def draw_skeleton(dst: np.ndarray, kp: np.ndarray, colour: tuple[int, int, int],
                  min_score: float = 0.3, scale: float = 1.0, joints: bool = True) -> None:
    """Bones and joints, in place, as one cut-out shape: every black outline first, then all
    the colour inside, so no outline ever cuts across a limb. Bones with either end below
    `min_score` are left out, and so are those keypoints."""
    width, edge, radius, bones, dots = _shapes(kp, min_score, scale, joints)
    for ink, grow in ((BLACK, edge), (colour, 0)):
        for a, b in bones:
            cv2.line(dst, a, b, ink, width + 2 * grow, cv2.LINE_AA)
        for p in dots:
            cv2.circle(dst, p, radius + grow, ink, -1, cv2.LINE_AA)


def fill_body(dst: np.ndarray, kp: np.ndarray, min_score: float = 0.3, scale: float = 1.0,
              outlined: bool = False, joints: bool = True) -> None:
    """The body `draw_skeleton` draws, as 1s in a uint8 mask (with its black outline when
    `outlined`): one pass, no anti-aliasing (a region to cover or keep out, never seen)."""
    width, edge, radius, bones, dots = _shapes(kp, min_score, scale, joints)
    grow = edge if outlined else 0
    for a, b in bones:
        cv2.line(dst, a, b, 1, width + 2 * grow, cv2.LINE_8)
    for p in dots:
        cv2.circle(dst, p, radius + grow, 1, -1, cv2.LINE_8)


class FrameBuffer:
    """One output image reused frame after frame (reallocated only when the size changes),
    so an effect never draws on the camera frame, which analysis stages may still be reading."""

    def __init__(self) -> None:
        self.image: np.ndarray | None = None

    def like(self, image: np.ndarray) -> np.ndarray:
        if self.image is None or self.image.shape != image.shape or self.image.dtype != image.dtype:
            self.image = np.empty_like(image)
        return self.image


def pose_result(meta: FrameMeta) -> PoseResult | None:
    """The newest pose result (None before the first one)."""
    return meta.results.get(POSE.key, PoseResult)
