"""The per-frame record that stages share instead of globals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from appliance.core.results import Results


@dataclass
class FrameMeta:
    """What is known about one frame as it moves through a mode.

    `results` holds the newest result of each analysis stage (pose, mask, ...) by key at the
    moment the frame is displayed, with the frame each came from; it may come from an earlier
    frame, which is the point: the display never waits for analysis. `poses` are poses that
    came with the frame itself (a recorded pose stream), which the pose stage uses instead of
    running its model. `show_t`, when set, is the time shared by every box of a show: effects
    that follow time use it in preference to `t`, so boxes play in phase.
    """

    index: int
    t: float
    captured_at: float
    results: Results = field(default_factory=Results)
    events: list[Any] = field(default_factory=list)
    original: np.ndarray | None = None  # the picture as it came in, before the mode's effects
    poses: list | None = None
    show_t: float | None = None  # the show's time at capture, when boxes play together (appliance.show)


@dataclass
class Frame:
    """A BGR uint8 image (OpenCV's order) and its record."""

    image: np.ndarray
    meta: FrameMeta
