"""Far visitors: people 90 px tall in a 640x480 frame (6-8 m from a Pi camera), alone and in pairs.

There is no footage of them with keypoints marked, so it is made from the sample clip: the
walkers nearest the camera (150 px and taller at 768x576) are cut out along the clip's own
walker mask, their keypoints taken from the pose model on them at full size (where it is sure),
and they are pasted at 90 px tall into the empty room (the clip's median) at 640x480, walking
across it for a few seconds after the room was seen empty, as in a gallery. The live pose stage
(exactly as configured) then looks at each frame; a pasted visitor's keypoint is correct when it
lands within 0.2 of their box diagonal of the reference (PCK@0.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from appliance.analysis.pose import pose_estimator
from appliance.bench.truth import walker_masks, walkers
from appliance.config import Settings
from appliance.core.stages import AnalysisContext
from appliance.models.pose import create_estimator

SIZE = (640, 480)
HEIGHT_PX = 90
SURE = 0.4          # reference keypoints kept from the full-size pose
EMPTY_FRAMES = 30   # the room seen empty first (a gallery's box has long learned it)
WALK_FRAMES = 30    # then the visitors walk across it
STEP_PX = 4         # per frame, sideways


@dataclass
class Cutout:
    """A walker cut out of the clip: pixels, mask and reference keypoints, all cut-relative."""

    image: np.ndarray
    mask: np.ndarray
    keypoints: np.ndarray  # (17, 3): x, y in the cut, and whether the reference is sure (0/1)


def cutouts(frames: tuple[np.ndarray, ...], count: int = 6, min_height: int = 150) -> list[Cutout]:
    """Up to `count` of the clip's tallest walkers with a clean reference, each from another
    frame (so mostly other people, or the same person in another stride)."""
    model = create_estimator(AnalysisContext().store, "movenet_multipose")
    found: list[Cutout] = []
    used: set[int] = set()
    for walker in sorted(walkers(walker_masks(frames), min_height), key=lambda w: -w.height):
        if len(found) == count:
            break
        if any(abs(walker.frame - f) < 5 for f in used):
            continue
        cut = _cut(frames[walker.frame], walker, model)
        if cut is not None:
            found.append(cut)
            used.add(walker.frame)
    return found


def _cut(frame: np.ndarray, walker: Any, model: Any) -> Cutout | None:
    """The walker's one person, cut along the walker mask inside their pose's box (grown a
    little), so neither a long shadow nor a second person comes along."""
    poses = [p for p in model.estimate(frame) if _inside(p.box, walker.box)]
    if len(poses) != 1:
        return None  # nobody, or two people in one walker region: no clean reference
    kp = poses[0].keypoints.copy()
    sure = kp[:, 2] >= SURE
    if sure.sum() < 10:
        return None
    bx0, by0, bx1, by1 = poses[0].box
    grow_x, grow_y = 0.15 * (bx1 - bx0), 0.08 * (by1 - by0)
    h, w = frame.shape[:2]
    x0, y0 = max(0, int(bx0 - grow_x)), max(0, int(by0 - grow_y))
    x1, y1 = min(w, int(bx1 + grow_x) + 1), min(h, int(by1 + grow_y) + 1)
    kp[:, 0] -= x0
    kp[:, 1] -= y0
    kp[:, 2] = sure
    return Cutout(frame[y0:y1, x0:x1].copy(), walker.pixels[y0:y1, x0:x1].copy(), kp)


def _inside(box: tuple, region: tuple) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return region[0] <= cx < region[2] and region[1] <= cy < region[3]


def room(frames: tuple[np.ndarray, ...]) -> np.ndarray:
    """The empty room at 640x480: the clip's median (people never stand still in it)."""
    median = np.median(np.stack(frames[::3]), axis=0).astype(np.uint8)
    return cv2.resize(median, SIZE, interpolation=cv2.INTER_AREA)


def paste(scene: np.ndarray, cut: Cutout, x: float, y: float, height: int = HEIGHT_PX) -> np.ndarray:
    """`cut` scaled to `height` with its feet at (x, y); the reference keypoints in the scene."""
    scale = height / cut.image.shape[0]
    w = max(1, round(cut.image.shape[1] * scale))
    image = cv2.resize(cut.image, (w, height), interpolation=cv2.INTER_AREA)
    mask = cv2.resize(cut.mask.astype(np.uint8), (w, height), interpolation=cv2.INTER_NEAREST) > 0
    left, top = int(round(x - w / 2)), int(round(y - height))
    view = scene[top:top + height, left:left + w]
    inside = (slice(0, view.shape[0]), slice(0, view.shape[1]))  # the part within the scene
    keep = mask[inside]
    view[keep] = image[inside][keep]
    kp = cut.keypoints.copy()
    kp[:, 0] = kp[:, 0] * scale + left
    kp[:, 1] = kp[:, 1] * scale + top
    return kp


def walk(background: np.ndarray, group: list[Cutout], start: tuple[float, float]):
    """Frames of the empty room, then of `group` (side by side) walking across it, each with the
    reference keypoints of the visitors in it (none for the empty frames)."""
    for _ in range(EMPTY_FRAMES):
        yield background.copy(), []
    for step in range(WALK_FRAMES):
        scene = background.copy()
        refs = [paste(scene, cut, start[0] + k * 45 + step * STEP_PX, start[1]) for k, cut in enumerate(group)]
        yield scene, refs


def pck(found: list, refs: list[np.ndarray]) -> tuple[int, int]:
    """(correct, sure reference keypoints): each visitor matched to the pose nearest its keypoints."""
    correct = total = 0
    for ref in refs:
        sure = ref[:, 2] > 0
        diagonal = float(np.hypot(*np.ptp(ref[sure, :2], axis=0)))
        best = 0
        for pose in found:
            near = np.linalg.norm(pose.keypoints[sure, :2] - ref[sure, :2], axis=1) <= 0.2 * diagonal
            best = max(best, int((near & (pose.keypoints[sure, 2] >= 0.2)).sum()))
        correct, total = correct + best, total + int(sure.sum())
    return correct, total


def far_visitors(settings: Settings, frames: tuple[np.ndarray, ...]) -> dict[str, Any]:
    """PCK@0.2 of the live pose stage on far visitors, alone and in pairs."""
    background = room(frames)
    cuts = cutouts(frames)
    groups = [[c] for c in cuts] + [cuts[k:k + 2] for k in range(0, len(cuts) - 1, 2)]
    places = [(120.0, 200.0), (360.0, 230.0), (200.0, 300.0)]
    result: dict[str, Any] = {"height_px": HEIGHT_PX, "frame_size": list(SIZE), "visitors": len(cuts)}
    for label, chosen in (("alone", [g for g in groups if len(g) == 1]), ("pairs", [g for g in groups if len(g) == 2])):
        correct = total = 0
        for k, group in enumerate(chosen):
            estimator = pose_estimator(AnalysisContext(settings))  # a fresh stage: it learns the room
            for scene, refs in walk(background, group, places[k % len(places)]):
                found = estimator.estimate(scene)
                c, t = pck(found, refs)
                correct, total = correct + c, total + t
        result[label] = {"pck": round(correct / max(1, total), 3), "keypoints": total, "groups": len(chosen)}
    return result


def far_lines(result: dict[str, Any]) -> list[str]:
    return [f"far visitors ({result['height_px']} px tall at 640x480, {result['visitors']} people from the clip): "
            f"PCK@0.2 alone {result['alone']['pck']:.2f}, in pairs {result['pairs']['pck']:.2f} (goal 0.75)"]
