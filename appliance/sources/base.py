"""What every source is: open, read a picture (or a picture with what it knows), close."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)

MAX_SIDE = 1920  # a picture larger than a camera gives is scaled down to this longer side


def bounded(image: np.ndarray, what: str, said: set[str]) -> np.ndarray:
    """`image`, scaled down (aspect kept) if its longer side is over MAX_SIDE: a 10000x10000
    still would otherwise cost gigabytes in every effect. Said once per `what` (in `said`)."""
    h, w = image.shape[:2]
    if max(h, w) <= MAX_SIDE:
        return image
    import cv2
    scale = MAX_SIDE / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    if what not in said:
        said.add(what)
        log.warning("%s: %dx%d is larger than a camera gives; shown at %dx%d", what, w, h, *size)
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


@dataclass
class Captured:
    """What a source that knows more than the picture returns from `read()`: the picture and
    the poses recorded with it (a recorded pose stream replayed without a camera)."""

    image: np.ndarray
    poses: list


class Source(Protocol):
    description: str
    fps: float
    live: bool

    def open(self) -> None: ...

    def read(self) -> np.ndarray | Captured | None: ...

    def close(self) -> None: ...
