"""The per-frame record that stages share instead of globals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class FrameMeta:
    """What is known about one frame as it moves through a mode.

    `results` holds the newest result of each analysis stage (pose, mask, ...) by name at the
    moment the frame is displayed; it may come from an earlier frame, which is the point: the
    display never waits for analysis. `result_frames` says which frame each result came from.
    """

    index: int
    t: float
    captured_at: float
    results: dict[str, Any] = field(default_factory=dict)
    result_frames: dict[str, int] = field(default_factory=dict)
    events: list[Any] = field(default_factory=list)
    original: np.ndarray | None = None  # the picture as it came in, before the mode's effects


@dataclass
class Frame:
    """A BGR uint8 image (OpenCV's order) and its record."""

    image: np.ndarray
    meta: FrameMeta
