"""A pose seen as a body: positions in body units, on the screen's left-right axis.

Rules, motions and taught poses must not care how far the visitor stands from the camera or
whether the screen mirrors them. `Body` divides every distance by the torso length (shoulder
midpoint to hip midpoint: it hardly changes when arms, legs or knees move) and, for a mirrored
screen, flips x so "left" always means the screen's left as the visitor sees it. Keypoint names
keep meaning the visitor's own body parts. A keypoint whose score is below `min_score` is
"not seen", so anything measured from it is unknown rather than wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from appliance.poses.keypoints import KEYPOINTS

POINTS = KEYPOINTS + ("mid_shoulder", "mid_hip")
INDEX = {name: i for i, name in enumerate(POINTS)}
_MIDS = ((5, 6), (11, 12))


@dataclass(frozen=True)
class Body:
    xy: np.ndarray    # (19, 2): the 17 keypoints then mid_shoulder, mid_hip; x flipped if mirrored
    seen: np.ndarray  # (19,) bool
    unit: float | None  # torso length in pixels, None when shoulders or hips are not seen
    flags: tuple[bool, ...] = field(init=False, compare=False, repr=False)  # `seen` as plain bools

    def __post_init__(self) -> None:
        # rules ask `known` dozens of times a frame: indexing a tuple of bools is the fast way
        object.__setattr__(self, "flags", tuple(bool(v) for v in self.seen))

    @classmethod
    def of(cls, keypoints: np.ndarray, mirror: bool = False, min_score: float = 0.3) -> Body:
        kp = np.asarray(keypoints, dtype=np.float64)
        xy = kp[:, :2].copy()
        if mirror:
            xy[:, 0] = -xy[:, 0]
        seen = kp[:, 2] >= min_score
        mids = [(xy[a] + xy[b]) * 0.5 for a, b in _MIDS]
        xy = np.vstack([xy, mids])
        seen = np.concatenate([seen, [seen[a] and seen[b] for a, b in _MIDS]])
        unit = float(np.hypot(*(xy[17] - xy[18]))) if seen[17] and seen[18] else None
        return cls(xy, seen, unit if unit else None)

    def known(self, *points: int) -> bool:
        flags = self.flags
        return self.unit is not None and all(flags[p] for p in points)

    def normalised(self) -> np.ndarray | None:
        """(19, 2) positions relative to mid_hip in torso lengths (None without a torso)."""
        if self.unit is None:
            return None
        return (self.xy - self.xy[18]) / self.unit
