"""Privacy mode: the room without its visitors' faces; each person a flat shape or a skeleton.

The camera picture is never shown. The screen shows a model of the EMPTY room, learned from
the pixels the person mask says nobody covers, and draws each person on it as a flat palette
silhouette (from the mask, grown by a margin) and/or their skeleton. Before a pixel of the
room has been seen empty a few times it is shown dark, so the first frames, and a room that
never empties, show dark shapes, never a face.

Learning uses the frame the mask was computed on, not the frame being shown: analysis lags
the display, and pairing a new frame with an old mask would teach the room the pixels of a
person who has just moved there. Recent frames are kept (copied into a small ring of
preallocated buffers) for that pairing; a mask whose frame has left the ring is not learned
from. Where the mask is unsure the effect covers (a low threshold, a margin, and a wider
margin still for learning): a ghost of the room beats a visible face.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from appliance.effects.palette import BLACK, DARK, PALETTE, named_colour, track_colour
from appliance.effects.skeleton import FrameBuffer, draw_skeleton, people, pose_result, pose_stage
from appliance.frame import FrameMeta
from appliance.settings_schema import setting

MASK = "mask"
RING = 8  # recent frames kept to pair with a lagging mask


class MaskAnalyzer:
    """The "mask" analysis stage: a float32 (H, W) 0-1 person probability per frame."""

    name = MASK

    def __init__(self, segmenter: Any):
        self.segmenter = segmenter

    def analyze(self, image: np.ndarray, meta: FrameMeta) -> np.ndarray:
        return self.segmenter.mask(image)

    def close(self) -> None:
        pass


def mask_stage(context: Any, model: str = "meet") -> MaskAnalyzer:
    """Build the mask stage; an unknown or missing model raises ModelError (an ApplianceError),
    which makes the mode show a card instead of the picture."""
    from appliance.inference.segmentation import create_segmenter
    return MaskAnalyzer(create_segmenter(context.store, model))


def mask_of(meta: FrameMeta, shape: tuple[int, int]) -> np.ndarray | None:
    """The newest mask, at the frame's size (a mask from before a size change is stretched),
    or None when there is none or it is not a 2-D array."""
    results = getattr(meta, "results", None)
    mask = results.get(MASK) if isinstance(results, dict) else None
    if not isinstance(mask, np.ndarray) or mask.ndim != 2 or mask.size == 0:
        return None
    if mask.shape != shape:
        mask = cv2.resize(mask.astype(np.float32), (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    return mask


def grown(mask: np.ndarray, threshold: float, radius: int, out: np.ndarray) -> np.ndarray:
    """uint8 0/1 where probability >= threshold, dilated by `radius` pixels (into `out`);
    NaN counts as a person."""
    np.greater_equal(np.nan_to_num(mask, nan=1.0), threshold, out=out)
    if radius > 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
        cv2.dilate(out, kernel, dst=out)
    return out


class FrameRing:
    """The last few frames by index, in preallocated buffers."""

    def __init__(self, shape: tuple[int, ...]):
        self.frames = np.zeros((RING, *shape), np.uint8)
        self.index = [-1] * RING

    def put(self, index: int, image: np.ndarray) -> None:
        slot = index % RING
        np.copyto(self.frames[slot], image)
        self.index[slot] = index

    def get(self, index: int) -> np.ndarray | None:
        slot = index % RING
        return self.frames[slot] if self.index[slot] == index else None


class Room:
    """The empty room: a per-pixel running mean of the pixels nobody covered.

    Each pixel starts as a plain mean of its first views (so the room appears quickly) and
    then follows the light with an exponential time constant of `learn_s` seconds.
    """

    def __init__(self, h: int, w: int, learn_s: float, views: int):
        self.learn_s, self.views = learn_s, views
        self.mean = np.zeros((h, w, 3), np.float32)
        self.count = np.zeros((h, w), np.float32)
        self.rate = np.empty((h, w), np.float32)
        self.diff = np.empty((h, w, 3), np.float32)
        self.shown = np.empty((h, w, 3), np.uint8)
        self.shown[:] = DARK
        self.t: float | None = None

    def learn(self, frame: np.ndarray, empty: np.ndarray, t: float) -> None:
        """Fold `frame` into the room where `empty` (uint8 0/1) says nobody is."""
        dt = t - self.t if self.t is not None and t > self.t else 1.0 / 30
        self.t = t
        follow = 1.0 - math.exp(-dt / self.learn_s)
        self.count += empty
        np.maximum(self.count, 1.0, out=self.rate)
        np.reciprocal(self.rate, out=self.rate)
        np.maximum(self.rate, follow, out=self.rate)
        self.rate *= empty
        np.subtract(frame, self.mean, out=self.diff)
        self.diff *= self.rate[..., None]
        self.mean += self.diff
        self._render()

    def _render(self) -> None:
        """The picture of the room: learned pixels as learned, the rest dark."""
        np.copyto(self.shown, self.mean, casting="unsafe")
        np.copyto(self.shown, np.array(DARK, np.uint8), where=(self.count < self.views)[..., None])

    def learned(self) -> float:
        """The fraction of the room seen empty often enough to show."""
        return float((self.count >= self.views).mean())


class Anonymizer:
    name = "anonymizer"

    @dataclass
    class Params:
        model: str = setting("meet", help="segmentation model for the person mask")
        show: str = setting("silhouette", choices=("silhouette", "skeleton", "both"),
                            help="how people appear on the empty room")
        colour: str = setting("blue", choices=tuple(PALETTE), help="silhouette colour")
        threshold: float = setting(0.2, min=0.01, max=0.9,
                                   help="person probability from which a pixel is covered")
        margin: float = setting(0.025, min=0.0, max=0.2,
                                help="silhouettes grown by this fraction of the frame height")
        learn_s: float = setting(10.0, min=0.5, max=3600.0,
                                 help="time constant of the room following the light, seconds")
        learn_views: int = setting(3, min=1, max=100,
                                   help="views of a pixel, empty, before it is shown")
        min_score: float = setting(0.3, min=0.0, max=1.0, help="skeleton keypoints shown from this score")

    def __init__(self, params: "Anonymizer.Params"):
        self.p = params
        self.colour = np.array(named_colour(params.colour), np.uint8)
        self.out = FrameBuffer()
        self.room: Room | None = None
        self._learned_from = -1

    def analyzers(self, context: Any) -> list:
        stages = [mask_stage(context, self.p.model)]
        return stages + [pose_stage(context)] if self.p.show != "silhouette" else stages

    def process(self, image: np.ndarray, meta: FrameMeta) -> np.ndarray:
        if image.ndim != 3 or image.shape[2] != 3 or image.size == 0:
            return np.zeros_like(image)  # nothing recognisable can be shown from it
        h, w = image.shape[:2]
        self._prepare(h, w)
        self.ring.put(int(meta.index), image)
        mask = mask_of(meta, (h, w))
        if mask is not None:
            self._learn(mask, meta)
        out = self.out.like(image)
        np.copyto(out, self.room.shown)
        if mask is not None and self.p.show != "skeleton":
            self._silhouettes(out, mask)
        if self.p.show != "silhouette":
            for track_id, kp in people(pose_result(meta)):
                draw_skeleton(out, kp, track_colour(track_id), self.p.min_score)
        return out

    def _prepare(self, h: int, w: int) -> None:
        """All per-size buffers; a size change starts the room afresh."""
        if self.room is not None and self.room.count.shape == (h, w):
            return
        self.room = Room(h, w, self.p.learn_s, self.p.learn_views)
        self.ring = FrameRing((h, w, 3))
        self.cover = np.empty((h, w), np.uint8)
        self.empty = np.empty((h, w), np.uint8)
        self.radius = int(round(self.p.margin * h))
        self._learned_from = -1

    def _learn(self, mask: np.ndarray, meta: FrameMeta) -> None:
        """Learn from a mask once, with the frame it was computed on (if still in the ring);
        a mask that does not say its frame is drawn but never learned from."""
        frames = getattr(meta, "result_frames", None)
        index = frames.get(MASK) if isinstance(frames, dict) else None
        frame = self.ring.get(int(index)) if isinstance(index, int) else None
        if frame is None or index == self._learned_from:
            return
        self._learned_from = index
        grown(mask, self.p.threshold / 2, 2 * self.radius + 2, self.empty)
        np.subtract(1, self.empty, out=self.empty)
        self.room.learn(frame, self.empty, float(meta.t))

    def _silhouettes(self, out: np.ndarray, mask: np.ndarray) -> None:
        """Flat colour where the (grown) mask is, outlined in black like a cut-out."""
        grown(mask, self.p.threshold, self.radius, self.cover)
        np.copyto(out, self.colour, where=self.cover.view(bool)[..., None])
        contours, _ = cv2.findContours(self.cover, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(out, contours, -1, BLACK, max(2, out.shape[0] // 240), cv2.LINE_AA)

    def close(self) -> None:
        self.room = None
        self.out = FrameBuffer()
