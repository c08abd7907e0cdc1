"""The typed results of the analysis stages, and the per-frame record of the newest ones."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

if TYPE_CHECKING:
    from appliance.poses.events import PoseEvent
    from appliance.poses.tracking import Track

T = TypeVar("T")


@dataclass
class PoseResult:
    """The pose stage's result: the tracks seen in the newest analysed frame."""

    tracks: list["Track"]
    smoothed: dict[int, np.ndarray]  # track id -> smoothed keypoints (17, 3), for drawing
    events: list["PoseEvent"]
    active: dict[int, list[str]] = field(default_factory=dict)  # track id -> poses held


@dataclass
class MaskResult:
    """The mask stage's result: person probability (float32, 0-1) at the model's resolution;
    effects stretch it to the size they work at (`at`, kept for the frames that show it)."""

    probability: np.ndarray
    _stretched: np.ndarray | None = field(default=None, repr=False, compare=False)

    def at(self, width: int, height: int) -> np.ndarray:
        """The probability at (width, height); the display repeats a result over several frames,
        so the stretched copy is made once per result and size."""
        if self.probability.shape == (height, width):
            return self.probability
        if self._stretched is None or self._stretched.shape != (height, width):
            from appliance.core.lazy import cv2
            self._stretched = cv2.resize(self.probability.astype(np.float32, copy=False), (width, height),
                                         interpolation=cv2.INTER_LINEAR)
        return self._stretched


@dataclass
class Keyframe:
    """The style stage's result: a painting and what carrying it forward needs."""

    image: np.ndarray        # the painting, BGR uint8, at keyframe resolution
    source_grey: np.ndarray  # the frame it was painted from, grey, at flow resolution
    index: int               # that frame's index
    ms: float                # how long painting it took
    t: float = 0.0           # that frame's time, seconds


class Results:
    """The newest result of each stage at the moment a frame is shown, by key, each with the
    index of the frame it was computed on (analysis lags the display: that is the point)."""

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}
        self._frames: dict[str, int] = {}

    def put(self, key: str, value: Any, frame: int | None = None) -> None:
        self._values[key] = value
        if frame is None:
            self._frames.pop(key, None)
        else:
            self._frames[key] = frame

    def get(self, key: str, kind: type[T]) -> T | None:
        """The result under `key` if it is a `kind`, else None (none yet, or a stray value)."""
        value = self._values.get(key)
        return value if isinstance(value, kind) else None

    def frame_of(self, key: str) -> int | None:
        """The index of the frame the result under `key` was computed on (None: unknown)."""
        return self._frames.get(key)

    def keys(self) -> list[str]:
        return list(self._values)


def result_key(meta: Any, key: str) -> object:
    """Which result of stage `key` a frame carries (its frame index, or the object itself when
    it does not say): effects redo what depends on a result only when it changes."""
    frame = meta.results.frame_of(key)
    return frame if frame is not None else id(meta.results.get(key, object))
