"""The pose vocabulary every part shares: 17 COCO keypoints, the bones between them, a `Pose`.

Models decode into it (`appliance.models.pose`), the pose stage tracks it, effects draw it and
recordings store it; it depends on nothing but numpy, so each of them can import it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KEYPOINTS = ("nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
             "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
             "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle")
SKELETON = ((0, 1), (0, 2), (1, 3), (2, 4), (5, 6), (5, 7), (7, 9), (6, 8), (8, 10), (5, 11),
            (6, 12), (11, 12), (11, 13), (13, 15), (12, 14), (14, 16))


@dataclass
class Pose:
    """keypoints: (17, 3) float32 of [x, y, score] in source pixels, COCO order."""

    keypoints: np.ndarray
    box: tuple[float, float, float, float]
    score: float

    def to_json(self) -> dict:
        return {"score": round(float(self.score), 4),
                "box": [round(float(v), 1) for v in self.box],
                "keypoints": [[round(float(x), 1), round(float(y), 1), round(float(s), 4)]
                              for x, y, s in self.keypoints]}


def box_of(keypoints: np.ndarray, min_score: float = 0.2) -> tuple[float, float, float, float]:
    seen = keypoints[keypoints[:, 2] >= min_score]
    if len(seen) == 0:
        seen = keypoints
    return (float(seen[:, 0].min()), float(seen[:, 1].min()),
            float(seen[:, 0].max()), float(seen[:, 1].max()))


Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in frame pixels


def box_area(box: Box) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def box_intersection(a: Box, b: Box) -> float:
    """The area two boxes share."""
    return box_area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))


def coverage(a: Box, b: Box) -> float:
    """The share of box `a` that box `b` covers."""
    return box_intersection(a, b) / max(1e-6, box_area(a))


def box_iou(a: Box, b: Box) -> float:
    inter = box_intersection(a, b)
    union = box_area(a) + box_area(b) - inter
    return inter / union if union > 0 else 0.0
