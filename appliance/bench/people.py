"""Every visitor found: how many of the sample clip's walkers the pose stage finds.

The ground truth is the clip's own (`appliance.bench.truth`): every walker at least 60 px tall
(768x576, the scale of visitors 5-8 m from a Pi camera at 640x480). A walker counts as found in a
frame when a pose the configured model returns there (score above the model's own threshold)
has a box covering at least a quarter of the walker's box. Of the keypoints of the poses that
found someone (score >= 0.3), the share inside the walker mask says they land on people.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from appliance.analysis.pose import pose_estimator
from appliance.bench.truth import Walker, walker_masks, walkers
from appliance.config import Settings
from appliance.core.stages import AnalysisContext
from appliance.poses.keypoints import coverage

MIN_HEIGHT = 60
COVER = 0.25          # of the walker's box, under a pose's box
KEYPOINT_SCORE = 0.3  # keypoints counted for landing on people


def keypoints_on(poses: list, mask: np.ndarray) -> tuple[int, int]:
    """(confident keypoints inside `mask`, confident keypoints) over `poses`."""
    inside = total = 0
    h, w = mask.shape
    for pose in poses:
        kp = pose.keypoints[pose.keypoints[:, 2] >= KEYPOINT_SCORE]
        x = np.clip(np.round(kp[:, 0]).astype(int), 0, w - 1)
        y = np.clip(np.round(kp[:, 1]).astype(int), 0, h - 1)
        inside += int(mask[y, x].sum())
        total += len(kp)
    return inside, total


def pose_recall(settings: Settings, frames: tuple[np.ndarray, ...], estimator: Any = None) -> dict[str, Any]:
    """The configured pose model (or `estimator`), as the live stage runs it, on every frame."""
    estimator = estimator or pose_estimator(AnalysisContext(settings))
    masks = walker_masks(frames)
    truth = walkers(masks, MIN_HEIGHT)
    by_frame: dict[int, list[Walker]] = {}
    for walker in truth:
        by_frame.setdefault(walker.frame, []).append(walker)
    found = inside = total = stray = 0
    for index, frame in enumerate(frames):
        poses = estimator.estimate(frame)
        hits = [[coverage(w.box, p.box) >= COVER for p in poses] for w in by_frame.get(index, [])]
        found += sum(any(row) for row in hits)
        on_someone = [p for j, p in enumerate(poses) if any(row[j] for row in hits)]
        stray += sum(not masks[index][int(p.box[1]):int(p.box[3]) + 1, int(p.box[0]):int(p.box[2]) + 1].any()
                     for p in poses)
        i, t = keypoints_on(on_someone, masks[index])
        inside, total = inside + i, total + t
    return {"model": settings.models.pose, "walker_frames": len(truth), "found": found,
            "recall": round(found / max(1, len(truth)), 3),
            "keypoints_on_walkers": round(inside / max(1, total), 3), "keypoints": total,
            "poses_on_nobody": stray, "poses_on_nobody_per_frame": round(stray / len(frames), 3),
            "min_height_px": MIN_HEIGHT, "frame_size": list(frames[0].shape[1::-1])}


def people_lines(result: dict[str, Any]) -> list[str]:
    return [f"walkers found by the pose stage ({result['model']}): {result['found']} of "
            f"{result['walker_frames']} walker-frames >= {result['min_height_px']} px = "
            f"{result['recall']:.2f} (goal 0.85); keypoints on walkers {result['keypoints_on_walkers']:.2f} "
            f"(goal 0.85); poses where nobody walks {result['poses_on_nobody_per_frame']:.2f} a frame"]
