"""Person masks as weights: a segmentation probability hardened at a threshold, its edges
feathered, and two pictures joined along it."""

from __future__ import annotations

import numpy as np

from appliance.core.lazy import cv2
from appliance.core.results import MaskResult, result_key

SEGMENTATION_MODELS = ("meet", "selfie")
MASK_WORK_WIDTH = 320  # feathering is done this wide: soft edges need no full-resolution blur


def feathered(mask: np.ndarray, size: tuple[int, int], threshold: float, feather: float) -> np.ndarray:
    """The mask as 0-1 weights at `size` (w, h): hardened around `threshold`, edges blurred by
    `feather` (a fraction of the picture's height)."""
    w, h = size
    work = (MASK_WORK_WIDTH, max(8, round(h * MASK_WORK_WIDTH / w)))
    small = cv2.resize(mask.astype(np.float32), work, interpolation=cv2.INTER_AREA)
    small = np.clip((small - threshold) * 8.0 + 0.5, 0.0, 1.0)
    sigma = feather * work[1]
    if sigma > 0.3:
        small = cv2.GaussianBlur(small, (0, 0), sigma)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def person_weight(mask: MaskResult | None, size: tuple[int, int], threshold: float,
                  feather: float) -> np.ndarray:
    """Feathered person weights at `size`; before the first mask arrives, nobody is a person."""
    if mask is None:
        return np.zeros((size[1], size[0]), np.float32)
    return feathered(mask.probability, size, threshold, feather)


def composite(effected: np.ndarray, original: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """effected where weight is 1, original where it is 0."""
    weight = np.ascontiguousarray(weight, np.float32)
    return cv2.blendLinear(effected, original, weight, 1.0 - weight)


class MaskShares:
    """Per-pixel shares of two pictures joined along the person mask, (people's, the room's)
    or with `people_first=False` the other way round, made again only when a new mask result
    arrives or the size changes: the display shows each mask for several frames."""

    def __init__(self, key: str, threshold: float, feather: float, people_first: bool = True):
        self.key, self.threshold, self.feather, self.people_first = key, threshold, feather, people_first
        self.people: np.ndarray | None = None  # the feathered person weight of the newest mask
        self.shares: tuple[np.ndarray, np.ndarray] | None = None
        self._made_from: object = None

    def at(self, meta, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
        made_from = (result_key(meta, self.key), w, h)
        if made_from != self._made_from:
            self._made_from = made_from
            self.people = person_weight(meta.results.get(self.key, MaskResult), (w, h), self.threshold, self.feather)
            first = self.people if self.people_first else 1.0 - self.people
            self.shares = (np.ascontiguousarray(first, np.float32), np.ascontiguousarray(1.0 - first, np.float32))
        return self.shares
