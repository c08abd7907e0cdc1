"""Poses taught by example: show the camera a pose a few times, name it, recognise it later.

Some poses are easier to show than to describe in rules. A pose is stored as a feature that
ignores where the visitor stands and how big they appear (positions relative to the hip
midpoint, in torso lengths, optionally mirrored) and which marks unseen keypoints, so a
missing wrist is left out of the comparison instead of counting as "at the hip". The
classifier answers with the nearest taught pose only when it is near enough: a pose nobody
taught must come out as "none", not as the least-unlike example. Examples are saved as JSON
atomically, so a power cut while saving keeps the old set or the new one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from appliance.atomic import atomic_write_text
from appliance.errors import ConfigError
from appliance.poses.body import Body

NONE = "none"
MIN_COMMON = 8       # keypoints seen in both poses for a comparison to count
MAX_DISTANCE = 0.25  # mean keypoint distance, torso lengths, to accept a match


def pose_feature(keypoints: np.ndarray, mirror: bool = False, min_score: float = 0.3) -> np.ndarray | None:
    """(17, 3) of [x, y, seen] in torso lengths from the hip midpoint; None without a torso."""
    body = Body.of(keypoints, mirror, min_score)
    xy = body.normalised()
    if xy is None:
        return None
    return np.column_stack([xy[:17], body.seen[:17]]).astype(np.float64)


def feature_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean distance over keypoints seen in both; infinite when too few are shared."""
    both = (a[:, 2] > 0) & (b[:, 2] > 0)
    if both.sum() < MIN_COMMON:
        return float("inf")
    return float(np.hypot(*(a[both, :2] - b[both, :2]).T).mean())


@dataclass
class PoseExamples:
    """Labelled pose features; `classify` is nearest neighbour with a rejection threshold."""

    examples: dict[str, list[np.ndarray]] = field(default_factory=dict)
    max_distance: float = MAX_DISTANCE

    def add(self, label: str, feature: np.ndarray) -> None:
        if not label or label == NONE:
            raise ValueError(f"{label!r} cannot name a pose (it means 'no pose')")
        self.examples.setdefault(label, []).append(np.asarray(feature, dtype=np.float64))

    def nearest(self, feature: np.ndarray) -> tuple[str, float]:
        best = (NONE, float("inf"))
        for label, features in self.examples.items():
            for example in features:
                distance = feature_distance(feature, example)
                if distance < best[1]:
                    best = (label, distance)
        return best

    def classify(self, feature: np.ndarray | None) -> str:
        """The taught label nearest to `feature`, or "none" if none is within `max_distance`."""
        if feature is None:
            return NONE
        label, distance = self.nearest(feature)
        return label if distance <= self.max_distance else NONE

    def to_json(self) -> dict:
        return {"version": 1, "max_distance": self.max_distance,
                "examples": {label: [np.round(f, 4).tolist() for f in features]
                             for label, features in self.examples.items()}}

    def save(self, path: str | Path) -> None:
        atomic_write_text(path, json.dumps(self.to_json()) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> PoseExamples:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            examples = {str(label): [np.array(f, dtype=np.float64).reshape(17, 3) for f in features]
                        for label, features in data["examples"].items()}
            return cls(examples, float(data.get("max_distance", MAX_DISTANCE)))
        except OSError as exc:
            raise ConfigError([f"{path}: cannot be read ({exc.strerror})"]) from None
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
            raise ConfigError([f"{path}: not a pose examples file ({exc})"]) from None


def teach_from_frames(name: str, frames, path: str | Path, seconds: float = 2.0,
                      mirror: bool = False) -> int:
    """Add `seconds` of the largest person's pose from `frames` as examples of `name`, merged
    into the examples file at `path` (saved atomically). Returns how many were added."""
    examples = PoseExamples.load(path) if Path(path).exists() else PoseExamples()
    added, start = 0, None
    for frame in frames:
        start = frame.t if start is None else start
        if frame.t - start > seconds:
            break
        if not frame.poses:
            continue
        largest = max(frame.poses, key=lambda p: (p.box[2] - p.box[0]) * (p.box[3] - p.box[1]))
        feature = pose_feature(largest.keypoints, mirror)
        if feature is not None:
            examples.add(name, feature)
            added += 1
    if not added:
        raise ConfigError([f"teach {name}: nobody was seen clearly enough to learn from"])
    examples.save(path)
    return added
