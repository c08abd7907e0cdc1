"""The painting before the painting: what a style mode shows until its first keyframe.

A keyframe takes ~0.2 s here and ~0.3 s projected on a Pi 4, and a mode switch or a start must
never show the plain camera picture meanwhile. The underpainting is the frame as broad colour fields (24 across,
each pulled part way to the nearest colour of the palette, blurred into each other), the wash a painter
lays down first: it follows the visitors, shows no face, costs about a millisecond, and the first
keyframe fades in over it.
"""

from __future__ import annotations

import numpy as np

from appliance.core.lazy import cv2
from appliance.paint.palette import COLOURS

FIELDS_ACROSS = 24      # colour fields across the picture
PALETTE_PULL = 0.4      # how far each field moves toward its nearest palette colour
WASH_SIGMA = 2.0        # blur of the fields, in eighths of the picture's pixels
_PALETTE = np.array(COLOURS, np.float32)


def underpainting(image: np.ndarray) -> np.ndarray:
    """BGR uint8 of the image's size: broad fields in the image's colours, pulled toward the palette."""
    h, w = image.shape[:2]
    small = cv2.resize(image, (FIELDS_ACROSS, max(1, round(h * FIELDS_ACROSS / w))),
                       interpolation=cv2.INTER_AREA).astype(np.float32)
    pixels = small.reshape(-1, 3)
    nearest = _PALETTE[np.argmin(((pixels[:, None, :] - _PALETTE[None]) ** 2).sum(axis=2), axis=1)]
    pixels += PALETTE_PULL * (nearest - pixels)
    fields = np.clip(small, 0, 255).astype(np.uint8)
    wash = cv2.resize(fields, (max(1, w // 8), max(1, h // 8)), interpolation=cv2.INTER_LINEAR)
    wash = cv2.GaussianBlur(wash, (0, 0), WASH_SIGMA)  # soft edges: fields, not tiles
    return cv2.resize(wash, (w, h), interpolation=cv2.INTER_LINEAR)
