"""The mask stage: where people are, as a per-pixel probability.

One stage per model ("mask:meet"), whichever effects read it: the style modes' people/room
masks, the split effect and the anonymizer all share it. The result (`MaskResult`) stays at a
working resolution (a new array each frame, handed to the display thread); each effect
stretches it to the size it works at, so the stage never makes a full-frame float copy.

With `[models] person_masks = "motion"` (the default) the mask is two sources united, each
where it is good. The camera never moves, so the shapes that move against the learned room
(`appliance.analysis.motion.Silhouettes`) are sharp on everyone who walks, near or far; the
segmentation network, which sees the frame at 256x144 and so paints blobs on people 60-150 px
tall and sometimes on a building or a van, is kept only for what motion cannot see: a visitor
close enough to fill a quarter of the frame, standing where someone moved in the last SEEN_S
seconds (or was taken as standing still since), who stands still long enough to become part
of the room. What never moved is never taken from the network.
"""

from __future__ import annotations

import numpy as np

from appliance.analysis.motion import Silhouettes
from appliance.core.frame import FrameMeta
from appliance.core.lazy import cv2
from appliance.core.registry import register_stage
from appliance.core.results import MaskResult
from appliance.core.stages import AnalysisContext, StageRequest
from appliance.models.segmentation import Segmenter, create_segmenter

STILL_HEIGHT = 0.25   # of the frame: a network's person this tall is near enough to trust alone
STILL_MOVING = 0.2    # at most this share of such a shape moving: it is someone standing still
NETWORK_EDGE = 0.5    # the network's probability taken as its shape's edge
NETWORK_EVERY = 3     # frames: how often the network is asked (see `_network`)
SEEN_S = 3.0          # where someone moved is remembered this long (fading); a still visitor
                      # taken from the network is remembered as long as they stay
SEEN_SHARE = 0.6      # of a still shape: this much where someone moved, or it is not a person


class Seen:
    """Where someone moved, fading over SEEN_S (1 just now, 0 long ago), and where a still visitor
    was taken from the network (kept at 1 while they stay): kept across mode switches with the
    learned room, so a visitor standing through a switch stays a visitor."""

    def __init__(self) -> None:
        self.map: np.ndarray | None = None
        self.t: float | None = None

    def remember(self, moving: np.ndarray, t: float) -> np.ndarray:
        """Fold this frame's moving shapes (uint8 0/1) in; the map, at their size."""
        if self.map is None or self.map.shape != moving.shape:
            self.map, self.t = np.zeros(moving.shape, np.float32), t
        fade = min(1.0, max(0.0, t - self.t) / SEEN_S)
        self.t = t
        np.subtract(self.map, fade, out=self.map)
        np.maximum(self.map, moving, out=self.map)
        return self.map


class MaskStage:
    def __init__(self, name: str, segmenter: Segmenter, silhouettes: Silhouettes | None,
                 seen: Seen | None = None):
        """`silhouettes` and `seen`: the run's learned room and memory of where people moved
        (kept across mode switches), or None for the network alone."""
        self.name = name
        self.segmenter: Segmenter | None = segmenter
        self.silhouettes = silhouettes
        self.seen = seen or Seen()
        self.network: np.ndarray | None = None
        self.network_shape: tuple[int, ...] = ()
        self.frames = 0

    def analyze(self, image: np.ndarray, meta: FrameMeta) -> MaskResult:
        if self.silhouettes is None:
            return MaskResult(self.segmenter.probability(image))
        network = self._network(image)
        moving = self.silhouettes.shapes(image)
        people = moving.astype(np.float32)
        # what stands still is judged at the network's own (smaller) size
        moving = cv2.resize(moving, network.shape[::-1], interpolation=cv2.INTER_NEAREST)
        seen = self.seen.remember(moving, float(meta.t))
        still = standing_still(network, moving, seen)
        if still is not None:
            np.maximum(seen, still, out=seen)
            still = cv2.resize(network * still, people.shape[::-1], interpolation=cv2.INTER_LINEAR)
            np.maximum(people, still, out=people)
        return MaskResult(people)

    def _network(self, image: np.ndarray) -> np.ndarray:
        """The network's answer, asked every NETWORK_EVERY frames: it is only taken for people
        standing still, who are where they were a few frames ago."""
        if self.network is None or self.frames % NETWORK_EVERY == 0 or self.network_shape != image.shape:
            self.network, self.network_shape = self.segmenter.probability(image), image.shape
        self.frames += 1
        return self.network

    def close(self) -> None:
        self.segmenter = None  # let the model go: the store frees what no stage holds
        self.silhouettes = None


def standing_still(network: np.ndarray, moving: np.ndarray, seen: np.ndarray) -> np.ndarray | None:
    """float32 0/1 (or None: nobody): the network's people tall enough to be near (STILL_HEIGHT
    of the frame), of which motion sees little now (STILL_MOVING) but which stand where people
    moved (SEEN_SHARE of `seen`, the fading memory): visitors who have stood still."""
    shapes = cv2.compare(network, NETWORK_EDGE, cv2.CMP_GE)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(shapes)
    near = stats[:, cv2.CC_STAT_HEIGHT] >= STILL_HEIGHT * network.shape[0]
    near[0] = False
    if not near.any():
        return None
    area = stats[:, cv2.CC_STAT_AREA]
    moving_in = np.bincount(labels.ravel(), weights=moving.ravel(), minlength=count)
    seen_in = np.bincount(labels.ravel(), weights=(seen > 0).ravel(), minlength=count)
    keep = near & (moving_in < STILL_MOVING * area) & (seen_in >= SEEN_SHARE * area)
    return keep.astype(np.float32)[labels] if keep.any() else None


@register_stage("mask")
def build(request: StageRequest, context: AnalysisContext) -> MaskStage:
    """An unknown or missing model raises ModelError, which turns the mode into a card."""
    segmenter = create_segmenter(context.store, request.params)
    if context.settings.models.person_masks != "motion":
        return MaskStage(request.key, segmenter, None)
    return MaskStage(request.key, segmenter, context.kept(f"silhouettes:{request.key}", Silhouettes),
                     context.kept(f"seen:{request.key}", Seen))
